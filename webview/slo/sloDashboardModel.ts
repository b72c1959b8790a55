import type { SloStatus } from '../../daemon/protocol/slo';
import type { ConnectionStateName } from '../protocol/connection';
import { formatCount, formatDuration } from '../protocol/format';
import {
  alertThresholds,
  formatBurnRate,
  formatObjective,
  formatPercent,
  SLO_RANGES,
  type HostToSloDashboard,
  type SeriesBucket,
  type SloDashboardData,
  type SloDashboardSavedState,
  type SloRange,
} from '../protocol/sloDashboard';

const SLO_RANGE_MINUTES = Object.fromEntries(Object.entries(SLO_RANGES).map(([k, v]) => [k, v.minutes])) as Record<SloRange, number>;

export type Tone = 'ok' | 'warning' | 'error' | 'pending';

export interface SloDashboardModel {
  readonly connection: ConnectionStateName;
  readonly connectionReason?: string;
  readonly data?: SloDashboardData;
  readonly error?: { readonly message: string; readonly gone: boolean };
  readonly range: SloRange;
  /** The SLO a restored panel showed. */
  readonly sloId?: string;
  readonly hostTimedOut: boolean;
}

export function initialModel(saved: SloDashboardSavedState | undefined): SloDashboardModel {
  return { connection: 'connecting', range: saved?.range ?? '24h', sloId: saved?.sloId, hostTimedOut: false };
}

export function reduce(model: SloDashboardModel, message: HostToSloDashboard): SloDashboardModel {
  switch (message.type) {
    case 'connection':
      return { ...model, connection: message.state, connectionReason: message.reason, hostTimedOut: false };
    case 'data':
      return { ...model, data: message, error: undefined, range: message.range, sloId: message.status.slo.id, hostTimedOut: false };
    case 'error':
      return { ...model, error: { message: message.message, gone: message.gone }, data: message.gone ? undefined : model.data, hostTimedOut: false };
  }
}

export function withRange(model: SloDashboardModel, range: SloRange): SloDashboardModel {
  return { ...model, range };
}

export function hostTimedOut(model: SloDashboardModel): SloDashboardModel {
  return model.data || model.error ? model : { ...model, hostTimedOut: true };
}

export function toSavedState(model: SloDashboardModel): SloDashboardSavedState | undefined {
  return model.sloId === undefined ? undefined : { version: 1, sloId: model.sloId, range: model.range };
}

export interface BurnDownPoint {
  /** Bucket end, epoch ms. */
  readonly at: number;
  /** Remaining budget ratio with the events from the window start to `at`; 1 before any event. */
  readonly remaining: number | null;
}

/**
 * The budget remaining as the window filled up: at each bucket end, 1 − bad ÷ ((1 − objective) ×
 * events), counting from the window start. Ends at the figure the status reports.
 */
export function burnDown(buckets: readonly SeriesBucket[], objective: number, resolutionMinutes: number): BurnDownPoint[] {
  let good = 0;
  let bad = 0;
  return buckets.map((b) => {
    good += b.good;
    bad += b.bad;
    const total = good + bad;
    const budget = (1 - objective) * total;
    // No events yet leaves the whole budget, as the daemon reports it.
    const remaining = budget === 0 ? (bad === 0 ? 1 : null) : 1 - bad / budget;
    return { at: Date.parse(b.start) + resolutionMinutes * 60_000, remaining };
  });
}

export interface BurnBars {
  readonly windows: readonly string[];
  readonly rates: readonly number[];
  /** Page threshold per window; null where no page rule reads it. */
  readonly page: readonly (number | null)[];
  readonly ticket: readonly (number | null)[];
}

export function burnBars(status: SloStatus): BurnBars {
  const thresholds = alertThresholds(status.slo.alerting, status.slo.windowDays);
  return {
    windows: status.burnRates.map((b) => b.window),
    rates: status.burnRates.map((b) => b.burnRate),
    page: status.burnRates.map((b) => thresholds[b.window]?.page ?? null),
    ticket: status.burnRates.map((b) => thresholds[b.window]?.ticket ?? null),
  };
}

/** A bucket's label: time of day for ranges up to a day, day and time beyond. */
export function bucketLabel(startMs: number, resolutionMinutes: number, rangeMinutes: number): string {
  const d = new Date(startMs);
  const hh = String(d.getHours()).padStart(2, '0');
  const mm = String(d.getMinutes()).padStart(2, '0');
  if (rangeMinutes <= 1440) return `${hh}:${mm}`;
  const day = `${d.getMonth() + 1}/${d.getDate()}`;
  // Beyond three days the hour adds width, not meaning, to an axis label.
  return rangeMinutes > 3 * 1440 || resolutionMinutes >= 1440 ? day : `${day} ${hh}:${mm}`;
}

export interface Card {
  readonly key: 'budget' | 'sli' | 'burn' | 'exhaustion' | 'latency';
  readonly title: string;
  readonly value: string;
  readonly detail: string;
  readonly tone: Tone;
}

export interface AlertRow {
  readonly id: string;
  readonly severity: 'page' | 'ticket';
  readonly text: string;
}

export interface SloDashboardView {
  readonly title: string;
  readonly subtitle: string;
  readonly statusText: string;
  readonly statusTone: Tone;
  readonly busy: boolean;
  readonly banner?: { readonly tone: 'error' | 'warning' | 'info'; readonly text: string; readonly actions: readonly ('startDaemon' | 'showLog' | 'pickSlo')[] };
  readonly cards: readonly Card[];
  readonly alerts: readonly AlertRow[];
  readonly stale: boolean;
  readonly updatedText: string;
  readonly hasData: boolean;
}

const STATUS_TONE: Readonly<Record<SloStatus['status'], Tone>> = { healthy: 'ok', warning: 'warning', critical: 'error', breached: 'error' };

export function viewOf(model: SloDashboardModel, nowMs: number): SloDashboardView {
  const connected = model.connection === 'connected';
  const data = model.data;
  let banner: SloDashboardView['banner'];
  if (model.connection === 'stopped') {
    banner = { tone: 'error', text: `The CogniForge daemon is not running${model.connectionReason ? `: ${model.connectionReason}` : '.'}`, actions: ['startDaemon', 'showLog'] };
  } else if (!connected) {
    banner = { tone: 'info', text: `Daemon ${model.connection}… the numbers below are the last ones received.`, actions: ['showLog'] };
  } else if (model.error) {
    banner = { tone: 'error', text: model.error.message, actions: model.error.gone ? ['pickSlo'] : ['showLog'] };
  } else if (model.hostTimedOut && !data) {
    banner = { tone: 'error', text: 'The extension did not answer. The SLO numbers could not be loaded.', actions: ['showLog'] };
  }
  if (!data) {
    return {
      title: 'SLO Dashboard',
      subtitle: model.sloId ?? '',
      statusText: connected ? (model.error ? 'unavailable' : 'loading') : model.connection,
      statusTone: model.error ? 'error' : 'pending',
      busy: connected && !model.error && !model.hostTimedOut,
      banner,
      cards: [],
      alerts: [],
      stale: false,
      updatedText: '',
      hasData: false,
    };
  }
  const { status } = data;
  const { slo, budget } = status;
  const thresholds = alertThresholds(slo.alerting, slo.windowDays);
  const oneHour = status.burnRates.find((b) => b.window === '1h');
  const exhaustion = status.projectedExhaustionAt === null ? null : Date.parse(status.projectedExhaustionAt);
  const cards: Card[] = [
    {
      key: 'budget',
      title: 'Error budget left',
      value: budget.totalEvents === 0 ? '100%' : formatPercent(budget.remainingRatio),
      detail:
        budget.totalEvents === 0
          ? 'no events in the window yet'
          : `${formatCount(budget.consumedEvents)} of ${formatCount(Math.floor(budget.budgetEvents))} allowed bad events used${budget.remainingRatio < 0 ? ' (overspent)' : ''}`,
      tone: STATUS_TONE[status.status],
    },
    {
      key: 'sli',
      title: 'SLI',
      value: budget.sliRatio === null ? '—' : formatPercent(budget.sliRatio, 3),
      detail: `objective ${formatObjective(slo.objective)} · ${formatCount(budget.totalEvents)} events in ${slo.windowDays} days`,
      tone: budget.sliRatio === null ? 'pending' : budget.sliRatio >= slo.objective ? 'ok' : 'error',
    },
    {
      key: 'burn',
      title: 'Burn rate (1h)',
      value: oneHour ? formatBurnRate(oneHour.burnRate) : '—',
      detail: `burn level ${status.burnLevel}${thresholds['1h']?.page !== undefined ? ` · pages at ${formatBurnRate(thresholds['1h'].page)}` : ''}`,
      tone: status.burnLevel === 'normal' ? 'ok' : status.burnLevel === 'elevated' ? 'warning' : 'error',
    },
    {
      key: 'exhaustion',
      title: 'Budget exhausted',
      value: exhaustion === null ? 'not burning' : exhaustion <= nowMs ? 'already' : `in ${formatDuration(exhaustion - nowMs)}`,
      detail: exhaustion === null ? 'at the current 1-hour burn rate' : `at the 1-hour burn rate: ${new Date(exhaustion).toLocaleString()}`,
      tone: exhaustion === null ? 'ok' : exhaustion - nowMs < 86_400_000 ? 'error' : 'warning',
    },
  ];
  if (data.latency && data.latency.samples > 0) {
    const ms = (v: number | null): string => (v === null ? '—' : `${Number(v.toPrecision(3))} ms`);
    const thresholdMs = slo.sli.kind === 'latency' ? slo.sli.thresholdMs : undefined;
    cards.push({
      key: 'latency',
      title: `Latency (${data.range})`,
      value: `p99 ${ms(data.latency.p99)}`,
      detail: `p50 ${ms(data.latency.p50)} · p95 ${ms(data.latency.p95)}${thresholdMs !== undefined ? ` · threshold ${thresholdMs} ms` : ''}`,
      tone: thresholdMs !== undefined && data.latency.p99 !== null && data.latency.p99 > thresholdMs ? 'warning' : 'ok',
    });
  }
  const alerts: AlertRow[] = status.activeAlerts.map((a) => ({
    id: a.alertId,
    severity: a.severity,
    text:
      `${a.severity === 'page' ? 'Page' : 'Ticket'}: ${formatBurnRate(a.longBurnRate)} over ${a.rule.longWindow} and ${formatBurnRate(a.shortBurnRate)} over ` +
      `${a.rule.shortWindow} (threshold ${formatBurnRate(a.rule.threshold)}), since ${new Date(Date.parse(a.firedAt)).toLocaleString()}`,
  }));
  const ago = Math.max(0, nowMs - data.receivedAt);
  return {
    title: slo.name,
    subtitle: `${slo.id} · ${slo.service} · ${slo.sli.kind}${slo.sli.kind === 'latency' ? ` ≤ ${slo.sli.thresholdMs} ms` : ''} · ${formatObjective(slo.objective)} over ${slo.windowDays} days`,
    statusText: status.status,
    statusTone: STATUS_TONE[status.status],
    busy: false,
    banner,
    cards,
    alerts,
    stale: !connected,
    updatedText: ago < 2_000 ? 'Updated just now' : `Updated ${formatDuration(ago)} ago`,
    hasData: true,
  };
}

/** What the three charts draw. */
export interface ChartData {
  readonly burnDown: { readonly labels: readonly string[]; readonly percent: readonly (number | null)[] };
  readonly burn: BurnBars;
  readonly events: { readonly labels: readonly string[]; readonly good: readonly number[]; readonly bad: readonly number[] };
  /** Latency percentiles per bucket of the selected range, ms; null where a bucket had no samples. */
  readonly latency: LatencyLines;
  /** Text alternatives of the charts for screen readers. */
  readonly summaries: { readonly burnDown: string; readonly burn: string; readonly events: string; readonly latency: string };
}

export interface LatencyLines {
  readonly labels: readonly string[];
  readonly p50: readonly (number | null)[];
  readonly p95: readonly (number | null)[];
  readonly p99: readonly (number | null)[];
  /** A latency SLO's threshold, ms, drawn as a line across the chart; null for other SLIs. */
  readonly thresholdMs: number | null;
}

/** p50/p95/p99 per series bucket (null for buckets without samples, so the lines break there). */
export function latencyLines(buckets: readonly SeriesBucket[], labels: readonly string[], thresholdMs: number | null): LatencyLines {
  const of = (pick: 'p50' | 'p95' | 'p99') => buckets.map((b) => (b.latency && b.latency.samples > 0 ? b.latency[pick] : null));
  return { labels, p50: of('p50'), p95: of('p95'), p99: of('p99'), thresholdMs };
}

export function chartDataOf(data: SloDashboardData): ChartData {
  const { status, windowSeries, rangeSeries } = data;
  const windowMinutes = status.slo.windowDays * 1440;
  const points = burnDown(windowSeries.buckets, status.slo.objective, windowSeries.resolutionMinutes);
  const percent = points.map((p) => (p.remaining === null ? null : Number((p.remaining * 100).toFixed(2))));
  const rangeMinutes = SLO_RANGE_MINUTES[data.range];
  const bars = burnBars(status);
  const good = rangeSeries.buckets.map((b) => b.good);
  const bad = rangeSeries.buckets.map((b) => b.bad);
  const sum = (a: readonly number[]): number => a.reduce((x, y) => x + y, 0);
  const last = percent.filter((p): p is number => p !== null).at(-1);
  const rangeLabels = rangeSeries.buckets.map((b) => bucketLabel(Date.parse(b.start), rangeSeries.resolutionMinutes, rangeMinutes));
  const latency = latencyLines(rangeSeries.buckets, rangeLabels, status.slo.sli.kind === 'latency' ? status.slo.sli.thresholdMs : null);
  const worstP99 = Math.max(...latency.p99.filter((v): v is number => v !== null));
  return {
    burnDown: { labels: points.map((p) => bucketLabel(p.at, windowSeries.resolutionMinutes, windowMinutes)), percent },
    burn: bars,
    events: { labels: rangeLabels, good, bad },
    latency,
    summaries: {
      burnDown: `Line chart of the error budget left over the ${status.slo.windowDays}-day window${last === undefined ? ': no events yet' : `, now ${last}%`}`,
      burn: `Bar chart of burn rates: ${bars.windows.map((w, i) => `${w} ${formatBurnRate(bars.rates[i] ?? 0)}`).join(', ')}`,
      events: `Stacked bar chart of events over the last ${data.range}: ${formatCount(sum(good))} good, ${formatCount(sum(bad))} bad`,
      latency: `Line chart of p50, p95 and p99 latency over the last ${data.range}${Number.isFinite(worstP99) ? `, highest p99 ${worstP99} ms` : ': no latency samples'}${latency.thresholdMs === null ? '' : `, threshold ${latency.thresholdMs} ms`}`,
    },
  };
}
