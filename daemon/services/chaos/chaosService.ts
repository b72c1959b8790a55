import { randomUUID } from 'node:crypto';
import {
  ChaosEventType,
  ErrorCode,
  RpcError,
  type ChaosExperiment,
  type ChaosResults,
  type ExperimentFinishedPayload,
  type ExperimentProgressPayload,
  type ExperimentStartedPayload,
  type ParsedParamsOf,
  type StartChaos,
} from '../../protocol';
import type { DependencyPolicies, PolicyCallEvent } from '../resilience/policies';
import type { Scheduler, TimerFiring } from '../scheduler/scheduler';
import type { Clock, TimerHandle } from '../shared/clock';
import type { EventStore, StoreOptions } from '../../store/types';
import type { ChaosProjection } from './chaosProjection';
import { faultInjector, slotsToHold } from './faults';

/** The durable timer that ends an experiment. */
export const CHAOS_END_TIMER = 'chaos.end';

/** How often running counts are written while they change, ms (a crash loses at most this much). */
export const PROGRESS_INTERVAL_MS = 10_000;

type LogFn = NonNullable<StoreOptions['log']>;

export interface ChaosServiceOptions {
  store: EventStore;
  projection: ChaosProjection;
  policies: DependencyPolicies;
  scheduler: Scheduler;
  clock: Clock;
  /** Uniform in [0, 1): which calls a fault hits. Default Math.random. */
  random?: () => number;
  log?: LogFn;
}

/** What an experiment counts in memory while it runs. */
interface Live {
  calls: number;
  callsAffected: number;
  callerErrors: number;
  /** Resolves to release the bulkhead slots a resource-exhaustion experiment holds. */
  release: (() => void) | undefined;
  /** `calls + callsAffected + callerErrors` when last written, to skip writes that change nothing. */
  written: number;
}

const SYSTEM_ACTOR = 'system';

/**
 * Chaos experiments on the daemon's own dependencies. Starting one records
 * `resilience.chaos.experimentStarted`, attaches the fault to the dependency's policy (or holds its
 * bulkhead slots) and sets a durable `chaos.end` timer at its end; the timer, `chaos/stop` or a
 * restart that finds it past due records `resilience.chaos.experimentFinished` with the results.
 * At most one experiment per dependency runs at a time.
 */
export class ChaosService {
  private readonly store: EventStore;
  private readonly projection: ChaosProjection;
  private readonly policies: DependencyPolicies;
  private readonly scheduler: Scheduler;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: LogFn;
  private readonly live = new Map<string, Live>();
  /** Dependencies with a start in progress (the check and the append are not atomic). */
  private readonly starting = new Set<string>();
  private readonly finishing = new Map<string, Promise<void>>();
  private progressTimer: TimerHandle | undefined;

  constructor(options: ChaosServiceOptions) {
    this.store = options.store;
    this.projection = options.projection;
    this.policies = options.policies;
    this.scheduler = options.scheduler;
    this.clock = options.clock;
    this.random = options.random ?? Math.random;
    this.log = options.log ?? (() => undefined);
  }

  /** Register the end timer's handler (before the scheduler starts). */
  register(): void {
    this.scheduler.register(CHAOS_END_TIMER, (firing) => this.onEndTimer(firing));
  }

  /**
   * After a restart: finish experiments whose end passed while the daemon was down (`expired`, never
   * resumed), re-attach the others and make sure each has its end timer.
   */
  async resume(): Promise<void> {
    const now = this.clock.now();
    for (const exp of this.projection.running()) {
      if (Date.parse(exp.endsAt) <= now) {
        await this.finish(exp.id, 'expired', SYSTEM_ACTOR);
        continue;
      }
      this.attach(exp);
      if (this.scheduler.get(timerKey(exp.id)) === undefined) await this.scheduleEnd(exp);
    }
  }

  async start(params: ParsedParamsOf<typeof StartChaos>, actor: string): Promise<ChaosExperiment> {
    const { dependency, fault, rate, durationMs, parameters } = params;
    if (!this.policies.isKnown(dependency)) {
      throw new RpcError(ErrorCode.NotFound, `unknown dependency "${dependency}": resilience/policies lists the daemon's dependencies`, {
        kind: 'dependency',
        id: dependency,
        known: this.policies.names(),
      });
    }
    if (parameters.latencyMs !== undefined && fault !== 'latency') {
      throw new RpcError(ErrorCode.InvalidParams, `parameters.latencyMs only applies to latency experiments, not ${fault}`, {
        issues: [{ path: 'parameters.latencyMs', message: `not used by ${fault}` }],
      });
    }
    const running = this.projection.runningOn(dependency);
    if (running || this.starting.has(dependency)) {
      throw new RpcError(ErrorCode.Conflict, `an experiment already runs on ${dependency}; stop it first (chaos/stop)`, {
        dependency,
        ...(running ? { experimentId: running.id } : {}),
      });
    }
    this.starting.add(dependency);
    try {
      const id = randomUUID();
      const payload: ExperimentStartedPayload = {
        id,
        dependency,
        fault,
        rate,
        durationMs,
        parameters,
        endsAt: new Date(this.clock.now() + durationMs).toISOString(),
      };
      await this.store.append([{ type: ChaosEventType.ExperimentStarted, actor, payload }]);
      const exp = this.projection.get(id);
      if (!exp) throw new RpcError(ErrorCode.InternalError, `experiment ${id} was recorded but is not in the read model`);
      this.attach(exp);
      await this.scheduleEnd(exp);
      return this.view(exp);
    } finally {
      this.starting.delete(dependency);
    }
  }

  async stop(id: string, actor: string): Promise<ChaosExperiment> {
    const exp = this.projection.get(id);
    if (!exp) throw new RpcError(ErrorCode.NotFound, `no chaos experiment ${id}`, { kind: 'experiment', id });
    if (exp.state !== 'running') {
      throw new RpcError(ErrorCode.InvalidTransition, `experiment ${id} already finished (${exp.endReason ?? 'finished'})`, {
        id,
        state: exp.state,
        allowed: [],
      });
    }
    await this.finish(id, 'stopped', actor);
    return this.view(this.projection.get(id) ?? exp);
  }

  list(filter: { state?: 'running' | 'finished'; dependency?: string; limit: number }): ChaosExperiment[] {
    return this.projection
      .list()
      .filter((e) => (filter.state === undefined || e.state === filter.state) && (filter.dependency === undefined || e.dependency === filter.dependency))
      .slice(0, filter.limit)
      .map((e) => this.view(e));
  }

  get(id: string): ChaosExperiment | undefined {
    const e = this.projection.get(id);
    return e && this.view(e);
  }

  /** Feed of the dependency policies' call events (the resilience feature forwards them). */
  observe(dependency: string, event: PolicyCallEvent): void {
    if (this.live.size === 0 || event === 'changed') return;
    const exp = this.projection.runningOn(dependency);
    const live = exp && this.live.get(exp.id);
    if (!exp || !live) return;
    switch (event) {
      case 'start':
        live.calls++;
        return;
      case 'startQueued':
        // No free slot: it waits, or is rejected when the queue is full too.
        live.calls++;
        if (exp.fault === 'resource_exhaustion') live.callsAffected++;
        return;
      case 'success':
        return;
      default:
        // A rejected call found no free slot, so it was already counted as affected at its start.
        live.callerErrors++;
    }
  }

  /** Detach every fault and release held slots (daemon stopping); experiments stay running in the log. */
  /** Write the running counts (a restart continues from them), then remove every fault. */
  async close(): Promise<void> {
    this.progressTimer?.cancel();
    this.progressTimer = undefined;
    await this.writeProgress().catch((e: unknown) => this.log('warn', `chaos: could not save the running counts: ${e instanceof Error ? e.message : String(e)}`));
    for (const exp of this.projection.running()) this.detach(exp);
  }

  /** One `experimentProgress` event per running experiment whose counts changed since the last one. */
  private async writeProgress(): Promise<void> {
    const events = [];
    for (const exp of this.projection.running()) {
      const live = this.live.get(exp.id);
      if (!live) continue;
      const sum = live.calls + live.callsAffected + live.callerErrors;
      if (sum === live.written) continue;
      live.written = sum;
      const payload: ExperimentProgressPayload = { id: exp.id, results: { calls: live.calls, callsAffected: live.callsAffected, callerErrors: live.callerErrors } };
      events.push({ type: ChaosEventType.ExperimentProgress, actor: SYSTEM_ACTOR, payload });
    }
    if (events.length > 0) await this.store.append(events);
  }

  private armProgress(): void {
    if (this.progressTimer || this.live.size === 0) return;
    this.progressTimer = this.clock.setTimer(PROGRESS_INTERVAL_MS, () => {
      this.progressTimer = undefined;
      this.writeProgress()
        .catch((e: unknown) => this.log('warn', `chaos: could not save the running counts: ${e instanceof Error ? e.message : String(e)}`))
        .finally(() => this.armProgress());
    });
  }

  private async onEndTimer(firing: TimerFiring): Promise<void> {
    const id = (firing.payload as { id?: unknown } | null)?.id;
    if (typeof id !== 'string') return;
    const exp = this.projection.get(id);
    if (!exp || exp.state !== 'running') return;
    // Late: the daemon was down (or the machine asleep) when the experiment's time ran out.
    await this.finish(id, firing.late ? 'expired' : 'duration', SYSTEM_ACTOR);
  }

  private finish(id: string, reason: ExperimentFinishedPayload['reason'], actor: string): Promise<void> {
    const pending = this.finishing.get(id);
    if (pending) return pending;
    const done = (async () => {
      const exp = this.projection.get(id);
      if (!exp || exp.state !== 'running') return;
      const results = this.detach(exp);
      const payload: ExperimentFinishedPayload = { id, reason, results };
      await this.store.append([{ type: ChaosEventType.ExperimentFinished, actor, payload }]);
      if (reason !== 'duration') {
        await this.scheduler.cancel(timerKey(id), actor).catch((e: unknown) => {
          this.log('warn', `chaos: could not cancel the end timer of ${id}: ${e instanceof Error ? e.message : String(e)}`);
        });
      }
      this.log('info', `chaos: experiment ${id} (${exp.fault} on ${exp.dependency}) finished: ${reason}`);
    })().finally(() => this.finishing.delete(id));
    this.finishing.set(id, done);
    return done;
  }

  private attach(exp: ChaosExperiment): void {
    // After a restart the counts go on from the last ones written.
    const { calls, callsAffected, callerErrors } = exp.results;
    const live: Live = { calls, callsAffected, callerErrors, release: undefined, written: calls + callsAffected + callerErrors };
    this.live.set(exp.id, live);
    this.armProgress();
    if (exp.fault === 'resource_exhaustion') {
      const slots = slotsToHold(exp.rate, this.policies.config(exp.dependency).maxConcurrent);
      const released = new Promise<void>((resolve) => (live.release = resolve));
      this.policies.holdSlots(exp.dependency, slots, released);
      // Marks the dependency as under fault injection in its stats, though calls are not touched.
      this.policies.setFaultInjector(exp.dependency, () => undefined);
      return;
    }
    const injector = faultInjector(
      { experimentId: exp.id, dependency: exp.dependency, fault: exp.fault, rate: exp.rate, parameters: exp.parameters },
      { clock: this.clock, random: this.random, onAffected: () => live.callsAffected++ },
    );
    this.policies.setFaultInjector(exp.dependency, injector);
  }

  /** Remove the fault now; answers the results counted so far. */
  private detach(exp: ChaosExperiment): ChaosResults {
    const live = this.live.get(exp.id);
    this.live.delete(exp.id);
    this.policies.setFaultInjector(exp.dependency, undefined);
    live?.release?.();
    // Not attached (it expired while the daemon was down): the counts last written.
    return {
      calls: live?.calls ?? exp.results.calls,
      callsAffected: live?.callsAffected ?? exp.results.callsAffected,
      callerErrors: live?.callerErrors ?? exp.results.callerErrors,
      breakerTrips: exp.results.breakerTrips,
    };
  }

  private async scheduleEnd(exp: ChaosExperiment): Promise<void> {
    try {
      await this.scheduler.schedule({ kind: CHAOS_END_TIMER, due: exp.endsAt, key: timerKey(exp.id), payload: { id: exp.id } });
    } catch (e) {
      // The experiment runs without its timer until the next start re-creates it; say so loudly.
      this.log('error', `chaos: could not set the end timer of ${exp.id}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** A copy with the live counters of a running experiment. */
  private view(exp: ChaosExperiment): ChaosExperiment {
    const copy = structuredClone(exp);
    const live = this.live.get(exp.id);
    if (exp.state === 'running' && live) {
      copy.results = { ...copy.results, calls: live.calls, callsAffected: live.callsAffected, callerErrors: live.callerErrors };
    }
    return copy;
  }
}

const timerKey = (id: string): string => `chaos:${id}`;
