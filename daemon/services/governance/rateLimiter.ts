import type { CheckRateLimitResult, RateLimitPolicy, RateLimitWindow } from '../../protocol';
import type { Clock } from '../shared/clock';

/** Window lengths, seconds. */
const WINDOW_SECONDS: Record<RateLimitWindow, number> = { minute: 60, hour: 3600, day: 86_400 };
const WINDOWS: RateLimitWindow[] = ['minute', 'hour', 'day'];

/** Default bound on tracked client+policy pairs; past it, full (idle) buckets are forgotten first. */
const DEFAULT_MAX_CLIENTS = 100_000;

interface Bucket {
  /** Fractional tokens. */
  tokens: number;
  /** Epoch ms of the last refill. */
  at: number;
}

interface ClientBuckets {
  policyUpdatedAt: string;
  buckets: Record<RateLimitWindow, Bucket>;
}

/** Capacity of one window's bucket; it refills `limit` tokens per window length. */
function shape(policy: RateLimitPolicy, window: RateLimitWindow): { capacity: number; limit: number; windowMs: number } {
  const limit = window === 'minute' ? policy.perMinute : window === 'hour' ? policy.perHour : policy.perDay;
  // The minute bucket holds the burst: a client may spend it at once, then refills at the per-minute rate.
  return { capacity: window === 'minute' ? policy.burst : limit, limit, windowMs: WINDOW_SECONDS[window] * 1000 };
}

/** Whole seconds until `tokens` grow to `target` (multiply before dividing: 6 s of 10/min is exactly 1 token). */
function secondsUntil(tokens: number, target: number, s: { limit: number; windowMs: number }): number {
  return Math.max(0, Math.ceil(((target - tokens) * s.windowMs) / s.limit / 1000 - 1e-9));
}

const globCache = new Map<string, RegExp>();
function globToRegExp(glob: string): RegExp {
  let re = globCache.get(glob);
  if (!re) {
    re = new RegExp(`^${glob.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    if (globCache.size > 1000) globCache.clear();
    globCache.set(glob, re);
  }
  return re;
}

/** The policy for a client type and endpoint: the matching pattern with the most literal characters wins. */
export function matchPolicy(policies: readonly RateLimitPolicy[], clientType: string, endpoint: string): RateLimitPolicy | undefined {
  let best: RateLimitPolicy | undefined;
  for (const p of policies) {
    if (p.clientType !== clientType || !globToRegExp(p.endpointPattern).test(endpoint)) continue;
    const specificity = p.endpointPattern.replaceAll('*', '').length;
    if (!best || specificity > best.endpointPattern.replaceAll('*', '').length) best = p;
  }
  return best;
}

/** Structured-field string item (RFC 8941): quotes and backslashes escaped. */
const sfString = (s: string) => `"${s.replace(/[\\"]/g, '\\$&')}"`;

/**
 * In-memory token buckets, one per client, policy and window (minute, hour, day). A call takes one
 * token from every window; under hard enforcement it is denied, and takes nothing, when any window
 * is empty; under soft enforcement it is allowed and flagged `exceeded`. A bucket holds one window's
 * limit and refills it over the window, so the sustained rate is the limit per window and any single
 * window can see up to twice the limit after a long idle spell (the usual token-bucket bound). Buckets live in memory
 * only: they are the hot path of a gateway, and losing them on restart only forgives clients.
 */
export class RateLimiter {
  private readonly clients = new Map<string, ClientBuckets>();
  private readonly maxClients: number;
  /** Counters since start, for the dashboard. */
  readonly counts = { checks: 0, denied: 0, exceededSoft: 0 };

  constructor(
    private readonly clock: Clock,
    options: { maxClients?: number } = {},
  ) {
    this.maxClients = options.maxClients ?? DEFAULT_MAX_CLIENTS;
  }

  /** Count one request of `clientId` against `policy` (undefined: no policy applies, always allowed). */
  check(policy: RateLimitPolicy | undefined, clientId: string): CheckRateLimitResult {
    this.counts.checks++;
    if (!policy) return { allowed: true, exceeded: false, enforcement: 'none', policyId: null, windows: [], headers: {} };
    const now = this.clock.now();
    const state = this.bucketsFor(policy, clientId, now);
    for (const w of WINDOWS) {
      const { capacity, limit, windowMs } = shape(policy, w);
      const b = state.buckets[w];
      b.tokens = Math.min(capacity, b.tokens + ((now - b.at) * limit) / windowMs);
      b.at = now;
    }
    const empty = WINDOWS.filter((w) => state.buckets[w].tokens < 1);
    const exceeded = empty.length > 0;
    const allowed = !exceeded || policy.enforcement === 'soft';
    if (allowed) for (const w of WINDOWS) state.buckets[w].tokens = Math.max(0, state.buckets[w].tokens - 1);
    if (!allowed) this.counts.denied++;
    else if (exceeded) this.counts.exceededSoft++;

    const windows = WINDOWS.map((w) => {
      const s = shape(policy, w);
      const resetSeconds = secondsUntil(state.buckets[w].tokens, s.capacity, s);
      return {
        window: w,
        limit: s.capacity,
        remaining: Math.floor(state.buckets[w].tokens),
        resetSeconds,
        resetAt: new Date(now + resetSeconds * 1000).toISOString(),
      };
    });
    const retryAfterSeconds = exceeded
      ? Math.max(...empty.map((w) => secondsUntil(state.buckets[w].tokens, 1, shape(policy, w))))
      : undefined;

    const headers: Record<string, string> = {
      'RateLimit-Policy': WINDOWS.map((w) => {
        const limit = w === 'minute' ? policy.perMinute : w === 'hour' ? policy.perHour : policy.perDay;
        return `${sfString(`${policy.id}:${w}`)};q=${limit};w=${WINDOW_SECONDS[w]}`;
      }).join(', '),
      RateLimit: windows.map((s) => `${sfString(`${policy.id}:${s.window}`)};r=${s.remaining};t=${s.resetSeconds}`).join(', '),
    };
    if (!allowed && retryAfterSeconds !== undefined) headers['Retry-After'] = String(retryAfterSeconds);
    return {
      allowed,
      exceeded,
      enforcement: policy.enforcement,
      policyId: policy.id,
      windows,
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
      headers,
    };
  }

  /** Forget the buckets of a policy (after it changed or was deleted). */
  forgetPolicy(policyId: string): void {
    for (const key of this.clients.keys()) if (key.startsWith(`${policyId}\u0000`)) this.clients.delete(key);
  }

  get trackedClients(): number {
    return this.clients.size;
  }

  private bucketsFor(policy: RateLimitPolicy, clientId: string, now: number): ClientBuckets {
    const key = `${policy.id}\u0000${clientId}`;
    let state = this.clients.get(key);
    if (state && state.policyUpdatedAt !== policy.updatedAt) state = undefined;
    if (!state) {
      if (this.clients.size >= this.maxClients) this.evict(now);
      const full = (w: RateLimitWindow): Bucket => ({ tokens: shape(policy, w).capacity, at: now });
      state = { policyUpdatedAt: policy.updatedAt, buckets: { minute: full('minute'), hour: full('hour'), day: full('day') } };
      this.clients.set(key, state);
    }
    return state;
  }

  /** Drop buckets that refilled completely (they equal fresh ones); if none, the oldest quarter. */
  private evict(now: number): void {
    for (const [key, state] of this.clients) {
      // A day bucket refills last; a client idle for a full day has nothing to remember.
      if (now - state.buckets.day.at >= WINDOW_SECONDS.day * 1000) this.clients.delete(key);
    }
    if (this.clients.size < this.maxClients) return;
    let drop = Math.ceil(this.maxClients / 4);
    for (const key of this.clients.keys()) {
      if (drop-- <= 0) break;
      this.clients.delete(key);
    }
  }
}
