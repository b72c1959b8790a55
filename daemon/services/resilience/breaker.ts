import { BrokenCircuitError } from 'cockatiel';
import type { BreakerState } from '../../protocol';
import type { Clock } from '../shared/clock';

export interface BreakerConfig {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** Time open before trial calls are let through, ms. */
  halfOpenAfterMs: number;
  /** Successful trial calls that close the circuit. */
  successThreshold: number;
}

export interface BreakerTransitionInfo {
  from: BreakerState;
  to: BreakerState;
  reason: string;
  /** Epoch ms. */
  at: number;
}

/** Thrown when the circuit refuses a call: open, or half-open with every trial slot taken. */
export class CircuitOpenError extends BrokenCircuitError {
  constructor(
    readonly dependency: string,
    /** Epoch ms from which trial calls are admitted (now, when trial slots are only busy). */
    readonly retryAt: number,
    readonly halfOpen: boolean,
  ) {
    super(
      halfOpen
        ? `circuit half-open for ${dependency}: trial calls are in progress`
        : `circuit open for ${dependency}, retry after ${new Date(retryAt).toISOString()}`,
    );
    this.name = 'CircuitOpenError';
  }
}

/** An admitted call. Its outcome must be reported exactly once: success, failure or release. */
export interface BreakerPermit {
  readonly generation: number;
  readonly trial: boolean;
}

/**
 * A consecutive-failure circuit breaker on the injected clock.
 *
 * Why not cockatiel's `CircuitBreakerPolicy`: it closes after ONE successful half-open call and reads
 * `Date.now()`, while we need "close after N successes" (the seed: 3) and a clock tests can move.
 * Half-open here admits at most `successThreshold` trial calls at a time (calls beyond that fail fast
 * like an open circuit); each success counts, `successThreshold` successes close the circuit, and
 * any trial failure opens it again for another `halfOpenAfterMs`. Open → half-open happens lazily,
 * on the first call after the wait. Outcomes of calls admitted before the last transition (the
 * `generation` of their permit) do not count: a slow call from before the circuit opened must not
 * close it.
 */
export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private generation = 0;
  private consecutiveFailures = 0;
  private openedAt = 0;
  private trialsInFlight = 0;
  private trialSuccesses = 0;

  constructor(
    private readonly dependency: string,
    private readonly clock: Clock,
    private config: BreakerConfig,
    private readonly onTransition: (t: BreakerTransitionInfo) => void,
  ) {}

  get state(): BreakerState {
    return this.current;
  }

  snapshot(): { state: BreakerState; consecutiveFailures: number; halfOpenSuccesses: number; retryAt?: number } {
    return {
      state: this.current,
      consecutiveFailures: this.consecutiveFailures,
      halfOpenSuccesses: this.current === 'halfOpen' ? this.trialSuccesses : 0,
      ...(this.current === 'open' ? { retryAt: this.openedAt + this.config.halfOpenAfterMs } : {}),
    };
  }

  /** New thresholds from now on; the current state and counts stay (an open circuit keeps its opening time). */
  setConfig(config: BreakerConfig): void {
    this.config = { ...config };
  }

  /** Admit a call or throw CircuitOpenError. */
  acquire(): BreakerPermit {
    if (this.current === 'open') {
      const retryAt = this.openedAt + this.config.halfOpenAfterMs;
      if (this.clock.now() < retryAt) throw new CircuitOpenError(this.dependency, retryAt, false);
      this.transition('halfOpen', `${this.config.halfOpenAfterMs} ms passed since the circuit opened`);
    }
    if (this.current === 'halfOpen') {
      if (this.trialsInFlight + this.trialSuccesses >= this.config.successThreshold) {
        throw new CircuitOpenError(this.dependency, this.clock.now(), true);
      }
      this.trialsInFlight++;
      return { generation: this.generation, trial: true };
    }
    return { generation: this.generation, trial: false };
  }

  success(permit: BreakerPermit): void {
    if (permit.generation !== this.generation) return;
    if (!permit.trial) {
      this.consecutiveFailures = 0;
      return;
    }
    this.trialsInFlight--;
    this.trialSuccesses++;
    if (this.trialSuccesses >= this.config.successThreshold) {
      this.transition('closed', `${this.trialSuccesses} trial calls succeeded`);
    }
  }

  failure(permit: BreakerPermit, cause: string): void {
    if (permit.generation !== this.generation) return;
    if (permit.trial) {
      this.trialsInFlight--;
      this.transition('open', `trial call failed: ${cause}`);
      return;
    }
    this.consecutiveFailures++;
    if (this.consecutiveFailures >= this.config.failureThreshold) {
      this.transition('open', `${this.consecutiveFailures} consecutive failures; last: ${cause}`);
    }
  }

  /** The call ended without telling anything about the dependency's health (refused request, caller gave up). */
  release(permit: BreakerPermit): void {
    if (permit.generation === this.generation && permit.trial) this.trialsInFlight--;
  }

  /** Close the circuit now (an operator's reset). */
  reset(reason: string): void {
    if (this.current === 'closed' && this.consecutiveFailures === 0) return;
    if (this.current === 'closed') {
      this.consecutiveFailures = 0;
      return;
    }
    this.transition('closed', reason);
  }

  private transition(to: BreakerState, reason: string): void {
    const from = this.current;
    this.current = to;
    this.generation++;
    this.trialsInFlight = 0;
    this.trialSuccesses = 0;
    if (to === 'open') this.openedAt = this.clock.now();
    else this.consecutiveFailures = 0;
    this.onTransition({ from, to, reason, at: this.clock.now() });
  }
}
