import * as z from 'zod';
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

/** Budget-consumption notices: 10, 25, 50, 75 and 100 % of the budget gone (the original alerted at 10 %). */
export const DEFAULT_BUDGET_NOTICES: readonly number[] = [0.1, 0.25, 0.5, 0.75, 1];
/** Deploy gate default: deny below 25 % remaining budget, the `warning` status threshold. */
export const DEFAULT_GATE_MIN_REMAINING = 0.25;

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
    /**
     * SLI-absent alert: minutes without any sample (counted from the last sample, or from creation
     * when none came yet) after which a `sliAbsent` alert fires; 0 turns it off.
     */
    absentAfterMinutes: z.number().int().min(0).max(10_080).default(30),
    /** Consumed-budget ratios (0..10, 1 = the whole budget) that each send one `slo/didNotice` per window. */
    budgetNotices: z
      .array(z.number().gt(0).max(10))
      .max(10)
      .refine((a) => new Set(a).size === a.length, 'thresholds must be distinct')
      .default(() => [...DEFAULT_BUDGET_NOTICES]),
    /** Deploy gate policy: `slo/gate` denies when the remaining budget ratio is below this (unless the call overrides it). */
    gateMinRemainingBudget: z.number().min(-10).max(1).default(DEFAULT_GATE_MIN_REMAINING),
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

/** Longest client id a sample may carry. */
export const MAX_CLIENT_ID_CHARS = 128;

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
    /** Who called (an API client id, e.g. from an `x-client-id` header), for `slo/routeUsage`. */
    client: z.string().min(1).max(MAX_CLIENT_ID_CHARS).optional(),
  })
  .strict();
export type SloSample = z.infer<typeof SloSample>;

/** Largest `slo/recordBatch`. */
export const MAX_SAMPLE_BATCH = 10_000;

/** Longest `slo/recordBatch` idempotency key. */
export const MAX_BATCH_ID_CHARS = 128;

const digit = (s: string, i: number): number => {
  const d = s.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : -100_000;
};
const two = (s: string, i: number): number => digit(s, i) * 10 + digit(s, i + 1);

/** Days in a month of the proleptic Gregorian calendar (the rule IsoTime's date pattern spells out). */
const daysIn = (year: number, month: number): number =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;

/** Days from 1970-01-01 to a civil date (Howard Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** The last date `canonicalIsoMs` converted (year·512 + month·32 + day) and its day number: a pure memo. */
let lastDate = -1;
let lastDateDays = 0;

/**
 * `YYYY-MM-DDTHH:MM:SS.mmmZ` (what `toISOString` writes) checked and converted with arithmetic:
 * no regex, no Date, no allocation. Undefined for any other shape, NaN for an impossible date or time.
 */
function canonicalIsoMs(s: string): number | undefined {
  if (
    s.length !== 24 ||
    s.charCodeAt(4) !== 45 ||
    s.charCodeAt(7) !== 45 ||
    s.charCodeAt(10) !== 84 ||
    s.charCodeAt(13) !== 58 ||
    s.charCodeAt(16) !== 58 ||
    s.charCodeAt(19) !== 46 ||
    s.charCodeAt(23) !== 90
  ) {
    return undefined;
  }
  const year = two(s, 0) * 100 + two(s, 2);
  const month = two(s, 5);
  const day = two(s, 8);
  const hour = two(s, 11);
  const minute = two(s, 14);
  const second = two(s, 17);
  const milli = digit(s, 20) * 100 + two(s, 21);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || milli < 0) {
    return NaN;
  }
  const date = (year * 16 + month) * 32 + day;
  // The timestamps of one batch mostly share a date: its day number is computed once.
  if (date !== lastDate) {
    lastDate = date;
    lastDateDays = daysFromCivil(year, month, day);
  }
  return (((lastDateDays * 24 + hour) * 60 + minute) * 60 + second) * 1000 + milli;
}

/** Epoch ms of a string `IsoTime` accepts; NaN for any string it rejects. */
export function isoTimeMs(s: string): number {
  const fast = canonicalIsoMs(s);
  if (fast !== undefined) return fast;
  return IsoTime.safeParse(s).success ? Date.parse(s) : NaN;
}

/** The keys `SloSample` allows (a switch over constants: half the cost of a Set lookup per key). */
function isSampleKey(key: string): boolean {
  switch (key) {
    case 'service':
    case 'method':
    case 'route':
    case 'status':
    case 'durationMs':
    case 'timestamp':
    case 'timedOut':
    case 'good':
    case 'client':
      return true;
    default:
      return false;
  }
}

const isPlainObject = (x: unknown): x is Record<string, unknown> => {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x) as unknown;
  return proto === Object.prototype || proto === null;
};

const isLength = (v: unknown, min: number, max: number): boolean => typeof v === 'string' && v.length >= min && v.length <= max;
const isOptionalBoolean = (v: unknown): boolean => v === undefined || typeof v === 'boolean';

/** What `checkSample` answers for a value `SloSample` rejects. */
const REJECTED = -Infinity;

/**
 * `SloSample`'s rules written by hand (a batch of 10,000 samples through zod costs more than
 * everything else the daemon does with it): REJECTED, else the timestamp's epoch ms, NaN without one.
 */
function checkSample(x: unknown): number {
  if (!isPlainObject(x)) return REJECTED;
  for (const key in x) if (!isSampleKey(key)) return REJECTED;
  const { status, durationMs, timestamp } = x;
  const time = typeof timestamp === 'string' ? isoTimeMs(timestamp) : NaN;
  const valid =
    isLength(x.service, 1, 128) &&
    isLength(x.method, 1, 16) &&
    isLength(x.route, 1, 512) &&
    typeof status === 'number' &&
    Number.isInteger(status) &&
    status >= 100 &&
    status <= 599 &&
    typeof durationMs === 'number' &&
    durationMs >= 0 &&
    durationMs <= 86_400_000 &&
    (timestamp === undefined || !Number.isNaN(time)) &&
    isOptionalBoolean(x.timedOut) &&
    isOptionalBoolean(x.good) &&
    (x.client === undefined || isLength(x.client, 1, MAX_CLIENT_ID_CHARS));
  return valid ? time : REJECTED;
}

/** True when `SloSample` accepts `x` (for plain objects, which is what JSON gives). */
export const isSloSample = (x: unknown): boolean => checkSample(x) !== REJECTED;

/**
 * Sample arrays the fast path accepted → each sample's time (epoch ms, NaN without a timestamp), so
 * the handler need not parse every timestamp a second time. Weak: gone with the request.
 */
const validatedTimes = new WeakMap<readonly unknown[], Float64Array>();

/** The sample times `RecordBatchParams` computed while validating this array; undefined when it did not (zod's path, direct calls). */
export const validatedSampleTimes = (samples: readonly unknown[]): Float64Array | undefined => validatedTimes.get(samples);

/** True when the `slo/recordBatch` params schema accepts `x` (plain objects). */
export function isRecordBatchParams(x: unknown): boolean {
  if (!isPlainObject(x)) return false;
  for (const key in x) if (key !== 'samples' && key !== 'batchId') return false;
  const { samples, batchId } = x;
  if (batchId !== undefined && !isLength(batchId, 1, MAX_BATCH_ID_CHARS)) return false;
  if (!Array.isArray(samples) || samples.length < 1 || samples.length > MAX_SAMPLE_BATCH) return false;
  const times = new Float64Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const time = checkSample(samples[i]);
    if (time === REJECTED) return false;
    times[i] = time;
  }
  validatedTimes.set(samples, times);
  return true;
}

/**
 * `schema` with a hand-written check in front of `safeParse`: input the check accepts is returned
 * as is (it must be input the schema passes unchanged); anything else goes through zod, which
 * builds the same errors as before. Only the instance gets the fast path.
 */
function withFastPath<T extends z.ZodType>(schema: T, accepts: (data: unknown) => boolean): T {
  const zodSafeParse = schema.safeParse.bind(schema);
  const safeParse: T['safeParse'] = (data, params) => (accepts(data) ? { success: true, data: data as z.output<T> } : zodSafeParse(data, params));
  Object.defineProperty(schema, 'safeParse', { value: safeParse });
  return schema;
}

/** `slo/recordBatch` params, validated by `isRecordBatchParams` first (see withFastPath). */
export const RecordBatchParams = withFastPath(
  z
    .object({
      samples: z.array(SloSample).min(1).max(MAX_SAMPLE_BATCH),
      /**
       * Idempotency key, unique per token: a repeat with the same key (say, a resend after a lost
       * answer) is acknowledged with the first call's counts and `duplicate: true`, recording nothing
       * again, across restarts too.
       */
      batchId: z.string().min(1).max(MAX_BATCH_ID_CHARS).optional(),
    })
    .strict(),
  isRecordBatchParams,
);

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

/**
 * Latency percentiles from the merged per-minute histograms, ms. Each is the upper bound of the
 * bucket that holds the nearest-rank sample: never below the true value, at most 12.5 % above it.
 */
export const LatencyPercentiles = z.object({
  p50: z.number().nullable(),
  p95: z.number().nullable(),
  p99: z.number().nullable(),
  /** Samples with a duration in the range (null percentiles when 0). */
  samples: z.number().int().min(0),
});
export type LatencyPercentiles = z.infer<typeof LatencyPercentiles>;

export const BurnRateEntry = z.object({
  window: BurnWindow,
  /** (bad ÷ total) ÷ (1 − objective); 0 with no traffic. */
  burnRate: z.number().min(0),
  totalEvents: z.number().int().min(0),
  badEvents: z.number().int().min(0),
  /** Latency distribution of the requests this SLO counted in the window. */
  latency: LatencyPercentiles,
});

export const SloAlert = z.object({
  /** `<sloId>:<severity>` for burn-rate alerts, `<sloId>:sliAbsent` for the SLI-absent alert. */
  alertId: z.string(),
  sloId: SloId,
  /**
   * `burnRate`: a multi-window rule fired. `sliAbsent`: no samples for `alerting.absentAfterMinutes`
   * (always severity ticket; its rule names the burn windows that saw no events, threshold 0).
   */
  kind: z.enum(['burnRate', 'sliAbsent']).default('burnRate'),
  severity: z.enum(['page', 'ticket']),
  /** The rule that fired it. */
  rule: z.object({ longWindow: BurnWindow, shortWindow: BurnWindow, threshold: z.number() }),
  longBurnRate: z.number(),
  shortBurnRate: z.number(),
  firedAt: IsoTime,
  /** sliAbsent only: the end of the minute of the last sample (null when none came) and the setting that fired. */
  absence: z.object({ lastSampleAt: IsoTime.nullable(), absentAfterMinutes: z.number().int() }).optional(),
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
  {
    kind: 'command',
    doc: 'Change fields of an SLO. A new filter or SLI restarts its counters (old ones counted other requests), except a latency SLI on the same requests: its history is recomputed from the latency histograms.',
  },
);

export const DeleteSlo = defineRequest('slo/delete', IdParam, Ok, { kind: 'command', doc: 'Delete an SLO, its counters and alerts.' });

export const RecordSample = defineRequest('slo/record', SloSample, z.object({ ok: z.literal(true), matchedSlos: z.number().int() }), {
  kind: 'command',
  doc: 'Record one request; answered after the next aggregation flush (≤ 50 ms) made it durable.',
});

export const RecordSampleBatch = defineRequest(
  'slo/recordBatch',
  RecordBatchParams,
  z.object({
    /** Samples in the batch. */
    accepted: z.number().int(),
    /** Aggregates written (one per SLO and minute touched): `slo.samplesAggregated` events, or rows of one `slo.batchRecorded` with a batchId. */
    aggregates: z.number().int(),
    /** True when this batchId was recorded before: nothing was recorded again, the counts are the first call's. */
    duplicate: z.boolean().default(false),
  }),
  {
    kind: 'command',
    doc: `Record up to ${MAX_SAMPLE_BATCH} requests, all or nothing; answered once the aggregate is durable. An optional batchId makes a resend safe.`,
  },
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
    buckets: z.array(z.object({ start: IsoTime, good: z.number().int(), bad: z.number().int(), latency: LatencyPercentiles })),
    /** Percentiles over the whole range. */
    latency: LatencyPercentiles,
  }),
  { kind: 'query', doc: 'Good and bad events and latency percentiles per bucket for charts, any range inside the window.' },
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
  /** One `slo/recordBatch` with a batchId: its aggregates in one event whose id carries the key. */
  BatchRecorded: 'slo.batchRecorded',
  AlertFired: 'slo.alertFired',
  AlertResolved: 'slo.alertResolved',
  BudgetNoticed: 'slo.budgetNoticed',
  BudgetRearmed: 'slo.budgetRearmed',
  /** Requests per service, method, route, client and day (route usage), for samples recorded without a batchId. */
  UsageAggregated: 'slo.usageAggregated',
} as const;

export const SloCreatedPayload = z.object({ slo: SloDefinition, seeded: z.boolean().optional() });
/**
 * `recomputeFromHistograms`: a latency SLI with a new threshold (same filter) rebuilds its good/total
 * counters from the per-minute histograms instead of restarting them.
 */
export const SloUpdatedPayload = z.object({ slo: SloDefinition, resetCounters: z.boolean(), recomputeFromHistograms: z.boolean().optional() });
export const SloDeletedPayload = z.object({ id: SloId });
export const SamplesAggregatedPayload = z.object({
  sloId: SloId,
  /** Start of the minute (ISO-8601). */
  minute: IsoTime,
  good: z.number().int().min(0),
  total: z.number().int().min(1),
  /** Latency histogram of the minute as sparse [bucket index, count] pairs: written before `histogram` replaced it (absent in logs older still). */
  latency: z.array(z.tuple([z.number().int().min(0), z.number().int().min(1)])).optional(),
  /**
   * Latency histogram of the minute, flat: bucket index, count, bucket index, count... (a pair array
   * costs 4× the memory once parsed, and the store keeps recent events in memory).
   */
  histogram: z
    .array(z.number().int().min(0))
    .refine((a) => a.length % 2 === 0, 'bucket, count pairs')
    .optional(),
});
/** Requests of one (service, method, route, client) on one UTC day, as `slo.usageAggregated` stores them. */
export const UsageRowPayload = z.object({
  /** UTC day, `YYYY-MM-DD`. */
  day: z.iso.date(),
  service: z.string().min(1),
  /** Upper-cased. */
  method: z.string().min(1),
  route: z.string().min(1),
  /** Client id; null for requests without one; `other` for clients past the per-route cap. */
  client: z.string().min(1).nullable(),
  requests: z.number().int().min(1),
  /** Time of the newest of these requests (ISO-8601). */
  lastSeen: IsoTime,
});
export type UsageRowPayload = z.infer<typeof UsageRowPayload>;

/** Route usage of samples recorded together: one event per flush or batch, never one per request. */
export const UsageAggregatedPayload = z.object({ rows: z.array(UsageRowPayload).min(1) });

/** The aggregates of one idempotent `slo/recordBatch`; the event id is `batchEventId(actor, batchId)`. */
export const BatchRecordedPayload = z.object({
  batchId: z.string(),
  /** Samples the batch held. */
  accepted: z.number().int().min(0),
  rows: z.array(SamplesAggregatedPayload),
  /** Its route usage (absent in logs written before route usage was counted). */
  usage: z.array(UsageRowPayload).optional(),
});
export type BatchRecordedPayload = z.infer<typeof BatchRecordedPayload>;

/** Event id of an idempotent batch: per token, so two clients choosing the same key do not collide. */
export const batchEventId = (actor: string, batchId: string): string => `slo.batch:${actor}:${batchId}`;

export const AlertFiredPayload = SloAlert.omit({ resolvedAt: true });
export const AlertResolvedPayload = z.object({ alertId: z.string(), sloId: SloId, resolvedAt: IsoTime });

/** A budget-consumption notice: `consumedRatio` of the window's budget is gone, crossing `threshold`. */
export const SloBudgetNotice = z.object({
  sloId: SloId,
  kind: z.literal('budgetConsumed'),
  /** The configured ratio crossed (e.g. 0.25 = a quarter of the budget). */
  threshold: z.number(),
  /** Bad events ÷ budget over the window when it was noticed. */
  consumedRatio: z.number(),
  at: IsoTime,
});
export type SloBudgetNotice = z.infer<typeof SloBudgetNotice>;

export const BudgetNoticedPayload = SloBudgetNotice;
/** Consumption fell back below `threshold` as the window rolled: the notice may fire again. */
export const BudgetRearmedPayload = z.object({ sloId: SloId, threshold: z.number(), at: IsoTime });

export const DidNoticeSlo = defineNotification(
  'slo/didNotice',
  z.object({ notice: SloBudgetNotice }),
  'A budget-consumption threshold (10/25/50/75/100 % by default) was crossed; once per threshold until consumption falls below it again.',
);

const IdList = z.array(z.string().min(1).max(64)).min(1).max(100);

export const BudgetConsumedParams = z
  .object({
    /** SLO ids or aliases; default every SLO. */
    sloIds: IdList.optional(),
    /** Range start (ISO-8601), counted from the start of its minute. */
    from: IsoTime,
    /** Range end (ISO-8601, exclusive), counted to the end of its minute. */
    to: IsoTime,
  })
  .strict();

export const BudgetConsumedEntry = z.object({
  sloId: SloId,
  /** Events in the range. */
  totalEvents: z.number().int().min(0),
  badEvents: z.number().int().min(0),
  /** The SLO's budget now: (1 − objective) × events in its current window. */
  budgetEvents: z.number().min(0),
  /** badEvents ÷ budgetEvents: the share of today's budget the range consumed; null when the budget is 0 and events were bad. */
  consumedRatio: z.number().min(0).nullable(),
});
export type BudgetConsumedEntry = z.infer<typeof BudgetConsumedEntry>;

export const BudgetConsumedResult = z.object({ from: IsoTime, to: IsoTime, slos: z.array(BudgetConsumedEntry) });
export type BudgetConsumedResult = z.infer<typeof BudgetConsumedResult>;

export const BudgetConsumed = defineRequest('slo/budgetConsumed', BudgetConsumedParams, BudgetConsumedResult, {
  kind: 'query',
  doc: 'Bad events and the share of the current error budget they consumed in a time range (e.g. an incident), per SLO.',
});

export const GateReason = z.object({
  sloId: SloId,
  /** `lowBudget`: remaining budget below the minimum; `pageAlert`: a page alert is active. */
  code: z.enum(['lowBudget', 'pageAlert']),
  message: z.string(),
});

export const GateResult = z.object({
  decision: z.enum(['allow', 'deny']),
  /** Why it denies; empty on allow. */
  reasons: z.array(GateReason),
  /** Every SLO evaluated, with its remaining budget ratio and the minimum applied. */
  slos: z.array(z.object({ sloId: SloId, remainingRatio: z.number(), minRemainingBudget: z.number(), status: z.enum(['healthy', 'warning', 'critical', 'breached']) })),
  evaluatedAt: IsoTime,
});
export type GateResult = z.infer<typeof GateResult>;

export const Gate = defineRequest(
  'slo/gate',
  z
    .object({
      /** SLO ids or aliases; default every SLO. */
      sloIds: IdList.optional(),
      /** Deny when an SLO's remaining budget ratio is below this; default each SLO's `alerting.gateMinRemainingBudget` (0.25). */
      minRemainingBudget: z.number().min(-10).max(1).optional(),
      /** Deny while a page alert is active. */
      denyOnPage: z.boolean().default(true),
    })
    .strict(),
  GateResult,
  { kind: 'query', doc: 'Deploy gate: allow or deny with reasons (budget below the policy minimum, an active page alert).' },
);

export const ImportSlos = defineRequest(
  'slo/import',
  z
    .object({
      /** OpenSLO v1 YAML: one or more `kind: SLO` documents (separated by `---`). */
      yaml: z.string().min(1).max(1_000_000),
      /** Validate and answer what would be created, writing nothing. */
      dryRun: z.boolean().default(false),
      /**
       * `create`: an id or alias that exists is a Duplicate error. `replace`: an SLO whose id exists is
       * redefined by its document (as `slo/update` would, keeping its creation time and aliases; counters
       * restart when the SLI or filter changed); SLOs the YAML does not name are left alone.
       */
      mode: z.enum(['create', 'replace']).default('create'),
    })
    .strict(),
  z.object({
    slos: z.array(SloDefinition),
    /** Ids redefined by a `replace` import (the rest of `slos` were created). */
    replaced: z.array(SloId).default([]),
  }),
  {
    kind: 'command',
    doc: 'Create (or with mode replace, create or redefine) SLOs from OpenSLO v1 YAML, all or nothing; an unsupported or malformed field is rejected naming its document and path.',
  },
);

export const ExportSlos = defineRequest(
  'slo/export',
  z.object({ /** SLO ids or aliases; default every SLO. */ ids: z.array(z.string().min(1).max(64)).min(1).max(1000).optional() }).strict(),
  z.object({ /** OpenSLO v1 YAML, one document per SLO. */ yaml: z.string() }),
  { kind: 'query', doc: 'SLO definitions as OpenSLO v1 YAML (kind SLO with an inline SLI), importable again with slo/import.' },
);


/** Most days `slo/routeUsage` looks back (the longest SLO window, 90 days, plus the 3 days counters keep past it). */
export const MAX_USAGE_DAYS = 93;

export const RouteUsageRow = z.object({
  service: z.string(),
  /** Upper-cased. */
  method: z.string(),
  /** The route template as recorded (e.g. `/api/orders/:id`). */
  route: z.string(),
  /** Client id; null for requests that carried none; `other` for clients past the cap of distinct clients per route and day. */
  client: z.string().nullable(),
  requests: z.number().int().min(0),
  /** Newest request (ISO-8601). */
  lastSeen: IsoTime,
});
export type RouteUsageRow = z.infer<typeof RouteUsageRow>;

export const RouteUsageParams = z
  .object({
    service: z.string().min(1).max(128).optional(),
    /** HTTP method, case-insensitive. */
    method: z.string().min(1).max(16).optional(),
    /** A route template; `{id}` (OpenAPI) and `:id` (Express) parameters match each other, whatever their names. */
    route: z.string().min(1).max(512).optional(),
    /** Whole UTC days counted back from today (1 = today only). */
    sinceDays: z.number().int().min(1).max(MAX_USAGE_DAYS),
  })
  .strict();
export type RouteUsageParams = z.infer<typeof RouteUsageParams>;

export const RouteUsage = defineRequest('slo/routeUsage', RouteUsageParams, z.object({ rows: z.array(RouteUsageRow) }), {
  kind: 'query',
  doc: 'Requests and last-seen time per service, method, route and client over the last days, from every recorded sample (SLO or not).',
});
