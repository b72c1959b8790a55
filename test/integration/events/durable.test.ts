import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type DaemonClient, type DeliveryInfo } from '../../../daemon/client';
import type { CommandRecord, DlqEntry, DurableSubscriptionInfo, EventEnvelope } from '../../../daemon/protocol';
import { rpcError, spawnDaemon, type DaemonProcess, type RpcClient } from '../helpers/daemonProcess';

async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('durable subscriptions against the real daemon', () => {
  let dataDir: string;
  let d: DaemonProcess;
  let raw: RpcClient;
  let client: DaemonClient;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cf-durable-it-'));
    d = await spawnDaemon({ dataDir });
    raw = await d.connect();
    client = await connect({ dataDir, clientName: 'durable-it', reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
  });

  afterAll(async () => {
    await client?.close();
    await d?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  const publish = async (type: string, payload: unknown = {}) => (await raw.request<{ seq: number }>('events/publish', { type, payload })).seq;
  const dlq = async (subscription: string, status = 'parked') =>
    (await raw.request<{ entries: DlqEntry[] }>('events/dlqList', { subscription, status })).entries;

  it('refuses bad input naming the field, and creates nothing', async () => {
    const e = await rpcError(raw.request('events/createSubscription', { name: 'bad', filter: { where: [{ path: 'a', op: 'in', value: 1 }] } }));
    expect(e.message).toContain('filter.where.0.value');
    const e2 = await rpcError(raw.request('events/createSubscription', { name: 'bad', filter: { streams: ['no_such'] } }));
    expect(e2.message).toContain('filter.streams');
    const { subscriptions } = await raw.request<{ subscriptions: DurableSubscriptionInfo[] }>('events/listSubscriptions', {});
    expect(subscriptions.map((s) => s.name)).not.toContain('bad');
    expect((await rpcError(raw.request('events/attach', { name: 'bad' }))).message).toContain('No durable subscription');
  });

  it('parks a failing event in the DLQ after maxAttempts; a DLQ retry delivers it once', async () => {
    const seen: { seq: number; info: DeliveryInfo }[] = [];
    let healed = false;
    await client.subscribe('it-orders', { types: ['order.*'], where: [{ path: 'skip', op: 'neq', value: true }] }, (e: EventEnvelope, info: DeliveryInfo) => {
      seen.push({ seq: e.seq, info });
      if ((e.payload as { bad?: boolean }).bad && !healed) throw new Error('cannot ship order');
    }, { maxAttempts: 3, ackTimeoutMs: 5000, backoff: { initialMs: 20, maxMs: 100, jitter: 0 } });
    const good = await publish('order.placed', { n: 1 });
    const bad = await publish('order.placed', { n: 2, bad: true });
    await publish('order.placed', { skip: true });
    const after = await publish('order.paid', { n: 3 });
    await until(async () => (await dlq('it-orders')).length === 1, 'the DLQ entry');
    const [entry] = await dlq('it-orders');
    expect(entry).toMatchObject({ seq: bad, attempts: 3, reason: 'cannot ship order', status: 'parked' });
    await until(() => seen.some((s) => s.seq === after), 'the event after the parked one');
    expect(seen.filter((s) => s.seq === bad).map((s) => s.info.attempt)).toEqual([1, 2, 3]);
    expect(seen.some((s) => s.seq === good)).toBe(true);
    expect((await raw.request<{ event: EventEnvelope }>('events/dlqGet', { id: entry.id })).event.seq).toBe(bad);

    healed = true;
    const [first, second] = await Promise.all([
      raw.request('events/dlqRetry', { ids: [entry.id] }),
      raw.request('events/dlqRetry', { ids: [entry.id] }),
    ]);
    expect([first, second]).toEqual(expect.arrayContaining([{ retried: [entry.id], skipped: [] }, { retried: [], skipped: [entry.id] }]));
    await until(async () => (await dlq('it-orders', 'delivered')).length === 1, 'the retried entry acked');
    await sleep(200);
    expect(seen.filter((s) => s.info.dlqEntryId === entry.id)).toHaveLength(1);
    const third = await raw.request('events/dlqRetry', { all: true, subscription: 'it-orders' });
    expect(third).toEqual({ retried: [], skipped: [] });
  });

  it('redelivers to a handler slower than the ack timeout', async () => {
    const attempts: number[] = [];
    await client.subscribe('it-slow', { types: ['slow.*'] }, async (_e: EventEnvelope, info: DeliveryInfo) => {
      attempts.push(info.attempt);
      if (info.attempt === 1) await sleep(900);
    }, { ackTimeoutMs: 300, backoff: { initialMs: 10, maxMs: 10, jitter: 0 } });
    await publish('slow.job');
    await until(() => attempts.includes(2), 'the redelivery');
    expect(attempts.slice(0, 2)).toEqual([1, 2]);
  });

  it('replays a filtered seq range to the consumer, marked replay', async () => {
    const replayed: number[] = [];
    const from = await publish('audit.login', { user: 'a' });
    await publish('audit.logout', { user: 'a' });
    const to = await publish('audit.login', { user: 'b' });
    await raw.request('events/createSubscription', { name: 'it-audit', filter: { types: ['audit.*'] } });
    await client.subscribe('it-audit', { types: ['audit.*'] }, (e: EventEnvelope, info: DeliveryInfo) => {
      if (info.replay) replayed.push(e.seq);
    });
    const r = await raw.request<{ count: number }>('events/replay', { name: 'it-audit', fromSeq: from, toSeq: to, types: ['audit.login'] });
    expect(r.count).toBe(2);
    await until(() => replayed.length === 2, 'the replayed events');
    expect(replayed.sort((a, b) => a - b)).toEqual([from, to]);
    expect((await rpcError(raw.request('events/replay', { name: 'it-audit' }))).message).toContain('fromSeq');
  });

  it('rebuilds the incidents projection as of an earlier seq, read-only', async () => {
    const create = (title: string) =>
      raw.request('incidents/create', { title, severity: 'SEV3', detectedBy: { kind: 'person', name: 'ann' } });
    await create('first outage');
    const { seq } = await raw.request<{ seq: number }>('events/publish', { type: 'marker.point' });
    await create('second outage');
    const past = await raw.request<{ seq: number; projections: { name: string; state: { incidents: { title: string }[] } }[] }>('events/stateAt', { projection: 'incidents', seq });
    const incidents = past.projections.find((p) => p.name === 'incidents')!.state.incidents.map((i) => i.title);
    expect(incidents).toEqual(['first outage']);
    const now = await raw.request<{ incidents: unknown[] }>('incidents/list', {});
    expect(now.incidents.length).toBe(2);
    expect((await rpcError(raw.request('events/stateAt', { projection: 'nope', seq: 1 }))).message).toContain('incidents');
  });

  it('lists commands with outcome and resulting events', async () => {
    await rpcError(raw.request('incidents/create', { title: 'x' }));
    const { commands } = await raw.request<{ commands: CommandRecord[] }>('events/commands', { method: 'incidents/create', limit: 10 });
    expect(commands[0]).toMatchObject({ outcome: 'error', errorCode: 'InvalidParams', eventSeqs: [] });
    const ok = commands.filter((c) => c.outcome === 'ok');
    expect(ok).toHaveLength(2);
    expect(ok.every((c) => c.eventSeqs.length > 0 && c.actor === 'owner')).toBe(true);
    const { commands: acks } = await raw.request<{ commands: CommandRecord[] }>('events/commands', { method: 'events/ack' });
    expect(acks).toEqual([]);
  });

  it('reports lag: what is unresolved while attached, 0 once caught up and after detaching', async () => {
    const lagOf = async () => (await raw.request<{ subscriptions: DurableSubscriptionInfo[] }>('events/listSubscriptions', {})).subscriptions.find((s) => s.name === 'it-lag')!;
    await raw.request('events/createSubscription', { name: 'it-lag', filter: { types: ['lag.*'] } });
    expect((await lagOf()).lag).toBe(0);
    await raw.request('events/attach', { name: 'it-lag' });
    const seqs = [await publish('lag.x'), await publish('lag.x'), await publish('lag.x')];
    const delivered = (seq: number) => (n: { method: string; params: unknown }) =>
      n.method === 'events/didDeliver' && (n.params as { subscription?: string; event?: { seq?: number } }).event?.seq === seq;
    // One stream delivers in order: the next goes out once the previous is acked.
    await raw.waitForNotifications(1, delivered(seqs[0]!));
    expect((await lagOf()).lag).toBeGreaterThanOrEqual(3);
    for (const seq of seqs) {
      await raw.waitForNotifications(1, delivered(seq));
      await raw.request('events/ack', { name: 'it-lag', seq });
    }
    await until(async () => (await lagOf()).lag === 0, 'lag 0 while attached and caught up');
    await raw.request('events/detach', { name: 'it-lag' });
    // Detaching wrote its checkpoint as an event after the checkpoint itself: still caught up.
    expect(await lagOf()).toMatchObject({ lag: 0, checkpoint: expect.any(Number) as number });
    await raw.request('events/deleteSubscription', { name: 'it-lag' });
  });

  it('lists, discards and deletes', async () => {
    const { subscriptions } = await raw.request<{ subscriptions: DurableSubscriptionInfo[] }>('events/listSubscriptions', {});
    expect(subscriptions.find((s) => s.name === 'it-orders')).toMatchObject({ consumer: expect.stringMatching(/^ws:/), filter: { types: ['order.*'] } });
    await raw.request('events/createSubscription', { name: 'it-gone', maxAttempts: 1 });
    await raw.request('events/attach', { name: 'it-gone' });
    const seq = await publish('gone.x');
    await raw.waitForNotifications(1, (n) => n.method === 'events/didDeliver');
    await raw.request('events/nack', { name: 'it-gone', seq, reason: 'no' });
    const [entry] = await dlq('it-gone');
    expect(await raw.request('events/dlqDiscard', { ids: [entry.id] })).toEqual({ discarded: [entry.id] });
    await raw.request('events/detach', { name: 'it-gone' });
    await raw.request('events/deleteSubscription', { name: 'it-gone' });
    const after = await raw.request<{ subscriptions: DurableSubscriptionInfo[] }>('events/listSubscriptions', {});
    expect(after.subscriptions.map((s) => s.name)).not.toContain('it-gone');
  });
});

describe('durable subscriptions across a daemon crash', () => {
  it('resumes after kill -9 with no gap (duplicates allowed)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cf-durable-crash-'));
    let d = await spawnDaemon({ dataDir });
    const client = await connect({ dataDir, clientName: 'durable-crash', reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
    try {
      const seen: number[] = [];
      await client.subscribe('it-crash', { types: ['job.*'] }, (e: EventEnvelope) => void seen.push(e.seq), { startAfterSeq: 0 });
      let raw = await d.connect();
      const published: number[] = [];
      for (let i = 0; i < 40; i++) published.push((await raw.request<{ seq: number }>('events/publish', { type: 'job.done', payload: { i } })).seq);
      await until(() => seen.length >= 10, 'some deliveries before the crash');
      await d.stop('SIGKILL');
      // Counted before the new daemon starts: the client re-attaches on its own and may receive
      // redeliveries before this test has asked for the checkpoint.
      const seenBeforeRestart = seen.length;
      d = await spawnDaemon({ dataDir });
      raw = await d.connect();
      const { subscriptions } = await raw.request<{ subscriptions: DurableSubscriptionInfo[] }>('events/listSubscriptions', {});
      const checkpoint = subscriptions.find((s) => s.name === 'it-crash')!.checkpoint;
      for (let i = 40; i < 60; i++) published.push((await raw.request<{ seq: number }>('events/publish', { type: 'job.done', payload: { i } })).seq);
      await until(() => published.every((s) => seen.includes(s)), 'every published event delivered');
      const resumed = seen.slice(seenBeforeRestart);
      expect(resumed.length).toBeGreaterThan(0);
      expect(Math.min(...resumed)).toBeGreaterThan(checkpoint);
      expect(published.filter((s) => s > checkpoint).every((s) => resumed.includes(s))).toBe(true);
    } finally {
      await client.close();
      await d.stop('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('durable subscriptions across a graceful restart', () => {
  it('keeps definitions, the checkpoint persisted on stop, and the DLQ', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cf-durable-restart-'));
    let d = await spawnDaemon({ dataDir });
    try {
      let raw = await d.connect();
      await raw.request('events/createSubscription', { name: 'it-keep', filter: { types: ['keep.*'] }, maxAttempts: 1 });
      await raw.request('events/attach', { name: 'it-keep' });
      const okSeq = (await raw.request<{ seq: number }>('events/publish', { type: 'keep.a' })).seq;
      await raw.waitForNotifications(1, (n) => n.method === 'events/didDeliver');
      await raw.request('events/ack', { name: 'it-keep', seq: okSeq });
      const badSeq = (await raw.request<{ seq: number }>('events/publish', { type: 'keep.b' })).seq;
      await raw.waitForNotifications(2, (n) => n.method === 'events/didDeliver');
      expect(await raw.request('events/nack', { name: 'it-keep', seq: badSeq, reason: 'nope' })).toEqual({ nacked: true, parked: true });
      await d.stop();
      d = await spawnDaemon({ dataDir });
      raw = await d.connect();
      const { subscriptions } = await raw.request<{ subscriptions: DurableSubscriptionInfo[] }>('events/listSubscriptions', {});
      expect(subscriptions).toEqual([expect.objectContaining({ name: 'it-keep', parked: 1, maxAttempts: 1 })]);
      // Both events resolved (acked, parked) before the stop: the checkpoint is past them (bookkeeping seqs skipped).
      expect(subscriptions[0].checkpoint).toBeGreaterThanOrEqual(badSeq);
      const { entries } = await raw.request<{ entries: DlqEntry[] }>('events/dlqList', {});
      expect(entries).toEqual([expect.objectContaining({ seq: badSeq, reason: 'nope', attempts: 1 })]);
    } finally {
      await d.stop('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
