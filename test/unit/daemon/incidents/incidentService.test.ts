import { describe, expect, it } from 'vitest';
import { ErrorCode, RpcError, type ParamsOf } from '../../../../daemon/protocol';
import { CreateIncident, INCIDENT_TRANSITIONS, ListIncidents, type IncidentStatus } from '../../../../daemon/protocol/incidents';
import { IncidentProjection } from '../../../../daemon/services/incidents/incidentProjection';
import { IncidentService, type IncidentServiceOptions } from '../../../../daemon/services/incidents/incidentService';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { MemoryEventLog } from '../support/memoryStore';

const MIN = 60_000;
const DAY = 86_400_000;

function setup(options: IncidentServiceOptions = {}, log = new MemoryEventLog(), clock = new ManualClock(Date.parse('2026-03-01T10:00:00Z'))) {
  const projection = new IncidentProjection();
  const store = log.open({ clock, projections: [projection] });
  return { log, clock, store, projection, svc: new IncidentService(store, projection, clock, options) };
}

type Svc = IncidentService;
const create = (svc: Svc, over: Partial<ParamsOf<typeof CreateIncident>> = {}) =>
  svc.create(CreateIncident.params.parse({ title: 'API 5xx', severity: 'SEV3', detectedBy: { kind: 'monitor', name: 'prom' }, ...over }), 'alice');
const list = (svc: Svc, p: ParamsOf<typeof ListIncidents> = {}) => svc.list(ListIncidents.params.parse(p));

async function rpcError(p: Promise<unknown>): Promise<RpcError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RpcError) return e;
    throw e;
  }
  throw new Error('expected an RpcError');
}

describe('IncidentService: create and lifecycle', () => {
  it('creates an incident with a UUIDv7 id, INC number and a timeline entry', async () => {
    const { svc, log } = setup();
    const a = await create(svc, { services: ['checkout', 'checkout'], roles: { incidentCommander: 'bob' } });
    const b = await create(svc);
    expect(a).toMatchObject({ number: 'INC-1', status: 'detected', severity: 'SEV3', services: ['checkout'], roles: { incidentCommander: 'bob' } });
    expect(b.number).toBe('INC-2');
    expect(a.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.id < b.id).toBe(true);
    expect(a.timeline).toEqual([{ at: '2026-03-01T10:00:00.000Z', actor: 'alice', kind: 'created', text: 'SEV3 detected by monitor prom', to: 'detected' }]);
    expect(log.records.map((r) => [r.type, r.stream])).toEqual([
      ['incident.created', 'incident_events'],
      ['incident.created', 'incident_events'],
    ]);
    expect(svc.get('INC-2').id).toBe(b.id);
    expect(svc.get(b.id).number).toBe('INC-2');
  });

  it('gives distinct numbers to concurrent creates', async () => {
    const { svc } = setup();
    const all = await Promise.all(Array.from({ length: 20 }, () => create(svc)));
    expect(new Set(all.map((i) => i.number)).size).toBe(20);
  });

  it('lets forward moves skip states and stamps acknowledgement, mitigation and resolution', async () => {
    const { svc, clock } = setup();
    const inc = await create(svc);
    clock.advance(7 * MIN);
    const resolved = await svc.transition({ id: inc.number, to: 'resolved', resolution: 'rolled back' }, 'bob');
    expect(resolved).toMatchObject({
      status: 'resolved',
      acknowledgedAt: '2026-03-01T10:07:00.000Z',
      mitigatedAt: '2026-03-01T10:07:00.000Z',
      resolvedAt: '2026-03-01T10:07:00.000Z',
      resolution: 'rolled back',
    });
    expect(resolved.timeline.at(-1)).toEqual({
      at: '2026-03-01T10:07:00.000Z',
      actor: 'bob',
      kind: 'transition',
      text: 'detected → resolved: resolution: rolled back',
      from: 'detected',
      to: 'resolved',
    });
  });

  it('refuses invalid moves naming the allowed next states, and changes nothing', async () => {
    const { svc, log } = setup();
    const inc = await create(svc);
    await svc.transition({ id: inc.id, to: 'resolving' }, 'bob');
    const before = log.records.length;
    const e = await rpcError(svc.transition({ id: inc.id, to: 'acknowledged' }, 'bob'));
    expect(e.code).toBe(ErrorCode.InvalidTransition);
    expect(e.message).toBe('INC-1 cannot move from resolving to acknowledged; allowed: resolved');
    expect(e.data).toMatchObject({ from: 'resolving', to: 'acknowledged', allowed: ['resolved'] });
    const closed = await rpcError(svc.transition({ id: inc.id, to: 'closed' }, 'bob'));
    expect(closed.code).toBe(ErrorCode.InvalidTransition);
    expect(log.records.length).toBe(before);
    expect(svc.get(inc.id).status).toBe('resolving');
  });

  it('follows the exported transition table for every pair of states', async () => {
    const { svc } = setup({ reviewRequiredFor: [] });
    const statuses = Object.keys(INCIDENT_TRANSITIONS) as IncidentStatus[];
    // Reach each status from a fresh incident along valid moves.
    const pathTo: Record<IncidentStatus, IncidentStatus[]> = {
      detected: [],
      acknowledged: ['acknowledged'],
      investigating: ['investigating'],
      identified: ['identified'],
      resolving: ['resolving'],
      resolved: ['resolved'],
      closed: ['resolved', 'closed'],
    };
    for (const from of statuses) {
      for (const to of statuses) {
        const inc = await create(svc);
        for (const step of pathTo[from]) await svc.transition({ id: inc.id, to: step }, 'x');
        const outcome = await svc.transition({ id: inc.id, to }, 'x').then(
          () => 'ok',
          (e: RpcError) => e.code,
        );
        expect([from, to, outcome]).toEqual([from, to, INCIDENT_TRANSITIONS[from].includes(to) ? 'ok' : ErrorCode.InvalidTransition]);
      }
    }
  });

  it('reopens resolved → investigating and takes the old resolution out of MTTR', async () => {
    const { svc, clock } = setup();
    const inc = await create(svc);
    clock.advance(10 * MIN);
    await svc.transition({ id: inc.id, to: 'resolved' }, 'bob');
    expect(svc.metrics({}).mttr.overall).toEqual({ count: 1, meanMs: 10 * MIN });
    const reopened = await svc.transition({ id: inc.id, to: 'investigating', note: 'errors are back' }, 'bob');
    expect(reopened.resolvedAt).toBeUndefined();
    expect(reopened.timeline.at(-1)?.text).toBe('resolved → investigating: errors are back');
    expect(svc.metrics({}).mttr.overall).toEqual({ count: 0, meanMs: null });
    expect(svc.metrics({}).openBySeverity.SEV3).toBe(1);
    clock.advance(20 * MIN);
    await svc.transition({ id: inc.id, to: 'resolved' }, 'bob');
    expect(svc.metrics({}).mttr.overall).toEqual({ count: 1, meanMs: 30 * MIN });
    expect(svc.metrics({}).mtta.overall).toEqual({ count: 1, meanMs: 10 * MIN });
  });

  it('requires a review before closing SEV1/SEV2 but not SEV3, and the list is configurable', async () => {
    const { svc, log } = setup();
    const sev1 = await create(svc, { severity: 'SEV1' });
    const sev3 = await create(svc, { severity: 'SEV3' });
    for (const i of [sev1, sev3]) await svc.transition({ id: i.id, to: 'resolved' }, 'bob');
    const e = await rpcError(svc.transition({ id: sev1.id, to: 'closed' }, 'bob'));
    expect(e.code).toBe(ErrorCode.FailedPrecondition);
    expect(e.message).toContain('reviews/submit');
    expect((await svc.transition({ id: sev3.id, to: 'closed' }, 'bob')).closedAt).toBeDefined();
    const review = await svc.submitReview(
      {
        incidentId: sev1.number,
        whatHappened: 'db failover',
        impact: '12 min of 5xx',
        wentWell: 'paging',
        couldImprove: 'runbook',
        actionItems: [{ description: 'automate failover', owner: 'carol', due: '2026-04-01', done: false }],
        lessons: 'test failover',
      },
      'bob',
    );
    expect(review).toMatchObject({ incidentId: sev1.id, incidentNumber: 'INC-1', version: 1, submittedBy: 'bob' });
    expect(log.ofType('review.submitted')).toHaveLength(1);
    expect(log.ofType('incident.created').map((r) => r.priority)).toEqual(['critical', 'normal']);
    expect(svc.review(sev1.id).actionItems[0]?.owner).toBe('carol');
    expect((await svc.transition({ id: sev1.id, to: 'closed' }, 'bob')).status).toBe('closed');

    const lax = setup({ reviewRequiredFor: [] }).svc;
    const s1 = await create(lax, { severity: 'SEV1' });
    await lax.transition({ id: s1.id, to: 'resolved' }, 'bob');
    expect((await lax.transition({ id: s1.id, to: 'closed' }, 'bob')).status).toBe('closed');
  });

  it('puts assignments, role changes, notes and severity changes on the timeline', async () => {
    const { svc } = setup();
    const inc = await create(svc, { assignee: 'ann' });
    await svc.assign({ id: inc.id, assignee: null, roles: { incidentCommander: 'bob', technicalLead: 'tim' } }, 'alice');
    await svc.assign({ id: inc.id, roles: { technicalLead: null } }, 'alice');
    await svc.note({ id: inc.id, text: 'looking at the db' }, 'bob');
    const after = await svc.setSeverity({ id: inc.id, severity: 'SEV1', reason: 'all regions' }, 'bob');
    expect(after.assignee).toBeUndefined();
    expect(after.roles).toEqual({ incidentCommander: 'bob' });
    expect(after.severity).toBe('SEV1');
    expect(after.timeline.slice(1).map((t) => [t.kind, t.text, t.actor])).toEqual([
      ['assignment', 'assignee cleared; incident commander: bob; technical lead: tim', 'alice'],
      ['assignment', 'technical lead cleared', 'alice'],
      ['note', 'looking at the db', 'bob'],
      ['severity', 'SEV3 → SEV1: all regions', 'bob'],
    ]);
    expect(svc.metrics({}).openBySeverity).toEqual({ SEV1: 1, SEV2: 0, SEV3: 0, SEV4: 0 });
  });

  it('answers NotFound for unknown ids and reviews, FailedPrecondition for changing a closed incident', async () => {
    const { svc } = setup({ reviewRequiredFor: [] });
    expect((await rpcError(svc.transition({ id: 'INC-99', to: 'resolved' }, 'x'))).code).toBe(ErrorCode.NotFound);
    expect((await rpcError(svc.note({ id: '01890a5d-ac96-774b-bcce-b302099a8057', text: 'x' }, 'x'))).code).toBe(ErrorCode.NotFound);
    const inc = await create(svc);
    expect(() => svc.review(inc.id)).toThrow(expect.objectContaining({ code: ErrorCode.NotFound }));
    await svc.transition({ id: inc.id, to: 'resolved' }, 'x');
    await svc.transition({ id: inc.id, to: 'closed' }, 'x');
    expect((await rpcError(svc.setSeverity({ id: inc.id, severity: 'SEV1' }, 'x'))).code).toBe(ErrorCode.FailedPrecondition);
    expect((await rpcError(svc.assign({ id: inc.id, assignee: 'y' }, 'x'))).code).toBe(ErrorCode.FailedPrecondition);
  });
});

describe('IncidentService: metrics', () => {
  it('keeps MTTA/MTTR by severity and service, per day, and open counts', async () => {
    const { svc, clock } = setup();
    const a = await create(svc, { severity: 'SEV1', services: ['checkout', 'payments'] });
    const b = await create(svc, { severity: 'SEV2', services: ['checkout'] });
    clock.advance(4 * MIN);
    await svc.transition({ id: a.id, to: 'acknowledged' }, 'x');
    clock.advance(6 * MIN);
    await svc.transition({ id: b.id, to: 'investigating' }, 'x');
    await svc.transition({ id: a.id, to: 'resolved' }, 'x');
    clock.advance(DAY);
    await svc.transition({ id: b.id, to: 'resolved' }, 'x');
    const all = svc.metrics({});
    expect(all.mtta.overall).toEqual({ count: 2, meanMs: 7 * MIN });
    expect(all.mtta.bySeverity.SEV1).toEqual({ count: 1, meanMs: 4 * MIN });
    expect(all.mtta.bySeverity.SEV4).toEqual({ count: 0, meanMs: null });
    expect(all.mtta.byService).toEqual({ checkout: { count: 2, meanMs: 7 * MIN }, payments: { count: 1, meanMs: 4 * MIN } });
    expect(all.mttr.overall).toEqual({ count: 2, meanMs: (10 * MIN + DAY + 10 * MIN) / 2 });
    expect(all.openBySeverity).toEqual({ SEV1: 0, SEV2: 0, SEV3: 0, SEV4: 0 });

    const firstDay = svc.metrics({ from: '2026-03-01T00:00:00Z', to: '2026-03-01T23:59:00Z' });
    expect(firstDay).toMatchObject({ from: '2026-03-01T00:00:00.000Z', to: '2026-03-02T00:00:00.000Z' });
    expect(firstDay.mttr.overall).toEqual({ count: 1, meanMs: 10 * MIN });
    expect(firstDay.mtta.overall.count).toBe(2);
    const secondDay = svc.metrics({ from: '2026-03-02T00:00:00Z' });
    expect(secondDay.mttr.bySeverity.SEV2).toEqual({ count: 1, meanMs: DAY + 10 * MIN });
    expect(secondDay.mtta.overall.count).toBe(0);
  });
});

describe('IncidentService: list', () => {
  it('lists open first then newest, filters, and pages with a cursor', async () => {
    const { svc } = setup({ reviewRequiredFor: [] });
    const sev = ['SEV1', 'SEV2', 'SEV3', 'SEV4'] as const;
    const made = [];
    for (let i = 0; i < 30; i++) made.push(await create(svc, { severity: sev[i % 4], services: i % 3 === 0 ? ['db'] : ['web'] }));
    for (let i = 0; i < 30; i += 5) await svc.transition({ id: made[i]!.id, to: i % 2 === 0 ? 'resolved' : 'investigating' }, 'x');
    await svc.transition({ id: made[10]!.id, to: 'closed' }, 'x');

    const all = await pageAll(svc, {}, 4);
    const open = made.filter((m) => !['resolved', 'closed'].includes(svc.get(m.id).status)).map((m) => m.number).reverse();
    const done = made.filter((m) => ['resolved', 'closed'].includes(svc.get(m.id).status)).map((m) => m.number).reverse();
    expect(all).toEqual([...open, ...done]);

    const filtered = await pageAll(svc, { statuses: ['detected', 'resolved'], severities: ['SEV1', 'SEV3'], service: 'db' }, 2);
    const expected = [...made]
      .reverse()
      .map((m) => svc.get(m.id))
      .filter((m) => ['detected', 'resolved'].includes(m.status) && ['SEV1', 'SEV3'].includes(m.severity) && m.services.includes('db'))
      .sort((x, y) => Number(x.status === 'resolved') - Number(y.status === 'resolved'))
      .map((m) => m.number);
    expect(filtered).toEqual(expected);
    expect(filtered.length).toBeGreaterThan(0);

    const first = list(svc, { limit: 30 });
    expect(first.incidents).toHaveLength(30);
    expect(first.nextCursor).toBeUndefined();
    expect(first.incidents[0]).not.toHaveProperty('timeline');
    expect(() => list(svc, { cursor: 'nonsense' })).toThrow(expect.objectContaining({ code: ErrorCode.InvalidParams, message: expect.stringContaining('cursor') }));
  });
});

async function pageAll(svc: Svc, p: ParamsOf<typeof ListIncidents>, limit: number): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  do {
    const page = list(svc, { ...p, limit, ...(cursor ? { cursor } : {}) });
    expect(page.incidents.length).toBeLessThanOrEqual(limit);
    out.push(...page.incidents.map((i) => i.number));
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

describe('IncidentProjection: snapshot and replay', () => {
  it('rebuilds the same incidents, index and metrics from a snapshot plus the tail, and from the log alone', async () => {
    const { svc, clock, store, log } = setup({ reviewRequiredFor: [] });
    const a = await create(svc, { severity: 'SEV2', services: ['api'] });
    clock.advance(3 * MIN);
    await svc.transition({ id: a.id, to: 'acknowledged' }, 'x');
    await store.snapshot();
    clock.advance(5 * MIN);
    await svc.transition({ id: a.id, to: 'resolved' }, 'x');
    await create(svc, { severity: 'SEV4' });
    const expected = { a: svc.get(a.id), list: list(svc), metrics: svc.metrics({}) };

    const fromSnapshot = setup({}, log, clock).svc;
    expect({ a: fromSnapshot.get(a.id), list: list(fromSnapshot), metrics: fromSnapshot.metrics({}) }).toEqual(expected);
    expect((await create(fromSnapshot)).number).toBe('INC-3');

    const replayed = new IncidentProjection();
    for (const r of log.records) replayed.apply(r);
    expect(replayed.get(a.id)).toEqual(svc.get(a.id));
    expect(replayed.mttr.stats()).toEqual(svc.metrics({}).mttr);
  });

  it('ignores events that do not fit the current state instead of throwing', () => {
    const p = new IncidentProjection();
    const base = { seq: 1, stream: 'incident_events', time: '2026-01-01T00:00:00.000Z', priority: 'normal' as const, actor: 'x', schemaVersion: 1 };
    p.apply({ ...base, id: 'e1', type: 'incident.transitioned', payload: { id: 'nope', from: 'detected', to: 'resolved' } });
    p.apply({ ...base, id: 'e2', type: 'incident.created', payload: { garbage: true } });
    expect(p.size).toBe(0);
  });
});
