import { describe, expect, it } from 'vitest';
import { IncidentProjection } from '../../../../daemon/services/incidents/incidentProjection';
import type { EventRecord } from '../../../../daemon/store/types';

let seq = 0;
const at = (min: number) => new Date(Date.UTC(2026, 0, 1) + min * 60_000).toISOString();
const ev = (min: number, type: string, payload: unknown, actor = 'alice'): EventRecord => ({
  seq: ++seq,
  id: `e${seq}`,
  stream: 'incident_events',
  type,
  time: at(min),
  priority: 'normal',
  actor,
  schemaVersion: 1,
  payload,
});

const A = '01900000-0000-7000-8000-00000000000a';
const B = '01900000-0000-7000-8000-00000000000b';
const C = '01900000-0000-7000-8000-00000000000c';
const created = (id: string, severity: string, extra: object = {}) => ({
  id,
  title: `incident ${id.slice(-1)}`,
  description: '',
  severity,
  detectedBy: { kind: 'monitor', name: 'probe' },
  services: ['api', 'db'],
  roles: {},
  linkedSlos: [],
  ...extra,
});

/** A log that exercises every field the compact snapshot leaves out or derives. */
function history(): EventRecord[] {
  return [
    ev(0, 'incident.created', created(A, 'SEV3', { description: 'slow', roles: { incidentCommander: 'bob' }, linkedSlos: ['slo_avail_30d'], assignee: 'carol' })),
    ev(1, 'incident.created', created(B, 'SEV2')),
    ev(2, 'incident.created', created(C, 'SEV4')),
    ev(4, 'incident.transitioned', { id: A, from: 'detected', to: 'acknowledged' }),
    // Acknowledged as SEV3, then raised: MTTA stays counted under SEV3, MTTR under SEV1.
    ev(6, 'incident.severityChanged', { id: A, from: 'SEV3', to: 'SEV1', reason: 'wider' }),
    ev(7, 'incident.noted', { id: A, text: 'rolled back' }),
    ev(9, 'incident.transitioned', { id: A, from: 'acknowledged', to: 'resolved', resolution: 'rollback' }),
    ev(10, 'incident.transitioned', { id: B, from: 'detected', to: 'resolved' }),
    ev(11, 'incident.transitioned', { id: B, from: 'resolved', to: 'investigating', note: 'back again' }),
    ev(12, 'incident.assigned', { id: B, roles: { technicalLead: 'dave' } }),
    ev(13, 'review.submitted', {
      incidentId: A,
      review: { whatHappened: 'x', impact: 'y', wentWell: '', couldImprove: '', actionItems: [{ description: 'fix', owner: 'bob', due: '2026-02-01', done: false }], lessons: '' },
    }),
  ];
}

const view = (p: IncidentProjection) => ({
  incidents: [A, B, C].map((id) => p.get(id)),
  review: p.review(A),
  list: p.list({ limit: 10 }),
  mtta: p.mtta.stats(),
  mttr: p.mttr.stats(),
  mttrDays: p.mttr.stats(20454, 20455),
  open: p.openBySeverity(),
});

describe('IncidentProjection snapshot (format 2)', () => {
  it('restores exactly what replaying the log builds, including metrics counted under an earlier severity', () => {
    const replayed = new IncidentProjection();
    for (const e of history()) replayed.apply(e);
    const restored = new IncidentProjection();
    restored.restore(JSON.parse(JSON.stringify(replayed.snapshot())));
    expect(view(restored)).toEqual(view(replayed));
    expect(replayed.mtta.stats().bySeverity.SEV3.count).toBe(1);
    expect(replayed.mttr.stats().bySeverity.SEV1.count).toBe(1);
    // The next event applies alike to both.
    const next = ev(20, 'incident.transitioned', { id: A, from: 'resolved', to: 'investigating' });
    replayed.apply(next);
    restored.apply(next);
    expect(view(restored)).toEqual(view(replayed));
    expect(restored.mttr.stats().overall.count).toBe(0);
  });

  it('still reads format 1 snapshots (full incident states)', () => {
    const replayed = new IncidentProjection();
    for (const e of history()) replayed.apply(e);
    const compact = replayed.snapshot();
    const expanded = new IncidentProjection();
    expanded.restore(compact);
    // Format 1 is the in-memory state as JSON: reach it through a projection restored from it.
    const internal = (expanded as unknown as { byNumber: Map<number, unknown> }).byNumber;
    const v1 = { lastNumber: compact.lastNumber, incidents: JSON.parse(JSON.stringify([...internal.values()])) };
    const fromV1 = new IncidentProjection();
    fromV1.restore(v1);
    expect(view(fromV1)).toEqual(view(replayed));
  });

  it('is smaller than the full state', () => {
    const p = new IncidentProjection();
    for (const e of history()) p.apply(e);
    const internal = (p as unknown as { byNumber: Map<number, unknown> }).byNumber;
    expect(JSON.stringify(p.snapshot()).length).toBeLessThan(JSON.stringify([...internal.values()]).length * 0.8);
  });
});
