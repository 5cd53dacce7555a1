#!/usr/bin/env bash
# Set up and run the whole test suite: .venv with the dev extras, a Redis server on
# 127.0.0.1:6379 (started if none answers), headless Chromium for the dashboard test
# (installed from Debian's packages when missing), then ruff, mypy and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh all,dev

if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  echo "test.sh: no Redis on 127.0.0.1:6379; starting one"
  mkdir -p /tmp/llmswitch-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp/llmswitch-redis --logfile /tmp/llmswitch-redis/redis.log
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break; sleep 0.1; done
fi

if ! command -v chromium >/dev/null 2>&1; then
  echo "test.sh: installing Debian's chromium for the dashboard test"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null 2>&1 \
    || echo "test.sh: could not install chromium; browser tests will report it"
fi

.venv/bin/ruff check src tests scripts bench
.venv/bin/ruff format --check src tests scripts bench
.venv/bin/mypy
.venv/bin/pytest "$@"
