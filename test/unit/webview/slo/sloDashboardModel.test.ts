import { describe, expect, it } from 'vitest';
import { alertThresholds, formatBurnRate, formatObjective, formatPercent, HostToSloDashboard, SloDashboardToHost, type SloDashboardData } from '../../../../webview/protocol/sloDashboard';
import { burnBars, burnDown, chartDataOf, hostTimedOut, initialModel, reduce, toSavedState, viewOf } from '../../../../webview/slo/sloDashboardModel';
import { pageAlert, sloStatus } from './sloFixtures';

const NOW = Date.parse('2026-11-27T12:00:00.000Z');

function dataMessage(overrides: Partial<SloDashboardData> = {}): SloDashboardData {
  return {
    type: 'data',
    status: sloStatus({}),
    windowSeries: { resolutionMinutes: 240, buckets: [] },
    range: '24h',
    rangeSeries: { resolutionMinutes: 15, buckets: [] },
    latency: null,
    receivedAt: NOW,
    ...overrides,
  };
}

describe('burnDown', () => {
  it('is the budget left with the events from the window start, going negative when overspent', () => {
    const buckets = [
      { start: '2026-11-27T00:00:00.000Z', good: 0, bad: 0 },
      { start: '2026-11-27T01:00:00.000Z', good: 9_990, bad: 10 },
      { start: '2026-11-27T02:00:00.000Z', good: 9_995, bad: 5 },
      { start: '2026-11-27T03:00:00.000Z', good: 9_960, bad: 40 },
    ];
    const points = burnDown(buckets, 0.999, 60);
    expect(points[0]).toEqual({ at: Date.parse('2026-11-27T01:00:00.000Z'), remaining: 1 });
    // 10 bad of a 10-event budget: all of it gone.
    expect(points[1]!.remaining).toBeCloseTo(0, 10);
    // 15 bad of 20 allowed.
    expect(points[2]!.remaining).toBeCloseTo(0.25, 10);
    // 55 bad of 30 allowed.
    expect(points[3]!.remaining).toBeCloseTo(1 - 55 / 30, 10);
  });
});

describe('thresholds and bars', () => {
  it('scales budget-fraction rules with the window and keeps the lowest per severity', () => {
    const thirty = alertThresholds(sloStatus({}).slo.alerting, 30);
    expect(thirty['1h']).toEqual({ page: 14.4 });
    expect(thirty['5m']).toEqual({ page: 14.4 });
    expect(thirty['24h']).toEqual({ ticket: 3 });
    expect(thirty['3d']?.ticket).toBeCloseTo(1, 10);
    expect(alertThresholds({ enabled: false, rules: sloStatus({}).slo.alerting.rules }, 30)).toEqual({});
    const bars = burnBars(sloStatus({ burnRates: { '1h': 3 } }));
    expect(bars.windows).toEqual(['5m', '30m', '1h', '2h', '6h', '24h', '3d', '7d']);
    expect(bars.rates[2]).toBe(3);
    expect(bars.page[2]).toBeCloseTo(14.4, 10);
    expect(bars.ticket[7]).toBeNull();
  });
});

describe('formats', () => {
  it('reads the way the tree and dashboard show them', () => {
    expect(formatPercent(-0.2)).toBe('-20.0%');
    expect(formatPercent(-0.00001)).toBe('0.0%');
    expect(formatObjective(0.999)).toBe('99.9%');
    expect(formatBurnRate(14.4)).toBe('14.4×');
    expect(formatBurnRate(123.4)).toBe('123×');
  });
});

describe('the dashboard model', () => {
  it('shows the cards of the SLO, its alerts and the latency when measured', () => {
    let model = reduce(initialModel(undefined), { type: 'connection', state: 'connected' });
    model = reduce(
      model,
      dataMessage({
        status: sloStatus({ status: 'breached', remainingRatio: -0.5, alerts: [pageAlert()], burnRates: { '1h': 20 }, projectedExhaustionAt: '2026-11-27T11:00:00.000Z' }),
        latency: { p50: 12, p95: 80, p99: 240, samples: 100 },
      }),
    );
    const view = viewOf(model, NOW);
    expect(view.title).toBe('API availability');
    expect(view.statusText).toBe('breached');
    expect(view.cards.find((c) => c.key === 'budget')).toMatchObject({ value: '-50.0%', tone: 'error' });
    expect(view.cards.find((c) => c.key === 'burn')).toMatchObject({ value: '20×', detail: 'burn level normal · pages at 14.4×' });
    expect(view.cards.find((c) => c.key === 'exhaustion')!.value).toBe('already');
    expect(view.cards.find((c) => c.key === 'latency')).toMatchObject({ value: 'p99 240 ms', detail: 'p50 12 ms · p95 80 ms' });
    expect(view.alerts).toHaveLength(1);
    expect(view.alerts[0]!.text).toMatch(/^Page: 20× over 1h and 31.5× over 5m \(threshold 14.4×\)/);
    expect(toSavedState(model)).toEqual({ version: 1, sloId: 'slo_avail_30d', range: '24h' });
  });

  it('has no latency card without samples', () => {
    const model = reduce(reduce(initialModel(undefined), { type: 'connection', state: 'connected' }), dataMessage());
    expect(viewOf(model, NOW).cards.map((c) => c.key)).toEqual(['budget', 'sli', 'burn', 'exhaustion']);
  });

  it('drops the numbers of a deleted SLO and offers another one', () => {
    let model = reduce(reduce(initialModel(undefined), { type: 'connection', state: 'connected' }), dataMessage());
    model = reduce(model, { type: 'error', message: 'SLO "x" does not exist (any more).', gone: true });
    const view = viewOf(model, NOW);
    expect(view.hasData).toBe(false);
    expect(view.banner).toMatchObject({ tone: 'error', actions: ['pickSlo'] });
  });

  it('keeps the last numbers, marked stale, while the daemon is away; and errors instead of spinning forever', () => {
    let model = reduce(reduce(initialModel(undefined), { type: 'connection', state: 'connected' }), dataMessage());
    model = reduce(model, { type: 'connection', state: 'reconnecting' });
    expect(viewOf(model, NOW)).toMatchObject({ stale: true, hasData: true, banner: { tone: 'info' } });
    const waiting = hostTimedOut(reduce(initialModel({ version: 1, sloId: 'a_b', range: '7d' }), { type: 'connection', state: 'connected' }));
    expect(viewOf(waiting, NOW)).toMatchObject({ busy: false, banner: { tone: 'error' } });
    expect(waiting.range).toBe('7d');
  });

  it('prepares chart data with text alternatives', () => {
    const charts = chartDataOf(
      dataMessage({
        windowSeries: { resolutionMinutes: 60, buckets: [{ start: '2026-11-27T10:00:00.000Z', good: 999, bad: 1 }] },
        rangeSeries: {
          resolutionMinutes: 15,
          buckets: [
            { start: '2026-11-27T11:30:00.000Z', good: 500, bad: 1 },
            { start: '2026-11-27T11:45:00.000Z', good: 499, bad: 0 },
          ],
        },
      }),
    );
    expect(charts.burnDown.percent).toEqual([0]);
    expect(charts.events.good).toEqual([500, 499]);
    expect(charts.summaries.events).toBe('Stacked bar chart of events over the last 24h: 999 good, 1 bad');
    expect(charts.summaries.burnDown).toContain('now 0%');
  });

  it('draws p50/p95/p99 per bucket, breaking the lines where a bucket had no samples', () => {
    const lat = (p50: number, p95: number, p99: number, samples: number) => ({ p50, p95, p99, samples });
    const charts = chartDataOf(
      dataMessage({
        rangeSeries: {
          resolutionMinutes: 15,
          buckets: [
            { start: '2026-11-27T11:15:00.000Z', good: 10, bad: 0, latency: lat(20, 80, 120, 10) },
            { start: '2026-11-27T11:30:00.000Z', good: 0, bad: 0, latency: { p50: null, p95: null, p99: null, samples: 0 } },
            { start: '2026-11-27T11:45:00.000Z', good: 5, bad: 1, latency: lat(25, 300, 900, 6) },
          ],
        },
      }),
    );
    expect(charts.latency).toMatchObject({ p50: [20, null, 25], p95: [80, null, 300], p99: [120, null, 900] });
    expect(charts.latency.labels).toEqual(charts.events.labels);
    expect(charts.summaries.latency).toContain('highest p99 900 ms');
    expect(chartDataOf(dataMessage()).summaries.latency).toContain('no latency samples');
  });
});

describe('messages', () => {
  it('rejects what the webview must not send', () => {
    expect(SloDashboardToHost.safeParse({ type: 'runCommand', command: 'workbench.action.quit' }).success).toBe(false);
    expect(SloDashboardToHost.safeParse({ type: 'setRange', range: '2y' }).success).toBe(false);
    expect(HostToSloDashboard.safeParse(dataMessage()).success).toBe(true);
  });
});
