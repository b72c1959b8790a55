import { describe, expect, it } from 'vitest';
import { matchesDurableFilter, matchesPredicate, retryDelay, watermark } from '../../../../daemon/services/events/deliveryPolicy';
import type { EventRecord } from '../../../../daemon/store/types';

const event = (over: Partial<EventRecord>): EventRecord => ({
  id: 'x',
  seq: 1,
  type: 'api.request',
  stream: 'api_events',
  time: '2026-01-01T00:00:00.000Z',
  priority: 'normal',
  actor: 't',
  schemaVersion: 1,
  payload: {},
  ...over,
});

describe('retryDelay', () => {
  const backoff = { initialMs: 100, maxMs: 1000, jitter: 0.5 };
  it('doubles per attempt up to maxMs without jitter drawn', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => retryDelay(a, backoff, () => 0))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
  it('takes at most the jitter fraction off', () => {
    expect(retryDelay(3, backoff, () => 0.999999)).toBe(200);
    expect(retryDelay(3, backoff, () => 0.5)).toBe(300);
  });
});

describe('matchesPredicate', () => {
  const payload = { status: 500, user: { id: 'u1', tags: ['a'] }, at: '2026-02-01' };
  it.each([
    [{ path: 'status', op: 'eq', value: 500 }, true],
    [{ path: 'status', op: 'neq', value: 500 }, false],
    [{ path: 'missing', op: 'neq', value: 1 }, true],
    [{ path: 'user.id', op: 'in', value: ['u0', 'u1'] }, true],
    [{ path: 'user.tags', op: 'eq', value: ['a'] }, true],
    [{ path: 'user.name', op: 'exists' }, false],
    [{ path: 'user.id', op: 'exists' }, true],
    [{ path: 'status', op: 'gt', value: 499 }, true],
    [{ path: 'status', op: 'lt', value: 500 }, false],
    [{ path: 'status', op: 'gt', value: '1' }, false],
    [{ path: 'at', op: 'gt', value: '2026-01-31' }, true],
  ] as const)('%j → %s', (p, want) => {
    expect(matchesPredicate(payload, p)).toBe(want);
  });
});

describe('matchesDurableFilter', () => {
  it('combines type patterns, streams, priority and payload predicates', () => {
    const filter = { types: ['api.*'], streams: ['api_events'], minPriority: 'high' as const, where: [{ path: 'code', op: 'eq' as const, value: 1 }] };
    expect(matchesDurableFilter(filter, event({ priority: 'critical', payload: { code: 1 } }))).toBe(true);
    expect(matchesDurableFilter(filter, event({ priority: 'normal', payload: { code: 1 } }))).toBe(false);
    expect(matchesDurableFilter(filter, event({ priority: 'high', payload: { code: 2 } }))).toBe(false);
    expect(matchesDurableFilter(filter, event({ priority: 'high', stream: 'default', payload: { code: 1 } }))).toBe(false);
  });
  it('never delivers subscription bookkeeping, even to a catch-all filter', () => {
    expect(matchesDurableFilter({}, event({ type: 'subscription.checkpoint', stream: 'daemon_events' }))).toBe(false);
    expect(matchesDurableFilter({}, event({ type: 'anything.else' }))).toBe(true);
  });
});

describe('watermark', () => {
  it('is the cursor when nothing is outstanding, else just below the oldest outstanding seq', () => {
    expect(watermark(10, [])).toBe(10);
    expect(watermark(10, [7, 4, 9])).toBe(3);
  });
});
