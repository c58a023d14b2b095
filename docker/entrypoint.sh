#!/bin/sh
# Entry point of the backend image (docker/Dockerfile): one image, four services.
#   entrypoint.sh            start the service named by $APP (gateway|sequencer|storage|delivery)
#   entrypoint.sh live       exit 0 when the service answers GET /health/live  (the image's HEALTHCHECK)
#   entrypoint.sh ready      exit 0 when it answers GET /health/ready (Kafka, PostgreSQL and Redis up)
#   entrypoint.sh CMD ...    run anything else, e.g. a shell for debugging
# The service starts exactly as docker/local/stack.ts starts it locally.
set -eu
cd "$(dirname "$0")/.."

# Sets PORT to the port the service $APP listens on (its *_PORT variable, else the default).
select_app() {
  case "${APP:-}" in
    gateway) PORT=${GATEWAY_PORT:-3000} ;;
    sequencer) PORT=${SEQUENCER_PORT:-3001} ;;
    storage) PORT=${STORAGE_PORT:-3002} ;;
    delivery) PORT=${DELIVERY_PORT:-3003} ;;
    *)
      echo "entrypoint: APP must be gateway, sequencer, storage or delivery (got '${APP:-}')" >&2
      exit 64
      ;;
  esac
}

case "${1:-start}" in
  start)
    select_app
    # tsconfig-paths maps the @im/* aliases of tsconfig.json onto the compiled dist/libs.
    export TS_NODE_PROJECT="${TS_NODE_PROJECT:-$PWD/tsconfig.json}"
    export TS_NODE_BASEURL="${TS_NODE_BASEURL:-$PWD/dist}"
    # exec: node becomes PID 1 and gets SIGTERM itself (the services drain on it, exit 0).
    exec node -r tsconfig-paths/register "dist/apps/$APP/src/main.js"
    ;;
  live | ready)
    select_app
    exec node -e '
      const url = process.argv[1];
      fetch(url, { signal: AbortSignal.timeout(2500) }).then(
        (res) => process.exit(res.ok ? 0 : 1),
        (err) => { console.error(`${url}: ${err.message}`); process.exit(1); },
      );' "http://127.0.0.1:$PORT/health/$1"
    ;;
  *) exec "$@" ;;
esac
