#!/usr/bin/env bash
# Install everything, then bring the whole platform up with demo data (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
exec .venv/bin/loanbridge up --demo "$@"
