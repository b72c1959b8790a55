import type { Clock } from '../services/shared/clock';

/**
 * A token bucket: `burst` tokens, refilled at `perSecond` tokens per second. One token per request
 * (each element of a batch counts). `perSecond` 0 disables the limit.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {
    this.tokens = burst;
    this.updatedAt = clock.now();
  }

  /** Take one token. Answers 0 when allowed, else the milliseconds until a token is available. */
  take(): number {
    if (this.perSecond <= 0) return 0;
    const now = this.clock.now();
    const elapsed = Math.max(0, now - this.updatedAt);
    this.updatedAt = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.perSecond) / 1000);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.perSecond));
  }
}
