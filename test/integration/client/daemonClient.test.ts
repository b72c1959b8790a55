import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClientError, batchCall, connect, readRuntimeFile, type ClientState, type DaemonClient } from '../../../daemon/client';
import { PublishEvent, QueryEvents, type EventEnvelope } from '../../../daemon/protocol';
import { removeTempDirs, spawnDaemon, type DaemonProcess } from '../helpers/daemonProcess';

let dataDir: string;
let daemons: DaemonProcess[];
let clients: DaemonClient[];

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'cf-client-it-'));
  daemons = [];
  clients = [];
});

afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(daemons.map((d) => d.stop('SIGKILL')));
  rmSync(dataDir, { recursive: true, force: true });
  removeTempDirs();
});

/** kill -9 and wait until the process is gone. */
async function killHard(d: DaemonProcess): Promise<void> {
  await d.stop('SIGKILL');
}

async function start(): Promise<DaemonProcess> {
  const d = await spawnDaemon({ dataDir });
  daemons.push(d);
  return d;
}

async function client(name: string): Promise<DaemonClient> {
  const c = await connect({ dataDir, clientName: name, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
  clients.push(c);
  return c;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}

async function allOfType(c: DaemonClient, type: string): Promise<EventEnvelope[]> {
  const out: EventEnvelope[] = [];
  let cursor: string | undefined;
  do {
    const page = await c.request(QueryEvents, { types: [type], limit: 1000, cursor });
    out.push(...page.events);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

describe('DaemonClient against the real daemon', () => {
  it('connects through the data dir, publishes, queries and batches', async () => {
    const d = await start();
    const c = await client('it-basic');
    expect(c.initializeResult?.protocolVersion).toBe(d.runtime.protocolVersion);
    const published = await c.request(PublishEvent, { type: 'it.basic', payload: { n: 1 } });
    expect(published).toMatchObject({ duplicate: false, stream: 'default' });
    const [again, query] = await c.batch([batchCall(PublishEvent, { type: 'it.basic', payload: { n: 2 } }), batchCall(QueryEvents, { types: ['it.basic'] })]);
    expect(again.ok).toBe(true);
    expect(query.ok).toBe(true);
    const events = await allOfType(c, 'it.basic');
    expect(events.map((e) => e.payload)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(events[0]!.id).toBe(published.id);
  });

  it('says clearly that the daemon is not running after it stopped', async () => {
    const d = await start();
    expect(await d.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(readRuntimeFile(dataDir)).toBeUndefined();
    const err = await connect({ dataDir, clientName: 'it-down' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ kind: 'daemonNotRunning' });
    expect((err as Error).message).toContain(dataDir);
  });

  it('delivers a subscription with catch-up, then live', async () => {
    await start();
    const c = await client('it-sub');
    for (let i = 0; i < 3; i++) await c.request(PublishEvent, { type: 'it.sub', payload: i });
    const seen: EventEnvelope[] = [];
    await c.subscribe({ types: ['it.sub'], afterSeq: 0 }, (e) => seen.push(e));
    await c.request(PublishEvent, { type: 'it.other' });
    await c.request(PublishEvent, { type: 'it.sub', payload: 3 });
    await until(() => seen.length === 4, 'four events');
    expect(seen.map((e) => e.payload)).toEqual([0, 1, 2, 3]);
  });

  it('survives kill -9 and a restart: new port and token, subscription resumes without gap or duplicate', async () => {
    const first = await start();
    const subscriber = await client('it-subscriber');
    const states: ClientState[] = [];
    subscriber.onStateChange((s) => states.push(s));
    const seen: EventEnvelope[] = [];
    const sub = await subscriber.subscribe({ types: ['it.tick'] }, (e) => seen.push(e));

    const publisher1 = await client('it-publisher-1');
    for (let i = 0; i < 20; i++) await publisher1.request(PublishEvent, { type: 'it.tick', payload: i });
    await until(() => seen.length === 20, 'live events before the kill');

    await killHard(first);
    const second = await start();
    expect(second.runtime.port).not.toBe(first.runtime.port);
    expect(second.runtime.token).not.toBe(first.runtime.token);

    // Published on the restarted daemon, possibly before the subscriber is back: caught up on resume.
    const publisher2 = await client('it-publisher-2');
    for (let i = 20; i < 40; i++) await publisher2.request(PublishEvent, { type: 'it.tick', payload: i });
    await until(() => seen.length >= 40, 'events after the restart');
    await publisher2.request(PublishEvent, { type: 'it.tick', payload: 40 });
    await until(() => seen.length >= 41, 'a live event after resume');

    expect(seen.map((e) => e.payload)).toEqual(Array.from({ length: 41 }, (_, i) => i));
    const seqs = seen.map((e) => e.seq);
    expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!)).toBe(true);
    expect(sub.lastSeq).toBe(seqs.at(-1));
    expect(states).toContain('reconnecting');
    expect(subscriber.state).toBe('connected');
  });

  it('in flight during kill -9: a command without a key rejects as outcome unknown and is not re-sent; a publish with an id is re-sent and stored once', async () => {
    const first = await start();
    const c = await client('it-inflight');
    // Freeze the daemon so the calls below are certainly on the wire and unanswered when it dies.
    first.child.kill('SIGSTOP');
    const unkeyed = Array.from({ length: 5 }, (_, i) =>
      c.request(PublishEvent, { type: 'it.unkeyed', payload: i }).then(
        () => 'acknowledged',
        (e: unknown) => e,
      ),
    );
    const ids = Array.from({ length: 5 }, () => randomUUID());
    const keyed = ids.map((id, i) => c.request(PublishEvent, { type: 'it.keyed', payload: i, id }));
    await new Promise((r) => setTimeout(r, 100));
    await killHard(first);

    const unkeyedOutcomes = await Promise.all(unkeyed);
    for (const outcome of unkeyedOutcomes) {
      expect(outcome).toBeInstanceOf(ClientError);
      expect(outcome).toMatchObject({ kind: 'outcomeUnknown', method: 'events/publish' });
      expect((outcome as Error).message).toMatch(/outcome is unknown/);
    }

    await start();
    const results = await Promise.all(keyed);
    expect(results.map((r) => r.id)).toEqual(ids);
    const keyedStored = await allOfType(c, 'it.keyed');
    expect(keyedStored.map((e) => e.id).sort()).toEqual([...ids].sort());
    // The frozen daemon never read them, and the client did not send them again.
    expect(await allOfType(c, 'it.unkeyed')).toEqual([]);
  });

  it('under a burst cut by kill -9, every keyed publish is stored exactly once and no unkeyed one twice', async () => {
    const first = await start();
    const c = await client('it-burst');
    const ids = Array.from({ length: 150 }, () => randomUUID());
    const keyed = ids.map((id, i) => c.request(PublishEvent, { type: 'it.burst.keyed', payload: i, id }));
    const unkeyed = Array.from({ length: 150 }, (_, i) =>
      c.request(PublishEvent, { type: 'it.burst.unkeyed', payload: i }).then(
        () => 'acknowledged' as const,
        (e: unknown) => e,
      ),
    );
    // Cut the burst in the middle: once the first answer is back, the rest are queued, in flight or being written.
    await Promise.race(keyed);
    await killHard(first);
    await start();

    const results = await Promise.all(keyed);
    expect(new Set(results.map((r) => r.id))).toEqual(new Set(ids));
    const keyedStored = await allOfType(c, 'it.burst.keyed');
    expect(keyedStored.map((e) => e.id).sort()).toEqual([...ids].sort());

    const outcomes = await Promise.all(unkeyed);
    const acknowledged = outcomes.filter((o) => o === 'acknowledged').length;
    for (const o of outcomes) if (o !== 'acknowledged') expect(o).toMatchObject({ kind: 'outcomeUnknown' });
    const unkeyedStored = (await allOfType(c, 'it.burst.unkeyed')).map((e) => e.payload as number);
    expect(new Set(unkeyedStored).size).toBe(unkeyedStored.length);
    expect(unkeyedStored.length).toBeGreaterThanOrEqual(acknowledged);
  });
});
