import { connect as amqpConnect } from 'amqplib';
import { describe, expect, it } from 'vitest';
import type { BrokerStatus } from '../../daemon/protocol';
import { useDaemons, type RpcClient } from '../integration/helpers/daemonProcess';
import { brokers, drainQueue, expectCompleteAndOrdered, publishInOrder, uniqueName, waitForStatus } from './helpers';

const RABBIT = process.env.RABBITMQ_URL;
if (!RABBIT) console.log('skipped: RabbitMQ backend suite (test/backends/rabbitmq.test.ts): RABBITMQ_URL is not set; npm run test:backends starts a broker and sets it');

const KEYS = ['cart-1', 'cart-2'];
const keyOf = (i: number) => KEYS[i % KEYS.length]!;
const payloads = (from: number, n: number) => Array.from({ length: n }, (_, k) => ({ id: keyOf(from + k), n: from + k }));

describe.skipIf(!RABBIT)('RabbitMQ outbox against a real broker', () => {
  const start = useDaemons();
  const rabbitEnv = (exchange: string, queue: string) => ({
    MESSAGE_BROKER: 'rabbitmq',
    RABBITMQ_URL: RABBIT!,
    RABBITMQ_EXCHANGE: exchange,
    RABBITMQ_QUEUE: queue,
    COGNIFORGE_BROKER_TIMEOUT_MS: '3000',
  });
  const didChange = (c: RpcClient, connected: boolean, count = 1) =>
    c.waitForNotifications(count, (n) => n.method === 'brokers/didChange' && (n.params as BrokerStatus).connected === connected, 60_000);

  it('publishes every event persistent, with confirms, routing key = type and the event id as message id', async () => {
    const exchange = uniqueName('x-');
    const queue = uniqueName('q-');
    const d = await start({ env: rabbitEnv(exchange, queue) });
    const c = await d.connect();
    await waitForStatus(c, (s) => s.connected, 'the connection');
    // A consumer's own queue bound by pattern gets only what its binding routes.
    const model = await amqpConnect(RABBIT!);
    const ch = await model.createChannel();
    const carts = uniqueName('carts-');
    await ch.assertQueue(carts, { autoDelete: false, durable: false });
    await ch.bindQueue(carts, exchange, 'app.cart.#');
    await ch.close();
    await model.close();

    const ids = await publishInOrder(c, 'app.cart.updated', payloads(0, 24));
    await c.request('events/publish', { type: 'app.other.thing', payload: { id: 'x' } });
    const status = await waitForStatus(c, (s) => s.outboxLag === 0, 'the outbox to drain');
    expect(status).toMatchObject({ kind: 'rabbitmq', connected: true, target: `amqp://guest:***@127.0.0.1:${new URL(RABBIT!).port} (exchange ${exchange})` });

    const all = await drainQueue(RABBIT!, queue, (m) => m.length >= status.headSeq);
    expect(all.map((m) => m.event.seq)).toEqual(Array.from({ length: status.headSeq }, (_, i) => i + 1));
    for (const m of all) {
      expect(m.where).toBe(m.event.type);
      expect(m.messageId).toBe(m.event.id);
      expect(m.deliveryMode).toBe(2);
      expect(m.headers['cogniforge-event-id']).toBe(m.event.id);
      expect(m.headers['cogniforge-event-type']).toBe(m.event.type);
    }
    expectCompleteAndOrdered(all, ids, keyOf);
    const routed = await drainQueue(RABBIT!, carts, (m) => m.length >= ids.length);
    expect(routed.map((m) => m.event.id)).toEqual(ids);
  });

  it('holds events while the broker is down at start and mid-run, tells clients, and drains them in order', async () => {
    const exchange = uniqueName('x-');
    const queue = uniqueName('q-');
    brokers('down', 'rabbitmq');
    let up = false;
    try {
      const d = await start({ env: rabbitEnv(exchange, queue) });
      const c = await d.connect();
      const first = await publishInOrder(c, 'app.cart.updated', payloads(0, 12));
      const down = await waitForStatus(c, (s) => s.lastError !== undefined && s.outboxLag >= 12, 'a failed connection');
      expect(down.connected).toBe(false);

      brokers('up', 'rabbitmq');
      up = true;
      await didChange(c, true);
      await waitForStatus(c, (s) => s.connected && s.outboxLag === 0, 'the backlog to drain');

      // The connection drops while idle: the client hears it without publishing anything.
      brokers('down', 'rabbitmq');
      up = false;
      await didChange(c, false);
      const second = await publishInOrder(c, 'app.cart.updated', payloads(12, 12));
      expect((await c.request<BrokerStatus>('brokers/status', {})).outboxLag).toBeGreaterThanOrEqual(12);

      brokers('up', 'rabbitmq');
      up = true;
      await didChange(c, true, 2);
      const drained = await waitForStatus(c, (s) => s.connected && s.outboxLag === 0, 'the second backlog to drain');
      const ids = [...first, ...second];
      const messages = await drainQueue(RABBIT!, queue, (m) => new Set(m.map((x) => x.event.id)).size >= drained.headSeq);
      expectCompleteAndOrdered(messages, ids, keyOf);
    } finally {
      if (!up) brokers('up', 'rabbitmq');
    }
  });
});
