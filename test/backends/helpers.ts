/**
 * Shared pieces of the backend suites: control of the real brokers that `npm run test:backends`
 * started (through test/backends/brokers.sh), polling of `brokers/status`, and reading back what
 * reached Kafka or RabbitMQ.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { connect as amqpConnect } from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import { expect } from 'vitest';
import type { BrokerStatus, EventEnvelope } from '../../daemon/protocol';
import { REPO_ROOT, type RpcClient } from '../integration/helpers/daemonProcess';

/** Run `brokers.sh <args>` (start, stop, kill, pause, resume, down, up); throws with its output on failure. */
export function brokers(...args: string[]): void {
  const script = process.env.CF_BROKERS_SCRIPT ?? join(REPO_ROOT, 'test', 'backends', 'brokers.sh');
  execFileSync('bash', [script, ...args], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 150_000 });
}

/** A fresh name part, so suites and reruns never read each other's topics or queues. */
export const uniqueName = (prefix: string): string => `${prefix}${randomBytes(4).toString('hex')}`;

/** Poll `brokers/status` until `check` holds; resolves that status. */
export async function waitForStatus(c: RpcClient, check: (s: BrokerStatus) => boolean, what: string, timeoutMs = 120_000): Promise<BrokerStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: BrokerStatus | undefined;
  for (;;) {
    last = await c.request<BrokerStatus>('brokers/status', {});
    if (check(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last status ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Publish one event per payload in this order (one after the other: log order = array order). */
export async function publishInOrder(c: RpcClient, type: string, payloads: unknown[]): Promise<string[]> {
  const ids: string[] = [];
  for (const payload of payloads) {
    const r = await c.request<{ id: string }>('events/publish', { type, payload });
    ids.push(r.id);
  }
  return ids;
}

export interface BrokerMessage {
  /** Topic (Kafka) or routing key (RabbitMQ). */
  where: string;
  key: string | undefined;
  headers: Record<string, string>;
  event: EventEnvelope;
  /** RabbitMQ only: 2 = persistent. */
  deliveryMode?: number;
  messageId?: string;
}

/** Every message on the topics starting with `prefix`, read from the beginning until `enough` holds. */
export async function readKafka(brokersList: string, prefix: string, enough: (m: BrokerMessage[]) => boolean, timeoutMs = 60_000): Promise<BrokerMessage[]> {
  const kafka = new Kafka({ clientId: 'cf-backend-test', brokers: brokersList.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueName('cf-test-') });
  const messages: BrokerMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
        messages.push({ where: topic, key: message.key?.toString('utf8'), headers, event: JSON.parse(message.value!.toString('utf8')) as EventEnvelope });
        await Promise.resolve();
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (!enough(messages)) {
      if (Date.now() > deadline) throw new Error(`only ${messages.length} Kafka messages on ${prefix}* after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return messages;
  } finally {
    await consumer.disconnect();
  }
}

/** Take every message waiting in a RabbitMQ queue (acknowledging them) until `enough` holds. */
export async function drainQueue(url: string, queue: string, enough: (m: BrokerMessage[]) => boolean, timeoutMs = 30_000): Promise<BrokerMessage[]> {
  const model = await amqpConnect(url);
  const messages: BrokerMessage[] = [];
  try {
    const ch = await model.createChannel();
    const deadline = Date.now() + timeoutMs;
    while (!enough(messages)) {
      const m = await ch.get(queue, { noAck: true });
      if (m === false) {
        if (Date.now() > deadline) throw new Error(`only ${messages.length} messages in queue ${queue} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries((m.properties.headers ?? {}) as Record<string, unknown>)) headers[k] = String(v);
      messages.push({
        where: m.fields.routingKey,
        key: headers['cogniforge-aggregate-id'],
        headers,
        event: JSON.parse(m.content.toString('utf8')) as EventEnvelope,
        deliveryMode: m.properties.deliveryMode as number | undefined,
        messageId: m.properties.messageId as string | undefined,
      });
    }
    await ch.close();
    return messages;
  } finally {
    await model.close();
  }
}

/** First delivery of each event id, in delivery order (duplicates after a crash are allowed). */
export function firstDeliveries(messages: BrokerMessage[]): BrokerMessage[] {
  const seen = new Set<string>();
  return messages.filter((m) => (seen.has(m.event.id) ? false : (seen.add(m.event.id), true)));
}

/**
 * Every id is on the broker, and per key the first deliveries come in publish order. `ids` are
 * the published ids in log order, `keyOf` the key each was published with.
 */
export function expectCompleteAndOrdered(messages: BrokerMessage[], ids: string[], keyOf: (i: number) => string): void {
  const first = firstDeliveries(messages);
  const got = new Set(first.map((m) => m.event.id));
  const missing = ids.filter((id) => !got.has(id));
  expect(missing, 'event ids that never reached the broker').toEqual([]);
  const position = new Map(ids.map((id, i) => [id, i]));
  const perKey = new Map<string, number[]>();
  for (const m of first) {
    const i = position.get(m.event.id);
    if (i === undefined) continue;
    expect(m.key).toBe(keyOf(i));
    perKey.set(m.key!, [...(perKey.get(m.key!) ?? []), i]);
  }
  for (const [key, order] of perKey) expect(order, `order of key ${key}`).toEqual([...order].sort((a, b) => a - b));
}
