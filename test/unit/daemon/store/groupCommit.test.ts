import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../../daemon/protocol';
import type { RpcError } from '../../../../daemon/protocol';
import type { Harness } from './storeTestKit';
import { makeHarness, readAll } from './storeTestKit';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const event = (i: number) => ({ type: 'incident.note', actor: 'a', payload: { i } });

/** A sync hook that holds the first fdatasync until released. */
function gatedSync() {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const inFlight = new Promise<void>((r) => (entered = r));
  let first = true;
  return {
    hook: async () => {
      if (!first) return;
      first = false;
      entered();
      await gate;
    },
    inFlight,
    release: () => release(),
  };
}

describe('group commit', () => {
  it('appends queued while an fdatasync is in flight share the next write and fdatasync', async () => {
    const g = gatedSync();
    const store = await h.open({ ioHooks: { beforeSync: g.hook } });
    const first = store.append([event(0)]);
    await g.inFlight;
    const queued = Array.from({ length: 20 }, (_, i) => store.append([event(i + 1)]));
    // Nothing queued is acknowledged while the first round's fdatasync is pending.
    let settled = 0;
    for (const q of queued) void q.then(() => settled++);
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(0);
    g.release();
    await first;
    const results = await Promise.all(queued);
    expect(results.map((r) => r[0]!.event.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    const d = store.diagnostics();
    expect(d.rounds).toBe(2);
    expect(d.fsyncs).toBe(2);
    expect(d.writes).toBe(2);
  });

  it('with groupCommit off, does one write and one fdatasync per append call', async () => {
    const store = await h.open({ groupCommit: false });
    await Promise.all(Array.from({ length: 15 }, (_, i) => store.append([event(i), event(i + 100)])));
    const d = store.diagnostics();
    expect(d.rounds).toBe(15);
    expect(d.fsyncs).toBe(15);
    expect((await readAll(store)).map((e) => e.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('with fsync off, never calls fdatasync', async () => {
    const store = await h.open({ fsync: false });
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.append([event(i)])));
    expect(store.diagnostics().fsyncs).toBe(0);
    expect(store.lastSeq).toBe(10);
  });

  it('syncs each retention-class file touched by a round once', async () => {
    const store = await h.open();
    await store.append([
      { type: 'api.request', actor: 'a', payload: 1 },
      { type: 'security.auth', actor: 'a', payload: 2 },
      { type: 'api.request', actor: 'a', payload: 3 },
    ]);
    const d = store.diagnostics();
    expect(d.rounds).toBe(1);
    expect(d.fsyncs).toBe(2);
  });
});

describe('disk errors', () => {
  it('rejects the batch with StorageFailure, acknowledges nothing, and reuses the seqs after a failed write', async () => {
    let failNext = false;
    const store = await h.open({
      ioHooks: {
        beforeWrite: () => {
          if (failNext) {
            failNext = false;
            throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
          }
        },
      },
    });
    await store.append([event(1)]);
    const seen: number[] = [];
    store.onAppend((evs) => seen.push(...evs.map((e) => e.seq)));
    failNext = true;
    const err = (await store.append([event(2), event(3)]).catch((e: unknown) => e)) as RpcError;
    expect(err.code).toBe(ErrorCode.StorageFailure);
    expect(err.message).toContain('ENOSPC');
    expect(seen).toEqual([]);
    const [next] = await store.append([event(4)]);
    expect(next!.event.seq).toBe(2);
    await store.close();
    const again = await h.open();
    expect((await readAll(again)).map((e) => (e.payload as { i: number }).i)).toEqual([1, 4]);
  });

  it('refuses further appends after a failed fdatasync (the page cache can no longer be trusted)', async () => {
    let fail = false;
    const store = await h.open({
      ioHooks: {
        beforeSync: () => {
          if (fail) throw new Error('EIO: i/o error');
        },
      },
    });
    await store.append([event(1)]);
    fail = true;
    const err = (await store.append([event(2)]).catch((e: unknown) => e)) as RpcError;
    expect(err.code).toBe(ErrorCode.StorageFailure);
    fail = false;
    const later = (await store.append([event(3)]).catch((e: unknown) => e)) as RpcError;
    expect(later.code).toBe(ErrorCode.StorageFailure);
    expect(store.lastSeq).toBe(1);
  });
});
