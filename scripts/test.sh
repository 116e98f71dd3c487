#!/usr/bin/env bash
# Install everything, then run the linters, the type checker and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python scripts/audit_dependencies.py  # known vulnerabilities fail the build
set +e
# The tests run in file order; TEST_ORDER_SEED=<n> shuffles them (pytest-randomly) with that
# seed — shuffled runs still find order-dependent tests (README, Tests), so CI keeps one order.
if [ -n "${TEST_ORDER_SEED:-}" ]; then
  echo "test order: pytest-randomly seed $TEST_ORDER_SEED"
  order=(-p randomly --randomly-seed="$TEST_ORDER_SEED")
else
  order=(-p no:randomly)
fi
.venv/bin/python -m pytest -q -p no:cacheprovider "${order[@]}" "$@"
status=$?
set -e
if [ "$status" = 5 ]; then
  echo "no tests were collected: treating that as a failure" >&2
  exit 1
fi
exit "$status"
