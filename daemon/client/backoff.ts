/** How the client waits between connection attempts. */
export interface ReconnectOptions {
  /** Delay before the first retry, ms. */
  initialDelayMs: number;
  /** Upper bound of any delay, ms. */
  maxDelayMs: number;
  /** Growth per failed attempt (2 doubles the delay). */
  factor: number;
  /**
   * Ratio 0..1 of each delay that is randomised: the delay is drawn from
   * `[base * (1 - jitter), base]`, so clients cut off together do not all come back at the same instant,
   * and `maxDelayMs` stays a true upper bound.
   */
  jitter: number;
  /** Consecutive failed attempts before the client gives up and stops; Infinity = never. */
  maxAttempts: number;
}

export const DEFAULT_RECONNECT: Readonly<ReconnectOptions> = Object.freeze({
  initialDelayMs: 250,
  maxDelayMs: 10_000,
  factor: 2,
  jitter: 0.5,
  maxAttempts: Infinity,
});

export function resolveReconnectOptions(partial: Partial<ReconnectOptions> | undefined): ReconnectOptions {
  const o = { ...DEFAULT_RECONNECT, ...partial };
  if (!(o.initialDelayMs >= 0)) throw new RangeError('reconnect.initialDelayMs must be >= 0');
  if (!(o.maxDelayMs >= o.initialDelayMs)) throw new RangeError('reconnect.maxDelayMs must be >= initialDelayMs');
  if (!(o.factor >= 1)) throw new RangeError('reconnect.factor must be >= 1');
  if (!(o.jitter >= 0 && o.jitter <= 1)) throw new RangeError('reconnect.jitter must be between 0 and 1');
  if (!(o.maxAttempts >= 1)) throw new RangeError('reconnect.maxAttempts must be >= 1');
  return o;
}

/**
 * Delay before retry number `retry` (0-based: 0 is the first retry after a failure or a drop), ms.
 * `random` returns a number in [0, 1); injectable so the schedule is testable.
 */
export function backoffDelay(retry: number, options: ReconnectOptions, random: () => number = Math.random): number {
  const base = Math.min(options.maxDelayMs, options.initialDelayMs * options.factor ** Math.max(0, retry));
  return Math.round(base * (1 - options.jitter * random()));
}
