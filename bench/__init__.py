"""Micro-benchmarks of LoanBridge's pure kernels (run ``python -m bench.kernels``)."""
