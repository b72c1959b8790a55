import { describe, expect, it } from 'vitest';
import { AlertingSettings, SloSpec, UpdateSlo, type BurnWindow } from '../../../../daemon/protocol/slo';
import { MinuteCounters } from '../../../../daemon/services/slo/minuteCounters';
import { classify, compileRoutePattern } from '../../../../daemon/services/slo/sli';
import {
  activeSeverities,
  budgetStatus,
  burnLevel,
  burnRate,
  errorBudget,
  projectedExhaustion,
  ruleThreshold,
  type WindowTotals,
} from '../../../../daemon/services/slo/sloMath';

const defaults = AlertingSettings.parse({});

describe('error budget maths', () => {
  it('is occurrence based: budget = (1 − objective) × events, remaining = 1 − bad ÷ budget', () => {
    // 99 % over 10,000 events allows 100 bad ones.
    expect(errorBudget(9950, 10_000, 0.99)).toEqual({
      totalEvents: 10_000,
      goodEvents: 9950,
      badEvents: 50,
      budgetEvents: 100,
      consumedEvents: 50,
      remainingRatio: 0.5,
      sliRatio: 0.995,
    });
    expect(errorBudget(9880, 10_000, 0.99).remainingRatio).toBeCloseTo(-0.2, 12);
    expect(errorBudget(0, 0, 0.99)).toMatchObject({ remainingRatio: 1, sliRatio: null, budgetEvents: 0 });
  });

  it('burns at exactly 1 for a steady 0.1 % error rate on a 99.9 % objective', () => {
    expect(burnRate(1, 1000, 0.999)).toBe(1);
    expect(burnRate(60, 60_000, 0.999)).toBe(1);
    expect(burnRate(20, 1000, 0.99)).toBe(2);
    expect(burnRate(0, 0, 0.999)).toBe(0);
  });

  it('maps remaining budget to status and the 1 h burn to a level at the seed thresholds', () => {
    const t = defaults.statusThresholds;
    expect([0.5, 0.25, 0.2, 0.1, 0.05, 0, -0.3].map((r) => budgetStatus(r, t))).toEqual([
      'healthy',
      'warning',
      'warning',
      'critical',
      'critical',
      'breached',
      'breached',
    ]);
    const l = defaults.burnLevels;
    expect([1.9, 2, 5.9, 6, 14.3, 14.4, 100].map((b) => burnLevel(b, l))).toEqual([
      'normal',
      'elevated',
      'elevated',
      'high',
      'high',
      'critical',
      'critical',
    ]);
  });

  it('scales the Workbook thresholds with the SLO window: 14.4 / 6 / 3 / 1 at 30 days', () => {
    expect(defaults.rules.map((r) => ruleThreshold(r, 30))).toEqual([14.4, 6, 3, 1]);
    expect(defaults.rules.map((r) => ruleThreshold(r, 7))).toEqual([3.36, 1.4, 0.7, 0.233333333]);
    expect(ruleThreshold({ severity: 'page', longWindow: '1h', shortWindow: '5m', burnRate: 10 }, 30)).toBe(10);
  });

  it('pages only when both windows of a pair exceed the threshold and the long window has traffic', () => {
    const zero: WindowTotals = { good: 0, total: 0 };
    const totals: Record<BurnWindow, WindowTotals> = { '5m': zero, '30m': zero, '1h': zero, '2h': zero, '6h': zero, '24h': zero, '3d': zero, '7d': zero };
    // 1 h: 20 bad of 1000 = burn 20; 5 m: 10 bad of 100 = burn 100.
    totals['1h'] = { good: 980, total: 1000 };
    totals['5m'] = { good: 90, total: 100 };
    expect([...activeSeverities(totals, 0.999, 30, defaults).keys()]).toEqual(['page']);
    // The short window has recovered: no page.
    totals['5m'] = { good: 100, total: 100 };
    expect(activeSeverities(totals, 0.999, 30, defaults).size).toBe(0);
    // Both burning but only 50 events in the hour: the minimum-traffic guard holds.
    totals['1h'] = { good: 40, total: 50 };
    totals['5m'] = { good: 0, total: 10 };
    expect(activeSeverities(totals, 0.999, 30, defaults).size).toBe(0);
    expect(activeSeverities(totals, 0.999, 30, { ...defaults, minEvents: 10 }).get('page')).toMatchObject({ threshold: 14.4, longBurnRate: 200 });
    expect(activeSeverities(totals, 0.999, 30, { ...defaults, enabled: false }).size).toBe(0);
  });

  it('projects exhaustion as remaining × window ÷ burn', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(projectedExhaustion(0.5, 0.5, 30, now)).toBe(now + 30 * 86_400_000);
    expect(projectedExhaustion(0.5, 0, 30, now)).toBeNull();
    expect(projectedExhaustion(-0.1, 3, 30, now)).toBe(now);
  });
});

describe('MinuteCounters', () => {
  it('sums any range like a brute-force scan, across ring wrap-around and roll-off', () => {
    const c = new MinuteCounters(50);
    const truth = new Map<number, [number, number]>();
    let seed = 7;
    const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    for (let m = 1000; m < 1200; m++) {
      if (rand() < 0.3) continue;
      const total = 1 + Math.floor(rand() * 20);
      const good = Math.floor(rand() * (total + 1));
      c.add(m, good, total);
      truth.set(m, [good, total]);
    }
    for (let i = 0; i < 200; i++) {
      const from = 1100 + Math.floor(rand() * 110);
      const to = from + Math.floor(rand() * 60);
      let good = 0;
      let total = 0;
      for (let m = Math.max(from, 1199 - 49); m <= Math.min(to, 1199); m++) {
        const t = truth.get(m);
        if (t) {
          good += t[0];
          total += t[1];
        }
      }
      expect(c.sum(from, to)).toEqual({ good, total });
    }
  });

  it('refuses minutes older than the ring and forgets everything after a long gap', () => {
    const c = new MinuteCounters(10);
    expect(c.add(100, 1, 2)).toBe(true);
    expect(c.add(90, 1, 1)).toBe(false);
    expect(c.add(95, 3, 4)).toBe(true);
    expect(c.entries()).toEqual([
      { minute: 95, good: 3, total: 4 },
      { minute: 100, good: 1, total: 2 },
    ]);
    c.add(500, 0, 1);
    expect(c.sum(0, 499)).toEqual({ good: 0, total: 0 });
    expect(c.sum(0, 1000)).toEqual({ good: 0, total: 1 });
  });
});

describe('SLI classification', () => {
  const sample = { service: 'api', method: 'GET', route: '/api/orders/42', status: 200, durationMs: 120 };

  it('counts availability, latency, error rate and custom ratios the right way round', () => {
    const avail = { sli: { kind: 'availability' as const }, filter: {} };
    expect(classify(avail, sample)).toBe('good');
    expect(classify(avail, { ...sample, status: 404 })).toBe('good');
    expect(classify(avail, { ...sample, status: 503 })).toBe('bad');
    expect(classify(avail, { ...sample, timedOut: true })).toBe('bad');
    const lat = { sli: { kind: 'latency' as const, thresholdMs: 500 }, filter: {} };
    expect(classify(lat, { ...sample, durationMs: 500 })).toBe('good');
    expect(classify(lat, { ...sample, durationMs: 501 })).toBe('bad');
    // The original's error-rate SLO was inverted: successful traffic must be good.
    const err = { sli: { kind: 'errorRate' as const, expectedClientErrors: [404] }, filter: {} };
    expect(classify(err, sample)).toBe('good');
    expect(classify(err, { ...sample, status: 404 })).toBe('good');
    expect(classify(err, { ...sample, status: 400 })).toBe('bad');
    const custom = { sli: { kind: 'customRatio' as const }, filter: {} };
    expect(classify(custom, sample)).toBe('ignored');
    expect(classify(custom, { ...sample, good: false })).toBe('bad');
  });

  it('filters by service, method and route pattern', () => {
    const sli = { kind: 'availability' as const };
    expect(classify({ sli, filter: { service: 'billing' } }, sample)).toBe('ignored');
    expect(classify({ sli, filter: { method: 'get' } }, sample)).toBe('good');
    expect(classify({ sli, filter: { routePattern: '/api/orders/*' } }, sample)).toBe('good');
    expect(classify({ sli, filter: { routePattern: '/api/users/*' } }, sample)).toBe('ignored');
    expect(compileRoutePattern('/api/**').test('/api')).toBe(true);
    expect(compileRoutePattern('/api/**').test('/api/a/b/c')).toBe(true);
    expect(compileRoutePattern('/api/*').test('/api/a/b')).toBe(false);
    expect(compileRoutePattern('/v1.0/x').test('/v1x0/x')).toBe(false);
  });
});

describe('SLO definition validation', () => {
  const base = { id: 'slo_x', name: 'X', sli: { kind: 'availability' }, objective: 0.99 };

  it('applies the defaults: 30-day window, Workbook alert rules, 100-event traffic guard', () => {
    const slo = SloSpec.parse(base);
    expect(slo).toMatchObject({ windowDays: 30, filter: {}, labels: {}, alerting: { enabled: true, minEvents: 100 } });
    expect(slo.alerting.rules).toHaveLength(4);
  });

  it.each([
    [{ objective: 1 }, 'objective'],
    [{ objective: 0 }, 'objective'],
    [{ sli: { kind: 'p99' } }, 'sli.kind'],
    [{ sli: { kind: 'latency', thresholdMs: -5 } }, 'sli.thresholdMs'],
    [{ windowDays: 91 }, 'windowDays'],
    [{ id: 'Bad Id' }, 'id'],
    [{ alerting: { rules: [{ severity: 'page', longWindow: '5m', shortWindow: '1h', burnRate: 2 }] } }, 'alerting.rules.0.shortWindow'],
  ])('rejects %j naming %s', (change, path) => {
    const r = SloSpec.safeParse({ ...base, ...change });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toContain(path);
  });

  it('validates updates the same way', () => {
    expect(UpdateSlo.params.safeParse({ id: 'slo_x', objective: 1.5 }).success).toBe(false);
    expect(UpdateSlo.params.safeParse({ id: 'slo_x', objective: 0.95 }).success).toBe(true);
  });
});
