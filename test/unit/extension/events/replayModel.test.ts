import { describe, expect, it } from 'vitest';
import { ReplayEvents } from '../../../../daemon/protocol';
import { parseSeqRange, parseTimeRange, replayBlocker, replayParams, replayResultMessage, type ReplayChoice } from '../../../../extension/features/events/replayModel';
import { NOW } from './fixtures';

describe('parseSeqRange', () => {
  it('reads a start or an inclusive range', () => {
    expect(parseSeqRange('120', 500)).toEqual({ ok: true, value: { fromSeq: 120 } });
    expect(parseSeqRange(' 120 - 200 ', 500)).toEqual({ ok: true, value: { fromSeq: 120, toSeq: 200 } });
    expect(parseSeqRange('120..200', 500)).toEqual({ ok: true, value: { fromSeq: 120, toSeq: 200 } });
  });

  it('refuses what cannot be replayed, saying why', () => {
    expect(parseSeqRange('', 500)).toMatchObject({ ok: false });
    expect(parseSeqRange('abc', 500)).toMatchObject({ ok: false, message: 'Use whole numbers: 120, or 120-200.' });
    expect(parseSeqRange('0', 500)).toMatchObject({ ok: false, message: 'Sequence numbers start at 1.' });
    expect(parseSeqRange('200-120', 500)).toMatchObject({ ok: false, message: 'The range ends (120) before it starts (200).' });
    expect(parseSeqRange('600', 500)).toMatchObject({ ok: false, message: 'The log ends at seq 500; start at or below it.' });
  });
});

describe('parseTimeRange', () => {
  it('reads "the last …" and ISO times', () => {
    expect(parseTimeRange('30m', NOW)).toEqual({ ok: true, value: { from: '2026-01-01T11:30:00.000Z' } });
    expect(parseTimeRange('1d', NOW)).toEqual({ ok: true, value: { from: '2025-12-31T12:00:00.000Z' } });
    expect(parseTimeRange('2026-01-01T10:00:00Z .. 2026-01-01T11:00:00Z', NOW)).toEqual({
      ok: true,
      value: { from: '2026-01-01T10:00:00.000Z', to: '2026-01-01T11:00:00.000Z' },
    });
  });

  it('refuses bad or backwards ranges and a start in the future', () => {
    expect(parseTimeRange('yesterday', NOW)).toMatchObject({ ok: false, message: '"yesterday" is not an ISO time like 2026-01-01T10:00:00Z.' });
    expect(parseTimeRange('0m', NOW)).toMatchObject({ ok: false });
    expect(parseTimeRange('2026-01-01T11:00:00Z .. 2026-01-01T10:00:00Z', NOW)).toMatchObject({ ok: false, message: 'The end must be after the start.' });
    expect(parseTimeRange('2026-02-01T00:00:00Z', NOW)).toMatchObject({ ok: false, message: 'The start is in the future.' });
  });
});

describe('replayParams', () => {
  const choice: ReplayChoice = { subscription: 'billing', types: ['order.*'], streams: [], range: { kind: 'seq', fromSeq: 5, toSeq: 9 } };

  it('builds params the protocol accepts, leaving empty filters out', () => {
    const params = replayParams(choice);
    expect(params).toEqual({ name: 'billing', types: ['order.*'], fromSeq: 5, toSeq: 9 });
    expect(ReplayEvents.params.safeParse(params).success).toBe(true);
    const byTime = replayParams({ ...choice, types: [], streams: ['default'], range: { kind: 'time', from: '2026-01-01T11:00:00.000Z' } });
    expect(byTime).toEqual({ name: 'billing', streams: ['default'], from: '2026-01-01T11:00:00.000Z' });
    expect(ReplayEvents.params.safeParse(byTime).success).toBe(true);
  });

  it('tells how many events were re-delivered', () => {
    expect(replayResultMessage(choice, 3)).toBe('3 events of seq 5–9 re-delivered to billing, marked as replay.');
    expect(replayResultMessage(choice, 0)).toBe('No event of seq 5–9 matched the filter of billing: nothing was re-delivered.');
  });

  it('refuses a subscription without a consumer before asking anything else', () => {
    expect(replayBlocker({ name: 'billing' })).toContain('no consumer attached');
    expect(replayBlocker({ name: 'billing', consumer: 'c1' })).toBeUndefined();
  });
});
