import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BrokerStatus } from '../../../../daemon/protocol';
import { BrokerOutbox, type PolicyRunner } from '../../../../daemon/services/brokers/outbox';
import { OutboxCursor } from '../../../../daemon/services/brokers/outboxCursor';
import type { BrokerTransport } from '../../../../daemon/services/brokers/transport';
import { DependencyPolicies } from '../../../../daemon/services/resilience/policies';
import { systemClock } from '../../../../daemon/services/shared/clock';
import type { EventRecord } from '../../../../daemon/store/types';
import { MemoryEventLog, type MemoryStore } from '../support/memoryStore';

/**
 * The outbox loop against a transport of our own (this tests our cursor and retry logic; the real
 * brokers are exercised by test/backends/). `down` makes every call fail, `hang` makes publishes
 * wait until aborted.
 */
class FakeTransport implements BrokerTransport {
  readonly kind = 'kafka' as const;
  readonly target = 'fake:9092 (topics t.<stream>)';
  readonly received: EventRecord[] = [];
  readonly batches: number[][] = [];
  down = false;
  hang = false;
  probeOk = true;
  resets = 0;
  closed = false;
  private readonly listeners: ((reason: string) => void)[] = [];

  async connect(): Promise<void> {
    await Promise.resolve();
    if (this.down) throw new Error('connection refused');
  }

  async publish(events: readonly EventRecord[], signal: AbortSignal): Promise<void> {
    this.batches.push(events.map((e) => e.seq));
    if (this.hang) {
      await new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
    }
    await Promise.resolve();
    if (this.down) throw new Error('connection refused');
    this.received.push(...events);
  }

  async reset(): Promise<void> {
    this.resets++;
    await Promise.resolve();
  }

  async probe(): Promise<void> {
    await Promise.resolve();
    if (!this.probeOk) throw new Error('probe refused');
  }

  onDisconnect(listener: (reason: string) => void): void {
    this.listeners.push(listener);
  }

  disconnect(reason: string): void {
    this.listeners.forEach((l) => l(reason));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.resolve();
  }
}

const direct: PolicyRunner = (fn, { signal }) => fn(signal);

let dir: string;
let log: MemoryEventLog;
let store: MemoryStore;
const outboxes: BrokerOutbox[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cf-outbox-'));
  log = new MemoryEventLog();
  store = log.open({ clock: systemClock });
});

afterEach(async () => {
  await Promise.all(outboxes.splice(0).map((o) => o.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function publish(n: number, key = 'a'): Promise<void> {
  for (let i = 0; i < n; i++) await store.append([{ type: 'app.tick', actor: 'test', payload: { id: key, n: i } }]);
}

async function makeOutbox(transport: FakeTransport, extra: Partial<ConstructorParameters<typeof BrokerOutbox>[0]> = {}) {
  const { cursor } = await OutboxCursor.load(OutboxCursor.fileFor(dir, 'kafka'), transport.target);
  const changes: BrokerStatus[] = [];
  const outbox = new BrokerOutbox({
    store,
    transport,
    cursor,
    runPolicy: direct,
    resetBreaker: () => undefined,
    clock: systemClock,
    batchSize: 4,
    publishTimeoutMs: 1_000,
    retryInitialMs: 5,
    retryMaxMs: 20,
    probeIntervalMs: 5,
    onChange: (s) => changes.push(s),
    ...extra,
  });
  outboxes.push(outbox);
  return { outbox, cursor, changes };
}

const seqs = (events: readonly EventRecord[]) => events.map((e) => e.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('BrokerOutbox', () => {
  it('publishes every appended event in log order, in batches of at most batchSize, and persists the cursor', async () => {
    await publish(10);
    const t = new FakeTransport();
    const { outbox, changes } = await makeOutbox(t);
    outbox.start();
    await vi.waitFor(() => expect(outbox.status().outboxLag).toBe(0));
    await publish(3, 'b');
    await vi.waitFor(() => expect(seqs(t.received)).toEqual(range(1, 13)));
    expect(t.batches.every((b) => b.length <= 4)).toBe(true);
    const status = outbox.status();
    expect(status).toMatchObject({ kind: 'kafka', connected: true, outboxLag: 0, lastPublishedSeq: 13, headSeq: 13, publishedSinceStart: 13 });
    expect(status.lastError).toBeUndefined();
    expect(changes.map((c) => c.connected)).toEqual([true]);
    await vi.waitFor(() => expect(JSON.parse(readFileSync(OutboxCursor.fileFor(dir, 'kafka'), 'utf8'))).toMatchObject({ seq: 13, target: t.target }));
  });

  it('never publishes events imported from teammates again: their origin did; the cursor passes them', async () => {
    await publish(2);
    await store.append([{ type: 'incident.created', actor: 'owner', payload: { id: 'inc-9' }, origin: { daemon: 'bravo', seq: 4, time: new Date().toISOString() } }]);
    await publish(1);
    const t = new FakeTransport();
    const { outbox } = await makeOutbox(t);
    outbox.start();
    await vi.waitFor(() => expect(outbox.status()).toMatchObject({ outboxLag: 0, lastPublishedSeq: 4 }));
    expect(seqs(t.received)).toEqual([1, 2, 4]);
    expect(outbox.status().publishedSinceStart).toBe(3);
  });

  it('sends the next batch while the cursor is being written, and writes the newest position once the slow write ends', async () => {
    await publish(12);
    const t = new FakeTransport();
    const { cursor } = await OutboxCursor.load(OutboxCursor.fileFor(dir, 'kafka'), t.target);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const saved: number[] = [];
    const slowCursor = {
      get seq() {
        return cursor.seq;
      },
      save: async (seq: number) => {
        saved.push(seq);
        await gate;
        await cursor.save(seq);
      },
    };
    const { outbox } = await makeOutbox(t, { cursor: slowCursor });
    outbox.start();
    // All three batches went out although the first cursor write has not finished.
    await vi.waitFor(() => expect(seqs(t.received)).toEqual(range(1, 12)));
    expect(saved).toEqual([4]);
    expect(outbox.status()).toMatchObject({ lastPublishedSeq: 0, outboxLag: 12 });
    release();
    // The moves made meanwhile are written as one: the newest position.
    await vi.waitFor(() => expect(outbox.status()).toMatchObject({ lastPublishedSeq: 12, outboxLag: 0 }));
    expect(saved).toEqual([4, 12]);
  });

  it('keeps events in the log while the broker is down, reports the lag, and drains them in order when it returns', async () => {
    const t = new FakeTransport();
    t.down = true;
    const { outbox, changes } = await makeOutbox(t);
    outbox.start();
    await publish(9);
    await vi.waitFor(() => expect(outbox.status().lastError?.message).toBe('connection refused'));
    expect(outbox.status()).toMatchObject({ connected: false, outboxLag: 9, lastPublishedSeq: 0 });
    expect(t.received).toEqual([]);
    expect(t.resets).toBeGreaterThan(0);

    t.down = false;
    await vi.waitFor(() => expect(outbox.status().outboxLag).toBe(0));
    expect(seqs(t.received)).toEqual(range(1, 9));
    expect(changes.map((c) => c.connected)).toEqual([true]);

    // Down again mid-run: the failed batch is sent again whole, nothing is skipped.
    t.down = true;
    await publish(5);
    await vi.waitFor(() => expect(outbox.status().connected).toBe(false));
    expect(changes.map((c) => c.connected)).toEqual([true, false]);
    t.down = false;
    await vi.waitFor(() => expect(outbox.status().outboxLag).toBe(0));
    expect(seqs(t.received)).toEqual(range(1, 14));
    expect(changes.map((c) => c.connected)).toEqual([true, false, true]);
    expect(outbox.status().lastError?.message).toBe('connection refused');
  });

  it('resumes from the durable cursor after a restart and publishes only what the broker did not acknowledge', async () => {
    const t1 = new FakeTransport();
    const first = await makeOutbox(t1);
    await publish(6);
    first.outbox.start();
    await vi.waitFor(() => expect(first.outbox.status().outboxLag).toBe(0));
    await first.outbox.close();
    expect(t1.closed).toBe(true);

    await publish(4);
    const t2 = new FakeTransport();
    const second = await makeOutbox(t2);
    expect(second.cursor.seq).toBe(6);
    second.outbox.start();
    await vi.waitFor(() => expect(second.outbox.status().outboxLag).toBe(0));
    expect(seqs(t2.received)).toEqual(range(7, 10));
  });

  it('goes idle-connected without events and notices a lost connection by itself', async () => {
    const t = new FakeTransport();
    const { outbox, changes } = await makeOutbox(t);
    outbox.start();
    await vi.waitFor(() => expect(outbox.status().connected).toBe(true));
    t.down = true;
    t.disconnect('RabbitMQ connection closed');
    await vi.waitFor(() => expect(changes.map((c) => c.connected)).toEqual([true, false]));
    expect(changes[1]!.lastError?.message).toBe('RabbitMQ connection closed');
    t.down = false;
    await vi.waitFor(() => expect(changes.map((c) => c.connected)).toEqual([true, false, true]));
  });

  it('close() abandons a publish that hangs, and the events stay for the next start', async () => {
    const t = new FakeTransport();
    t.hang = true;
    const { outbox, cursor } = await makeOutbox(t, { publishTimeoutMs: 60_000 });
    await publish(3);
    outbox.start();
    await vi.waitFor(() => expect(t.batches.length).toBe(1));
    await outbox.close();
    expect(cursor.seq).toBe(0);
    expect(t.received).toEqual([]);
  });

  it('through the real dependency policy: an open circuit is closed early once a probe reaches the broker', async () => {
    const policies = new DependencyPolicies({
      store,
      clock: systemClock,
      dependencies: { kafka: { retry: { maxRetries: 0 }, breaker: { failureThreshold: 2, halfOpenAfterMs: 600_000, successThreshold: 1 } } },
    });
    const t = new FakeTransport();
    t.down = true;
    t.probeOk = false;
    const { outbox } = await makeOutbox(t, {
      runPolicy: (fn, o) => policies.execute('kafka', fn, o),
      resetBreaker: (reason) => policies.resetBreaker('kafka', reason),
    });
    await publish(3);
    outbox.start();
    await vi.waitFor(() => expect(policies.stats('kafka')[0]!.breaker.state).toBe('open'));
    await vi.waitFor(() => expect(outbox.status().lastError?.message).toMatch(/circuit/i));
    t.down = false;
    t.probeOk = true;
    await vi.waitFor(() => expect(outbox.status().outboxLag).toBe(0));
    expect(seqs(t.received.filter((e) => e.type === 'app.tick'))).toEqual(range(1, 3));
    expect(policies.stats('kafka')[0]!.breaker.state).toBe('closed');
    await policies.close();
  });
});

describe('OutboxCursor', () => {
  it('starts at 0 without a file, round-trips a saved value, and ignores a cursor of another destination', async () => {
    const file = OutboxCursor.fileFor(dir, 'rabbitmq');
    const fresh = await OutboxCursor.load(file, 'amqp://a');
    expect(fresh.cursor.seq).toBe(0);
    expect(fresh.note).toBeUndefined();
    await fresh.cursor.save(41);
    await fresh.cursor.save(42);
    expect((await OutboxCursor.load(file, 'amqp://a')).cursor.seq).toBe(42);
    const other = await OutboxCursor.load(file, 'amqp://b');
    expect(other.cursor.seq).toBe(0);
    expect(other.note).toContain('amqp://a');
  });

  it('treats an unreadable file as no cursor and says so', async () => {
    const file = OutboxCursor.fileFor(dir, 'kafka');
    const { cursor } = await OutboxCursor.load(file, 'x');
    await cursor.save(3);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, '{"version":1,"seq":');
    const loaded = await OutboxCursor.load(file, 'x');
    expect(loaded.cursor.seq).toBe(0);
    expect(loaded.note).toMatch(/unreadable/);
  });
});
