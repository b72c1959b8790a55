import { appendFile, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StoreCorruptionError } from '../../../../daemon/store';
import { encodeFrames } from '../../../../daemon/store/framing';
import type { Harness } from './storeTestKit';
import { CountingProjection, crashImage, framesOf, hashTree, makeHarness, readAll, segmentFiles } from './storeTestKit';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const note = (i: number) => ({ type: 'incident.note', actor: 'a', payload: { i } });

/** Append `n` notes one call at a time, with snapshots far away, and return a crash image of the disk. */
async function crashedWith(n: number, snapshotEvery = 1_000_000): Promise<string> {
  const store = await h.open({ snapshotEvery });
  for (let i = 1; i <= n; i++) await store.append([note(i)]);
  const image = await crashImage(h.dir);
  h.track(image);
  return image;
}

async function flipByte(path: string, offset: number): Promise<void> {
  const buf = await readFile(path);
  buf[offset] = buf[offset]! ^ 0xff;
  await writeFile(path, buf);
}

describe('recovery at start-up', () => {
  it('replays the whole log when no snapshot exists (crash before the first snapshot)', async () => {
    const image = await crashedWith(7);
    const p = new CountingProjection();
    const store = await h.open({ dataDir: image, projections: [p] });
    expect(p.counts['incident.note']).toBe(7);
    expect(store.lastSeq).toBe(7);
    expect(store.stats().snapshotSeq).toBe(0);
  });

  it('cuts a torn final record (incomplete frame) and logs file and offset', async () => {
    const image = await crashedWith(4);
    const [file] = await segmentFiles(image);
    const path = join(image, 'log', file!);
    const sizeBefore = (await stat(path)).size;
    const json = JSON.stringify({ id: 'x', seq: 5, type: 'incident.note' });
    const key = 'incident.note\nincident_events\nx';
    const frame = encodeFrames([{ seq: 5, time: 0, priority: 1, key, keyBytes: key.length, json, jsonBytes: json.length }], 5, 5);
    await appendFile(path, frame.subarray(0, frame.length - 7));

    const p = new CountingProjection();
    const store = await h.open({ dataDir: image, projections: [p] });
    expect(store.lastSeq).toBe(4);
    expect((await stat(path)).size).toBe(sizeBefore);
    const cut = h.logs.find((l) => l.message.startsWith('Cut '));
    expect(cut?.message).toContain(path);
    expect(cut?.message).toContain(`offset ${sizeBefore}`);
    const [next] = await store.append([note(5)]);
    expect(next!.event.seq).toBe(5);
    expect(p.counts['incident.note']).toBe(5);
  });

  it('cuts a final record whose checksum does not match', async () => {
    const image = await crashedWith(4);
    const [file] = await segmentFiles(image);
    const path = join(image, 'log', file!);
    const frames = await framesOf(path);
    await flipByte(path, frames[3]!.end - 2);
    const store = await h.open({ dataDir: image });
    expect(store.lastSeq).toBe(3);
    expect((await stat(path)).size).toBe(frames[3]!.offset);
    expect(h.logs.some((l) => l.message.includes('checksum mismatch'))).toBe(true);
  });

  it('refuses to start on a corrupt record followed by valid ones, naming file and offset, and changes nothing', async () => {
    const image = await crashedWith(6);
    const [file] = await segmentFiles(image);
    const path = join(image, 'log', file!);
    const frames = await framesOf(path);
    await flipByte(path, frames[2]!.offset + 40);
    const before = await hashTree(image);
    const err = await h.open({ dataDir: image }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreCorruptionError);
    const e = err as StoreCorruptionError;
    expect(e.file).toBe(path);
    expect(e.offset).toBe(frames[2]!.offset);
    expect(e.message).toContain(path);
    expect(e.message).toContain(`offset ${frames[2]!.offset}`);
    expect(e.message).toContain('Nothing was changed');
    expect(await hashTree(image)).toEqual(before);
  });

  it('cuts a write round that reached only one of its class files (atomic multi-event append)', async () => {
    const store = await h.open({ snapshotEvery: 1_000_000 });
    for (let i = 1; i <= 3; i++) await store.append([note(i)]);
    await store.append([
      { type: 'api.request', actor: 'a', payload: 'a' },
      { type: 'incident.note', actor: 'a', payload: 'b' },
      { type: 'api.request', actor: 'a', payload: 'c' },
    ]);
    const image = await crashImage(h.dir);
    h.track(image);
    const files = await segmentFiles(image);
    const apiFile = join(image, 'log', files.find((f) => f.startsWith('r7d-'))!);
    const apiFrames = await framesOf(apiFile);
    // The api part of the round lost its last record: the whole round must go, incident part included.
    await truncate(apiFile, apiFrames[1]!.offset);

    const p = new CountingProjection();
    const again = await h.open({ dataDir: image, projections: [p] });
    expect(again.lastSeq).toBe(3);
    expect((await readAll(again)).map((e) => e.payload)).toEqual([{ i: 1 }, { i: 2 }, { i: 3 }]);
    expect(p.total()).toBe(3);
    expect(h.logs.some((l) => l.message.includes('incomplete last write (records 4..6'))).toBe(true);
  });

  it('rebuilds projections from the whole log when the snapshot does not parse', async () => {
    const store = await h.open({ projections: [new CountingProjection()] });
    for (let i = 1; i <= 5; i++) await store.append([note(i)]);
    await store.close();
    await writeFile(join(h.dir, 'snapshots', 'projections.json'), '{"seq": 5, "projections": {"counting": ');
    const p = new CountingProjection();
    const again = await h.open({ projections: [p] });
    expect(p.counts['incident.note']).toBe(5);
    expect(again.stats().snapshotSeq).toBe(0);
    expect(h.logs.some((l) => l.level === 'warn' && l.message.includes('rebuilding every projection'))).toBe(true);
  });

  it('rebuilds when the snapshot was taken with a different set of projections', async () => {
    const store = await h.open({ projections: [new CountingProjection('a')] });
    for (let i = 1; i <= 3; i++) await store.append([note(i)]);
    await store.close();
    const a = new CountingProjection('a');
    const b = new CountingProjection('b');
    await h.open({ projections: [a, b] });
    expect(a.total()).toBe(3);
    expect(b.total()).toBe(3);
    expect(h.logs.some((l) => l.message.includes('holds projections [a]'))).toBe(true);
  });

  it('restores from the snapshot and replays only the tail', async () => {
    const store = await h.open({ projections: [new CountingProjection()], snapshotEvery: 4 });
    for (let i = 1; i <= 10; i++) await store.append([note(i)]);
    await vi.waitFor(() => expect(store.stats().snapshotSeq).toBe(8));
    const image = await crashImage(h.dir);
    h.track(image);
    const p = new CountingProjection();
    let replayed = 0;
    const inner = p.apply.bind(p);
    p.apply = (e) => {
      replayed++;
      inner(e);
    };
    const again = await h.open({ dataDir: image, projections: [p] });
    expect(replayed).toBe(2);
    expect(p.counts['incident.note']).toBe(10);
    expect(again.stats().snapshotSeq).toBe(8);
    await again.whenIndexed();
    expect((await readAll(again)).length).toBe(10);
  });

  it('verifies segments the snapshot covers in the background and raises a system.alert for damage', async () => {
    const store = await h.open({ projections: [new CountingProjection()] });
    for (let i = 1; i <= 6; i++) await store.append([note(i)]);
    await store.close();
    const [file] = await segmentFiles(h.dir);
    const path = join(h.dir, 'log', file!);
    const frames = await framesOf(path);
    await flipByte(path, frames[2]!.offset + 50);

    const p = new CountingProjection();
    const again = await h.open({ projections: [p] });
    expect(p.counts['incident.note']).toBe(6);
    await again.whenIndexed();
    await vi.waitFor(() => expect(again.lastSeq).toBe(7));
    const [alert] = await again.query({ types: ['system.alert'] }, { limit: 10, order: 'asc' });
    expect(alert).toMatchObject({
      type: 'system.alert',
      stream: 'system_events',
      payload: { file: path, offset: frames[2]!.offset, reason: 'checksum mismatch' },
    });
    const notes = await again.query({ types: ['incident.*'] }, { limit: 10, order: 'asc' });
    expect(notes.map((e) => e.seq)).toEqual([1, 2, 4, 5, 6]);
  });

  it('refuses to start when records after the snapshot are missing', async () => {
    const store = await h.open({ snapshotEvery: 1_000_000 });
    await store.append([note(1)]);
    await store.append([note(2)]);
    await store.snapshot();
    await store.append([{ type: 'api.request', actor: 'a', payload: 3 }]);
    await store.append([note(4)]);
    const image = await crashImage(h.dir);
    h.track(image);
    const apiFile = (await segmentFiles(image)).find((f) => f.startsWith('r7d-'))!;
    await writeFile(join(image, 'log', apiFile), '');
    const before = await hashTree(image);
    const err = await h.open({ dataDir: image }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreCorruptionError);
    expect((err as Error).message).toContain('missing');
    expect(await hashTree(image)).toEqual(before);
  });

  it('works from a snapshot without its log summary: walks the segments, tallies old records in the background', async () => {
    const store = await h.open({ projections: [new CountingProjection()], segmentMaxBytes: 1500, snapshotEvery: 5 });
    for (let i = 1; i <= 12; i++) await store.append([i % 3 === 0 ? { type: 'api.request', actor: 'a', payload: i } : note(i)]);
    await vi.waitFor(() => expect(store.stats().snapshotSeq).toBe(10));
    const stats = store.stats();
    const image = await crashImage(h.dir);
    h.track(image);
    const snapPath = join(image, 'snapshots', 'projections.json');
    const snap = JSON.parse(await readFile(snapPath, 'utf8')) as Record<string, unknown>;
    delete snap.log;
    await writeFile(snapPath, JSON.stringify(snap));

    const p = new CountingProjection();
    let replayed = 0;
    const inner = p.apply.bind(p);
    p.apply = (e) => {
      replayed++;
      inner(e);
    };
    const again = await h.open({ dataDir: image, projections: [p] });
    expect(replayed).toBe(2);
    expect(p.total()).toBe(12);
    await again.whenIndexed();
    expect(again.stats()).toEqual(stats);
    expect((await readAll(again)).map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });
});
