import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Harness } from './storeTestKit';
import { CountingProjection, makeHarness, readAll, segmentFiles } from './storeTestKit';

const DAY = 86_400_000;
let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const api = (i: number, id?: string) => ({ type: 'api.request', actor: 'a', payload: { i }, ...(id ? { id } : {}) });
const inc = (i: number) => ({ type: 'incident.note', actor: 'a', payload: { i } });

describe('retention', () => {
  it('drops whole expired segments and keeps the rest, projections keep their effect', async () => {
    const p = new CountingProjection();
    const store = await h.open({ projections: [p] });
    const oldId = '33333333-3333-4333-8333-333333333333';
    await store.append([api(1, oldId), api(2)]);
    await store.append([inc(1)]);
    h.clock.advance(DAY + 1);
    await store.append([api(3)]); // rolls: the first api segment is a day old
    h.clock.advance(6 * DAY + 1000);
    await store.append([inc(2)]);
    // The hourly timer may already have run while the clock moved; either way the result is the same.
    await store.enforceRetention();
    const files = await segmentFiles(h.dir);
    expect(files).toEqual(['keep-0000000000000003.seg', 'keep-0000000000000005.seg', 'r7d-0000000000000004.seg']);
    const left = await readAll(store);
    expect(left.map((e) => e.seq)).toEqual([3, 4, 5]);
    const st = store.stats();
    expect(st.events).toBe(3);
    expect(st.streams.find((s) => s.name === 'api_events')).toMatchObject({ events: 1, lastSeq: 4 });
    expect(p.counts['api.request']).toBe(3);
    // The id left retention with its event: it is new again.
    const [again] = await store.append([api(9, oldId)]);
    expect(again!.duplicate).toBe(false);
    await store.close();

    const p2 = new CountingProjection();
    const reopened = await h.open({ projections: [p2] });
    expect(p2.counts['api.request']).toBe(4);
    expect((await readAll(reopened)).map((e) => e.seq)).toEqual([3, 4, 5, 6]);
  });

  it('never drops the segment holding the newest write round', async () => {
    const store = await h.open();
    await store.append([api(1)]);
    h.clock.advance(30 * DAY);
    expect(await store.enforceRetention()).toBe(0);
    await store.append([inc(1)]);
    expect(await store.enforceRetention()).toBe(1);
    expect(await segmentFiles(h.dir)).toEqual(['keep-0000000000000002.seg']);
    const [next] = await store.append([api(2)]);
    expect(next!.event.seq).toBe(3);
    expect(await segmentFiles(h.dir)).toEqual(['keep-0000000000000002.seg', 'r7d-0000000000000003.seg']);
  });

  it('runs hourly on the injected clock', async () => {
    const store = await h.open();
    await store.whenIndexed();
    await store.append([api(1)]);
    await store.append([inc(1)]);
    const first = join(h.dir, 'log', 'r7d-0000000000000001.seg');
    h.clock.advance(7 * DAY + 2 * 3_600_000);
    await vi.waitFor(async () => {
      await expect(access(first)).rejects.toThrow();
    });
    expect(store.stats().streams.find((s) => s.name === 'api_events')!.events).toBe(0);
    await store.close();
    expect(h.clock.pending).toBe(0);
  });
});
