/**
 * How often a crashed daemon may be restarted: at most `maxRestarts` within any sliding window of
 * `windowMs`. A daemon that keeps crashing at start would otherwise be restarted forever, hiding the
 * real problem behind a spinner; once the budget is spent the user is told why instead.
 */
export class RestartBudget {
  private readonly restarts: number[] = [];

  constructor(
    /** Restarts allowed per window. */
    readonly maxRestarts = 3,
    /** Sliding window length, ms. */
    readonly windowMs = 180_000,
  ) {
    if (!Number.isInteger(maxRestarts) || maxRestarts < 0) throw new RangeError('maxRestarts must be an integer >= 0');
    if (!(windowMs > 0)) throw new RangeError('windowMs must be > 0');
  }

  /** Record a restart at `nowMs` if the budget allows one; false when spent. */
  tryConsume(nowMs: number): boolean {
    this.expire(nowMs);
    if (this.restarts.length >= this.maxRestarts) return false;
    this.restarts.push(nowMs);
    return true;
  }

  /** Restarts still allowed at `nowMs`. */
  remaining(nowMs: number): number {
    this.expire(nowMs);
    return this.maxRestarts - this.restarts.length;
  }

  /** Forget past restarts: the user started the daemon by hand, so the budget starts afresh. */
  reset(): void {
    this.restarts.length = 0;
  }

  private expire(nowMs: number): void {
    while (this.restarts.length > 0 && nowMs - this.restarts[0] >= this.windowMs) this.restarts.shift();
  }
}
