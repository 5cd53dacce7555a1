#!/usr/bin/env bash
# Create .venv-bench (once) with the pinned peers from bench/requirements.txt and llmswitch.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv-bench/bin/python ]; then
  python3 -m venv .venv-bench
fi
stamp=".venv-bench/.installed"
if [ ! -f "$stamp" ] || [ bench/requirements.txt -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv-bench/bin/python -m pip install --quiet --upgrade pip
  .venv-bench/bin/python -m pip install --quiet -r bench/requirements.txt
  touch "$stamp"
fi
