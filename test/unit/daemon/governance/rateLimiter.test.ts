import { describe, expect, it } from 'vitest';
import type { RateLimitPolicy } from '../../../../daemon/protocol';
import { matchPolicy, RateLimiter } from '../../../../daemon/services/governance/rateLimiter';
import { seedPolicies } from '../../../../daemon/services/governance/seed';
import { ManualClock } from '../../../../daemon/services/shared/clock';

const T0 = '2026-01-01T00:00:00.000Z';
const [anon, auth, prem] = seedPolicies(T0) as [RateLimitPolicy, RateLimitPolicy, RateLimitPolicy];

/** A small policy so each window can be exhausted in a few calls. */
const tiny = (over: Partial<RateLimitPolicy> = {}): RateLimitPolicy => ({
  ...anon,
  id: 'pol_tiny',
  perMinute: 2,
  perHour: 4,
  perDay: 6,
  burst: 3,
  ...over,
});

function drain(limiter: RateLimiter, policy: RateLimitPolicy, client: string, n: number) {
  return Array.from({ length: n }, () => limiter.check(policy, client));
}

describe('RateLimiter: burst and the minute window', () => {
  it('lets an anonymous client spend its burst of 20 at once, then denies with Retry-After', () => {
    const limiter = new RateLimiter(new ManualClock(Date.parse(T0)));
    const answers = drain(limiter, anon, 'c1', 20);
    expect(answers.every((a) => a.allowed)).toBe(true);
    expect(answers.at(-1)!.windows.find((w) => w.window === 'minute')!.remaining).toBe(0);
    const denied = limiter.check(anon, 'c1');
    expect(denied).toMatchObject({ allowed: false, exceeded: true, enforcement: 'hard', policyId: 'pol_anon_001', retryAfterSeconds: 6 });
    expect(denied.headers['Retry-After']).toBe('6');
  });

  it('refills the minute bucket at 10 per minute (one token every 6 s)', () => {
    const clock = new ManualClock(Date.parse(T0));
    const limiter = new RateLimiter(clock);
    drain(limiter, anon, 'c1', 20);
    clock.advance(5_999);
    expect(limiter.check(anon, 'c1').allowed).toBe(false);
    clock.advance(1);
    expect(limiter.check(anon, 'c1').allowed).toBe(true);
    expect(limiter.check(anon, 'c1').allowed).toBe(false);
    clock.advance(60_000);
    expect(drain(limiter, anon, 'c1', 10).every((a) => a.allowed)).toBe(true);
    expect(limiter.check(anon, 'c1').allowed).toBe(false);
  });

  it('keeps clients apart', () => {
    const limiter = new RateLimiter(new ManualClock(Date.parse(T0)));
    drain(limiter, anon, 'a', 21);
    expect(limiter.check(anon, 'b').allowed).toBe(true);
  });

  it('reports remaining and reset per window', () => {
    const clock = new ManualClock(Date.parse(T0));
    const r = new RateLimiter(clock).check(auth, 'u1');
    expect(r.windows).toEqual([
      { window: 'minute', limit: 150, remaining: 149, resetSeconds: 1, resetAt: '2026-01-01T00:00:01.000Z' },
      { window: 'hour', limit: 5000, remaining: 4999, resetSeconds: 1, resetAt: '2026-01-01T00:00:01.000Z' },
      { window: 'day', limit: 50000, remaining: 49999, resetSeconds: 2, resetAt: '2026-01-01T00:00:02.000Z' },
    ]);
    expect(r.headers).toEqual({
      'RateLimit-Policy': '"pol_auth_001:minute";q=100;w=60, "pol_auth_001:hour";q=5000;w=3600, "pol_auth_001:day";q=50000;w=86400',
      RateLimit: '"pol_auth_001:minute";r=149;t=1, "pol_auth_001:hour";r=4999;t=1, "pol_auth_001:day";r=49999;t=2',
    });
  });
});

describe('RateLimiter: hour and day windows', () => {
  it('denies on the hour window once the minute bucket refilled but the hour is spent', () => {
    const clock = new ManualClock(Date.parse(T0));
    const limiter = new RateLimiter(clock);
    const p = tiny();
    expect(drain(limiter, p, 'c', 3).every((a) => a.allowed)).toBe(true);
    clock.advance(60_000);
    expect(limiter.check(p, 'c').allowed).toBe(true);
    expect(limiter.check(p, 'c').allowed).toBe(false);
    const denied = limiter.check(p, 'c');
    const hour = denied.windows.find((w) => w.window === 'hour')!;
    expect(hour.remaining).toBe(0);
    expect(denied.windows.find((w) => w.window === 'minute')!.remaining).toBeGreaterThan(0);
    // The hour bucket gains 4 tokens per hour: one token takes 15 minutes.
    expect(denied.retryAfterSeconds).toBeGreaterThan(60);
    expect(denied.retryAfterSeconds).toBeLessThanOrEqual(900);
  });

  it('denies on the day window while minute and hour still have tokens', () => {
    const clock = new ManualClock(Date.parse(T0));
    const limiter = new RateLimiter(clock);
    const p = tiny();
    expect(drain(limiter, p, 'c', 3).every((a) => a.allowed)).toBe(true);
    clock.advance(3_600_000);
    expect(drain(limiter, p, 'c', 3).every((a) => a.allowed)).toBe(true);
    clock.advance(60_000);
    const denied = limiter.check(p, 'c');
    expect(denied.allowed).toBe(false);
    const remaining = Object.fromEntries(denied.windows.map((w) => [w.window, w.remaining]));
    expect(remaining).toEqual({ minute: 2, hour: 1, day: 0 });
    // Six per day: one token every 4 h; 0.25 + a minute's worth had refilled, so a little under 3 h.
    expect(denied.retryAfterSeconds).toBe(10_740);
    expect(denied.windows.find((w) => w.window === 'day')!.resetAt).toBe(new Date(clock.now() + 86_400_000 - 3_660_000).toISOString());
  });

  it('holds a client to 5000 calls per hour once its hour bucket is drained', () => {
    const clock = new ManualClock(Date.parse(T0));
    const limiter = new RateLimiter(clock);
    // The seed's authenticated hour and day, with a minute window too wide to bind.
    const hourBound = { ...auth, perMinute: 5000, burst: 5000 };
    const perHour: number[] = [];
    for (let h = 0; h < 2; h++) {
      let allowed = 0;
      for (let s = 0; s < 3600; s++) {
        for (let i = 0; i < 3; i++) if (limiter.check(hourBound, 'u').allowed) allowed++;
        clock.advance(1000);
      }
      perHour.push(allowed);
    }
    // First hour: the full hour bucket plus its refill; afterwards the sustained rate.
    expect(perHour[0]).toBeGreaterThan(5000);
    expect(perHour[0]).toBeLessThanOrEqual(10_000);
    expect(perHour[1]).toBeGreaterThanOrEqual(4999);
    expect(perHour[1]).toBeLessThanOrEqual(5001);
  });
});

describe('RateLimiter: soft enforcement', () => {
  it('allows a premium client past its burst but flags exceeded, without Retry-After', () => {
    const limiter = new RateLimiter(new ManualClock(Date.parse(T0)));
    expect(drain(limiter, prem, 'p', 1500).every((a) => a.allowed && !a.exceeded)).toBe(true);
    const over = limiter.check(prem, 'p');
    expect(over).toMatchObject({ allowed: true, exceeded: true, enforcement: 'soft' });
    expect(over.retryAfterSeconds).toBeGreaterThan(0);
    expect(over.headers['Retry-After']).toBeUndefined();
    expect(limiter.counts).toEqual({ checks: 1501, denied: 0, exceededSoft: 1 });
  });
});

describe('RateLimiter: policy changes and memory', () => {
  it('starts buckets afresh when the policy changed', () => {
    const limiter = new RateLimiter(new ManualClock(Date.parse(T0)));
    drain(limiter, anon, 'c', 21);
    expect(limiter.check({ ...anon, updatedAt: '2026-01-01T00:00:01.000Z' }, 'c').allowed).toBe(true);
    limiter.forgetPolicy(anon.id);
    expect(limiter.trackedClients).toBe(0);
  });

  it('bounds the clients it remembers', () => {
    const limiter = new RateLimiter(new ManualClock(Date.parse(T0)), { maxClients: 8 });
    for (let i = 0; i < 50; i++) limiter.check(anon, `c${i}`);
    expect(limiter.trackedClients).toBeLessThanOrEqual(8);
  });

  it('allows everything, with no headers, when no policy applies', () => {
    expect(new RateLimiter(new ManualClock()).check(undefined, 'x')).toEqual({
      allowed: true,
      exceeded: false,
      enforcement: 'none',
      policyId: null,
      windows: [],
      headers: {},
    });
  });
});

describe('matchPolicy', () => {
  it('picks the most specific pattern of the client type', () => {
    const orders = { ...anon, id: 'pol_orders', endpointPattern: '/api/orders/*' };
    const list = [anon, auth, orders];
    expect(matchPolicy(list, 'anonymous', '/api/orders/42')?.id).toBe('pol_orders');
    expect(matchPolicy(list, 'anonymous', '/api/users')?.id).toBe('pol_anon_001');
    expect(matchPolicy(list, 'authenticated', '/api/orders/1')?.id).toBe('pol_auth_001');
    expect(matchPolicy(list, 'robot', '/x')).toBeUndefined();
    expect(matchPolicy([{ ...anon, endpointPattern: '/a.b' }], 'anonymous', '/aXb')).toBeUndefined();
  });
});
