import { z } from 'zod';
import { IsoTime, Ok } from './common';
import { defineNotification, defineRequest } from './define';

/**
 * The SLO contract: definitions, samples, evaluated status and alerts. Budgets are occurrence based:
 * budget = (1 − objective) × events in the window, burn rate = (bad / total) ÷ (1 − objective).
 */

/** Public SLO id, e.g. `slo_avail_30d`. Old seed keys (`availability_30d`) are accepted as aliases. */
export const SloId = z
  .string()
  .min(2)
  .max(64)
  .regex(/^[a-z][a-z0-9_]*$/, 'SLO ids are lower-case letters, digits and "_", starting with a letter');

/** Burn-rate windows the daemon computes for every SLO. */
export const BurnWindow = z.enum(['5m', '30m', '1h', '2h', '6h', '24h', '3d', '7d']);
export type BurnWindow = z.infer<typeof BurnWindow>;

/** Minutes of each burn window. */
export const BURN_WINDOW_MINUTES: Readonly<Record<BurnWindow, number>> = {
  '5m': 5,
  '30m': 30,
  '1h': 60,
  '2h': 120,
  '6h': 360,
  '24h': 1440,
  '3d': 4320,
  '7d': 10080,
};

const HttpStatus = z.number().int().min(100).max(599);

/** How a request counts: which are good, and which count at all. */
export const Sli = z.discriminatedUnion('kind', [
  /** Bad = status 5xx or a timeout. */
  z.object({ kind: z.literal('availability') }).strict(),
  /** Good = duration ≤ thresholdMs. */
  z.object({ kind: z.literal('latency'), thresholdMs: z.number().positive().max(3_600_000) }).strict(),
  /** Good = status < 400 or one of the expected client errors (e.g. 404 on a lookup API). */
  z
    .object({
      kind: z.literal('errorRate'),
      expectedClientErrors: z.array(z.number().int().min(400).max(499)).max(100).default([]),
    })
    .strict(),
  /** Good/total as the sender says: only samples carrying `good` count. */
  z.object({ kind: z.literal('customRatio') }).strict(),
]);
export type Sli = z.infer<typeof Sli>;

/** Which requests count for an SLO; absent fields match everything. */
export const SloFilter = z
  .object({
    service: z.string().min(1).max(128).optional(),
    /** HTTP method, case-insensitive. */
    method: z.string().min(1).max(16).optional(),
    /** Route pattern: `*` matches one path segment, `**` any number, e.g. `/api/orders/*`. */
    routePattern: z.string().min(1).max(512).optional(),
  })
  .strict();
export type SloFilter = z.infer<typeof SloFilter>;

/**
 * One multi-window alert rule: it is active when the burn rates of both windows exceed the
 * threshold. `budgetFraction` states the threshold the SRE Workbook way (the share of the whole
 * budget the long window may burn), so it scales with the SLO's window; `burnRate` fixes it.
 */
export const AlertRule = z
  .object({
    severity: z.enum(['page', 'ticket']),
    longWindow: BurnWindow,
    shortWindow: BurnWindow,
    /** Ratio 0..1 of the window's budget burnt within `longWindow`; threshold = fraction × window ÷ longWindow. */
    budgetFraction: z.number().gt(0).max(1).optional(),
    /** Fixed burn-rate threshold; wins over budgetFraction. */
    burnRate: z.number().positive().max(100_000).optional(),
  })
  .strict()
  .refine((r) => r.budgetFraction !== undefined || r.burnRate !== undefined, {
    message: 'give budgetFraction or burnRate',
    path: ['burnRate'],
  })
  .refine((r) => BURN_WINDOW_MINUTES[r.shortWindow] < BURN_WINDOW_MINUTES[r.longWindow], {
    message: 'shortWindow must be shorter than longWindow',
    path: ['shortWindow'],
  });
export type AlertRule = z.infer<typeof AlertRule>;

/** The Workbook's rules for a 30-day SLO: 2 % in 1 h (14.4), 5 % in 6 h (6), 10 % in 24 h (3), 10 % in 3 d (1). */
export const DEFAULT_ALERT_RULES: readonly AlertRule[] = [
  { severity: 'page', longWindow: '1h', shortWindow: '5m', budgetFraction: 0.02 },
  { severity: 'page', longWindow: '6h', shortWindow: '30m', budgetFraction: 0.05 },
  { severity: 'ticket', longWindow: '24h', shortWindow: '2h', budgetFraction: 0.1 },
  { severity: 'ticket', longWindow: '3d', shortWindow: '6h', budgetFraction: 0.1 },
];

export const AlertingSettings = z
  .object({
    enabled: z.boolean().default(true),
    rules: z.array(AlertRule).min(1).max(16).default(() => DEFAULT_ALERT_RULES.map((r) => ({ ...r }))),
    /** Minimum-traffic guard: a rule only fires when its long window holds at least this many events. */
    minEvents: z.number().int().min(0).max(1_000_000_000).default(100),
    /** Remaining-budget ratios (0..1) at or below which the status is critical / warning. */
    statusThresholds: z
      .object({ critical: z.number().min(0).max(1).default(0.1), warning: z.number().min(0).max(1).default(0.25) })
      .strict()
      .refine((t) => t.critical <= t.warning, { message: 'critical must be ≤ warning', path: ['critical'] })
      .default({ critical: 0.1, warning: 0.25 }),
    /** 1-hour burn rates at or above which the burn level is elevated / high / critical. */
    burnLevels: z
      .object({
        elevated: z.number().positive().default(2),
        high: z.number().positive().default(6),
        critical: z.number().positive().default(14.4),
      })
      .strict()
      .refine((l) => l.elevated <= l.high && l.high <= l.critical, { message: 'levels must rise: elevated ≤ high ≤ critical', path: ['high'] })
      .default({ elevated: 2, high: 6, critical: 14.4 }),
  })
  .strict();
export type AlertingSettings = z.infer<typeof AlertingSettings>;

const Labels = z.record(z.string().min(1).max(64), z.string().max(256)).refine((l) => Object.keys(l).length <= 32, 'at most 32 labels');

/** Fields a client sends to create an SLO. */
export const SloSpec = z
  .object({
    id: SloId,
    name: z.string().min(1).max(200),
    description: z.string().max(2000).default(''),
    /** The service the SLO is about (display; use `filter.service` to restrict samples). */
    service: z.string().min(1).max(128).default('api'),
    sli: Sli,
    /** Target ratio of good events, strictly between 0 and 1, e.g. 0.999. */
    objective: z.number().gt(0, 'objective must be > 0').lt(1, 'objective must be < 1'),
    /** Rolling window in days (1..90). */
    windowDays: z.number().int().min(1).max(90).default(30),
    filter: SloFilter.default({}),
    labels: Labels.default({}),
    alerting: AlertingSettings.default(() => AlertingSettings.parse({})),
  })
  .strict();
export type SloSpec = z.infer<typeof SloSpec>;

/** A stored SLO definition. */
export const SloDefinition = SloSpec.extend({
  /** Old keys that also name this SLO. */
  aliases: z.array(z.string()).default([]),
  createdAt: IsoTime,
  updatedAt: IsoTime,
});
export type SloDefinition = z.infer<typeof SloDefinition>;

/** One request as seen by the service that served it. */
export const SloSample = z
  .object({
    service: z.string().min(1).max(128),
    method: z.string().min(1).max(16),
    route: z.string().min(1).max(512),
    status: HttpStatus,
    /** Response time, ms (≥ 0). */
    durationMs: z.number().min(0, 'durationMs must be ≥ 0').max(86_400_000),
    /** When the request finished (ISO-8601); now when absent. */
    timestamp: IsoTime.optional(),
    /** The request timed out (bad for availability whatever its status). */
    timedOut: z.boolean().optional(),
    /** For customRatio SLOs: whether this event is good. */
    good: z.boolean().optional(),
  })
  .strict();
export type SloSample = z.infer<typeof SloSample>;

/** Largest `slo/recordBatch`. */
export const MAX_SAMPLE_BATCH = 10_000;

export const ErrorBudget = z.object({
  /** Events in the window. */
  totalEvents: z.number().int().min(0),
  goodEvents: z.number().int().min(0),
  badEvents: z.number().int().min(0),
  /** Allowed bad events: (1 − objective) × totalEvents. */
  budgetEvents: z.number().min(0),
  /** Bad events so far (= badEvents). */
  consumedEvents: z.number().int().min(0),
  /** 1 − consumed ÷ budget; negative when overspent; 1 with no traffic. */
  remainingRatio: z.number(),
  /** good ÷ total over the window; null with no traffic. */
  sliRatio: z.number().min(0).max(1).nullable(),
});
export type ErrorBudget = z.infer<typeof ErrorBudget>;

export const BurnRateEntry = z.object({
  window: BurnWindow,
  /** (bad ÷ total) ÷ (1 − objective); 0 with no traffic. */
  burnRate: z.number().min(0),
  totalEvents: z.number().int().min(0),
  badEvents: z.number().int().min(0),
});

export const SloAlert = z.object({
  /** `<sloId>:<severity>`. */
  alertId: z.string(),
  sloId: SloId,
  severity: z.enum(['page', 'ticket']),
  /** The rule that fired it. */
  rule: z.object({ longWindow: BurnWindow, shortWindow: BurnWindow, threshold: z.number() }),
  longBurnRate: z.number(),
  shortBurnRate: z.number(),
  firedAt: IsoTime,
  /** Present once resolved. */
  resolvedAt: IsoTime.optional(),
});
export type SloAlert = z.infer<typeof SloAlert>;

export const SloStatus = z.object({
  slo: SloDefinition,
  status: z.enum(['healthy', 'warning', 'critical', 'breached']),
  /** From the 1-hour burn rate. */
  burnLevel: z.enum(['normal', 'elevated', 'high', 'critical']),
  budget: ErrorBudget,
  burnRates: z.array(BurnRateEntry),
  /** When the budget runs out at the current 1-hour burn rate (ISO-8601); null when not burning. Now when already spent. */
  projectedExhaustionAt: IsoTime.nullable(),
  activeAlerts: z.array(SloAlert),
  /** When this was computed (ISO-8601). */
  evaluatedAt: IsoTime,
});
export type SloStatus = z.infer<typeof SloStatus>;

const IdParam = z.object({ id: z.string().min(1).max(64) });

export const ListSlos = defineRequest('slo/list', z.object({}).strict(), z.object({ slos: z.array(SloStatus) }), {
  kind: 'query',
  doc: 'Every SLO with its status, budget and burn rates, by id.',
});

export const GetSlo = defineRequest('slo/get', IdParam, SloStatus, {
  kind: 'query',
  doc: 'One SLO (id or alias): status, error budget, burn rates, active alerts.',
});

export const CreateSlo = defineRequest('slo/create', SloSpec, SloDefinition, {
  kind: 'command',
  doc: 'Create an SLO (Duplicate when the id or alias exists).',
});

export const UpdateSlo = defineRequest(
  'slo/update',
  z
    .object({
      id: z.string().min(1).max(64),
      name: z.string().min(1).max(200).optional(),
      description: z.string().max(2000).optional(),
      service: z.string().min(1).max(128).optional(),
      sli: Sli.optional(),
      objective: z.number().gt(0, 'objective must be > 0').lt(1, 'objective must be < 1').optional(),
      windowDays: z.number().int().min(1).max(90).optional(),
      filter: SloFilter.optional(),
      labels: Labels.optional(),
      alerting: AlertingSettings.optional(),
    })
    .strict(),
  SloDefinition,
  { kind: 'command', doc: 'Change fields of an SLO; a new SLI or filter restarts its counters (old ones counted other requests).' },
);

export const DeleteSlo = defineRequest('slo/delete', IdParam, Ok, { kind: 'command', doc: 'Delete an SLO, its counters and alerts.' });

export const RecordSample = defineRequest('slo/record', SloSample, z.object({ ok: z.literal(true), matchedSlos: z.number().int() }), {
  kind: 'command',
  doc: 'Record one request; answered after the next aggregation flush (≤ 50 ms) made it durable.',
});

export const RecordSampleBatch = defineRequest(
  'slo/recordBatch',
  z.object({ samples: z.array(SloSample).min(1).max(MAX_SAMPLE_BATCH) }).strict(),
  z.object({
    /** Samples in the batch. */
    accepted: z.number().int(),
    /** `slo.samplesAggregated` events written (one per SLO and minute touched). */
    aggregates: z.number().int(),
  }),
  { kind: 'command', doc: `Record up to ${MAX_SAMPLE_BATCH} requests, all or nothing; answered once the aggregate is durable.` },
);

export const SloSeries = defineRequest(
  'slo/series',
  z
    .object({
      id: z.string().min(1).max(64),
      /** Range start (ISO-8601); default: the start of the window. */
      from: IsoTime.optional(),
      /** Range end (ISO-8601, exclusive); default: the end of the current minute. */
      to: IsoTime.optional(),
      /** Bucket size in minutes. */
      resolutionMinutes: z.number().int().min(1).max(1440 * 7).default(60),
    })
    .strict(),
  z.object({
    sloId: SloId,
    resolutionMinutes: z.number().int(),
    buckets: z.array(z.object({ start: IsoTime, good: z.number().int(), bad: z.number().int() })),
  }),
  { kind: 'query', doc: 'Good and bad events per bucket for charts, any range inside the window.' },
);

export const ListSloAlerts = defineRequest(
  'slo/alerts',
  z.object({ id: z.string().min(1).max(64).optional(), includeResolved: z.boolean().default(false) }).strict(),
  z.object({ alerts: z.array(SloAlert) }),
  { kind: 'query', doc: 'Active burn-rate alerts (and recently resolved ones on request), newest first.' },
);

export const DidChangeSlo = defineNotification(
  'slo/didChange',
  z.object({ sloId: SloId, change: z.enum(['created', 'updated', 'deleted', 'samples']) }),
  'An SLO was created, updated or deleted, or new samples changed its numbers.',
);

export const DidAlertSlo = defineNotification(
  'slo/didAlert',
  z.object({ state: z.enum(['fired', 'resolved']), alert: SloAlert }),
  'A burn-rate alert fired or resolved (once per transition).',
);

/** Event types of the SLO domain (reserved: only the daemon appends them). */
export const SloEventType = {
  Created: 'slo.created',
  Updated: 'slo.updated',
  Deleted: 'slo.deleted',
  SamplesAggregated: 'slo.samplesAggregated',
  AlertFired: 'slo.alertFired',
  AlertResolved: 'slo.alertResolved',
} as const;

export const SloCreatedPayload = z.object({ slo: SloDefinition, seeded: z.boolean().optional() });
export const SloUpdatedPayload = z.object({ slo: SloDefinition, resetCounters: z.boolean() });
export const SloDeletedPayload = z.object({ id: SloId });
export const SamplesAggregatedPayload = z.object({
  sloId: SloId,
  /** Start of the minute (ISO-8601). */
  minute: IsoTime,
  good: z.number().int().min(0),
  total: z.number().int().min(1),
});
export const AlertFiredPayload = SloAlert.omit({ resolvedAt: true });
export const AlertResolvedPayload = z.object({ alertId: z.string(), sloId: SloId, resolvedAt: IsoTime });
