import * as z from 'zod';
import { IsoTime } from './common';
import { defineNotification, defineRequest } from './define';

/**
 * Named dependency policies (bulkhead, timeout, retry, circuit breaker per outbound dependency):
 * the payloads of their events and the read-only query of their live state.
 */

/** `webhook:slack`, `vault`, `aws-secrets`, `kafka`, `runbook`. */
export const DependencyName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[a-z][a-z0-9_-]*(:[A-Za-z0-9_.-]+)?$/, 'dependency names look like "vault" or "webhook:slack"');

/**
 * The seed's bulkheads (max concurrent / max queue / timeout ms): the daemon's policy defaults and
 * the client library's templates for users' own services.
 */
export const SEED_BULKHEADS = {
  database: { maxConcurrent: 20, maxQueue: 50, timeoutMs: 30_000 },
  llm: { maxConcurrent: 10, maxQueue: 100, timeoutMs: 60_000 },
  external_api: { maxConcurrent: 15, maxQueue: 50, timeoutMs: 30_000 },
  file_operations: { maxConcurrent: 5, maxQueue: 20, timeoutMs: 20_000 },
} as const;
export type BulkheadTemplateName = keyof typeof SEED_BULKHEADS;

/** The seed's breaker: open after 5 consecutive failures, half-open after 60 s, close after 3 successes. */
export const SEED_BREAKER = { failureThreshold: 5, halfOpenAfterMs: 60_000, successThreshold: 3 } as const;

/** `closed`: calls flow · `open`: calls fail fast · `halfOpen`: trial calls decide. */
export const BreakerState = z.enum(['closed', 'open', 'halfOpen']);
export type BreakerState = z.infer<typeof BreakerState>;

export const ResilienceEventType = {
  BreakerStateChanged: 'resilience.breakerStateChanged',
  BulkheadRejected: 'resilience.bulkheadRejected',
  PolicyConfigured: 'resilience.policyConfigured',
} as const;

export const BreakerStateChangedPayload = z.object({
  dependency: z.string(),
  from: BreakerState,
  to: BreakerState,
  /** Why, in words: `5 consecutive failures (last: ...)`, `3 trial calls succeeded`, `reset by owner`. */
  reason: z.string(),
});
export type BreakerStateChangedPayload = z.infer<typeof BreakerStateChangedPayload>;

export const BulkheadRejectedPayload = z.object({
  dependency: z.string(),
  /** Calls rejected since the previous such event of this dependency. */
  rejected: z.number().int().positive(),
  maxConcurrent: z.number().int().positive(),
  maxQueue: z.number().int().min(0),
});
export type BulkheadRejectedPayload = z.infer<typeof BulkheadRejectedPayload>;

export const DependencyPolicyConfig = z.object({
  /** Calls running at once. */
  maxConcurrent: z.number().int().positive(),
  /** Calls waiting for a slot; more are rejected. */
  maxQueue: z.number().int().min(0),
  /** Per attempt, ms. */
  timeoutMs: z.number().int().positive(),
  retry: z.object({
    /** Retries after the first attempt (idempotent calls only). */
    maxRetries: z.number().int().min(0),
    /** First backoff delay, ms (exponential with jitter after it). */
    initialDelayMs: z.number().int().min(0),
    /** Largest backoff delay, ms. */
    maxDelayMs: z.number().int().min(0),
  }),
  breaker: z.object({
    /** Consecutive failures that open the circuit. */
    failureThreshold: z.number().int().positive(),
    /** Time open before trial calls are let through, ms. */
    halfOpenAfterMs: z.number().int().min(0),
    /** Successful trial calls that close the circuit again. */
    successThreshold: z.number().int().positive(),
  }),
});
export type DependencyPolicyConfig = z.infer<typeof DependencyPolicyConfig>;

export const BreakerTransition = z.object({
  from: BreakerState,
  to: BreakerState,
  /** ISO-8601. */
  at: IsoTime,
  reason: z.string(),
});

export const DependencyStats = z.object({
  dependency: z.string(),
  config: DependencyPolicyConfig,
  /** Calls running now. */
  active: z.number().int().min(0),
  /** Calls waiting for a bulkhead slot now. */
  queued: z.number().int().min(0),
  /** Calls that succeeded (after retries, if any). */
  successes: z.number().int().min(0),
  /** Failed attempts that counted against the breaker (timeouts included). */
  failures: z.number().int().min(0),
  /** Calls refused because the bulkhead was full. */
  rejected: z.number().int().min(0),
  /** Attempts that hit the timeout. */
  timedOut: z.number().int().min(0),
  /** Calls refused because the circuit was open. */
  shortCircuited: z.number().int().min(0),
  retries: z.number().int().min(0),
  /** Breaker transitions since the daemon started (each one is also a `resilience.breakerStateChanged` event). */
  breakerTransitions: z.number().int().min(0),
  breaker: z.object({
    state: BreakerState,
    consecutiveFailures: z.number().int().min(0),
    /** Trial calls that succeeded in the current half-open period. */
    halfOpenSuccesses: z.number().int().min(0),
    /** Open: when trial calls will be let through (ISO-8601). */
    retryAt: IsoTime.optional(),
  }),
  lastTransition: BreakerTransition.optional(),
  /** A chaos fault injector is attached. */
  faultInjection: z.boolean(),
});
export type DependencyStats = z.infer<typeof DependencyStats>;

/**
 * Overrides of one dependency's policy (any subset); what is left out keeps the daemon's default.
 * The bounds keep a typo from disabling the protection (a 0 ms timeout, a million-call bulkhead).
 */
export const PolicyOverrides = z
  .object({
    maxConcurrent: z.number().int().min(1).max(10_000).optional(),
    maxQueue: z.number().int().min(0).max(100_000).optional(),
    /** Per attempt, ms. */
    timeoutMs: z.number().int().min(10).max(3_600_000).optional(),
    retry: z
      .object({
        maxRetries: z.number().int().min(0).max(10).optional(),
        /** ms. */
        initialDelayMs: z.number().int().min(0).max(600_000).optional(),
        /** ms. */
        maxDelayMs: z.number().int().min(0).max(3_600_000).optional(),
      })
      .strict()
      .optional(),
    breaker: z
      .object({
        failureThreshold: z.number().int().min(1).max(10_000).optional(),
        /** ms. */
        halfOpenAfterMs: z.number().int().min(0).max(86_400_000).optional(),
        successThreshold: z.number().int().min(1).max(1_000).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type PolicyOverrides = z.infer<typeof PolicyOverrides>;

/** `resilience.policyConfigured`: the whole override set of a dependency after the change (empty: defaults). */
export const PolicyConfiguredPayload = z.object({
  dependency: z.string(),
  overrides: PolicyOverrides,
});
export type PolicyConfiguredPayload = z.infer<typeof PolicyConfiguredPayload>;

/**
 * A policy of a user's service, built with the client library's `policyBuilder` and reported by that
 * process (`resilience/reportStats`). Counters are totals since the reporting process started.
 */
export const ReportedPolicyStats = z.object({
  /** The service id the policy protects (`payments-db`), as given to `call(serviceId, ...)`. */
  serviceId: z.string().min(1).max(128),
  /** The seed template it was built from (`database`, `llm`, `external_api`, `file_operations`), if any. */
  template: z.string().max(64).optional(),
  active: z.number().int().min(0),
  queued: z.number().int().min(0),
  successes: z.number().int().min(0),
  failures: z.number().int().min(0),
  rejected: z.number().int().min(0),
  timedOut: z.number().int().min(0),
  shortCircuited: z.number().int().min(0),
  /** Calls answered by the fallback. */
  fallbacks: z.number().int().min(0),
  breakerState: BreakerState,
  /** Breaker transitions since the process started. */
  breakerTransitions: z.number().int().min(0),
  maxConcurrent: z.number().int().min(1),
  maxQueue: z.number().int().min(0),
  /** ms. */
  timeoutMs: z.number().int().min(1),
});
export type ReportedPolicyStats = z.infer<typeof ReportedPolicyStats>;

/** A reported policy as the daemon keeps it: who reported it and when. */
export const ReportedPolicy = ReportedPolicyStats.extend({
  /** Name of the token the reporting process connected with (`owner` or a minted token's name). */
  reporter: z.string(),
  /** The reporting process's own id (stable for its lifetime), so two instances stay apart. */
  clientId: z.string(),
  /** ISO-8601. */
  reportedAt: IsoTime,
});
export type ReportedPolicy = z.infer<typeof ReportedPolicy>;

export const ListPolicies = defineRequest(
  'resilience/policies',
  z.object({
    /** Only this dependency (and reported services of that id). */
    dependency: z.string().max(128).optional(),
  }),
  z.object({
    policies: z.array(DependencyStats),
    /** Policies of users' services reported by client processes (latest report of each, last 10 min). */
    reported: z.array(ReportedPolicy),
  }),
  { kind: 'query', doc: 'Live state of each outbound dependency policy: breaker, bulkhead, counters; plus client-reported ones.' },
);

export const ConfigurePolicy = defineRequest(
  'resilience/configure',
  z.object({
    dependency: DependencyName,
    /** The fields to change; merged over the current overrides. */
    config: PolicyOverrides.default({}),
    /** Drop every override first (back to the defaults), then apply `config`. */
    reset: z.boolean().default(false),
  }),
  z.object({ policy: DependencyStats }),
  {
    kind: 'command',
    scope: 'admin',
    doc: 'Change a dependency policy (bulkhead, timeout, retry, breaker); applies live, survives restarts.',
  },
);

export const ResetBreaker = defineRequest(
  'resilience/resetBreaker',
  z.object({
    dependency: DependencyName,
    /** Recorded in the transition event. */
    reason: z.string().trim().min(1).max(500).optional(),
  }),
  z.object({
    /** Whether the circuit was open or half-open and is now closed. */
    changed: z.boolean(),
    policy: DependencyStats,
  }),
  { kind: 'command', doc: 'Close a dependency circuit now (the operator knows it is back).' },
);

export const ReportStats = defineRequest(
  'resilience/reportStats',
  z.object({
    /** The reporting process's id (the client library makes one per process). */
    clientId: z.string().min(1).max(128),
    policies: z.array(ReportedPolicyStats).max(500),
  }),
  z.object({ accepted: z.number().int().min(0) }),
  { kind: 'command', doc: 'A client process reports the live stats of its own policies (kept in memory, not logged).' },
);

export const DidChangeResilience = defineNotification(
  'resilience/didChange',
  z.object({
    dependency: z.string(),
    /** The daemon's own policy now, for daemon dependencies. */
    policy: DependencyStats.optional(),
    /** The latest report, for a client-reported service. */
    reported: ReportedPolicy.optional(),
  }),
  'A policy changed (calls, breaker, configuration, report); at most one per dependency per second.',
);
