#!/usr/bin/env bash
# `npm run test:backends`: start real Kafka and RabbitMQ on loopback, run the backend suites
# (vitest project `backends`, test/backends/**/*.test.ts) against them, and stop both brokers by pid
# whatever the outcome. Extra arguments go to vitest (e.g. a file name).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "${ROOT}"
T0=${SECONDS}
BROKERS="${ROOT}/test/backends/brokers.sh"
trap 'bash "${BROKERS}" stop all || true' EXIT
CF_BROKERS_FRESH=1 bash "${BROKERS}" start all
echo "[backends] brokers ready after $((SECONDS - T0)) s"
export KAFKA_BROKERS="127.0.0.1:${KAFKA_PORT:-9092}"
export RABBITMQ_URL="amqp://guest:guest@127.0.0.1:${RABBITMQ_PORT:-5672}"
export CF_BROKERS_SCRIPT="${BROKERS}"
npx vitest run --project backends "$@"
echo "[backends] suites done after $((SECONDS - T0)) s"
