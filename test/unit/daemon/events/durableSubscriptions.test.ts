import { describe, expect, it } from 'vitest';
import { CreateDurableSubscription, ErrorCode, type ParamsOf } from '../../../../daemon/protocol';
import { DurableSubscriptionsProjection } from '../../../../daemon/services/events/durableProjection';
import { DurableSubscriptions } from '../../../../daemon/services/events/durableSubscriptions';
import type { SubscriberChannel } from '../../../../daemon/services/events/subscriptions';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { MemoryEventLog } from '../support/memoryStore';

interface Delivered {
  subscription: string;
  deliveryId: string;
  attempt: number;
  replay: boolean;
  dlqEntryId?: string;
  event: { seq: number; type: string; stream: string };
}

class FakeChannel implements SubscriberChannel {
  readonly open = new Set<string>(['ws:1', 'ws:2']);
  readonly frames = new Map<string, Delivered[]>();
  private readonly closeListeners = new Set<(id: string) => void>();
  hasConnection(id: string): boolean {
    return this.open.has(id);
  }
  send(id: string, frame: string): boolean {
    if (!this.open.has(id)) return false;
    const f = JSON.parse(frame) as { method: string; params: Delivered };
    expect(f.method).toBe('events/didDeliver');
    this.frames.set(id, [...(this.frames.get(id) ?? []), f.params]);
    return true;
  }
  async sendPaced(id: string, frame: string): Promise<boolean> {
    return this.send(id, frame);
  }
  onConnectionClosed(listener: (id: string) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }
  close(id: string): void {
    this.open.delete(id);
    this.closeListeners.forEach((l) => l(id));
  }
  got(id = 'ws:1'): Delivered[] {
    return this.frames.get(id) ?? [];
  }
  seqs(id = 'ws:1'): number[] {
    return this.got(id).map((d) => d.event.seq);
  }
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
};

function setup(log = new MemoryEventLog(), clock = new ManualClock()) {
  const projection = new DurableSubscriptionsProjection();
  const store = log.open({ clock, projections: [projection] });
  const channel = new FakeChannel();
  const errors: string[] = [];
  const subs = new DurableSubscriptions(store, projection, channel, clock, {
    checkpointEvery: 3,
    checkpointIntervalMs: 500,
    random: () => 0,
    onError: (m) => errors.push(m),
  });
  const publish = (type: string, payload: unknown = {}) => store.append([{ type, actor: 'pub', payload }]);
  const create = (over: Partial<ParamsOf<typeof CreateDurableSubscription>> = {}) =>
    subs.create(CreateDurableSubscription.params.parse({ name: 'orders', startAfterSeq: 0, ackTimeoutMs: 1000, maxAttempts: 3, backoff: { initialMs: 100, maxMs: 1000, jitter: 0.5 }, ...over }), 'owner');
  const attach = async (conn = 'ws:1', takeover = false, name = 'orders') => {
    const a = subs.attach(conn, name, takeover);
    a.start();
    await settle();
    return a.subscription;
  };
  return { log, clock, store, projection, channel, subs, publish, create, attach, errors };
}

describe('DurableSubscriptions: definitions', () => {
  it('refuses an unknown stream naming the field, and appends nothing', async () => {
    const t = setup();
    await expect(t.create({ filter: { streams: ['nope'] } })).rejects.toMatchObject({ code: ErrorCode.InvalidParams, message: expect.stringContaining('filter.streams') });
    expect(t.store.lastSeq).toBe(0);
  });

  it('refuses a duplicate name unless ifExists is keep', async () => {
    const t = setup();
    expect((await t.create()).created).toBe(true);
    await expect(t.create()).rejects.toMatchObject({ code: ErrorCode.Duplicate });
    const kept = await t.create({ ifExists: 'keep', maxAttempts: 9 });
    expect(kept).toMatchObject({ created: false, subscription: { maxAttempts: 3 } });
  });

  it('refuses a second consumer with Conflict unless it takes over', async () => {
    const t = setup();
    await t.create();
    await t.attach('ws:1');
    expect(() => t.subs.attach('ws:2', 'orders', false)).toThrow(expect.objectContaining({ code: ErrorCode.Conflict }));
    await t.attach('ws:2', true);
    const [{ event }] = await t.publish('order.placed');
    await settle();
    expect(t.channel.seqs('ws:1')).toEqual([]);
    expect(t.channel.seqs('ws:2')).toEqual([event.seq]);
    await expect(t.subs.ack('ws:1', 'orders', event.seq, undefined)).rejects.toMatchObject({ code: ErrorCode.FailedPrecondition });
  });
});

describe('DurableSubscriptions: delivery', () => {
  it('delivers matching events one at a time per stream, streams in parallel', async () => {
    const t = setup();
    await t.create({ filter: { types: ['order.*', 'api.*'], where: [{ path: 'ok', op: 'neq', value: false }] } });
    // seq 1 is subscription.created
    await t.publish('order.placed'); // 2 default
    await t.publish('api.request'); // 3 api_events
    await t.publish('order.paid', { ok: false }); // 4 filtered out by the payload predicate
    await t.publish('order.shipped'); // 5 default, waits for 2
    await t.attach();
    expect(t.channel.seqs()).toEqual([2, 3]);
    expect(await t.subs.ack('ws:1', 'orders', 2, undefined)).toBe(true);
    await settle();
    expect(t.channel.seqs()).toEqual([2, 3, 5]);
    expect(await t.subs.ack('ws:1', 'orders', 2, undefined)).toBe(false);
  });

  it('bounds the events held by the consumer to maxInFlight', async () => {
    const t = setup();
    await t.create({ maxInFlight: 2, filter: { types: ['*.x'] } });
    for (const type of ['a.x', 'api.x', 'security.x']) await t.publish(type);
    await t.attach();
    expect(t.channel.seqs()).toHaveLength(2);
    await t.subs.ack('ws:1', 'orders', t.channel.seqs()[0], undefined);
    await settle();
    expect(t.channel.seqs()).toHaveLength(3);
  });

  it('redelivers after the ack timeout and parks after maxAttempts with the reason', async () => {
    const t = setup();
    await t.create();
    await t.attach();
    await t.publish('order.placed');
    await settle();
    expect(t.channel.got().map((d) => d.attempt)).toEqual([1]);
    t.clock.advance(1000); // ack timeout → backoff 100 ms
    t.clock.advance(100);
    expect(t.channel.got().map((d) => d.attempt)).toEqual([1, 2]);
    const nack = await t.subs.nack('ws:1', 'orders', 2, undefined, 'boom');
    expect(nack).toEqual({ nacked: true, parked: false });
    t.clock.advance(199);
    expect(t.channel.got()).toHaveLength(2);
    t.clock.advance(1); // second backoff: 200 ms
    expect(t.channel.got().map((d) => d.attempt)).toEqual([1, 2, 3]);
    expect(await t.subs.nack('ws:1', 'orders', 2, undefined, 'still broken')).toEqual({ nacked: true, parked: true });
    const { entries } = t.subs.dlqList({ status: 'parked', limit: 10 });
    expect(entries).toEqual([expect.objectContaining({ subscription: 'orders', seq: 2, reason: 'still broken', attempts: 3, status: 'parked', replay: false })]);
    expect(t.log.ofType('subscription.parked')).toHaveLength(1);
  });

  it('moves the stream on once the head event is parked', async () => {
    const t = setup();
    await t.create({ maxAttempts: 1 });
    await t.publish('order.placed');
    await t.publish('order.paid');
    await t.attach();
    expect(t.channel.seqs()).toEqual([2]);
    await t.subs.nack('ws:1', 'orders', 2, undefined, 'bad');
    await settle();
    expect(t.channel.seqs()).toEqual([2, 3]);
  });
});

describe('DurableSubscriptions: checkpoints', () => {
  it('persists the contiguous watermark every N acks or after the interval, not per ack', async () => {
    const t = setup();
    await t.create({ filter: { types: ['*.x'] } });
    for (const type of ['a.x', 'api.x', 'security.x', 'system.x']) await t.publish(type); // 2..5, four streams
    await t.attach();
    expect(t.channel.seqs()).toEqual([2, 3, 4, 5]);
    await t.subs.ack('ws:1', 'orders', 3, undefined);
    await t.subs.ack('ws:1', 'orders', 4, undefined);
    await settle();
    expect(t.log.ofType('subscription.checkpoint')).toHaveLength(0);
    t.clock.advance(500); // interval: seq 2 is unacked, so the watermark is 1
    await settle();
    expect(t.log.ofType('subscription.checkpoint').map((e) => (e.payload as { seq: number }).seq)).toEqual([1]);
    await t.subs.ack('ws:1', 'orders', 2, undefined);
    await t.subs.ack('ws:1', 'orders', 5, undefined);
    await settle();
    t.clock.advance(500);
    await settle();
    const seqs = t.log.ofType('subscription.checkpoint').map((e) => (e.payload as { seq: number }).seq);
    expect(seqs[seqs.length - 1]).toBeGreaterThanOrEqual(5);
    expect(t.projection.get('orders')?.checkpoint).toBe(seqs[seqs.length - 1]);
    // No checkpoint feeds another: time passing with no acks appends nothing.
    const before = t.store.lastSeq;
    t.clock.advance(5000);
    await settle();
    expect(t.store.lastSeq).toBe(before);
  });

  it('resumes from the persisted checkpoint after a restart, redelivering the unpersisted window', async () => {
    const t = setup();
    await t.create();
    for (let i = 0; i < 5; i++) await t.publish('order.placed', { i });
    await t.attach();
    for (const seq of [2, 3, 4]) {
      await t.subs.ack('ws:1', 'orders', seq, undefined);
      await settle();
    }
    // Three acks: checkpoint 4 persisted. Ack 5 is not persisted before the "crash".
    await t.subs.ack('ws:1', 'orders', 5, undefined);
    await settle();
    expect(t.projection.get('orders')?.checkpoint).toBe(4);
    const again = setup(t.log, t.clock);
    await again.attach();
    // One stream: 5 first (acked before the crash, so a duplicate), then 6 once 5 is acked.
    expect(again.channel.seqs()).toEqual([5]);
    await again.subs.ack('ws:1', 'orders', 5, undefined);
    await settle();
    expect(again.channel.seqs()).toEqual([5, 6]);
  });

  it('persists the checkpoint when the consumer disconnects', async () => {
    const t = setup();
    await t.create();
    await t.publish('order.placed');
    await t.attach();
    await t.subs.ack('ws:1', 'orders', 2, undefined);
    t.channel.close('ws:1');
    await settle();
    expect(t.projection.get('orders')?.checkpoint).toBe(2);
    expect(t.subs.list()[0].consumer).toBeUndefined();
  });
});

describe('DurableSubscriptions: DLQ and replay', () => {
  async function parkedOne() {
    const t = setup();
    await t.create({ maxAttempts: 1 });
    await t.publish('order.placed');
    await t.attach();
    await t.subs.nack('ws:1', 'orders', 2, undefined, 'bad');
    const [entry] = t.subs.dlqList({ status: 'parked', limit: 10 }).entries;
    return { t, entry };
  }

  it('retries an entry once: a second retry is skipped, the ack marks it delivered', async () => {
    const { t, entry } = await parkedOne();
    expect(await t.subs.dlqRetry({ ids: [entry.id] }, 'owner')).toEqual({ retried: [entry.id], skipped: [] });
    const [second] = await Promise.all([t.subs.dlqRetry({ ids: [entry.id] }, 'owner'), settle()]);
    expect(second).toEqual({ retried: [], skipped: [entry.id] });
    await settle();
    const copies = t.channel.got().filter((d) => d.dlqEntryId === entry.id);
    expect(copies).toHaveLength(1);
    await t.subs.ack('ws:1', 'orders', 2, copies[0].deliveryId);
    expect(t.projection.entry(entry.id)?.status).toBe('delivered');
    expect((await t.subs.dlqGet(entry.id)).event?.seq).toBe(2);
  });

  it('two concurrent retries of the same entry deliver it once', async () => {
    const { t, entry } = await parkedOne();
    const [a, b] = await Promise.all([t.subs.dlqRetry({ all: true }, 'owner'), t.subs.dlqRetry({ ids: [entry.id] }, 'owner')]);
    expect([...a.retried, ...b.retried]).toEqual([entry.id]);
    await settle();
    expect(t.channel.got().filter((d) => d.dlqEntryId === entry.id)).toHaveLength(1);
  });

  it('refuses unknown ids with NotFound and discards entries', async () => {
    const { t, entry } = await parkedOne();
    await expect(t.subs.dlqRetry({ ids: ['nope'] }, 'owner')).rejects.toMatchObject({ code: ErrorCode.NotFound });
    expect(await t.subs.dlqDiscard([entry.id], 'owner')).toEqual([entry.id]);
    expect(t.subs.dlqList({ status: 'all', limit: 10 }).entries).toEqual([]);
  });

  it('pages the DLQ with a cursor', async () => {
    const t = setup();
    await t.create({ maxAttempts: 1 });
    await t.attach();
    for (let i = 0; i < 3; i++) {
      const [{ event }] = await t.publish('order.placed');
      await settle();
      await t.subs.nack('ws:1', 'orders', event.seq, undefined, 'bad');
    }
    const first = t.subs.dlqList({ status: 'parked', limit: 2 });
    expect(first.entries).toHaveLength(2);
    const rest = t.subs.dlqList({ status: 'parked', limit: 2, cursor: first.nextCursor });
    expect(rest.entries).toHaveLength(1);
    expect(rest.entries[0].seq).toBeGreaterThan(first.entries[1].seq);
    expect(rest.nextCursor).toBeUndefined();
  });

  it('replays a filtered range to the consumer marked replay, and needs a consumer', async () => {
    const t = setup();
    for (const type of ['order.placed', 'order.paid', 'order.placed']) await t.publish(type);
    await t.create({ startAfterSeq: undefined });
    const replay = { name: 'orders', fromSeq: 1, toSeq: 3, types: ['order.placed'] };
    await expect(t.subs.replay(replay, 'owner')).rejects.toMatchObject({ code: ErrorCode.FailedPrecondition });
    await t.attach();
    expect(t.channel.got()).toEqual([]);
    expect((await t.subs.replay(replay, 'owner')).count).toBe(2);
    await settle();
    expect(t.channel.got().map((d) => [d.event.seq, d.replay])).toEqual([
      [1, true],
      [3, true],
    ]);
  });

  it('re-parks a retried entry that fails again under the same id, attempts added up', async () => {
    const t = setup();
    await t.create({ maxAttempts: 1 });
    await t.publish('order.placed');
    await t.attach();
    await t.subs.nack('ws:1', 'orders', 2, undefined, 'bad');
    const [entry] = t.subs.dlqList({ status: 'parked', limit: 10 }).entries;
    await t.subs.dlqRetry({ ids: [entry.id] }, 'owner');
    await settle();
    const copy = t.channel.got().find((d) => d.dlqEntryId === entry.id)!;
    expect(await t.subs.nack('ws:1', 'orders', 2, copy.deliveryId, 'worse')).toEqual({ nacked: true, parked: true });
    expect(t.subs.dlqList({ status: 'all', limit: 10 }).entries).toEqual([expect.objectContaining({ id: entry.id, attempts: 2, reason: 'worse', status: 'parked' })]);
  });

  it('replays by time range, and refuses a start before the retained log', async () => {
    const t = setup();
    await t.publish('order.placed'); // 00:00:00
    t.clock.advance(60_000);
    await t.publish('order.placed'); // 00:01:00
    t.clock.advance(60_000);
    await t.publish('order.placed'); // 00:02:00
    await t.create({ startAfterSeq: undefined });
    await t.attach();
    const r = await t.subs.replay({ name: 'orders', from: '2026-01-01T00:00:30.000Z', to: '2026-01-01T00:02:00.000Z' }, 'owner');
    expect(r.count).toBe(1);
    await settle();
    expect(t.channel.got().map((d) => [d.event.seq, d.replay])).toEqual([[2, true]]);
    expect(t.log.ofType('subscription.replayed')).toHaveLength(1);
    t.log.records.splice(0, 1); // retention dropped seq 1
    await expect(t.subs.replay({ name: 'orders', fromSeq: 1 }, 'owner')).rejects.toMatchObject({ code: ErrorCode.FailedPrecondition, message: expect.stringContaining('retention') });
  });
});
