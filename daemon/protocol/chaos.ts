import * as z from 'zod';
import { IsoTime } from './common';
import { defineNotification, defineRequest } from './define';
import { DependencyName } from './resilience';

/**
 * Chaos experiments: faults injected inside one of the daemon's own dependency policies (after the
 * bulkhead, breaker and timeout admitted the call), so they exercise the real protection.
 */

/**
 * - `latency`: affected calls wait `latencyMs` first (against the timeout).
 * - `error`: affected calls fail at once, before reaching the dependency.
 * - `timeout`: affected calls hang until the policy's timeout fires.
 * - `partial_failure`: the call reaches the dependency, then its answer is lost and the caller gets an error.
 * - `network_partition`: affected calls fail fast as if the host were unreachable.
 * - `resource_exhaustion`: bulkhead slots are held for the whole experiment (`rate` × max concurrent).
 */
export const FaultType = z.enum(['latency', 'error', 'timeout', 'partial_failure', 'network_partition', 'resource_exhaustion']);
export type FaultType = z.infer<typeof FaultType>;

/** Longest experiment, ms (24 h): chaos is a bounded experiment, not a setting. */
export const MAX_EXPERIMENT_MS = 86_400_000;

export const ChaosParameters = z
  .object({
    /** `latency`: delay added to affected calls, ms. */
    latencyMs: z.number().int().min(1).max(600_000).optional(),
    /** Message of injected errors. */
    message: z.string().trim().min(1).max(500).optional(),
  })
  .strict();
export type ChaosParameters = z.infer<typeof ChaosParameters>;

export const ChaosResults = z.object({
  /** Calls to the dependency while the experiment ran. */
  calls: z.number().int().min(0),
  /** Calls a fault was injected into (for resource_exhaustion: calls that queued or were rejected). */
  callsAffected: z.number().int().min(0),
  /** Times the dependency's circuit opened while the experiment ran. */
  breakerTrips: z.number().int().min(0),
  /** Calls that ended in an error for their caller (injected or a consequence: open circuit, full bulkhead). */
  callerErrors: z.number().int().min(0),
});
export type ChaosResults = z.infer<typeof ChaosResults>;

export const ExperimentState = z.enum(['running', 'finished']);

/** `duration`: its time ran out · `stopped`: `chaos/stop` · `expired`: its end passed while the daemon was down. */
export const ExperimentEndReason = z.enum(['duration', 'stopped', 'expired']);

export const ChaosExperiment = z.object({
  id: z.string(),
  dependency: z.string(),
  fault: FaultType,
  /** Fraction of calls affected, 0..1. */
  rate: z.number().min(0).max(1),
  /** ms. */
  durationMs: z.number().int().positive(),
  parameters: ChaosParameters,
  state: ExperimentState,
  /** ISO-8601. */
  startedAt: IsoTime,
  /** ISO-8601: when the duration ends it. */
  endsAt: IsoTime,
  startedBy: z.string(),
  finishedAt: IsoTime.optional(),
  endReason: ExperimentEndReason.optional(),
  stoppedBy: z.string().optional(),
  /**
   * Live while running, final once finished. `calls`, `callsAffected` and `callerErrors` are counted
   * in memory: after a daemon restart they restart from 0; `breakerTrips` comes from the log.
   */
  results: ChaosResults,
});
export type ChaosExperiment = z.infer<typeof ChaosExperiment>;

export const ChaosEventType = {
  ExperimentStarted: 'resilience.chaos.experimentStarted',
  ExperimentFinished: 'resilience.chaos.experimentFinished',
  /** The running counts, written every 10 s while they change and when the daemon stops, so a restart continues them. */
  ExperimentProgress: 'resilience.chaos.experimentProgress',
} as const;

export const ExperimentStartedPayload = z.object({
  id: z.string(),
  dependency: z.string(),
  fault: FaultType,
  rate: z.number().min(0).max(1),
  durationMs: z.number().int().positive(),
  parameters: ChaosParameters,
  /** ISO-8601. */
  endsAt: IsoTime,
});
export type ExperimentStartedPayload = z.infer<typeof ExperimentStartedPayload>;

export const ExperimentFinishedPayload = z.object({
  id: z.string(),
  reason: ExperimentEndReason,
  results: ChaosResults,
});
export type ExperimentFinishedPayload = z.infer<typeof ExperimentFinishedPayload>;

export const ExperimentProgressPayload = z.object({
  id: z.string(),
  results: ChaosResults.omit({ breakerTrips: true }),
});
export type ExperimentProgressPayload = z.infer<typeof ExperimentProgressPayload>;

export const StartChaos = defineRequest(
  'chaos/start',
  z.object({
    /** A dependency of the daemon (`resilience/policies` lists them). */
    dependency: DependencyName,
    fault: FaultType,
    /** Fraction of calls affected, 0..1 (for resource_exhaustion: fraction of bulkhead slots held). */
    rate: z.number().min(0).max(1).default(1),
    /** ms, at most 24 h. */
    durationMs: z.number().int().min(1).max(MAX_EXPERIMENT_MS),
    parameters: ChaosParameters.default({}),
  }),
  z.object({ experiment: ChaosExperiment }),
  { kind: 'command', scope: 'admin', doc: 'Start a fault experiment on one daemon dependency for a bounded time.' },
);

export const StopChaos = defineRequest(
  'chaos/stop',
  z.object({ id: z.string().min(1).max(64) }),
  z.object({ experiment: ChaosExperiment }),
  { kind: 'command', doc: 'End a running chaos experiment now; its injector is removed at once.' },
);

export const ListChaos = defineRequest(
  'chaos/list',
  z.object({
    state: ExperimentState.optional(),
    dependency: z.string().max(128).optional(),
    /** Newest first. */
    limit: z.number().int().min(1).max(1000).default(100),
  }),
  z.object({ experiments: z.array(ChaosExperiment) }),
  { kind: 'query', doc: 'Chaos experiments, running and finished, with their results (newest first).' },
);

export const DidChangeChaos = defineNotification(
  'chaos/didChange',
  z.object({ change: z.enum(['started', 'finished']), experiment: ChaosExperiment }),
  'A chaos experiment started or finished (with its results).',
);
