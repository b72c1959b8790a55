import {
  BreakerStateChangedPayload,
  ChaosEventType,
  ExperimentFinishedPayload,
  ExperimentProgressPayload,
  ExperimentStartedPayload,
  ResilienceEventType,
  type ChaosExperiment,
} from '../../protocol';
import type { EventRecord, Projection } from '../../store/types';

/** Finished experiments kept in the read model (the log keeps them all). */
export const MAX_FINISHED_EXPERIMENTS = 500;

interface State {
  experiments: ChaosExperiment[];
}

/**
 * Chaos experiments from `resilience.chaos.*` events. Breaker trips are counted here from the
 * `resilience.breakerStateChanged` events of the experiment's dependency while it runs, so that
 * figure is durable; the other results arrive with the finish event.
 */
export class ChaosProjection implements Projection {
  readonly name = 'chaos';
  private readonly byId = new Map<string, ChaosExperiment>();

  apply(event: EventRecord): void {
    switch (event.type) {
      case ChaosEventType.ExperimentStarted: {
        const p = ExperimentStartedPayload.safeParse(event.payload);
        if (!p.success || this.byId.has(p.data.id)) return;
        this.byId.set(p.data.id, {
          ...p.data,
          state: 'running',
          startedAt: event.time,
          startedBy: event.actor,
          results: { calls: 0, callsAffected: 0, breakerTrips: 0, callerErrors: 0 },
        });
        return;
      }
      case ChaosEventType.ExperimentFinished: {
        const p = ExperimentFinishedPayload.safeParse(event.payload);
        const exp = p.success ? this.byId.get(p.data.id) : undefined;
        if (!p.success || !exp || exp.state !== 'running') return;
        exp.state = 'finished';
        exp.finishedAt = event.time;
        exp.endReason = p.data.reason;
        if (p.data.reason === 'stopped') exp.stoppedBy = event.actor;
        exp.results = { ...p.data.results, breakerTrips: exp.results.breakerTrips };
        this.trim();
        return;
      }
      case ChaosEventType.ExperimentProgress: {
        const p = ExperimentProgressPayload.safeParse(event.payload);
        const exp = p.success ? this.byId.get(p.data.id) : undefined;
        if (p.success && exp && exp.state === 'running') exp.results = { ...p.data.results, breakerTrips: exp.results.breakerTrips };
        return;
      }
      case ResilienceEventType.BreakerStateChanged: {
        const p = BreakerStateChangedPayload.safeParse(event.payload);
        if (!p.success || p.data.to !== 'open') return;
        const exp = this.runningOn(p.data.dependency);
        if (exp) exp.results.breakerTrips++;
        return;
      }
      default:
        return;
    }
  }

  get(id: string): ChaosExperiment | undefined {
    return this.byId.get(id);
  }

  /** The running experiment of a dependency (at most one). */
  runningOn(dependency: string): ChaosExperiment | undefined {
    for (const e of this.byId.values()) if (e.state === 'running' && e.dependency === dependency) return e;
    return undefined;
  }

  running(): ChaosExperiment[] {
    return [...this.byId.values()].filter((e) => e.state === 'running');
  }

  /** Newest first. */
  list(): ChaosExperiment[] {
    return [...this.byId.values()].reverse();
  }

  snapshot(): State {
    return { experiments: structuredClone([...this.byId.values()]) };
  }

  restore(state: unknown): void {
    this.reset();
    const s = state as Partial<State> | null;
    for (const e of s?.experiments ?? []) this.byId.set(e.id, structuredClone(e));
  }

  reset(): void {
    this.byId.clear();
  }

  private trim(): void {
    let finished = 0;
    for (const e of this.byId.values()) if (e.state === 'finished') finished++;
    for (const [id, e] of this.byId) {
      if (finished <= MAX_FINISHED_EXPERIMENTS) break;
      if (e.state === 'finished') {
        this.byId.delete(id);
        finished--;
      }
    }
  }
}
