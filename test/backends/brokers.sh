#!/usr/bin/env bash
# Real message brokers for the backend tests, on loopback only:
#   brokers.sh fetch                    Kafka 3.9.x jars from Maven Central into .cache/ (skipped when present)
#   brokers.sh start kafka|rabbitmq|all single-node KRaft Kafka / RabbitMQ in the background; waits until ready
#   brokers.sh stop kafka|rabbitmq|all  stop by pid (TERM, then KILL after 20 s)
#   brokers.sh kill kafka               kill -9 (a crash; `start kafka` brings it back with its data)
#   brokers.sh pause|resume kafka       SIGSTOP / SIGCONT (a broker that hangs: connections open, no answers)
#   brokers.sh down|up rabbitmq         stop_app / start_app (the node stays, the AMQP listener goes)
# State (data, logs, pid files) lives in $CF_BROKERS_DIR (default .cache/brokers); `start all` with
# CF_BROKERS_FRESH=1 wipes it first. Ports: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), RABBITMQ_PORT (5672).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
KAFKA_VERSION=3.9.1
KAFKA_LIBS="${ROOT}/.cache/kafka-${KAFKA_VERSION}/libs"
STATE="${CF_BROKERS_DIR:-${ROOT}/.cache/brokers}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
RABBITMQ_PORT="${RABBITMQ_PORT:-5672}"

log() { echo "[brokers] $*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

fetch_kafka() {
  if [ -f "${KAFKA_LIBS}/kafka_2.13-${KAFKA_VERSION}.jar" ]; then
    return 0
  fi
  log "fetching Kafka ${KAFKA_VERSION} jars from Maven Central into ${KAFKA_LIBS}"
  mkdir -p "${KAFKA_LIBS}"
  (cd "${ROOT}/test/backends/kafka" &&
    mvn -q -B dependency:copy-dependencies -Dkafka.version="${KAFKA_VERSION}" -DoutputDirectory="${KAFKA_LIBS}" -DincludeScope=runtime)
}

start_kafka() {
  local dir="${STATE}/kafka"
  if alive "${dir}/kafka.pid"; then
    log "kafka already running (pid $(cat "${dir}/kafka.pid"))"
    return 0
  fi
  if port_open "${KAFKA_PORT}"; then
    log "port ${KAFKA_PORT} is taken by another process; set KAFKA_PORT"
    return 1
  fi
  fetch_kafka
  mkdir -p "${dir}/data"
  cat >"${dir}/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${KAFKA_CONTROLLER_PORT}
listeners=PLAINTEXT://127.0.0.1:${KAFKA_PORT},CONTROLLER://127.0.0.1:${KAFKA_CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://127.0.0.1:${KAFKA_PORT}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${dir}/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
EOF
  cat >"${dir}/log4j.properties" <<EOF
log4j.rootLogger=WARN, stdout
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
  if [ ! -f "${dir}/data/meta.properties" ]; then
    local cluster_id
    # A base64url id may start with "-", which the tool's argument parser would take for a flag:
    # draw until it does not, and pass it as --cluster-id=... as well.
    cluster_id="$(python3 -c 'import base64, uuid
while True:
    c = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not c.startswith("-"):
        print(c)
        break')"
    java -Xmx256m -cp "${KAFKA_LIBS}/*" -Dlog4j.configuration="file:${dir}/log4j.properties" \
      kafka.tools.StorageTool format --cluster-id="${cluster_id}" --config="${dir}/server.properties" >"${dir}/format.log" 2>&1 ||
      { cat "${dir}/format.log" >&2; return 1; }
  fi
  log "starting kafka on 127.0.0.1:${KAFKA_PORT}"
  nohup java -Xmx512m -Xms256m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:${dir}/log4j.properties" \
    -cp "${KAFKA_LIBS}/*" kafka.Kafka "${dir}/server.properties" </dev/null >>"${dir}/kafka.log" 2>&1 &
  echo $! >"${dir}/kafka.pid"
  local t0=${SECONDS}
  until port_open "${KAFKA_PORT}" && grep -q "started" "${dir}/kafka.log"; do
    if ! alive "${dir}/kafka.pid"; then
      tail -40 "${dir}/kafka.log" >&2
      log "kafka exited during start-up"
      return 1
    fi
    if ((SECONDS - t0 > 90)); then
      tail -40 "${dir}/kafka.log" >&2
      log "kafka not ready after 90 s"
      return 1
    fi
    sleep 0.5
  done
  log "kafka ready in $((SECONDS - t0)) s (pid $(cat "${dir}/kafka.pid"))"
}

start_rabbitmq() {
  local dir="${STATE}/rabbitmq"
  if alive "${dir}/rabbitmq.pid"; then
    log "rabbitmq already running (pid $(cat "${dir}/rabbitmq.pid"))"
    return 0
  fi
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
      log "rabbitmq-server is not installed and we are not root: apt-get install -y rabbitmq-server"
      return 1
    fi
    log "installing rabbitmq-server from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
  fi
  if port_open "${RABBITMQ_PORT}"; then
    log "port ${RABBITMQ_PORT} is taken by another process; set RABBITMQ_PORT"
    return 1
  fi
  mkdir -p "${dir}"
  # Debian's wrapper runs the node as the rabbitmq user (su), which writes the pid file.
  chown rabbitmq "${dir}" 2>/dev/null || true
  rm -f "${dir}/rabbitmq.pid"
  log "starting rabbitmq on 127.0.0.1:${RABBITMQ_PORT}"
  # Every descriptor redirected: a caller that pipes our output must not wait for the broker to exit.
  (cd /tmp && RABBITMQ_PID_FILE="${dir}/rabbitmq.pid" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="${RABBITMQ_PORT}" \
    exec nohup rabbitmq-server) </dev/null >"${dir}/rabbitmq.log" 2>&1 &
  local t0=${SECONDS}
  until [ -s "${dir}/rabbitmq.pid" ] && rabbitmq-diagnostics -q ping >/dev/null 2>&1 && port_open "${RABBITMQ_PORT}"; do
    if ((SECONDS - t0 > 90)); then
      tail -40 "${dir}/rabbitmq.log" >&2
      log "rabbitmq not ready after 90 s"
      return 1
    fi
    sleep 1
  done
  log "rabbitmq ready in $((SECONDS - t0)) s (pid $(cat "${dir}/rabbitmq.pid"))"
}

stop_pid() {
  local name=$1 file=$2
  if ! alive "${file}"; then
    rm -f "${file}"
    return 0
  fi
  local pid
  pid="$(cat "${file}")"
  kill -CONT "${pid}" 2>/dev/null || true
  kill -TERM "${pid}" 2>/dev/null || true
  local t0=${SECONDS}
  while kill -0 "${pid}" 2>/dev/null; do
    if ((SECONDS - t0 > 20)); then
      log "${name} (pid ${pid}) still running after 20 s: SIGKILL"
      kill -KILL "${pid}" 2>/dev/null || true
    fi
    sleep 0.2
  done
  rm -f "${file}"
  log "${name} stopped"
}

stop_rabbitmq() {
  stop_pid rabbitmq "${STATE}/rabbitmq/rabbitmq.pid"
  # The node started epmd (Erlang's port mapper) as a daemon; end it once no Erlang node is left.
  if command -v epmd >/dev/null 2>&1 && ! pgrep -x beam.smp >/dev/null 2>&1; then
    epmd -kill >/dev/null 2>&1 || true
  fi
}

each() {
  local verb=$1 what=${2:-all}
  case "${what}" in
  kafka) "${verb}_kafka" ;;
  rabbitmq) "${verb}_rabbitmq" ;;
  all) "${verb}_kafka" && "${verb}_rabbitmq" ;;
  *)
    log "unknown broker: ${what} (kafka, rabbitmq or all)"
    return 2
    ;;
  esac
}

stop_kafka() { stop_pid kafka "${STATE}/kafka/kafka.pid"; }

case "${1:-}" in
fetch) fetch_kafka ;;
start)
  if [ "${2:-all}" = all ] && [ "${CF_BROKERS_FRESH:-0}" = 1 ]; then
    each stop all
    rm -rf "${STATE}"
  fi
  each start "${2:-all}"
  ;;
stop) each stop "${2:-all}" ;;
kill)
  [ "${2:-}" = kafka ] || { log "kill: only kafka"; exit 2; }
  if alive "${STATE}/kafka/kafka.pid"; then
    kill -KILL "$(cat "${STATE}/kafka/kafka.pid")"
    while alive "${STATE}/kafka/kafka.pid"; do sleep 0.1; done
    rm -f "${STATE}/kafka/kafka.pid"
    log "kafka killed"
  fi
  ;;
pause | resume)
  [ "${2:-}" = kafka ] || { log "$1: only kafka"; exit 2; }
  kill "-$([ "$1" = pause ] && echo STOP || echo CONT)" "$(cat "${STATE}/kafka/kafka.pid")"
  ;;
down) rabbitmqctl -q stop_app ;;
up) rabbitmqctl -q start_app && until port_open "${RABBITMQ_PORT}"; do sleep 0.2; done ;;
*)
  sed -n '2,10p' "$0" >&2
  exit 2
  ;;
esac
