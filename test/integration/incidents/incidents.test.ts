import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../daemon/protocol';
import type { Incident, IncidentSummary, Review } from '../../../daemon/protocol/incidents';
import { type DaemonProcess, type RpcClient, useDaemons, rpcError, sleep } from '../helpers/daemonProcess';

const spawn = useDaemons();

async function start(dataDir?: string): Promise<{ d: DaemonProcess; c: RpcClient }> {
  const d = await spawn(dataDir ? { dataDir } : {});
  return { d, c: await d.connect() };
}

const lastSeq = async (c: RpcClient) => (await c.request<{ eventLog: { lastSeq: number } }>('daemon/status', {})).eventLog.lastSeq;

describe('incidents on a real daemon', () => {
  it('runs the lifecycle over RPC and REST, notifies, refuses bad input, and survives a restart', async () => {
    const { d, c } = await start();
    const watcher = await d.connect();

    const sev1 = await c.request<Incident>('incidents/create', {
      title: 'Checkout 5xx',
      severity: 'SEV1',
      detectedBy: { kind: 'slo', name: 'checkout-availability' },
      services: ['checkout'],
      linkedSlos: ['checkout-availability'],
    });
    expect(sev1).toMatchObject({ number: 'INC-1', status: 'detected', linkedSlos: ['checkout-availability'] });

    const post = await d.http('/api/incidents', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'Slow search', severity: 'SEV3', detectedBy: { kind: 'person', name: 'ann' }, services: ['search'] }),
    });
    expect(post.status).toBe(201);
    const sev3 = (await post.json()) as Incident;
    expect(sev3.number).toBe('INC-2');

    // Level 1 of each incident's escalation fires at once, in the background: let it finish before counting events.
    for (let i = 0; i < 400; i++) {
      const { timers } = await c.request<{ timers: { due: string }[] }>('scheduler/list', { kind: 'incidents.escalate' });
      if (timers.every((t) => Date.parse(t.due) > Date.now())) break;
      await sleep(25);
    }
    // Bad input: a clear error naming the field, and nothing appended.
    const before = await lastSeq(c);
    const bad = await rpcError(c.request('incidents/create', { title: 'x', severity: 'SEV9', detectedBy: { kind: 'person', name: 'a' } }));
    expect(bad.code).toBe(ErrorCode.InvalidParams);
    expect(JSON.stringify(bad.data)).toContain('severity');
    const badRest = await d.http('/api/incidents', { method: 'POST', body: JSON.stringify({ severity: 'SEV1' }) });
    expect(badRest.status).toBe(400);
    const invalid = await rpcError(c.request('incidents/transition', { id: 'INC-1', to: 'closed' }));
    expect(invalid.code).toBe(ErrorCode.InvalidTransition);
    expect(invalid.message).toContain('allowed: acknowledged, investigating, identified, resolving, resolved');
    expect(invalid.data).toMatchObject({ allowed: ['acknowledged', 'investigating', 'identified', 'resolving', 'resolved'] });
    expect((await rpcError(c.request('incidents/get', { id: 'INC-77' }))).code).toBe(ErrorCode.NotFound);
    expect(await lastSeq(c)).toBe(before);

    await c.request('incidents/transition', { id: 'INC-1', to: 'acknowledged' });
    await c.request('incidents/assign', { id: sev1.id, assignee: 'bob', roles: { incidentCommander: 'carol' } });
    await c.request('incidents/note', { id: 'INC-1', text: 'rolling back' });
    await c.request('incidents/setSeverity', { id: 'INC-2', severity: 'SEV2', reason: 'more users affected' });
    await c.request('incidents/transition', { id: 'INC-1', to: 'resolved', resolution: 'rollback' });
    const blocked = await rpcError(c.request('incidents/transition', { id: 'INC-1', to: 'closed' }));
    expect(blocked.code).toBe(ErrorCode.FailedPrecondition);
    const review = await c.request<Review>('reviews/submit', {
      incidentId: 'INC-1',
      whatHappened: 'bad deploy',
      impact: '8 minutes of 5xx on checkout',
      actionItems: [{ description: 'canary deploys', owner: 'bob', due: '2026-12-15' }],
    });
    expect(review).toMatchObject({ version: 1, actionItems: [{ done: false }] });
    expect(await c.request<Review>('reviews/get', { incidentId: sev1.id })).toEqual(review);
    const closed = await c.request<Incident>('incidents/transition', { id: 'INC-1', to: 'closed' });
    // Escalation entries (level 1 finds nobody on call here) interleave by timing; the oncall tests check them.
    const ownKinds = closed.timeline.filter((t) => t.kind !== 'escalation' && t.kind !== 'page').map((t) => t.kind);
    expect(ownKinds).toEqual(['created', 'transition', 'assignment', 'note', 'transition', 'review', 'transition']);
    expect(closed.timeline.some((t) => t.kind === 'escalation' && t.text.startsWith('escalation stopped (moved to'))).toBe(true);
    expect(closed).toMatchObject({ assignee: 'bob', roles: { incidentCommander: 'carol' }, resolution: 'rollback', hasReview: true });

    const notes = await watcher.waitForNotifications(9, (n) => n.method === 'incidents/didChange');
    expect(notes.map((n) => (n.params as { change: string }).change)).toEqual([
      'created',
      'created',
      'transitioned',
      'assigned',
      'noted',
      'severityChanged',
      'transitioned',
      'reviewSubmitted',
      'transitioned',
    ]);

    const listed = await c.request<{ incidents: IncidentSummary[] }>('incidents/list', { limit: 10 });
    expect(listed.incidents.map((i) => i.number)).toEqual(['INC-2', 'INC-1']);
    const rest = await d.http('/api/incidents?status=closed,resolved&severity=SEV1&limit=5');
    expect(rest.status).toBe(200);
    expect(((await rest.json()) as { incidents: IncidentSummary[] }).incidents.map((i) => i.number)).toEqual(['INC-1']);
    const byService = await d.http('/api/incidents?service=search');
    expect(((await byService.json()) as { incidents: IncidentSummary[] }).incidents.map((i) => i.number)).toEqual(['INC-2']);
    expect((await d.http('/api/incidents?limit=0')).status).toBe(400);

    type Metrics = { mtta: { overall: { count: number } }; mttr: { bySeverity: Record<string, { count: number }> }; openBySeverity: Record<string, number> };
    const metrics = await c.request<Metrics>('incidents/metrics', {});
    expect(metrics.mtta.overall.count).toBe(1);
    expect(metrics.mttr.bySeverity.SEV1?.count).toBe(1);
    expect(metrics.openBySeverity).toEqual({ SEV1: 0, SEV2: 1, SEV3: 0, SEV4: 0 });
    const period = await c.request<Metrics & { from: string }>('incidents/metrics', { from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00Z' });
    expect(period.mtta.overall.count).toBe(0);
    expect((await rpcError(c.request('incidents/metrics', { from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' }))).code).toBe(ErrorCode.InvalidParams);

    await watcher.close();
    await c.close();
    await d.stop();

    const again = await start(d.dataDir);
    expect(await again.c.request<Incident>('incidents/get', { id: 'INC-1' })).toEqual(closed);
    expect(await again.c.request('incidents/metrics', {})).toEqual(metrics);
    expect(await again.c.request('reviews/get', { incidentId: 'INC-1' })).toEqual(review);
    const third = await again.c.request<Incident>('incidents/create', { title: 'after restart', severity: 'SEV4', detectedBy: { kind: 'monitor', name: 'm' } });
    expect(third.number).toBe('INC-3');
    await again.c.close();
  });
});
