import { describe, expect, it } from 'vitest';
import { breakingStateOf, dashboardData, scorePoints } from '../../../../extension/features/governance/governanceDashboardFeed';
import { GovernanceDashboardData, type HostToGovernanceDashboard } from '../../../../webview/protocol/governanceDashboard';
import { breakingView, cellView, historyChart, hostTimedOut, initialModel, matrixView, reduce, scoreTone, viewOf } from '../../../../webview/governance/governanceModel';
import { complianceReport, comparisonReport } from './governanceFixtures';

const NOW = Date.parse('2026-11-28T12:00:00.000Z');
const rel = (f: string) => f.replace('/ws/', '');
const history = [
  { auditId: 'aud_2', auditedAt: '2026-11-28T10:30:00.000Z', score: 84.7, findingCount: 3, bySeverity: { error: 1, warn: 1, info: 1, hint: 0 }, documents: [] },
  { auditId: 'aud_1', auditedAt: '2026-11-27T09:05:00.000Z', score: 62, findingCount: 9, bySeverity: { error: 3, warn: 2, info: 4, hint: 0 }, documents: [] },
];

function data(): GovernanceDashboardData {
  return dashboardData({ status: 'audited', report: complianceReport() }, history, breakingStateOf(comparisonReport()), rel, NOW);
}

describe('dashboardData (host side)', () => {
  it('builds a message the webview schema accepts: a row per document, a cell per category', () => {
    const d = data();
    expect(GovernanceDashboardData.safeParse(d).success).toBe(true);
    expect(d.audit!.rows.map((r) => r.label)).toEqual(['api/orders.yaml', 'api/users.yaml']);
    const orders = d.audit!.rows[0]!;
    expect(orders.cells).toHaveLength(10);
    expect(orders.cells.find((c) => c.category === 'API4')).toEqual({ category: 'API4', status: 'fail', errors: 1, warnings: 1, notes: 0 });
    expect(orders.cells.find((c) => c.category === 'API8')).toMatchObject({ status: 'partly', notes: 1 });
    expect(orders.cells.find((c) => c.category === 'API1')).toMatchObject({ status: 'pass' });
    expect(d.audit!.rows[1]!.cells.every((c) => c.status === 'pass')).toBe(true);
  });

  it('puts the history oldest first and says when nothing was audited or compared', () => {
    expect(scorePoints(history).map((p) => p.score)).toEqual([62, 84.7]);
    const empty = dashboardData({ status: 'notAudited', report: null }, [], breakingStateOf(undefined), rel, NOW);
    expect(empty.audit).toBeNull();
    expect(empty.breaking).toEqual({ status: 'none' });
  });

  it('names a working-tree side as the matrix does', () => {
    const r = { ...comparisonReport(), head: { name: '/ws/api/orders.yaml', format: 'openapi-3.0' as const, file: '/ws/api/orders.yaml' } };
    const b = breakingStateOf(r, rel);
    expect(b.status === 'report' && [b.report.base, b.report.head]).toEqual(['v1.0.0:api/orders.yaml', 'api/orders.yaml']);
  });

  it('keeps the breaking changes with their operation and the clients that use it', () => {
    const b = breakingStateOf(comparisonReport());
    expect(b.status === 'report' && b.report.changes[0]).toEqual({
      severity: 'breaking',
      rule: 'operation-removed',
      message: 'DELETE /orders/{id} was removed',
      operation: 'DELETE /orders/{id}',
      clients: ['mobile'],
    });
  });
});

describe('governance dashboard model (webview side)', () => {
  it('orders the matrix worst document first, with words and counts on every cell', () => {
    const m = matrixView(data())!;
    expect(m.headers.map((h) => h.category)).toEqual(['API1', 'API2', 'API3', 'API4', 'API5', 'API6', 'API7', 'API8', 'API9', 'API10']);
    expect(m.rows.map((r) => [r.label, r.scoreText, r.scoreTone])).toEqual([
      ['api/orders.yaml', '87', 'warning'],
      ['api/users.yaml', '100', 'ok'],
    ]);
    const api4 = m.rows[0]!.cells[3]!;
    expect(api4).toMatchObject({ text: 'Fail', tone: 'error' });
    expect(api4.label).toBe('api/orders.yaml · API4 Unrestricted Resource Consumption: fail (1 error, 1 warning)');
    expect(m.rows[1]!.cells[0]!.label).toContain('pass (no findings)');
    expect(m.failing[3]).toBe(1);
    expect(m.failing[0]).toBe(0);
  });

  it('labels a partly cell and scores by tone thresholds', () => {
    expect(cellView({ category: 'API8', status: 'partly', errors: 0, warnings: 0, notes: 2 }, 'Security Misconfiguration', 'a.yaml')).toMatchObject({ text: 'Partly', tone: 'warning', label: 'a.yaml · API8 Security Misconfiguration: partly (2 notes)' });
    expect([scoreTone(95), scoreTone(90), scoreTone(89.9), scoreTone(70), scoreTone(12)]).toEqual(['ok', 'ok', 'warning', 'warning', 'error']);
  });

  it('charts the score history with an accessible summary', () => {
    const chart = historyChart(data().history);
    expect(chart.scores).toEqual([62, 84.7]);
    expect(chart.labels).toHaveLength(2);
    expect(chart.summary).toBe('2 audits; score from 62 to 84.7, lowest 62, highest 84.7.');
    expect(historyChart([]).summary).toBe('No audits yet.');
    const sameMinute = historyChart([
      { auditedAt: '2026-11-28T10:30:05.000Z', score: 50, findingCount: 4 },
      { auditedAt: '2026-11-28T10:30:40.000Z', score: 60, findingCount: 3 },
    ]);
    expect(sameMinute.labels[0]).not.toBe(sameMinute.labels[1]);
    expect(sameMinute.labels[0]).toMatch(/:05$/);
  });

  it('shows the breaking-change report, or a clear empty state', () => {
    const v = breakingView(breakingStateOf(comparisonReport()));
    expect(v.tone).toBe('error');
    expect(v.summary).toContain('v1.0.0:api/orders.yaml → api/orders.yaml');
    expect(v.summary).toContain('1 breaking change, 1 warning, 0 info');
    expect(v.items[0]).toEqual({ tone: 'error', text: 'Breaking: DELETE /orders/{id} was removed', detail: 'DELETE /orders/{id} · operation-removed · used by mobile' });
    expect(breakingView({ status: 'none' }).empty).toContain('Compare API Contract with');
    expect(breakingView({ status: 'unavailable', reason: 'This daemon does not keep breaking-change reports.' })).toMatchObject({ empty: 'This daemon does not keep breaking-change reports.', items: [] });
  });

  it('goes from connecting to data, marks data stale when the daemon goes away, and says when nothing was audited', () => {
    let model = initialModel();
    expect(viewOf(model, NOW)).toMatchObject({ busy: true, banner: { tone: 'info' } });
    const messages: HostToGovernanceDashboard[] = [{ type: 'connection', state: 'connected' }, data()];
    for (const m of messages) model = reduce(model, m);
    let view = viewOf(model, NOW);
    expect(view).toMatchObject({ busy: false, stale: false, banner: undefined, scoreText: '93.5/100', scoreTone: 'ok' });
    expect(view.subtitle).toMatch(/^2 documents, 3 findings · audited /);
    expect(view.updatedText).toBe('Updated just now');

    model = reduce(model, { type: 'connection', state: 'stopped', reason: 'stopped by the user' });
    view = viewOf(model, NOW);
    expect(view.stale).toBe(true);
    expect(view.banner).toEqual({ tone: 'error', text: 'The CogniForge daemon is not running: stopped by the user', actions: ['startDaemon', 'showLog'] });

    const none = reduce(reduce(initialModel(), { type: 'connection', state: 'connected' }), dashboardData({ status: 'notAudited', report: null }, [], { status: 'none' }, rel, NOW));
    expect(viewOf(none, NOW)).toMatchObject({ matrix: undefined, scoreText: '—' });
    expect(viewOf(none, NOW).matrixEmpty).toContain('No API contract has been audited yet');
  });

  it('reports a host that never answers, and errors from the host', () => {
    const timedOut = hostTimedOut(reduce(initialModel(), { type: 'connection', state: 'connected' }));
    expect(viewOf(timedOut, NOW).banner?.text).toContain('no answer from the extension');
    const failed = reduce(reduce(initialModel(), { type: 'connection', state: 'connected' }), { type: 'error', message: 'Could not load the governance data: boom' });
    expect(viewOf(failed, NOW)).toMatchObject({ busy: false, banner: { tone: 'error', text: 'Could not load the governance data: boom' } });
  });
});
