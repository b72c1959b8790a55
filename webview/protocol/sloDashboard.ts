import * as z from 'zod';
import { BURN_WINDOW_MINUTES, BurnWindow, LatencyPercentiles, SloStatus, type AlertingSettings } from '../../daemon/protocol/slo';
import { ConnectionStateName } from './connection';

/** Messages of the SLO dashboard (panel type `cogniforge.sloDashboard`), and figures both sides format alike. */

/** Ranges of the good/bad events chart. */
export const SloRange = z.enum(['1h', '6h', '24h', '7d', '30d']);
export type SloRange = z.infer<typeof SloRange>;

/** Length of each range, minutes, and the bucket size asked of `slo/series` (≈ 60–120 bars each). */
export const SLO_RANGES: Readonly<Record<SloRange, { readonly minutes: number; readonly resolutionMinutes: number }>> = {
  '1h': { minutes: 60, resolutionMinutes: 1 },
  '6h': { minutes: 360, resolutionMinutes: 5 },
  '24h': { minutes: 1440, resolutionMinutes: 15 },
  '7d': { minutes: 10_080, resolutionMinutes: 120 },
  '30d': { minutes: 43_200, resolutionMinutes: 360 },
};

export const SeriesBucket = z.object({
  /** Bucket start (ISO-8601). */
  start: z.string(),
  good: z.number().int().min(0),
  bad: z.number().int().min(0),
  /** Latency percentiles of the bucket, ms, when the daemon keeps histograms. */
  latency: LatencyPercentiles.optional(),
});
export type SeriesBucket = z.infer<typeof SeriesBucket>;

export const SloDashboardConnection = z.object({
  type: z.literal('connection'),
  state: ConnectionStateName,
  /** Why there is no daemon, when `state` is `stopped`. */
  reason: z.string().max(2000).optional(),
});

export const SloDashboardData = z.object({
  type: z.literal('data'),
  status: SloStatus,
  /** Whole window from its start, for the burn-down line. */
  windowSeries: z.object({ resolutionMinutes: z.number().int().positive(), buckets: z.array(SeriesBucket).max(10_000) }),
  range: SloRange,
  /** The selected range, for the good/bad chart. */
  rangeSeries: z.object({ resolutionMinutes: z.number().int().positive(), buckets: z.array(SeriesBucket).max(10_000) }),
  /** Latency percentiles over the selected range, ms; null when the daemon reports none. */
  latency: LatencyPercentiles.nullable(),
  /** When the host received it, epoch ms. */
  receivedAt: z.number().int().nonnegative(),
});
export type SloDashboardData = z.infer<typeof SloDashboardData>;

export const SloDashboardError = z.object({
  type: z.literal('error'),
  /** One sentence: why the numbers could not be loaded. */
  message: z.string().max(2000),
  /** True when the SLO no longer exists: the dashboard stops showing its numbers. */
  gone: z.boolean(),
});

export const HostToSloDashboard = z.discriminatedUnion('type', [SloDashboardConnection, SloDashboardData, SloDashboardError]);
export type HostToSloDashboard = z.infer<typeof HostToSloDashboard>;

/** Commands the dashboard may ask the host to run: a fixed list, never an arbitrary command id. */
export const SloDashboardCommand = z.enum(['startDaemon', 'showLog', 'pickSlo']);
export type SloDashboardCommand = z.infer<typeof SloDashboardCommand>;

const SloIdText = z.string().min(1).max(64);

export const SloDashboardToHost = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  /** After `ready` of a restored panel: the SLO it showed before. */
  z.object({ type: z.literal('restore'), sloId: SloIdText, range: SloRange }),
  z.object({ type: z.literal('setRange'), range: SloRange }),
  z.object({ type: z.literal('refresh') }),
  z.object({ type: z.literal('runCommand'), command: SloDashboardCommand }),
]);
export type SloDashboardToHost = z.infer<typeof SloDashboardToHost>;

/** Kept with `setState`: which SLO and range a restored panel shows. */
export const SloDashboardSavedState = z.object({ version: z.literal(1), sloId: SloIdText, range: SloRange });
export type SloDashboardSavedState = z.infer<typeof SloDashboardSavedState>;

/** Alert thresholds that apply to one burn window: the highest page and ticket rule on it. */
export interface WindowThresholds {
  readonly page?: number;
  readonly ticket?: number;
}

/**
 * Burn-rate threshold of every window an alert rule reads (long and short window share the rule's
 * threshold). A `budgetFraction` rule scales with the SLO window as the SRE Workbook does:
 * threshold = fraction × window ÷ long window, e.g. 2 % of 30 days in 1 h → 14.4.
 */
export function alertThresholds(alerting: Pick<AlertingSettings, 'enabled' | 'rules'>, windowDays: number): Partial<Record<BurnWindow, WindowThresholds>> {
  const out: Partial<Record<BurnWindow, { page?: number; ticket?: number }>> = {};
  if (!alerting.enabled) return out;
  for (const rule of alerting.rules) {
    const threshold = rule.burnRate ?? ((rule.budgetFraction ?? 0) * windowDays * 1440) / BURN_WINDOW_MINUTES[rule.longWindow];
    for (const window of [rule.longWindow, rule.shortWindow]) {
      const entry = (out[window] ??= {});
      // Several rules on one window: the lowest threshold is the one that fires first.
      entry[rule.severity] = Math.min(entry[rule.severity] ?? Infinity, threshold);
    }
  }
  return out;
}

/** A ratio as a percentage with one decimal, keeping the sign: `-0.2` → `-20.0%`. */
export function formatPercent(ratio: number, digits = 1): string {
  if (!Number.isFinite(ratio)) return '—';
  const text = (ratio * 100).toFixed(digits);
  return `${text === `-${(0).toFixed(digits)}` ? (0).toFixed(digits) : text}%`;
}

/** An objective as people say it: 0.999 → `99.9%`, 0.99995 → `99.995%`. */
export function formatObjective(objective: number): string {
  return `${Number((objective * 100).toFixed(4))}%`;
}

/** A burn rate: `0` → `0×`, `2.345` → `2.35×`, `120.4` → `120×`. */
export function formatBurnRate(rate: number): string {
  if (!Number.isFinite(rate)) return '—';
  if (rate === 0) return '0×';
  const digits = rate >= 100 ? 0 : rate >= 10 ? 1 : 2;
  return `${Number(rate.toFixed(digits))}×`;
}

/** The windows worth a row or a bar, in the order the daemon computes them. */
export const BURN_WINDOWS: readonly BurnWindow[] = BurnWindow.options;
