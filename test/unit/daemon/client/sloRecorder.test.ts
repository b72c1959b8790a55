import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientError, SloRecorder, classifyFlushError, rejectedSampleIndexes, type SloRecorderOptions, type SloTransport } from '../../../../daemon/client';
import { ErrorCode, RpcError, type SloSample } from '../../../../daemon/protocol';

/** Records every batch; answers with the queued outcomes (success when none is queued). */
class FakeTransport implements SloTransport {
  ready = true;
  readonly batches: SloSample[][] = [];
  readonly batchIds: string[] = [];
  readonly outcomes: (Error | undefined)[] = [];
  /** While set, sends wait for it: a batch in flight. */
  hold: Promise<void> | undefined;

  isReady(): boolean {
    return this.ready;
  }

  async send(samples: SloSample[], batchId: string): Promise<void> {
    this.batches.push(samples);
    this.batchIds.push(batchId);
    const outcome = this.outcomes.shift();
    if (this.hold) await this.hold;
    if (outcome) throw outcome;
  }

  get sentSizes(): number[] {
    return this.batches.map((b) => b.length);
  }
}

const T0 = Date.parse('2026-11-27T10:00:00.000Z');
const recorders: SloRecorder[] = [];

function make(options: SloRecorderOptions = {}): { t: FakeTransport; r: SloRecorder } {
  const t = new FakeTransport();
  // A long interval: tests flush by hand unless they are about the timer.
  const r = new SloRecorder(t, { flushIntervalMs: 3_600_000, now: () => T0, ...options });
  recorders.push(r);
  return { t, r };
}

const req = (i: number, status = 200) => ({ method: 'get', route: `/r/${i}`, status, durationMs: 12 });

afterEach(async () => {
  for (const r of recorders.splice(0)) await r.close();
});

describe('SloRecorder batching', () => {
  it('sends buffered samples in batches of maxBatchSize, in order, in the wire shape', async () => {
    const { t, r } = make({ maxBatchSize: 5, service: 'shop' });
    for (let i = 0; i < 12; i++) r.recordRequest(req(i));
    await r.flush();
    expect(t.sentSizes).toEqual([5, 5, 2]);
    expect(t.batches.flat().map((s) => s.route)).toEqual(Array.from({ length: 12 }, (_, i) => `/r/${i}`));
    expect(t.batches[0]![0]).toEqual({ service: 'shop', method: 'GET', route: '/r/0', status: 200, durationMs: 12, timestamp: '2026-11-27T10:00:00.000Z' });
    expect(r.stats()).toEqual({ recorded: 12, sent: 12, dropped: 0, lost: 0, rejected: 0, invalid: 0, pending: 0 });
  });

  it('sends a full batch without waiting for the timer', async () => {
    const { t, r } = make({ maxBatchSize: 4 });
    for (let i = 0; i < 4; i++) r.recordRequest(req(i));
    expect(t.batches).toHaveLength(0);
    await vi.waitFor(() => expect(t.sentSizes).toEqual([4]));
  });

  it('sends a partial batch when the interval elapses', async () => {
    const { t, r } = make({ flushIntervalMs: 10 });
    r.recordRequest(req(1));
    await vi.waitFor(() => expect(r.stats().sent).toBe(1));
    expect(t.sentSizes).toEqual([1]);
  });

  it('keeps explicit timestamps, timeouts and custom good flags', async () => {
    const { t, r } = make();
    r.recordRequest({ ...req(1), timestamp: new Date(T0 - 60_000), timedOut: true, good: false, service: 'billing' });
    r.recordRequest({ ...req(2), timestamp: '2026-11-27T09:58:00.000Z' });
    await r.flush();
    expect(t.batches[0]).toEqual([
      { service: 'billing', method: 'GET', route: '/r/1', status: 200, durationMs: 12, timestamp: '2026-11-27T09:59:00.000Z', timedOut: true, good: false },
      { service: 'api', method: 'GET', route: '/r/2', status: 200, durationMs: 12, timestamp: '2026-11-27T09:58:00.000Z' },
    ]);
  });

  it('caps the batch size at the protocol limit of 10,000', async () => {
    const { t, r } = make({ maxBatchSize: 50_000, maxBuffer: 12_000 });
    for (let i = 0; i < 12_000; i++) r.recordRequest(req(i));
    await r.flush();
    expect(t.sentSizes).toEqual([10_000, 2_000]);
  });
});

describe('SloRecorder buffer bounds', () => {
  it('drops and counts samples over maxBuffer, without throwing or blocking', () => {
    const { t, r } = make({ maxBuffer: 10 });
    t.ready = false;
    const results = Array.from({ length: 15 }, (_, i) => r.recordRequest(req(i)));
    expect(results.every((v) => v === undefined)).toBe(true);
    expect(r.stats()).toMatchObject({ recorded: 10, dropped: 5, pending: 10, sent: 0 });
  });

  it('counts a batch in flight against the buffer', async () => {
    const { t, r } = make({ maxBuffer: 6, maxBatchSize: 4 });
    let release!: () => void;
    t.hold = new Promise((res) => (release = res));
    for (let i = 0; i < 4; i++) r.recordRequest(req(i));
    await vi.waitFor(() => expect(t.batches).toHaveLength(1));
    for (let i = 4; i < 8; i++) r.recordRequest(req(i));
    expect(r.stats()).toMatchObject({ recorded: 6, dropped: 2, pending: 6 });
    release();
    t.hold = undefined;
    await r.flush();
    expect(r.stats()).toMatchObject({ sent: 6, pending: 0 });
  });

  it('waits while the transport is not connected, then sends', async () => {
    const { t, r } = make();
    t.ready = false;
    r.recordRequest(req(1));
    await r.flush();
    expect(t.batches).toHaveLength(0);
    t.ready = true;
    await r.flush();
    expect(r.stats()).toMatchObject({ sent: 1, pending: 0 });
  });

  it('counts samples it cannot send as invalid, and never throws on them', () => {
    const { r } = make();
    const throwing = Object.defineProperty({ ...req(1) }, 'status', {
      get() {
        throw new Error('boom');
      },
    });
    const bad = [
      { ...req(1), status: 99 },
      { ...req(1), status: 200.5 },
      { ...req(1), durationMs: -1 },
      { ...req(1), durationMs: Number.NaN },
      { ...req(1), route: '' },
      { ...req(1), service: '' },
      { ...req(1), timestamp: 'yesterday' },
      { ...req(1), timestamp: 1e300 },
      throwing,
      null,
    ];
    for (const s of bad) expect(() => r.recordRequest(s as never)).not.toThrow();
    expect(r.stats()).toMatchObject({ invalid: bad.length, recorded: 0, pending: 0 });
  });

  it('clips over-long fields to the protocol limits instead of losing the sample', async () => {
    const { t, r } = make();
    r.recordRequest({ method: 'x'.repeat(40), route: `/${'a'.repeat(600)}`, status: 204, durationMs: 1e12 });
    await r.flush();
    const [s] = t.batches[0]!;
    expect(s!.method).toHaveLength(16);
    expect(s!.route).toHaveLength(512);
    expect(s!.durationMs).toBe(86_400_000);
  });
});

describe('SloRecorder flush failures', () => {
  it('re-sends a batch the daemon answered with an error, once it succeeds, without duplicates', async () => {
    const { t, r } = make({ maxBatchSize: 3 });
    t.outcomes.push(new RpcError(ErrorCode.ShuttingDown, 'stopping'));
    for (let i = 0; i < 5; i++) r.recordRequest(req(i));
    await r.flush();
    expect(r.stats()).toMatchObject({ sent: 0, pending: 5 });
    await r.flush();
    expect(t.batches.map((b) => b.map((s) => s.route))).toEqual([
      ['/r/0', '/r/1', '/r/2'],
      ['/r/0', '/r/1', '/r/2'],
      ['/r/3', '/r/4'],
    ]);
    expect(r.stats()).toMatchObject({ sent: 5, lost: 0, dropped: 0, pending: 0 });
  });

  it('gives up on a refused batch after maxAttempts and counts it dropped', async () => {
    const { t, r } = make({ maxAttempts: 3 });
    for (let i = 0; i < 3; i++) t.outcomes.push(new RpcError(ErrorCode.RateLimited, 'slow down'));
    r.recordRequest(req(1));
    r.recordRequest(req(2));
    for (let i = 0; i < 5; i++) await r.flush();
    expect(t.batches).toHaveLength(3);
    expect(r.stats()).toMatchObject({ sent: 0, dropped: 2, pending: 0 });
  });

  it.each([
    ['a dropped connection', new ClientError('outcomeUnknown', 'connection dropped')],
    ['a timeout', new RpcError(ErrorCode.Timeout, 'slo/recordBatch timed out')],
    ['a storage failure', new RpcError(ErrorCode.StorageFailure, 'disk full')],
    ['a closed client', new ClientError('closed', 'closed while in flight')],
  ])('re-sends a batch of unknown fate (%s) under the same batchId, so the daemon counts it once', async (_name, error) => {
    const errors: string[] = [];
    const { t, r } = make({ onError: (_e, info) => errors.push(info.outcome) });
    t.outcomes.push(error);
    r.recordRequest(req(1));
    r.recordRequest(req(2));
    await r.flush();
    r.recordRequest(req(3));
    await r.flush();
    expect(t.batches.map((b) => b.length)).toEqual([2, 2, 1]);
    expect(t.batchIds[1]).toBe(t.batchIds[0]);
    expect(t.batchIds[2]).not.toBe(t.batchIds[0]);
    expect(r.stats()).toMatchObject({ sent: 3, lost: 0, pending: 0 });
    expect(errors).toEqual(['unknown']);
  });

  it('counts a batch of unknown fate as lost once it used up its attempts', async () => {
    const { t, r } = make({ maxAttempts: 2 });
    t.outcomes.push(new ClientError('outcomeUnknown', 'dropped'), new RpcError(ErrorCode.Timeout, 'timed out'));
    r.recordRequest(req(1));
    for (let i = 0; i < 3; i++) await r.flush();
    expect(t.batches).toHaveLength(2);
    expect(new Set(t.batchIds).size).toBe(1);
    expect(r.stats()).toMatchObject({ sent: 0, lost: 1, dropped: 0, pending: 0 });
  });

  it('gives a split or a rest batch a new batchId (its samples differ)', async () => {
    const { t, r } = make();
    t.outcomes.push(new RpcError(ErrorCode.MessageTooLarge, 'too big'));
    for (let i = 0; i < 4; i++) r.recordRequest(req(i));
    await r.flush();
    expect(new Set(t.batchIds).size).toBe(3);
  });

  it('drops only the samples an InvalidParams answer names and re-sends the rest of the batch', async () => {
    const { t, r } = make();
    t.outcomes.push(new RpcError(ErrorCode.InvalidParams, 'samples.1.timestamp: is older than the window', { issues: [{ path: 'samples.1.timestamp', message: 'old' }] }));
    for (let i = 0; i < 3; i++) r.recordRequest(req(i));
    await r.flush();
    expect(t.batches[1]!.map((s) => s.route)).toEqual(['/r/0', '/r/2']);
    expect(r.stats()).toMatchObject({ sent: 2, rejected: 1, pending: 0 });
  });

  it('counts a whole batch rejected when the error names no sample', async () => {
    const { t, r } = make();
    t.outcomes.push(new RpcError(ErrorCode.InvalidParams, 'bad'));
    r.recordRequest(req(1));
    r.recordRequest(req(2));
    await r.flush();
    expect(r.stats()).toMatchObject({ sent: 0, rejected: 2, pending: 0 });
    expect(t.batches).toHaveLength(1);
  });

  it('splits a batch that is over the message size limit', async () => {
    const { t, r } = make();
    t.outcomes.push(new RpcError(ErrorCode.MessageTooLarge, 'too big'));
    for (let i = 0; i < 5; i++) r.recordRequest(req(i));
    await r.flush();
    expect(t.sentSizes).toEqual([5, 3, 2]);
    expect(r.stats()).toMatchObject({ sent: 5, pending: 0 });
  });

  it('survives an onError callback that throws', async () => {
    const { t, r } = make({
      onError: () => {
        throw new Error('logger broke');
      },
    });
    t.outcomes.push(new ClientError('outcomeUnknown', 'dropped'));
    r.recordRequest(req(1));
    await expect(r.flush()).resolves.toBeUndefined();
    await r.flush();
    expect(r.stats()).toMatchObject({ sent: 1, lost: 0 });
  });
});

describe('SloRecorder close', () => {
  it('flushes, then drops later samples', async () => {
    const { t, r } = make();
    r.recordRequest(req(1));
    await r.close();
    r.recordRequest(req(2));
    expect(t.sentSizes).toEqual([1]);
    expect(r.stats()).toMatchObject({ recorded: 1, sent: 1, dropped: 1, pending: 0 });
  });

  it('retries a refused batch while closing and counts what it could not send as dropped', async () => {
    const { t, r } = make({ maxAttempts: 2 });
    t.outcomes.push(new RpcError(ErrorCode.ShuttingDown, 'stopping'));
    r.recordRequest(req(1));
    await r.close();
    expect(r.stats()).toMatchObject({ sent: 1, dropped: 0 });

    const { t: t2, r: r2 } = make();
    t2.ready = false;
    r2.recordRequest(req(1));
    await r2.close();
    expect(r2.stats()).toMatchObject({ sent: 0, dropped: 1, pending: 0 });
    expect(t.batches).toHaveLength(2);
  });
});

describe('classifyFlushError', () => {
  it('retries only what the daemon provably did not apply', () => {
    expect(classifyFlushError(new RpcError(ErrorCode.ShuttingDown, 'x'))).toBe('notApplied');
    expect(classifyFlushError(new RpcError(ErrorCode.RateLimited, 'x'))).toBe('notApplied');
    expect(classifyFlushError(new RpcError(ErrorCode.InvalidParams, 'x'))).toBe('rejected');
    expect(classifyFlushError(new RpcError(ErrorCode.MessageTooLarge, 'x'))).toBe('tooLarge');
    expect(classifyFlushError(new RpcError(ErrorCode.Timeout, 'x'))).toBe('unknown');
    expect(classifyFlushError(new RpcError(ErrorCode.InternalError, 'x'))).toBe('unknown');
    expect(classifyFlushError(new ClientError('outcomeUnknown', 'x'))).toBe('unknown');
    expect(classifyFlushError(new Error('x'))).toBe('unknown');
  });

  it('reads sample indexes from string and array issue paths', () => {
    const e = new RpcError(ErrorCode.InvalidParams, 'x', {
      issues: [{ path: 'samples.3.timestamp' }, { path: ['samples', 0, 'status'] }, { path: 'samples.99.status' }, { path: 'other' }],
    });
    expect([...rejectedSampleIndexes(e, 10)].sort()).toEqual([0, 3]);
  });
});
