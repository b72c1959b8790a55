import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Throttle } from '../../../extension/shared/throttle';

describe('Throttle', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs the first trigger at once and collapses a burst into one trailing run', () => {
    const fn = vi.fn();
    const t = new Throttle(fn, 1000);
    t.trigger();
    expect(fn).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 50; i++) t.trigger();
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1000);
    expect(fn).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(5000);
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('runs again at once after a quiet interval', () => {
    const fn = vi.fn();
    const t = new Throttle(fn, 1000);
    t.trigger();
    vi.advanceTimersByTime(1500);
    t.trigger();
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('does nothing after dispose, not even a pending trailing run', () => {
    const fn = vi.fn();
    const t = new Throttle(fn, 1000);
    t.trigger();
    t.trigger();
    t.dispose();
    vi.advanceTimersByTime(2000);
    t.trigger();
    expect(fn).toHaveBeenCalledTimes(1);
  });
});
