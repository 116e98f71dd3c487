#!/usr/bin/env bash
# Re-resolve every dependency (runtime and dev) into requirements.lock, the exact versions
# bootstrap installs: builds are reproducible (the demo model is byte-identical only with
# the same numpy/pandas/lightgbm) until someone re-locks on purpose and commits the result.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/uv ] || .venv/bin/python -m pip install -q uv
.venv/bin/uv pip compile pyproject.toml --group dev --python-version 3.11 \
  --python-platform x86_64-manylinux_2_28 --quiet -o requirements.lock
echo "requirements.lock re-resolved; run ./scripts/bootstrap.sh, then the tests, then commit it"
