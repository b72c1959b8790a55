import { describe, expect, it } from 'vitest';
import { RotationLayer, TimeZone, type Override } from '../../../../daemon/protocol/oncall';
import { finalSchedule, layerSegments, onCallAt } from '../../../../daemon/services/incidents/oncallRotation';
import { localParts, zonedToUtc } from '../../../../daemon/services/incidents/oncallTime';

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const show = (segs: { from: number; to: number; person: string | null }[]) => segs.map((s) => [iso(s.from), iso(s.to), s.person]);
const layer = (l: Partial<RotationLayer>): RotationLayer =>
  RotationLayer.parse({ name: 'l', members: ['alice', 'bob'], startDate: '2026-03-23', handoffTime: '09:00', timeZone: 'Europe/Berlin', turn: { count: 1, unit: 'weeks' }, ...l });

describe('time zone math', () => {
  it('maps Berlin wall times to UTC on both sides of the 2026 changes', () => {
    expect(iso(zonedToUtc(2026, 3, 28, 9, 0, 'Europe/Berlin'))).toBe('2026-03-28T08:00:00.000Z');
    expect(iso(zonedToUtc(2026, 3, 29, 9, 0, 'Europe/Berlin'))).toBe('2026-03-29T07:00:00.000Z');
    expect(iso(zonedToUtc(2026, 10, 25, 9, 0, 'Europe/Berlin'))).toBe('2026-10-25T08:00:00.000Z');
  });

  it('moves a skipped spring time past the change and picks the first of a repeated autumn time', () => {
    // 02:30 does not exist on 2026-03-29 in Berlin; it reads as 03:30 CEST.
    expect(iso(zonedToUtc(2026, 3, 29, 2, 30, 'Europe/Berlin'))).toBe('2026-03-29T01:30:00.000Z');
    // 02:30 happens twice on 2026-10-25: first in CEST (00:30Z), then in CET (01:30Z).
    expect(iso(zonedToUtc(2026, 10, 25, 2, 30, 'Europe/Berlin'))).toBe('2026-10-25T00:30:00.000Z');
    expect(localParts(t('2026-10-25T01:30:00Z'), 'Europe/Berlin')).toMatchObject({ hour: 2, minute: 30, weekday: 6 });
  });

  it('accepts IANA zones and refuses made-up ones', () => {
    expect(TimeZone.safeParse('America/New_York').success).toBe(true);
    expect(TimeZone.safeParse('Mars/Olympus').success).toBe(false);
  });
});

describe('rotation layers', () => {
  it('hands off weekly at 09:00 Berlin across the spring and autumn DST changes (167 h and 169 h turns)', () => {
    const l = layer({});
    expect(show(layerSegments(l, t('2026-03-23T00:00:00Z'), t('2026-04-07T00:00:00Z')))).toEqual([
      ['2026-03-23T08:00:00.000Z', '2026-03-30T07:00:00.000Z', 'alice'],
      ['2026-03-30T07:00:00.000Z', '2026-04-06T07:00:00.000Z', 'bob'],
      ['2026-04-06T07:00:00.000Z', '2026-04-07T00:00:00.000Z', 'alice'],
    ]);
    // 2026-10-19 is 30 weeks after the start: alice's turn; the next handoff is 09:00 CET = 08:00Z.
    expect(show(layerSegments(l, t('2026-10-20T00:00:00Z'), t('2026-10-27T00:00:00Z')))).toEqual([
      ['2026-10-20T00:00:00.000Z', '2026-10-26T08:00:00.000Z', 'alice'],
      ['2026-10-26T08:00:00.000Z', '2026-10-27T00:00:00.000Z', 'bob'],
    ]);
  });

  it('steps elapsed time for hour turns, so the local handoff moves with DST', () => {
    const l = layer({ members: ['a', 'b', 'c'], startDate: '2026-03-28', turn: { count: 24, unit: 'hours' } });
    const segs = layerSegments(l, t('2026-03-28T00:00:00Z'), t('2026-03-31T00:00:00Z'));
    expect(show(segs)).toEqual([
      ['2026-03-28T08:00:00.000Z', '2026-03-29T08:00:00.000Z', 'a'],
      ['2026-03-29T08:00:00.000Z', '2026-03-30T08:00:00.000Z', 'b'],
      ['2026-03-30T08:00:00.000Z', '2026-03-31T00:00:00.000Z', 'c'],
    ]);
    expect(localParts(segs[1]!.from, 'Europe/Berlin').hour).toBe(10);
  });

  it('covers nothing before its start date', () => {
    expect(layerSegments(layer({ startDate: '2026-05-01' }), t('2026-04-01T00:00:00Z'), t('2026-04-30T00:00:00Z'))).toEqual([]);
  });

  it('cuts turns to weekday business-hour restrictions', () => {
    const l = layer({ members: ['carol'], startDate: '2026-03-23', turn: { count: 1, unit: 'days' }, restrictions: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }] });
    // Friday 27 March (CET), the weekend, Monday 30 March (CEST).
    expect(show(layerSegments(l, t('2026-03-27T00:00:00Z'), t('2026-03-31T00:00:00Z')))).toEqual([
      ['2026-03-27T08:00:00.000Z', '2026-03-27T16:00:00.000Z', 'carol'],
      ['2026-03-30T07:00:00.000Z', '2026-03-30T15:00:00.000Z', 'carol'],
    ]);
  });

  it('handles a restriction window that wraps midnight', () => {
    const l = layer({ members: ['night'], turn: { count: 1, unit: 'days' }, restrictions: [{ from: '22:00', to: '06:00' }] });
    expect(show(layerSegments(l, t('2026-04-01T00:00:00Z'), t('2026-04-02T00:00:00Z')))).toEqual([
      ['2026-04-01T00:00:00.000Z', '2026-04-01T04:00:00.000Z', 'night'],
      ['2026-04-01T20:00:00.000Z', '2026-04-02T00:00:00.000Z', 'night'],
    ]);
  });
});

describe('final schedule', () => {
  const base = layer({ members: ['dave'], turn: { count: 1, unit: 'weeks' } });
  const business = layer({ name: 'day', members: ['carol'], turn: { count: 1, unit: 'days' }, restrictions: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }] });

  it('lets the higher layer win where it has coverage and the lower one show through elsewhere', () => {
    const segs = finalSchedule({ layers: [base, business], overrides: [] }, t('2026-03-27T00:00:00Z'), t('2026-03-28T00:00:00Z'));
    expect(show(segs)).toEqual([
      ['2026-03-27T00:00:00.000Z', '2026-03-27T08:00:00.000Z', 'dave'],
      ['2026-03-27T08:00:00.000Z', '2026-03-27T16:00:00.000Z', 'carol'],
      ['2026-03-27T16:00:00.000Z', '2026-03-28T00:00:00.000Z', 'dave'],
    ]);
  });

  it('reports gaps as null segments', () => {
    const segs = finalSchedule({ layers: [business], overrides: [] }, t('2026-03-27T00:00:00Z'), t('2026-03-28T00:00:00Z'));
    expect(show(segs)).toEqual([
      ['2026-03-27T00:00:00.000Z', '2026-03-27T08:00:00.000Z', null],
      ['2026-03-27T08:00:00.000Z', '2026-03-27T16:00:00.000Z', 'carol'],
      ['2026-03-27T16:00:00.000Z', '2026-03-28T00:00:00.000Z', null],
    ]);
  });

  it('puts overrides above every layer, the latest added on top', () => {
    const overrides: Override[] = [
      { id: 'o1', person: 'erin', from: '2026-03-27T10:00:00Z', to: '2026-03-27T20:00:00Z' },
      { id: 'o2', person: 'frank', from: '2026-03-27T12:00:00Z', to: '2026-03-27T13:00:00Z' },
    ];
    const segs = finalSchedule({ layers: [base, business], overrides }, t('2026-03-27T00:00:00Z'), t('2026-03-28T00:00:00Z'));
    expect(show(segs)).toEqual([
      ['2026-03-27T00:00:00.000Z', '2026-03-27T08:00:00.000Z', 'dave'],
      ['2026-03-27T08:00:00.000Z', '2026-03-27T10:00:00.000Z', 'carol'],
      ['2026-03-27T10:00:00.000Z', '2026-03-27T12:00:00.000Z', 'erin'],
      ['2026-03-27T12:00:00.000Z', '2026-03-27T13:00:00.000Z', 'frank'],
      ['2026-03-27T13:00:00.000Z', '2026-03-27T20:00:00.000Z', 'erin'],
      ['2026-03-27T20:00:00.000Z', '2026-03-28T00:00:00.000Z', 'dave'],
    ]);
  });

  it('answers who is on call with the whole current segment', () => {
    const at = onCallAt({ layers: [layer({})], overrides: [] }, t('2026-04-01T12:00:00Z'));
    expect(show([at])).toEqual([['2026-03-30T07:00:00.000Z', '2026-04-06T07:00:00.000Z', 'bob']]);
  });
});
