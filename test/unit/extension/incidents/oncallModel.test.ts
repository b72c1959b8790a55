import { describe, expect, it } from 'vitest';
import type { IncidentSummary } from '../../../../daemon/protocol';
import { buildOncallNode, formatWhen, handoffPassed, oncallStatusBar, type OncallNow, type OncallSchedule } from '../../../../extension/features/incidents/oncallModel';

const NOW = Date.parse('2026-03-02T12:00:00.000Z');
const h = (hours: number) => new Date(NOW + hours * 3_600_000).toISOString();
const TZ = 'UTC';

const now: OncallNow[] = [
  { role: 'secondary', person: null, from: h(-2), to: h(6) },
  { role: 'primary', person: 'alice', from: h(-3), to: h(21) },
];
const schedules = new Map<string, OncallSchedule>([
  [
    'primary',
    {
      role: 'primary',
      from: h(0),
      to: h(168),
      segments: [
        { from: h(0), to: h(21), person: 'alice' },
        { from: h(21), to: h(168), person: 'bob' },
      ],
      gaps: [],
    },
  ],
  [
    'secondary',
    { role: 'secondary', from: h(0), to: h(168), segments: [{ from: h(0), to: h(6), person: null }, { from: h(6), to: h(168), person: 'bob' }], gaps: [{ from: h(0), to: h(6) }] },
  ],
]);

const incident = (severity: IncidentSummary['severity'], status: IncidentSummary['status'], n: number): IncidentSummary => ({
  id: `0190f0e0-0000-7000-8000-${String(n).padStart(12, '0')}`,
  number: `INC-${n}`,
  title: 't',
  severity,
  status,
  services: [],
  detectedAt: h(-1),
});

describe('on-call row', () => {
  it('lists each role with who is on call until when, and the final schedule with gaps as children', () => {
    const node = buildOncallNode(now, schedules, NOW, 'bob', TZ);
    expect(node.label).toBe('On call now');
    expect(node.description).toBe('nobody for secondary');
    expect(node.children.map((c) => [c.label, c.description])).toEqual([
      ['primary', 'alice until Tue 3 Mar, 09:00 (21h)'],
      ['secondary', 'nobody until Mon 2 Mar, 18:00 (6h) · 1 gap'],
    ]);
    expect(node.children[1]!.icon.id).toBe('warning');
    expect(node.children[0]!.children.map((c) => `${c.label}: ${c.description}`)).toEqual([
      'alice: Mon 2 Mar, 12:00 → Tue 3 Mar, 09:00',
      'bob (you): Tue 3 Mar, 09:00 → Mon 9 Mar, 12:00',
    ]);
    expect(node.children[1]!.children[0]!.label).toBe('nobody (gap)');
  });

  it('says when the user is on call, and when nobody has a schedule', () => {
    const mine = buildOncallNode(now, schedules, NOW, 'alice', TZ);
    expect(mine.description).toBe('you: primary · nobody for secondary');
    expect(mine.children[0]!.description).toMatch(/^alice \(you\) until/);
    expect(mine.children[0]!.icon).toEqual({ id: 'account', color: 'charts.green' });
    const none = buildOncallNode([], new Map(), NOW, undefined, TZ);
    expect(none.description).toBe('no on-call schedules');
    expect(none.children).toEqual([]);
  });

  it('formats times in the given time zone', () => {
    expect(formatWhen('2026-03-02T23:30:00.000Z', 'Europe/Berlin')).toBe('Tue 3 Mar, 00:30');
    expect(formatWhen('not a time', TZ)).toBe('—');
  });

  it('notices a passed handoff', () => {
    expect(handoffPassed(now, NOW)).toBe(false);
    expect(handoffPassed(now, NOW + 6 * 3_600_000)).toBe(true);
  });
});

describe('on-call status bar', () => {
  it('shows "on call" for the configured user and the open SEV1/SEV2 count, with everyone on call in the tooltip', () => {
    const incidents = [incident('SEV1', 'detected', 1), incident('SEV2', 'investigating', 2), incident('SEV2', 'resolved', 3), incident('SEV3', 'detected', 4)];
    const bar = oncallStatusBar(now, incidents, NOW, 'alice', TZ);
    expect(bar).toMatchObject({ visible: true, text: '$(bell) on call: primary  $(flame) 2 SEV1/SEV2', tone: 'warning' });
    expect(bar.tooltip.split('\n')).toEqual([
      'You (alice) are on call: primary until Tue 3 Mar, 09:00 (21h)',
      '2 open SEV1/SEV2 incidents',
      '',
      'On call now:',
      '  primary: alice until Tue 3 Mar, 09:00 (21h)',
      '  secondary: nobody until Mon 2 Mar, 18:00 (6h)',
    ]);
  });

  it('hides when the user is not on call and nothing urgent is open', () => {
    expect(oncallStatusBar(now, [incident('SEV3', 'detected', 1)], NOW, 'bob', TZ)).toMatchObject({ visible: false, tone: 'none' });
    const noHandle = oncallStatusBar(now, [incident('SEV1', 'acknowledged', 1)], NOW, undefined, TZ);
    expect(noHandle).toMatchObject({ visible: true, text: '$(flame) 1 SEV1/SEV2' });
    expect(noHandle.tooltip).toContain('Set cogniforge.oncall.handle');
  });
});
