import { BURN_WINDOW_MINUTES, BurnWindow, type AlertRule, type AlertingSettings, type ErrorBudget } from '../../protocol/slo';

export const MINUTE_MS = 60_000;

/** Minute index of an epoch-ms time. */
export const minuteOf = (ms: number): number => Math.floor(ms / MINUTE_MS);

/**
 * The allowed bad ratio, 1 − objective, rounded to 12 decimals so that 1 − 0.999 is 0.001 and not
 * 0.0010000000000000009: a steady 0.1 % error rate on a 99.9 % SLO then burns at exactly 1.
 */
export const allowedBadRatio = (objective: number): number => Math.round((1 - objective) * 1e12) / 1e12;

/** (bad ÷ total) ÷ (1 − objective); 0 without traffic. */
export function burnRate(bad: number, total: number, objective: number): number {
  return total === 0 ? 0 : bad / total / allowedBadRatio(objective);
}

/** Occurrence-based error budget over a window's totals. */
export function errorBudget(good: number, total: number, objective: number): ErrorBudget {
  const bad = total - good;
  const budgetEvents = allowedBadRatio(objective) * total;
  return {
    totalEvents: total,
    goodEvents: good,
    badEvents: bad,
    budgetEvents,
    consumedEvents: bad,
    remainingRatio: total === 0 ? 1 : 1 - bad / budgetEvents,
    sliRatio: total === 0 ? null : good / total,
  };
}

export type BudgetStatus = 'healthy' | 'warning' | 'critical' | 'breached';
export type BurnLevel = 'normal' | 'elevated' | 'high' | 'critical';

export function budgetStatus(remainingRatio: number, t: AlertingSettings['statusThresholds']): BudgetStatus {
  if (remainingRatio <= 0) return 'breached';
  if (remainingRatio <= t.critical) return 'critical';
  if (remainingRatio <= t.warning) return 'warning';
  return 'healthy';
}

export function burnLevel(oneHourBurn: number, l: AlertingSettings['burnLevels']): BurnLevel {
  if (oneHourBurn >= l.critical) return 'critical';
  if (oneHourBurn >= l.high) return 'high';
  if (oneHourBurn >= l.elevated) return 'elevated';
  return 'normal';
}

/** A rule's burn-rate threshold: fixed, or the Workbook's budget fraction × window ÷ long window. */
export function ruleThreshold(rule: AlertRule, windowDays: number): number {
  if (rule.burnRate !== undefined) return rule.burnRate;
  const threshold = ((rule.budgetFraction ?? 0) * windowDays * 1440) / BURN_WINDOW_MINUTES[rule.longWindow];
  return Math.round(threshold * 1e9) / 1e9;
}

/** Totals of one burn window. */
export interface WindowTotals {
  good: number;
  total: number;
}

export interface RuleVerdict {
  severity: 'page' | 'ticket';
  longWindow: BurnWindow;
  shortWindow: BurnWindow;
  threshold: number;
  longBurnRate: number;
  shortBurnRate: number;
}

/**
 * Multi-window, multi-burn-rate alerting: per severity, the first rule whose long and short burn
 * rates both exceed its threshold while the long window holds at least `minEvents` events.
 */
export function activeSeverities(
  totals: Readonly<Record<BurnWindow, WindowTotals>>,
  objective: number,
  windowDays: number,
  alerting: AlertingSettings,
): Map<'page' | 'ticket', RuleVerdict> {
  const active = new Map<'page' | 'ticket', RuleVerdict>();
  if (!alerting.enabled) return active;
  for (const rule of alerting.rules) {
    if (active.has(rule.severity)) continue;
    const long = totals[rule.longWindow];
    const short = totals[rule.shortWindow];
    if (long.total < alerting.minEvents || long.total === 0) continue;
    const threshold = ruleThreshold(rule, windowDays);
    const longBurnRate = burnRate(long.total - long.good, long.total, objective);
    const shortBurnRate = burnRate(short.total - short.good, short.total, objective);
    if (longBurnRate > threshold && shortBurnRate > threshold) {
      active.set(rule.severity, { severity: rule.severity, longWindow: rule.longWindow, shortWindow: rule.shortWindow, threshold, longBurnRate, shortBurnRate });
    }
  }
  return active;
}

/**
 * When the remaining budget runs out at this burn rate: a burn rate of 1 spends a whole budget in
 * one window, so the time left is remaining × window ÷ burn. Null when not burning; `now` when spent.
 */
export function projectedExhaustion(remainingRatio: number, burn: number, windowDays: number, now: number): number | null {
  if (remainingRatio <= 0) return now;
  if (burn <= 0) return null;
  return now + Math.round((remainingRatio * windowDays * 86_400_000) / burn);
}

export const BURN_WINDOWS = BurnWindow.options;

/** Bad events ÷ budget: 0 without bad events, Infinity when events were bad but the budget is 0. */
export function consumedRatio(bad: number, total: number, objective: number): number {
  if (bad === 0) return 0;
  const budget = allowedBadRatio(objective) * total;
  return budget === 0 ? Infinity : bad / budget;
}

/**
 * Since when an SLO has been silent, epoch ms: the end of its last sample's minute, but never before
 * its creation (an SLO created now and fed old samples has not been silent yet).
 */
export function absentSince(lastSampleMinute: number | undefined, createdAt: number): number {
  return lastSampleMinute === undefined ? createdAt : Math.max(createdAt, (lastSampleMinute + 1) * MINUTE_MS);
}

/** The SLI is absent once silent for `afterMinutes` (0 = never). */
export function isAbsent(since: number, afterMinutes: number, now: number): boolean {
  return afterMinutes > 0 && now - since >= afterMinutes * MINUTE_MS;
}
