import { ErrorCode, RpcError, type ChaosParameters, type FaultType } from '../../protocol';
import type { FaultInjector } from '../resilience/policies';
import type { Clock } from '../shared/clock';

/** Added latency when a latency experiment names none, ms. */
export const DEFAULT_LATENCY_MS = 1_000;

export interface FaultSpec {
  experimentId: string;
  dependency: string;
  fault: FaultType;
  /** 0..1. */
  rate: number;
  parameters: ChaosParameters;
}

export interface FaultDeps {
  clock: Clock;
  /** Uniform in [0, 1): decides which calls are affected. */
  random: () => number;
  /** Called once per attempt a fault is injected into. */
  onAffected: () => void;
}

/**
 * The per-call hook of an experiment, run inside the dependency's policy (see `FaultInjector`).
 * Resource exhaustion has none: it holds bulkhead slots instead (`DependencyPolicies.holdSlots`).
 */
export function faultInjector(spec: FaultSpec, deps: FaultDeps): FaultInjector | undefined {
  const hit = (): boolean => spec.rate >= 1 || (spec.rate > 0 && deps.random() < spec.rate);
  const injected = (what: string) =>
    new RpcError(ErrorCode.BackendUnavailable, spec.parameters.message ?? `chaos: ${what}`, {
      dependency: spec.dependency,
      chaosExperiment: spec.experimentId,
      fault: spec.fault,
    });
  switch (spec.fault) {
    case 'latency': {
      const ms = spec.parameters.latencyMs ?? DEFAULT_LATENCY_MS;
      return ({ signal }) => {
        if (!hit()) return;
        deps.onAffected();
        return delay(deps.clock, ms, signal);
      };
    }
    case 'error':
      return () => {
        if (!hit()) return;
        deps.onAffected();
        throw injected(`injected error on ${spec.dependency}`);
      };
    case 'network_partition':
      return () => {
        if (!hit()) return;
        deps.onAffected();
        throw injected(`network partition: ${spec.dependency} is unreachable`);
      };
    case 'timeout':
      return ({ signal }) => {
        if (!hit()) return;
        deps.onAffected();
        return untilAborted(signal);
      };
    case 'partial_failure':
      return () => {
        if (!hit()) return;
        return () => {
          deps.onAffected();
          throw injected(`the answer of ${spec.dependency} was lost after the call`);
        };
      };
    case 'resource_exhaustion':
      return undefined;
  }
}

/** Bulkhead slots a resource-exhaustion experiment holds: `rate` of them, at least one when rate > 0. */
export function slotsToHold(rate: number, maxConcurrent: number): number {
  if (rate <= 0) return 0;
  return Math.min(maxConcurrent, Math.max(1, Math.round(rate * maxConcurrent)));
}

/** Resolves after `ms` on the clock; rejects when `signal` aborts first (the policy's timeout). */
function delay(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      return;
    }
    const onAbort = () => {
      timer.cancel();
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    const timer = clock.setTimer(ms, () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Never resolves; rejects when `signal` aborts (the attempt's timeout fired). */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_resolve, reject) => {
    const fail = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}
