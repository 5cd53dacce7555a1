#!/usr/bin/env bash
# The main job on built-in simulated providers: no key, no network.
# Plays the three failover scenarios through the gateway on :8888, then serves the dashboard
# (http://127.0.0.1:8888/) until Ctrl-C. Pass --exit to stop after the scenarios.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh all
exec .venv/bin/llmswitch demo "$@"
