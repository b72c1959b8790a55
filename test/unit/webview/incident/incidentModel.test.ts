import { describe, expect, it } from 'vitest';
import type { Incident, Review } from '../../../../daemon/protocol/incidents';
import { HostToIncident, IncidentSavedState, IncidentToHost } from '../../../../webview/protocol/incident';
import { actionsFor, incidentView, sloImpactRows } from '../../../../webview/incident/incidentModel';

const NOW = Date.parse('2026-01-01T02:00:00.000Z');
const incident: Incident = {
  id: '0190f0e0-0000-7000-8000-000000000001',
  number: 'INC-42',
  title: 'Checkout 502',
  severity: 'SEV2',
  status: 'resolved',
  services: ['checkout'],
  detectedAt: '2026-01-01T00:00:00.000Z',
  acknowledgedAt: '2026-01-01T00:05:00.000Z',
  resolvedAt: '2026-01-01T01:30:00.000Z',
  description: '',
  detectedBy: { kind: 'slo', name: 'availability_30d' },
  roles: { incidentCommander: 'alice' },
  resolution: 'Rolled back',
  linkedSlos: ['availability_30d'],
  hasReview: false,
  timeline: [{ at: '2026-01-01T01:56:00.000Z', actor: 'alice', kind: 'transition', text: 'resolving → resolved' }],
};
const review: Review = {
  incidentId: incident.id,
  incidentNumber: 'INC-42',
  submittedAt: '2026-01-02T00:00:00.000Z',
  submittedBy: 'alice',
  version: 1,
  whatHappened: 'A bad deploy',
  impact: '30% of checkouts failed',
  wentWell: '',
  couldImprove: 'Canary',
  actionItems: [{ owner: 'bob', due: '2026-02-01', description: 'Add a canary', done: false }],
  lessons: '',
};

describe('incidentView', () => {
  it('shows header, roles, linked SLOs, response times and the timeline with who and how long ago', () => {
    const view = incidentView(incident, null, NOW);
    expect(view.heading).toBe('INC-42 Checkout 502');
    expect(view.severity).toBe('SEV2 · Major');
    expect(view.severityTone).toBe('error');
    expect(view.statusTone).toBe('ok');
    expect(view.fields).toContainEqual(['Incident commander', 'alice']);
    expect(view.fields).toContainEqual(['Linked SLOs', 'availability_30d']);
    expect(view.timeToAcknowledge).toBe('5m');
    expect(view.timeToResolve).toBe('1h 30m');
    expect(view.timeline).toEqual([{ at: '2026-01-01T01:56:00.000Z', ago: '4m ago', actor: 'alice', kind: 'transition', text: 'resolving → resolved' }]);
    expect(view.description).toBe('No description.');
    expect(view.rootCause).toBe('Not recorded yet.');
    expect(view.resolution).toBe('Rolled back');
  });

  it('asks for a review on an unreviewed SEV1/SEV2 that is not closed, and shows one when there is', () => {
    expect(incidentView(incident, null, NOW).reviewNeeded).toBe(true);
    expect(incidentView({ ...incident, severity: 'SEV3' }, null, NOW).reviewNeeded).toBe(false);
    const withReview = incidentView({ ...incident, hasReview: true }, review, NOW);
    expect(withReview.reviewNeeded).toBe(false);
    expect(withReview.review?.sections.map((s) => s.text)).toEqual(['A bad deploy', '30% of checkouts failed', '—', 'Canary', '—']);
    expect(withReview.review?.actionItems).toEqual([{ done: false, owner: 'bob', due: '2026-02-01', description: 'Add a canary' }]);
  });

  it('leaves response times open until reached', () => {
    const view = incidentView({ ...incident, status: 'detected', acknowledgedAt: undefined, resolvedAt: undefined }, null, NOW);
    expect([view.timeToAcknowledge, view.timeToResolve]).toEqual(['—', '—']);
    expect(view.statusTone).toBe('error');
  });
});

describe('actionsFor', () => {
  it('offers only what the state allows', () => {
    expect(actionsFor('detected')).toEqual(['acknowledge', 'resolve', 'changeStatus', 'changeSeverity', 'assign', 'addNote', 'writeReview']);
    expect(actionsFor('investigating')).not.toContain('acknowledge');
    expect(actionsFor('resolved')).toEqual(['changeStatus', 'changeSeverity', 'assign', 'addNote', 'writeReview']);
    expect(actionsFor('closed')).toEqual(['writeReview']);
  });
});

describe('incident panel messages', () => {
  it('accepts an incident with its review and an error from the host', () => {
    expect(HostToIncident.safeParse({ type: 'incident', incident, review, receivedAt: NOW }).success).toBe(true);
    expect(HostToIncident.safeParse({ type: 'error', message: 'daemon unavailable' }).success).toBe(true);
    expect(HostToIncident.safeParse({ type: 'incident', incident: { ...incident, severity: 'SEV9' }, review: null, receivedAt: NOW }).success).toBe(false);
  });
  it('lets the webview ask only for the fixed commands', () => {
    expect(IncidentToHost.safeParse({ type: 'runCommand', command: 'acknowledge' }).success).toBe(true);
    expect(IncidentToHost.safeParse({ type: 'runCommand', command: 'workbench.action.terminal.new' }).success).toBe(false);
    expect(IncidentToHost.safeParse({ type: 'select', id: '' }).success).toBe(false);
  });
  it('restores only a saved state of the current version', () => {
    expect(IncidentSavedState.safeParse({ version: 1, incidentId: incident.id, incident, review: null }).success).toBe(true);
    expect(IncidentSavedState.safeParse({ version: 0, incidentId: incident.id }).success).toBe(false);
  });
});

describe('error budget consumed per linked SLO', () => {
  it('reads bad events and the share of the budget, with a tone by share', () => {
    const rows = sloImpactRows([
      { sloId: 'checkout_avail', impact: { sloId: 'checkout_avail', totalEvents: 200, badEvents: 30, budgetEvents: 2, consumedRatio: 15 } },
      { sloId: 'search_latency', impact: { sloId: 'search_latency', totalEvents: 5000, badEvents: 5, budgetEvents: 100, consumedRatio: 0.05 } },
      { sloId: 'quiet', impact: { sloId: 'quiet', totalEvents: 10, badEvents: 0, budgetEvents: 0.1, consumedRatio: 0 } },
      { sloId: 'gone_slo', impact: null, note: 'SLO gone_slo no longer exists' },
    ]);
    expect(rows).toEqual([
      { sloId: 'checkout_avail', events: '30 of 200 events bad', budget: '1,500% of the current budget', tone: 'error' },
      { sloId: 'search_latency', events: '5 of 5,000 events bad', budget: '5% of the current budget', tone: 'ok' },
      { sloId: 'quiet', events: '0 of 10 events bad', budget: '0% of the current budget', tone: 'ok' },
      { sloId: 'gone_slo', events: 'SLO gone_slo no longer exists', budget: '—', tone: 'pending' },
    ]);
  });

  it('is empty when no SLO is linked', () => {
    expect(sloImpactRows(undefined)).toEqual([]);
  });
});
