import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, RpcError } from '../../../../daemon/protocol';
import type { Harness } from './storeTestKit';
import { CountingProjection, makeHarness, readAll, segmentFiles } from './storeTestKit';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.cleanup();
});

describe('event store: append and read back', () => {
  it('round-trips events through the log and a restart', async () => {
    const p = new CountingProjection();
    const store = await h.open({ projections: [p] });
    const [a] = await store.append([{ type: 'incident.created', actor: 'owner', payload: { id: 'inc_1', sev: 'SEV1' } }]);
    expect(a!.duplicate).toBe(false);
    expect(a!.event).toMatchObject({
      seq: 1,
      type: 'incident.created',
      stream: 'incident_events',
      priority: 'normal',
      schemaVersion: 1,
      actor: 'owner',
      time: new Date(h.clock.now()).toISOString(),
      payload: { id: 'inc_1', sev: 'SEV1' },
    });
    expect(a!.event.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(p.counts['incident.created']).toBe(1);
    await store.append([{ type: 'slo.sample', actor: 'svc', source: 'api', correlationId: 'c1', causationId: 'x', priority: 'high', payload: 3 }]);
    await store.close();

    const p2 = new CountingProjection();
    const again = await h.open({ projections: [p2] });
    const all = await readAll(again);
    expect(all.map((e) => e.seq)).toEqual([1, 2]);
    expect(all[0]).toEqual(a!.event);
    expect(all[1]).toMatchObject({ source: 'api', correlationId: 'c1', causationId: 'x', priority: 'high', payload: 3, stream: 'slo_events' });
    expect(p2.counts).toEqual({ 'incident.created': 1, 'slo.sample': 1 });
    expect(again.lastSeq).toBe(2);
  });

  it('keeps one global seq order across retention classes', async () => {
    const store = await h.open();
    const types = ['api.request', 'security.auth', 'incident.created', 'system.health', 'custom.thing'];
    for (let round = 0; round < 4; round++) {
      await Promise.all(types.map((type, i) => store.append([{ type, actor: 'a', payload: { round, i } }])));
      await store.append(types.map((type) => ({ type, actor: 'a', payload: { round, batch: true } })));
    }
    const files = await segmentFiles(h.dir);
    expect(files.map((f) => f.split('-')[0]).sort()).toEqual(['keep', 'r14d', 'r30d', 'r7d']);
    await store.close();
    const again = await h.open();
    const all = await readAll(again);
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(new Set(all.map((e) => e.stream))).toEqual(new Set(['api_events', 'security_events', 'incident_events', 'system_events', 'default']));
  });

  it('treats a repeated id as a duplicate: same call, concurrent calls, and after a restart', async () => {
    const store = await h.open({ snapshotEvery: 2 });
    const id = '11111111-1111-4111-8111-111111111111';
    const [first, inCall] = await store.append([
      { id, type: 'config.set', actor: 'a', payload: 1 },
      { id, type: 'config.set', actor: 'a', payload: 2 },
    ]);
    expect(first!.duplicate).toBe(false);
    expect(inCall).toEqual({ event: first!.event, duplicate: true });

    const other = '22222222-2222-4222-8222-222222222222';
    const [c1, c2] = await Promise.all([
      store.append([{ id: other, type: 'config.set', actor: 'a', payload: 'x' }]),
      store.append([{ id: other, type: 'config.set', actor: 'a', payload: 'y' }]),
    ]);
    expect([c1![0]!.duplicate, c2![0]!.duplicate]).toEqual([false, true]);
    expect(c2![0]!.event).toEqual(c1![0]!.event);
    await store.append([{ type: 'config.other', actor: 'a', payload: null }]);
    await store.close();

    // After a restart the id was recorded before the snapshot: the background index must know it.
    const again = await h.open();
    const [repeat] = await again.append([{ id, type: 'config.set', actor: 'b', payload: 3 }]);
    expect(repeat).toEqual({ event: first!.event, duplicate: true });
    expect(again.lastSeq).toBe(3);
    expect((await readAll(again)).length).toBe(3);
  });

  it('appends a multi-event batch with consecutive seqs and hands listeners the batch after projections', async () => {
    const p = new CountingProjection();
    const store = await h.open({ projections: [p] });
    const seen: { seqs: number[]; projected: number }[] = [];
    const off = store.onAppend((events) => seen.push({ seqs: events.map((e) => e.seq), projected: p.applied }));
    await store.append([
      { type: 'api.request', actor: 'a', payload: 1 },
      { type: 'incident.created', actor: 'a', payload: 2 },
      { type: 'api.error', actor: 'a', payload: 3 },
    ]);
    off();
    await store.append([{ type: 'api.request', actor: 'a', payload: 4 }]);
    expect(seen).toEqual([{ seqs: [1, 2, 3], projected: 3 }]);
  });

  it('refuses an unknown explicit stream with NotFound naming the known ones', async () => {
    const store = await h.open();
    const err = await store.append([{ type: 'x.y', stream: 'nope', actor: 'a', payload: null }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect((err as RpcError).code).toBe(ErrorCode.NotFound);
    expect((err as RpcError).message).toContain('"nope"');
    expect((err as RpcError).message).toContain('api_events');
    const [ok] = await store.append([{ type: 'x.y', stream: 'security_events', actor: 'a', payload: null }]);
    expect(ok!.event.stream).toBe('security_events');
    expect(ok!.event.seq).toBe(1);
  });

  it('keeps serving when a projection throws, and logs the projection by name', async () => {
    const bad = new CountingProjection('bad');
    bad.apply = () => {
      throw new Error('boom');
    };
    const good = new CountingProjection('good');
    const store = await h.open({ projections: [bad, good] });
    const [r] = await store.append([{ type: 'a.b', actor: 'a', payload: null }]);
    expect(r!.event.seq).toBe(1);
    expect(good.applied).toBe(1);
    expect(store.diagnostics().projectionErrors).toBe(1);
    expect(h.logs.some((l) => l.level === 'error' && l.message.includes('Projection bad threw'))).toBe(true);
  });

  it('closes twice safely and rejects appends after close with ShuttingDown', async () => {
    const store = await h.open();
    const pending = store.append([{ type: 'a.b', actor: 'a', payload: 1 }]);
    const closing = store.close();
    await expect(pending).resolves.toHaveLength(1);
    await closing;
    await store.close();
    const err = await store.append([{ type: 'a.b', actor: 'a', payload: 2 }]).catch((e: unknown) => e);
    expect((err as RpcError).code).toBe(ErrorCode.ShuttingDown);
    const again = await h.open();
    expect(again.lastSeq).toBe(1);
    expect(again.stats().snapshotSeq).toBe(1);
  });

  it('rejects a payload that cannot be stored as JSON without affecting other appends', async () => {
    const store = await h.open();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const [bad, good] = await Promise.allSettled([
      store.append([{ type: 'a.b', actor: 'a', payload: cyclic }]),
      store.append([{ type: 'a.c', actor: 'a', payload: 1 }]),
    ]);
    expect(bad.status).toBe('rejected');
    expect(((bad as PromiseRejectedResult).reason as RpcError).code).toBe(ErrorCode.InvalidParams);
    expect(good.status === 'fulfilled' && good.value[0]!.event.seq).toBe(1);
  });

  it('writes the projection snapshot as { seq, projections } through lowdb on snapshot() and close()', async () => {
    const p = new CountingProjection();
    const store = await h.open({ projections: [p] });
    await store.append([{ type: 'a.b', actor: 'a', payload: 1 }]);
    await store.snapshot();
    const path = join(h.dir, 'snapshots', 'projections.json');
    const first = JSON.parse(await readFile(path, 'utf8')) as { seq: number; projections: Record<string, unknown> };
    expect(first.seq).toBe(1);
    expect(first.projections).toEqual({ counting: { counts: { 'a.b': 1 }, lastSeq: 1 } });
    expect(store.stats().snapshotSeq).toBe(1);
    await store.append([{ type: 'a.b', actor: 'a', payload: 2 }]);
    await store.close();
    const last = JSON.parse(await readFile(path, 'utf8')) as { seq: number; projections: Record<string, unknown> };
    expect(last.seq).toBe(2);
    expect(last.projections).toEqual({ counting: { counts: { 'a.b': 2 }, lastSeq: 2 } });
  });
});
