#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian machine, then run them.
set -euo pipefail
cd "$(dirname "$0")/.."
export GRADIO_ANALYTICS_ENABLED=False ANONYMIZED_TELEMETRY=False HF_HUB_OFFLINE=1 ORT_DISABLE_TELEMETRY=1 \
       OMP_WAIT_POLICY=PASSIVE NO_PROXY=localhost,127.0.0.1 PIP_DISABLE_PIP_VERSION_CHECK=1
# postgresql: the records tests run on SQLite and on a throw-away PostgreSQL cluster (tests/records/conftest.py)
if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK" \
   || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-cjk fontconfig postgresql >/dev/null
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q -e '.[test]'
mkdir -p test-artifacts
exec .venv/bin/python -m pytest "$@"
