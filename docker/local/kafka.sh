#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft) for development and tests.
#   docker/local/kafka.sh start   fetch jars once, format storage once, start or reuse the broker
#   docker/local/kafka.sh stop    stop the broker started here
#   docker/local/kafka.sh status  exit 0 when a broker answers on the port
# State lives in .local/kafka (git-ignored): libs/ (the jars), data/, broker.log, broker.pid.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE=${KAFKA_LOCAL_DIR:-$ROOT/.local/kafka}
HOST=127.0.0.1
PORT=${KAFKA_LOCAL_PORT:-9092}
CONTROLLER_PORT=${KAFKA_LOCAL_CONTROLLER_PORT:-9093}
HEAP=${KAFKA_LOCAL_HEAP:-512m}
# Fixed so that re-formatting is never needed; a single local node has no peers to disagree with.
CLUSTER_ID=${KAFKA_LOCAL_CLUSTER_ID:-q1Sh-9_ISia_zwGINzRvyQ}
POM=$ROOT/docker/local/kafka/pom.xml

log() { printf '[kafka] %s\n' "$*" >&2; }
die() { printf '[kafka] error: %s\n' "$*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

require_tools() {
  command -v java >/dev/null 2>&1 || die "Java is not installed (Kafka needs Java 17+). Install a JDK, e.g. 'apt-get install openjdk-17-jre-headless'."
  if [ ! -f "$STATE/libs/.complete" ]; then
    command -v mvn >/dev/null 2>&1 || die "Maven is not installed; it fetches Kafka's jars from Maven Central. Install it, e.g. 'apt-get install maven'."
  fi
}

fetch_jars() {
  local want; want=$(md5sum "$POM" | cut -d' ' -f1)
  if [ -f "$STATE/libs/.complete" ] && [ "$(cat "$STATE/libs/.complete")" = "$want" ]; then return; fi
  log "fetching Apache Kafka jars from Maven Central (once) ..."
  rm -rf "$STATE/libs"; mkdir -p "$STATE/libs"
  mvn -q -B -f "$POM" dependency:copy-dependencies -DoutputDirectory="$STATE/libs" >&2 \
    || die "Maven could not fetch the Kafka jars (see the output above)."
  echo "$want" > "$STATE/libs/.complete"
}

write_config() {
  mkdir -p "$STATE/data"
  cat > "$STATE/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$STATE/data
auto.create.topics.enable=false
num.partitions=6
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# KIP-848 groups (KAFKA_GROUP_PROTOCOL=consumer): the broker owns their session timeout and
# heartbeat interval; 45 s / 5 s by default would stall a crashed instance's partitions for 45 s.
group.consumer.session.timeout.ms=6000
group.consumer.min.session.timeout.ms=6000
group.consumer.heartbeat.interval.ms=1000
group.consumer.min.heartbeat.interval.ms=1000
log.retention.hours=24
num.network.threads=2
num.io.threads=4
PROPS
  cat > "$STATE/log4j2.properties" <<'PROPS'
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = ${sys:kafka.logs.dir}/broker.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = info
logger.apache.name = org.apache.kafka
logger.apache.level = warn
PROPS
}

classpath() { echo "$STATE/libs/*"; }

format_once() {
  if [ -f "$STATE/data/meta.properties" ]; then return; fi
  log "formatting KRaft storage (once) ..."
  java -cp "$(classpath)" -Dlog4j2.configurationFile="$STATE/log4j2.properties" -Dkafka.logs.dir="$STATE" \
    kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$STATE/server.properties" >&2 \
    || die "formatting the storage failed"
}

running_pid() {
  [ -f "$STATE/broker.pid" ] || return 1
  local pid; pid=$(cat "$STATE/broker.pid")
  kill -0 "$pid" 2>/dev/null || return 1
  # A killed broker can linger as a zombie, and a reused pid can be anything: only a live
  # process running kafka.Kafka counts.
  [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != "Z" ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka.Kafka' || return 1
  echo "$pid"
}

start() {
  if port_open "$PORT"; then log "a broker already answers on $HOST:$PORT; reusing it"; return; fi
  require_tools
  fetch_jars
  write_config
  format_once
  if pid=$(running_pid); then
    log "broker process $pid is starting; waiting for it"
  else
    log "starting the broker on $HOST:$PORT (heap $HEAP) ..."
    nohup java -Xms"$HEAP" -Xmx"$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -XX:ActiveProcessorCount=2 -Djava.awt.headless=true \
      -Dlog4j2.configurationFile="$STATE/log4j2.properties" -Dkafka.logs.dir="$STATE" \
      -cp "$(classpath)" kafka.Kafka "$STATE/server.properties" > "$STATE/stdout.log" 2>&1 &
    echo $! > "$STATE/broker.pid"
  fi
  local started=$SECONDS
  until port_open "$PORT" && grep -q "Kafka Server started\|\[KafkaRaftServer nodeId=1\] Kafka Server started" "$STATE/broker.log" 2>/dev/null; do
    if ! running_pid >/dev/null; then
      tail -n 30 "$STATE/stdout.log" "$STATE/broker.log" >&2 2>/dev/null || true
      die "the broker exited during start-up (logs above, full log in $STATE/broker.log)"
    fi
    if (( SECONDS - started > 120 )); then die "the broker did not answer within 120 s (see $STATE/broker.log)"; fi
    sleep 0.5
  done
  log "broker ready on $HOST:$PORT after $(( SECONDS - started )) s"
}

stop() {
  if pid=$(running_pid); then
    log "stopping broker $pid ..."
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$STATE/broker.pid"
    log "stopped"
  else
    log "no broker started from here is running"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) port_open "$PORT" ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
