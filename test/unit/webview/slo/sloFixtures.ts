import { SloDefinition, SloStatus, type BurnWindow, type SloAlert } from '../../../../daemon/protocol/slo';

const NO_LATENCY = { p50: null, p95: null, p99: null, samples: 0 };

/** An evaluated SLO as the daemon returns it, with the fields a test cares about overridden. */
export function sloStatus(opts: {
  id?: string;
  name?: string;
  objective?: number;
  windowDays?: number;
  status?: SloStatus['status'];
  remainingRatio?: number;
  totalEvents?: number;
  badEvents?: number;
  burnRates?: Partial<Record<BurnWindow, number>>;
  alerts?: SloAlert[];
  projectedExhaustionAt?: string | null;
}): SloStatus {
  const objective = opts.objective ?? 0.999;
  const total = opts.totalEvents ?? 10_000;
  const bad = opts.badEvents ?? 5;
  const slo = SloDefinition.parse({
    id: opts.id ?? 'slo_avail_30d',
    name: opts.name ?? 'API availability',
    sli: { kind: 'availability' },
    objective,
    windowDays: opts.windowDays ?? 30,
    createdAt: '2026-11-01T00:00:00.000Z',
    updatedAt: '2026-11-01T00:00:00.000Z',
  });
  return SloStatus.parse({
    slo,
    status: opts.status ?? 'healthy',
    burnLevel: 'normal',
    budget: {
      totalEvents: total,
      goodEvents: total - bad,
      badEvents: bad,
      budgetEvents: (1 - objective) * total,
      consumedEvents: bad,
      remainingRatio: opts.remainingRatio ?? 1 - bad / ((1 - objective) * total),
      sliRatio: total === 0 ? null : (total - bad) / total,
    },
    burnRates: (['5m', '30m', '1h', '2h', '6h', '24h', '3d', '7d'] as const).map((window) => ({
      window,
      burnRate: opts.burnRates?.[window] ?? 0,
      totalEvents: total,
      badEvents: bad,
      latency: NO_LATENCY,
    })),
    projectedExhaustionAt: opts.projectedExhaustionAt ?? null,
    activeAlerts: opts.alerts ?? [],
    evaluatedAt: '2026-11-27T12:00:00.000Z',
  });
}

export function pageAlert(sloId = 'slo_avail_30d'): SloAlert {
  return {
    alertId: `${sloId}:page`,
    sloId,
    kind: 'burnRate',
    severity: 'page',
    rule: { longWindow: '1h', shortWindow: '5m', threshold: 14.4 },
    longBurnRate: 20,
    shortBurnRate: 31.5,
    firedAt: '2026-11-27T11:30:00.000Z',
  };
}
