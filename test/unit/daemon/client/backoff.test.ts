import { describe, expect, it } from 'vitest';
import { DEFAULT_RECONNECT, backoffDelay, type ReconnectOptions } from '../../../../daemon/client';
import { resolveReconnectOptions } from '../../../../daemon/client/backoff';

const noJitter: ReconnectOptions = { ...DEFAULT_RECONNECT, jitter: 0 };

describe('backoffDelay', () => {
  it('doubles from 250 ms and stops growing at 10 s with the defaults', () => {
    const schedule = Array.from({ length: 9 }, (_, retry) => backoffDelay(retry, noJitter));
    expect(schedule).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });

  it('never exceeds the cap even after very many retries', () => {
    expect(backoffDelay(10_000, noJitter)).toBe(10_000);
  });

  it('draws the jittered delay from [base * (1 - jitter), base]', () => {
    const opts = { ...DEFAULT_RECONNECT, jitter: 0.5 };
    expect(backoffDelay(2, opts, () => 0)).toBe(1000);
    expect(backoffDelay(2, opts, () => 0.5)).toBe(750);
    expect(backoffDelay(2, opts, () => 0.999_999)).toBe(500);
  });

  it('spreads clients that retry at the same moment', () => {
    const delays = new Set([0.1, 0.4, 0.7, 0.9].map((r) => backoffDelay(3, DEFAULT_RECONNECT, () => r)));
    expect(delays.size).toBe(4);
  });

  it('honours a custom factor and initial delay', () => {
    const opts: ReconnectOptions = { initialDelayMs: 100, maxDelayMs: 1000, factor: 3, jitter: 0, maxAttempts: 5 };
    expect([0, 1, 2, 3].map((r) => backoffDelay(r, opts))).toEqual([100, 300, 900, 1000]);
  });
});

describe('resolveReconnectOptions', () => {
  it('fills defaults: 250 ms, 10 s, factor 2, unlimited attempts', () => {
    expect(resolveReconnectOptions(undefined)).toMatchObject({ initialDelayMs: 250, maxDelayMs: 10_000, factor: 2, maxAttempts: Infinity });
    expect(resolveReconnectOptions({ maxAttempts: 3 }).maxAttempts).toBe(3);
  });

  it('refuses options that make no schedule', () => {
    expect(() => resolveReconnectOptions({ jitter: 2 })).toThrow(/jitter/);
    expect(() => resolveReconnectOptions({ factor: 0.5 })).toThrow(/factor/);
    expect(() => resolveReconnectOptions({ initialDelayMs: 500, maxDelayMs: 100 })).toThrow(/maxDelayMs/);
    expect(() => resolveReconnectOptions({ maxAttempts: 0 })).toThrow(/maxAttempts/);
  });
});
