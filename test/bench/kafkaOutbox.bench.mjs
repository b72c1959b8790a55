// Kafka mode: end-to-end publish rate through the outbox against a bare kafkajs producer on the same
// broker in the same run. Both use acks=all and keep 64 × 100 messages outstanding: the bare
// producer as 64 concurrent sends of 100, the daemon as 64 concurrent `events/publishBatch` calls of
// 100 (the headline) and, for comparison, 64 callers of single-event `events/publish`; the outbox
// sends one request of up to 6,400 events (it keeps one request outstanding so the broker sees log
// order across retries). Needs KAFKA_BROKERS (`bash test/backends/brokers.sh start kafka` starts one
// on 127.0.0.1:9092).
import { randomUUID } from 'node:crypto';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { connect, report, startDaemon, tempDir } from './lib.mjs';

const EVENTS = Number(process.env.CF_BENCH_KAFKA_EVENTS ?? 20_000);
const IN_FLIGHT = 64;
const BATCH = 100;
const PARTITIONS = 3;

async function withEnv(vars, fn) {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** A message shaped like the outbox's: envelope JSON value, aggregate key, the same headers. */
function sampleMessage(i) {
  const event = {
    id: randomUUID(),
    seq: i + 1,
    type: 'app.order.updated',
    stream: 'default',
    time: new Date().toISOString(),
    priority: 'normal',
    actor: 'owner',
    schemaVersion: 1,
    payload: { id: `order-${i % 16}`, n: i },
  };
  const key = event.payload.id;
  return {
    key,
    value: Buffer.from(JSON.stringify(event)),
    headers: {
      'cogniforge-event-id': event.id,
      'cogniforge-event-type': event.type,
      'cogniforge-stream': event.stream,
      'cogniforge-seq': String(event.seq),
      'cogniforge-aggregate-id': key,
      'cogniforge-schema-version': '1',
    },
  };
}

async function bareProducer(brokers) {
  const kafka = new Kafka({ clientId: 'cf-bench-bare', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const topic = `bench-bare-${randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  const batches = [];
  for (let i = 0; i < EVENTS; i += BATCH) batches.push(Array.from({ length: Math.min(BATCH, EVENTS - i) }, (_, k) => sampleMessage(i + k)));
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < batches.length) {
        const messages = batches[next++];
        await producer.send({ topic, acks: -1, messages });
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await producer.disconnect();
  return EVENTS / seconds;
}

/** The n-th benchmark event as `events/publish` params (same payloads for both publish modes). */
const benchEvent = (n) => ({ type: 'app.order.updated', payload: { id: `order-${n % 16}`, n } });

/** 64 publishers, EVENTS events through single-event events/publish calls. */
async function publishAll(client) {
  let left = EVENTS;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (left > 0) {
        left--;
        await client.call('events/publish', benchEvent(left));
      }
    }),
  );
}

/** 64 publishers, EVENTS events through events/publishBatch calls of BATCH events each. */
async function publishAllBatched(client) {
  let left = EVENTS;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (left > 0) {
        const n = Math.min(BATCH, left);
        left -= n;
        const base = left;
        await client.call('events/publishBatch', { events: Array.from({ length: n }, (_, k) => benchEvent(base + k)) });
      }
    }),
  );
}

async function untilDrained(client) {
  for (;;) {
    const s = await client.call('brokers/status', {});
    if (s.connected && s.outboxLag === 0) return s;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Live: publishers and outbox at once; rate = events / (first publish → all acknowledged by Kafka). */
async function outboxLive(brokers, batch, publish) {
  return withEnv({ MESSAGE_BROKER: 'kafka', KAFKA_BROKERS: brokers, KAFKA_TOPIC_PREFIX: `bench-${randomUUID().slice(0, 8)}.`, COGNIFORGE_BROKER_BATCH: String(batch) }, async () => {
    const d = await startDaemon();
    try {
      const client = await connect(d.port, d.token);
      await untilDrained(client);
      const t0 = performance.now();
      await publish(client);
      const publishSeconds = (performance.now() - t0) / 1000;
      await untilDrained(client);
      const seconds = (performance.now() - t0) / 1000;
      client.close();
      return { rate: EVENTS / seconds, rpcRate: EVENTS / publishSeconds };
    } finally {
      await d.stop();
    }
  });
}

/** Backlog: the log already holds the events; rate = events / (first acknowledged batch → all acknowledged). */
async function outboxBacklog(brokers, batch) {
  const dataDir = tempDir('cf-bench-kafka-');
  await withEnv({ MESSAGE_BROKER: 'in_memory' }, async () => {
    const d = await startDaemon({ dataDir });
    const client = await connect(d.port, d.token);
    await publishAll(client);
    client.close();
    await d.stop();
  });
  return withEnv({ MESSAGE_BROKER: 'kafka', KAFKA_BROKERS: brokers, KAFKA_TOPIC_PREFIX: `bench-${randomUUID().slice(0, 8)}.`, COGNIFORGE_BROKER_BATCH: String(batch) }, async () => {
    const d = await startDaemon({ dataDir });
    try {
      const client = await connect(d.port, d.token);
      // Start the clock once the first batch is acknowledged: connecting the producer and creating
      // the topics (a second or two, once per daemon) is not the publish rate.
      let first;
      do first = await client.call('brokers/status', {});
      while (first.publishedSinceStart === 0);
      const t0 = performance.now();
      const done = await untilDrained(client);
      const seconds = (performance.now() - t0) / 1000;
      client.close();
      return (done.publishedSinceStart - first.publishedSinceStart) / seconds;
    } finally {
      await d.stop();
    }
  });
}

export async function run() {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) {
    console.log('\n## Kafka outbox vs bare kafkajs producer\n  skipped: KAFKA_BROKERS is not set (bash test/backends/brokers.sh start kafka, then KAFKA_BROKERS=127.0.0.1:9092)');
    return;
  }
  const bare = await bareProducer(brokers);
  const liveBatch = await outboxLive(brokers, IN_FLIGHT * BATCH, publishAllBatched);
  const live = await outboxLive(brokers, IN_FLIGHT * BATCH, publishAll);
  const backlog = await outboxBacklog(brokers, IN_FLIGHT * BATCH);
  const backlogSmall = await outboxBacklog(brokers, BATCH);
  report(`Kafka outbox vs bare kafkajs producer (${EVENTS} events, acks=all, ${IN_FLIGHT} x ${BATCH} outstanding)`, {
    'bare kafkajs producer, msgs/s': bare,
    'live, 64 publishBatch x 100 → Kafka, events/s': liveBatch.rate,
    '  its batch appends alone, events/s': liveBatch.rpcRate,
    'live, 64 single-event RPCs → Kafka, events/s': live.rate,
    '  its single appends alone, events/s': live.rpcRate,
    'outbox draining a backlog, events/s': backlog,
    'outbox draining, batch 100 one at a time, events/s': backlogSmall,
    'ratio live batch / bare (target >= 0.5)': liveBatch.rate / bare,
    'ratio live single-event RPCs / bare': live.rate / bare,
    'ratio backlog / bare (target >= 0.5)': backlog / bare,
  });
}
