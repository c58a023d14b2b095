#!/usr/bin/env bash
# Makes a fresh machine ready: Node 24, npm packages, a built tree, and the local Kafka broker.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

# Node 24 first on PATH for the rest of this script (installed into .local/node24 once if the
# machine's node is older); the npm scripts run the project's code through the same wrapper.
. docker/local/node24.sh

stamp=node_modules/.install-stamp
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "[bootstrap] installing npm packages ..."
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
# The browser end-to-end test drives Debian's Chromium (playwright-core cannot download browsers here).
if [ "${1:-}" = "--with-browser" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "[bootstrap] installing Chromium for the browser test ..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  else
    echo "[bootstrap] Chromium is missing and cannot be installed here; the browser test will be skipped"
  fi
fi
# promtool checks the Prometheus rules (docker/observability), and the e2e spec runs a real
# Prometheus: Debian's package has both (its service is not started here).
if ! command -v promtool >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "[bootstrap] installing Prometheus (promtool) ..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus) >/dev/null
  else
    echo "[bootstrap] promtool is missing and cannot be installed here: install Debian's prometheus package"
  fi
fi
bash docker/local/kafka.sh start
echo "[bootstrap] building ..."
npm run --silent build
