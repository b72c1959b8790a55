import { describe, expect, it } from 'vitest';
import type { BrokerStatus } from '../../daemon/protocol';
import { useDaemons, type RpcClient } from '../integration/helpers/daemonProcess';
import { brokers, expectCompleteAndOrdered, publishInOrder, readKafka, uniqueName, waitForStatus } from './helpers';

const KAFKA = process.env.KAFKA_BROKERS;
if (!KAFKA) console.log('skipped: Kafka backend suite (test/backends/kafka.test.ts): KAFKA_BROKERS is not set; npm run test:backends starts a broker and sets it');

const KEYS = ['order-a', 'order-b', 'order-c'];
const keyOf = (i: number) => KEYS[i % KEYS.length]!;
const payloads = (from: number, n: number) => Array.from({ length: n }, (_, k) => ({ id: keyOf(from + k), n: from + k }));

describe.skipIf(!KAFKA)('Kafka outbox against a real broker', () => {
  const start = useDaemons();
  const kafkaEnv = (prefix: string, extra: Record<string, string> = {}) => ({
    MESSAGE_BROKER: 'kafka',
    KAFKA_BROKERS: KAFKA!,
    KAFKA_TOPIC_PREFIX: prefix,
    COGNIFORGE_BROKER_TIMEOUT_MS: '3000',
    ...extra,
  });
  const didChange = (c: RpcClient, connected: boolean) =>
    c.waitForNotifications(1, (n) => n.method === 'brokers/didChange' && (n.params as BrokerStatus).connected === connected, 120_000);

  it('publishes every event to its stream topic, keyed by aggregate, with id and type headers, in order per key', async () => {
    const prefix = uniqueName('t') + '.';
    const d = await start({ env: kafkaEnv(prefix) });
    const c = await d.connect();
    const ids = await publishInOrder(c, 'app.order.updated', payloads(0, 30));
    const incident = await c.request<{ id: string }>('incidents/create', {
      title: 'Checkout errors',
      severity: 'SEV2',
      detectedBy: { kind: 'person', name: 'ana' },
    });
    await c.request('incidents/transition', { id: incident.id, to: 'acknowledged' });
    const status = await waitForStatus(c, (s) => s.connected && s.outboxLag === 0, 'the outbox to drain');
    expect(status).toMatchObject({ kind: 'kafka', target: `${KAFKA} (topics ${prefix}<stream>)` });

    // Everything in the log, seeded events included, once each (no failure, so no duplicate).
    const all = await readKafka(KAFKA!, prefix, (m) => m.length >= status.headSeq);
    expect(all.map((m) => m.event.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: status.headSeq }, (_, i) => i + 1));
    for (const m of all) {
      expect(m.where).toBe(`${prefix}${m.event.stream}`);
      expect(m.headers['cogniforge-event-id']).toBe(m.event.id);
      expect(m.headers['cogniforge-event-type']).toBe(m.event.type);
      expect(m.headers['cogniforge-seq']).toBe(String(m.event.seq));
      expect(m.headers['cogniforge-aggregate-id']).toBe(m.key);
    }
    const mine = all.filter((m) => m.where === `${prefix}default`);
    expectCompleteAndOrdered(mine, ids, keyOf);
    const incidentEvents = all.filter((m) => m.where === `${prefix}incident_events` && m.key === incident.id);
    // The incident's own events (escalation ones included) share its key and keep log order.
    expect(incidentEvents[0]!.event.type).toBe('incident.created');
    expect(incidentEvents.map((m) => m.event.type)).toContain('incident.transitioned');
    const incidentSeqs = incidentEvents.map((m) => m.event.seq);
    expect(incidentSeqs).toEqual([...incidentSeqs].sort((a, b) => a - b));
    expect(status.publishedSinceStart).toBe(status.headSeq);
  });

  it('answers RPCs while the broker is down at start and killed mid-run; the outbox holds the events and drains them in order', async () => {
    const prefix = uniqueName('t') + '.';
    brokers('stop', 'kafka');
    let restarted = false;
    try {
      const d = await start({ env: kafkaEnv(prefix) });
      const c = await d.connect();
      const first = await publishInOrder(c, 'app.order.updated', payloads(0, 20));
      const down = await waitForStatus(c, (s) => s.lastError !== undefined && s.outboxLag >= 20, 'a failed publish');
      expect(down).toMatchObject({ kind: 'kafka', connected: false, lastPublishedSeq: 0 });
      const rest = (await (await d.http('/api/brokers/status')).json()) as BrokerStatus;
      expect(rest).toMatchObject({ kind: 'kafka', connected: false });
      expect(rest.outboxLag).toBeGreaterThanOrEqual(20);

      brokers('start', 'kafka');
      restarted = true;
      await didChange(c, true);
      await waitForStatus(c, (s) => s.connected && s.outboxLag === 0, 'the backlog to drain');

      const second = await publishInOrder(c, 'app.order.updated', payloads(20, 10));
      await waitForStatus(c, (s) => s.outboxLag === 0, 'the live events to go out');

      brokers('kill', 'kafka');
      restarted = false;
      const third = await publishInOrder(c, 'app.order.updated', payloads(30, 20));
      const lagging = await waitForStatus(c, (s) => !s.connected, 'the outbox to notice the dead broker');
      expect(lagging.outboxLag).toBeGreaterThan(0);
      await didChange(c, false);

      brokers('start', 'kafka');
      restarted = true;
      const drained = await waitForStatus(c, (s) => s.connected && s.outboxLag === 0, 'the second backlog to drain');
      const ids = [...first, ...second, ...third];
      const messages = await readKafka(KAFKA!, `${prefix}default`, (m) => new Set(m.map((x) => x.event.id)).size >= ids.length);
      expectCompleteAndOrdered(messages, ids, keyOf);
      expect(drained.lastPublishedSeq).toBe(drained.headSeq);
    } finally {
      if (!restarted) brokers('start', 'kafka');
    }
  });

  it('a hung broker blocks no RPC, and a daemon killed with SIGKILL mid-drain resumes from its cursor without a gap', async () => {
    const prefix = uniqueName('t') + '.';
    const env = kafkaEnv(prefix, { COGNIFORGE_BROKER_BATCH: '20' });
    const d = await start({ env });
    const c = await d.connect();
    await waitForStatus(c, (s) => s.connected && s.outboxLag === 0, 'the first drain');

    brokers('pause', 'kafka');
    let ids: string[];
    try {
      // 300 events from 10 concurrent publishers while the broker answers nothing: every call returns.
      const batches = await Promise.all(Array.from({ length: 10 }, (_, w) => publishInOrder(c, 'app.order.updated', payloads(w * 30, 30))));
      ids = batches.flat();
      const held = await c.request<BrokerStatus>('brokers/status', {});
      expect(held.outboxLag).toBeGreaterThanOrEqual(300);
    } finally {
      brokers('resume', 'kafka');
    }

    const before = (await c.request<BrokerStatus>('brokers/status', {})).lastPublishedSeq;
    const seen = await waitForStatus(c, (s) => s.lastPublishedSeq > before, 'the drain to start', 120_000);
    await d.stop('SIGKILL');
    expect(seen.outboxLag).toBeGreaterThan(0);

    const again = await start({ env, dataDir: d.dataDir });
    const c2 = await again.connect();
    const resumed = await c2.request<BrokerStatus>('brokers/status', {});
    expect(resumed.lastPublishedSeq).toBeGreaterThanOrEqual(seen.lastPublishedSeq);
    await waitForStatus(c2, (s) => s.connected && s.outboxLag === 0, 'the drain after the restart');

    const messages = await readKafka(KAFKA!, `${prefix}default`, (m) => new Set(m.map((x) => x.event.id)).size >= ids.length);
    // Duplicates are allowed (the batch in flight at the kill), each with the same id and seq.
    const bySeq = new Map<string, number>();
    for (const m of messages) {
      expect(bySeq.get(m.event.id) ?? m.event.seq).toBe(m.event.seq);
      bySeq.set(m.event.id, m.event.seq);
    }
    // Per key the order follows the log: the workers interleave, so compare by sequence number.
    const order = [...ids].sort((a, b) => bySeq.get(a)! - bySeq.get(b)!);
    const keyById = new Map(messages.map((m) => [m.event.id, m.key!]));
    expectCompleteAndOrdered(messages, order, (i) => keyById.get(order[i]!)!);
  });

  it('sends an event larger than Kafka accepts as a stand-in without its payload, and the events after it flow on', async () => {
    const prefix = uniqueName('t') + '.';
    const d = await start({ env: kafkaEnv(prefix) });
    const c = await d.connect();
    const big = await c.request<{ id: string; seq: number }>('events/publish', { type: 'app.blob.stored', payload: { id: 'blob-1', data: 'x'.repeat(2 * 1024 * 1024) } });
    const after = await c.request<{ id: string }>('events/publish', { type: 'app.blob.stored', payload: { id: 'blob-2', data: 'small' } });
    await waitForStatus(c, (s) => s.connected && s.outboxLag === 0, 'the outbox to pass the large event');
    const onTopic = await readKafka(KAFKA!, `${prefix}default`, (m) => m.some((x) => x.event.id === after.id));
    const stub = onTopic.find((m) => m.event.id === big.id)!;
    expect(stub.event).toMatchObject({ id: big.id, seq: big.seq, type: 'app.blob.stored', payload: null });
    expect(Number(stub.headers['cogniforge-truncated'])).toBeGreaterThan(2 * 1024 * 1024);
    expect(onTopic.find((m) => m.event.id === after.id)!.event.payload).toEqual({ id: 'blob-2', data: 'small' });
    expect(d.stderr()).toContain(`event ${big.seq} (app.blob.stored,`);
    // The log still has the whole event.
    const stored = await c.request<{ events: { payload: { data: string } }[] }>('events/query', { types: ['app.blob.stored'], limit: 1 });
    expect(stored.events[0]!.payload.data).toHaveLength(2 * 1024 * 1024);
    await c.close();
  });
});
