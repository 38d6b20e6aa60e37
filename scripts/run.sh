#!/usr/bin/env bash
# Install the assistant, load the bundled knowledge base (embedded once, then skipped), start the app.
set -euo pipefail
cd "$(dirname "$0")/.."
export GRADIO_ANALYTICS_ENABLED=False ANONYMIZED_TELEMETRY=False HF_HUB_OFFLINE=1 ORT_DISABLE_TELEMETRY=1 \
       OMP_WAIT_POLICY=PASSIVE NO_PROXY=localhost,127.0.0.1 PIP_DISABLE_PIP_VERSION_CHECK=1
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q -e .
.venv/bin/python -m assistant ingest knowledge
exec .venv/bin/python app.py
