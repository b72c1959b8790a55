import { describe, expect, it } from 'vitest';
import type { Incident } from '../../../../daemon/protocol/incidents';
import { buildReviewDraft, formatDuration } from '../../../../daemon/services/incidents/reviewDraft';
import type { EventRecord } from '../../../../daemon/store/types';

const incident: Incident = {
  id: 'inc-1',
  number: 'INC-4',
  title: 'Checkout 5xx',
  severity: 'SEV1',
  status: 'resolved',
  services: ['checkout', 'payments'],
  detectedAt: '2026-04-01T10:00:00.000Z',
  acknowledgedAt: '2026-04-01T10:04:00.000Z',
  mitigatedAt: '2026-04-01T10:30:00.000Z',
  resolvedAt: '2026-04-01T11:15:00.000Z',
  description: 'Error rate above 20 %.',
  detectedBy: { kind: 'slo', name: 'slo_avail_30d' },
  roles: {},
  resolution: 'rolled back 4.2.1',
  linkedSlos: ['slo_avail_30d'],
  hasReview: false,
  timeline: [
    { at: '2026-04-01T10:00:00.000Z', actor: 'owner', kind: 'created', text: 'SEV1 detected by slo slo_avail_30d', to: 'detected' },
    { at: '2026-04-01T10:00:01.000Z', actor: 'system', kind: 'escalation', text: 'escalation level 1: role:primary → alice' },
    { at: '2026-04-01T10:04:00.000Z', actor: 'alice', kind: 'transition', text: 'detected → acknowledged', from: 'detected', to: 'acknowledged' },
  ],
};

let seq = 0;
const ev = (type: string, time: string, payload: unknown): EventRecord => ({
  id: `e${++seq}`,
  seq,
  type,
  stream: 'x',
  time,
  priority: 'normal',
  actor: 'system',
  schemaVersion: 1,
  payload,
});

describe('review draft', () => {
  it('pre-fills what happened, impact and facts from the timeline and the window events', () => {
    const events = [
      ev('incident.paged', '2026-04-01T10:00:02.000Z', { incidentId: 'inc-1', level: 1, person: 'alice', channel: 'slack', action: 'trigger', outcome: 'delivered' }),
      ev('incident.paged', '2026-04-01T10:00:02.000Z', { incidentId: 'inc-1', level: 1, person: 'alice', channel: 'sms', action: 'trigger', outcome: 'failed', error: 'x' }),
      ev('incident.paged', '2026-04-01T10:00:02.000Z', { incidentId: 'other', level: 1, person: 'bob', channel: 'sms', action: 'trigger', outcome: 'delivered' }),
      ev('slo.alertRaised', '2026-04-01T10:01:00.000Z', { sloId: 'slo_avail_30d', level: 'critical' }),
      ev('api.error', '2026-04-01T10:02:00.000Z', { path: '/pay' }),
      ev('api.error', '2026-04-01T10:03:00.000Z', { path: '/pay' }),
      ev('system.alert', '2026-04-01T10:05:00.000Z', { message: 'disk full' }),
      ev('scheduler.timerFired', '2026-04-01T10:05:00.000Z', {}),
    ];
    const d = buildReviewDraft(incident, events, Date.parse('2026-04-02T00:00:00Z'), false);
    expect(d.draft.whatHappened.split('\n')).toEqual([
      'INC-4 "Checkout 5xx" (SEV1), detected by slo slo_avail_30d at 2026-04-01T10:00:00.000Z.',
      '',
      'Error rate above 20 %.',
      '',
      'Timeline:',
      '- 2026-04-01T10:00:00.000Z created: SEV1 detected by slo slo_avail_30d (owner)',
      '- 2026-04-01T10:00:01.000Z escalation: escalation level 1: role:primary → alice (system)',
      '- 2026-04-01T10:04:00.000Z transition: detected → acknowledged (alice)',
      '',
      'Resolution: rolled back 4.2.1',
    ]);
    expect(d.draft.impact).toBe(
      'SEV1 incident affecting checkout, payments. Impact lasted 30 min (detection to mitigation). Acknowledged after 4 min. ' +
        'Resolved after 1 h 15 min. Linked SLOs: slo_avail_30d. Pages: 1 delivered, 1 failed. 2 alert(s) recorded during the incident window.',
    );
    expect(d.facts).toEqual({
      from: '2026-04-01T10:00:00.000Z',
      to: '2026-04-01T11:15:00.000Z',
      timeToAcknowledgeMs: 4 * 60_000,
      timeToMitigateMs: 30 * 60_000,
      timeToResolveMs: 75 * 60_000,
      pages: { delivered: 1, failed: 1 },
      eventsByType: { 'slo.alertRaised': 1, 'api.error': 2, 'system.alert': 1 },
      alerts: [
        { at: '2026-04-01T10:01:00.000Z', type: 'slo.alertRaised', summary: 'sloId slo_avail_30d' },
        { at: '2026-04-01T10:05:00.000Z', type: 'system.alert', summary: 'disk full' },
      ],
      truncated: false,
    });
    expect(d.draft.actionItems).toEqual([]);
  });

  it('describes an open, unacknowledged incident', () => {
    const open: Incident = { ...incident, status: 'detected', acknowledgedAt: undefined, mitigatedAt: undefined, resolvedAt: undefined, resolution: undefined };
    const d = buildReviewDraft(open, [], Date.parse('2026-04-01T12:00:00Z'), false);
    expect(d.draft.impact).toBe('SEV1 incident affecting checkout, payments. Still open after 2 h. Never acknowledged. Linked SLOs: slo_avail_30d.');
    expect(d.facts.to).toBe('2026-04-01T12:00:00.000Z');
  });

  it('formats durations', () => {
    expect([40_000, 5 * 60_000, 65 * 60_000, 50 * 3_600_000].map(formatDuration)).toEqual(['40 s', '5 min', '1 h 5 min', '2 d 2 h']);
  });
});
