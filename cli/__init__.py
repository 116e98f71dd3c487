"""The loanbridge command line."""
