import * as z from 'zod';
import { IsoTime } from './common';
import { defineRequest } from './define';

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

/** `closed`: calls flow · `open`: calls fail fast · `halfOpen`: trial calls decide. */
export const BreakerState = z.enum(['closed', 'open', 'halfOpen']);
export type BreakerState = z.infer<typeof BreakerState>;

export const ResilienceEventType = {
  BreakerStateChanged: 'resilience.breakerStateChanged',
  BulkheadRejected: 'resilience.bulkheadRejected',
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

export const ListPolicies = defineRequest(
  'resilience/policies',
  z.object({
    /** Only this dependency. */
    dependency: z.string().max(128).optional(),
  }),
  z.object({ policies: z.array(DependencyStats) }),
  { kind: 'query', doc: 'Live state of each outbound dependency policy: breaker, bulkhead, counters.' },
);
