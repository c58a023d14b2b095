#!/usr/bin/env bash
# Makes a fresh machine ready: npm packages, a built tree, and the local Kafka broker.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

stamp=node_modules/.install-stamp
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "[bootstrap] installing npm packages ..."
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
bash docker/local/kafka.sh start
echo "[bootstrap] building ..."
npx tsc -p tsconfig.build.json
