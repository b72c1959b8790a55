import { describe, expect, it } from 'vitest';
import { ErrorCode, RpcError, StreamActivity } from '../../../../daemon/protocol';
import { StreamActivityProjection } from '../../../../daemon/services/events/streamActivity';
import type { EventRecord, StreamConfig } from '../../../../daemon/store/types';

const T0 = Date.parse('2026-01-01T10:00:00Z');
const STREAMS: StreamConfig[] = [
  { name: 'api_requests', retentionDays: 7, typePatterns: ['api.**'] },
  { name: 'default', retentionDays: 30, typePatterns: [] },
];
let seq = 0;
const event = (stream: string, atMs: number): EventRecord => ({
  id: `e${++seq}`,
  seq,
  type: 'x.y',
  stream,
  time: new Date(atMs).toISOString(),
  priority: 'normal',
  actor: 'owner',
  schemaVersion: 1,
  payload: null,
});
const params = (p: unknown) => StreamActivity.params.parse(p);

describe('StreamActivityProjection', () => {
  it('counts events per stream per bucket, lists empty buckets, oldest first', () => {
    const a = new StreamActivityProjection();
    a.apply(event('api_requests', T0 + 5_000));
    a.apply(event('api_requests', T0 + 65_000));
    a.apply(event('default', T0 + 70_000));
    a.apply(event('api_requests', T0 + 4 * 60_000));
    const r = a.query(params({ minutes: 6, bucketMinutes: 2 }), T0 + 5 * 60_000 + 1, STREAMS);
    expect(r.bucketMinutes).toBe(2);
    expect(r.buckets).toEqual([
      { start: '2026-01-01T10:00:00.000Z', counts: { api_requests: 2, default: 1 } },
      { start: '2026-01-01T10:02:00.000Z', counts: {} },
      { start: '2026-01-01T10:04:00.000Z', counts: { api_requests: 1 } },
    ]);
    const only = a.query(params({ minutes: 6, bucketMinutes: 2, streams: ['default'] }), T0 + 5 * 60_000, STREAMS);
    expect(only.buckets[0]!.counts).toEqual({ default: 1 });
  });

  it('forgets minutes older than a day after the newest event, and restores from its snapshot', () => {
    const a = new StreamActivityProjection();
    a.apply(event('default', T0));
    a.apply(event('default', T0 + 1441 * 60_000));
    const copy = new StreamActivityProjection();
    copy.restore(JSON.parse(JSON.stringify(a.snapshot())));
    expect(copy.snapshot()).toEqual(a.snapshot());
    expect((a.snapshot() as { minutes: unknown[] }).minutes).toHaveLength(1);
    const late = copy.query(params({ minutes: 1440, bucketMinutes: 60 }), T0 + 1441 * 60_000, STREAMS);
    expect(late.buckets.reduce((n, b) => n + (b.counts.default ?? 0), 0)).toBe(1);
  });

  it('refuses an unknown stream naming the field', () => {
    const a = new StreamActivityProjection();
    let error: unknown;
    try {
      a.query(params({ streams: ['nope'] }), T0, STREAMS);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RpcError);
    expect((error as RpcError).code).toBe(ErrorCode.InvalidParams);
    expect((error as RpcError).message).toContain('streams: unknown stream "nope"');
  });

  it('rejects a range beyond what is kept, and a broken snapshot', () => {
    expect(StreamActivity.params.safeParse({ minutes: 1441 }).success).toBe(false);
    expect(() => new StreamActivityProjection().restore({ nope: 1 })).toThrow('not a streamActivity snapshot');
  });
});
