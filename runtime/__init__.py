"""The platform's runtime: the processes ``loanbridge up`` supervises (embedded PostgreSQL,
Temporal, the sandbox, the API and the workers), used by the CLI, the benchmarks, the
simulator and the tests alike."""
