import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../../daemon/protocol';
import type { Priority, RpcError } from '../../../../daemon/protocol';
import type { FileEventStore } from '../../../../daemon/store';
import type { EventFilter } from '../../../../daemon/store/types';
import type { Harness } from './storeTestKit';
import { crashImage, makeHarness, readAll, segmentFiles } from './storeTestKit';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const MIN = 60_000;
const kinds: { type: string; priority: Priority }[] = [
  { type: 'api.request', priority: 'low' },
  { type: 'api.error', priority: 'high' },
  { type: 'incident.created', priority: 'critical' },
  { type: 'incident.timeline.added', priority: 'normal' },
  { type: 'orders.placed', priority: 'normal' },
];

/** 50 events, one per minute, cycling through `kinds`. */
async function fill(store: FileEventStore): Promise<number> {
  const start = h.clock.now();
  for (let i = 0; i < 50; i++) {
    const k = kinds[i % kinds.length]!;
    await store.append([{ type: k.type, priority: k.priority, actor: 'a', payload: { i } }]);
    h.clock.advance(MIN);
  }
  return start;
}

const seqs = async (store: FileEventStore, filter: EventFilter, page: { limit: number; order: 'asc' | 'desc'; beforeSeq?: number }) =>
  (await store.query(filter, page)).map((e) => e.seq);

describe('query', () => {
  it('filters by type pattern, stream, time range, afterSeq and priority, both orders', async () => {
    const store = await h.open();
    const start = await fill(store);
    const asc = { limit: 100, order: 'asc' as const };
    expect(await seqs(store, { types: ['api.*'] }, asc)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1).filter((s) => (s - 1) % 5 < 2));
    expect(await seqs(store, { types: ['incident.*'] }, { limit: 3, order: 'asc' })).toEqual([3, 8, 13]);
    expect(await seqs(store, { types: ['incident.**'] }, { limit: 4, order: 'asc' })).toEqual([3, 4, 8, 9]);
    expect(await seqs(store, { stream: 'default' }, { limit: 2, order: 'desc' })).toEqual([50, 45]);
    expect(await seqs(store, { streams: ['api_events', 'default'], types: ['**.error'] }, asc)).toHaveLength(10);
    expect(await seqs(store, { fromTime: start + 10 * MIN, toTime: start + 13 * MIN }, asc)).toEqual([11, 12, 13]);
    expect(await seqs(store, { afterSeq: 47 }, asc)).toEqual([48, 49, 50]);
    expect(await seqs(store, { minPriority: 'high', afterSeq: 40 }, asc)).toEqual([42, 43, 47, 48]);
    expect(await seqs(store, { minPriority: 'critical' }, { limit: 2, order: 'desc', beforeSeq: 43 })).toEqual([38, 33]);
  });

  it('pages backwards with beforeSeq and forwards with afterSeq without gaps or repeats', async () => {
    const store = await h.open();
    await fill(store);
    const back: number[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await seqs(store, { types: ['api.**'] }, { limit: 7, order: 'desc', ...(before ? { beforeSeq: before } : {}) });
      if (page.length === 0) break;
      back.push(...page);
      before = page[page.length - 1];
    }
    expect(back).toEqual([...back].sort((a, b) => b - a));
    expect(back).toHaveLength(20);
    const fwd: number[] = [];
    let after = 0;
    for (;;) {
      const page = await seqs(store, { afterSeq: after }, { limit: 9, order: 'asc' });
      if (page.length === 0) break;
      fwd.push(...page);
      after = page[page.length - 1]!;
    }
    expect(fwd).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('reads events beyond the in-memory cache from their segments, identical to cached ones', async () => {
    const cached = await h.open({ segmentMaxBytes: 2000 });
    await fill(cached);
    const expected = await readAll(cached);
    expect((await segmentFiles(h.dir)).length).toBeGreaterThan(3);
    const image = await crashImage(h.dir);
    h.track(image);
    const small = await h.open({ dataDir: image, eventCacheSize: 5 });
    await small.whenIndexed();
    expect(small.diagnostics().eventsInMemory).toBeLessThanOrEqual(5);
    expect(await readAll(small)).toEqual(expected);
    expect(await small.query({ types: ['incident.created'] }, { limit: 3, order: 'asc' })).toEqual(
      expected.filter((e) => e.type === 'incident.created').slice(0, 3),
    );
    expect(await readAll(small, 45)).toEqual(expected.slice(45));
  });

  it('bounds the cache by bytes too: big events are read back from disk, the newest stays cached', async () => {
    const store = await h.open({ eventCacheBytes: 4096 });
    const big = 'x'.repeat(1500);
    for (let i = 0; i < 12; i++) await store.append([{ type: 'a.big', actor: 'a', payload: { i, big } }]);
    const inMemory = store.diagnostics().eventsInMemory;
    expect(inMemory).toBeGreaterThanOrEqual(1);
    expect(inMemory).toBeLessThanOrEqual(3);
    const all = await store.query({ types: ['a.big'] }, { limit: 20, order: 'asc' });
    expect(all.map((e) => (e.payload as { i: number }).i)).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  it('refuses an unknown stream with NotFound', async () => {
    const store = await h.open();
    const err = (await store.query({ stream: 'missing' }, { limit: 1, order: 'asc' }).catch((e: unknown) => e)) as RpcError;
    expect(err.code).toBe(ErrorCode.NotFound);
    expect(err.message).toContain('missing');
  });

  it('keeps event times non-decreasing even if the clock steps back', async () => {
    const store = await h.open();
    const [a] = await store.append([{ type: 'a.b', actor: 'a', payload: 1 }]);
    h.clock.set(h.clock.now() - 5 * MIN);
    const [b] = await store.append([{ type: 'a.b', actor: 'a', payload: 2 }]);
    expect(b!.event.time).toBe(a!.event.time);
  });
});

describe('stats', () => {
  it('counts per stream and matches what a restart rebuilds, with or without a snapshot', async () => {
    const store = await h.open({ segmentMaxBytes: 3000 });
    await fill(store);
    const st = store.stats();
    expect(st.lastSeq).toBe(50);
    expect(st.events).toBe(50);
    const api = st.streams.find((s) => s.name === 'api_events')!;
    expect(api.events).toBe(20);
    expect(api.lastSeq).toBe(47);
    expect(api.lastTime).toBe(new Date(h.clock.now() - 4 * MIN).toISOString());
    expect(st.streams.find((s) => s.name === 'slo_events')).toEqual({ name: 'slo_events', events: 0, bytes: 0, lastSeq: 0 });
    expect(st.streams.reduce((n, s) => n + s.bytes, 0)).toBe(st.bytes);
    expect(st.segments).toBe((await segmentFiles(h.dir)).length);

    const crashed = await crashImage(h.dir);
    h.track(crashed);
    const fromLog = await h.open({ dataDir: crashed });
    expect(fromLog.stats()).toEqual(st);

    await store.close();
    const fromSnapshot = await h.open();
    expect(fromSnapshot.stats()).toEqual({ ...st, snapshotSeq: 50 });
  });
});
