import { describe, expect, it } from 'vitest';
import { RestartBudget } from '../../../extension/daemon/restartBudget';

const MIN = 60_000;

describe('RestartBudget', () => {
  it('allows 3 restarts within 3 minutes and refuses the 4th', () => {
    const budget = new RestartBudget(3, 3 * MIN);
    expect(budget.tryConsume(0)).toBe(true);
    expect(budget.tryConsume(10_000)).toBe(true);
    expect(budget.tryConsume(20_000)).toBe(true);
    expect(budget.tryConsume(30_000)).toBe(false);
    expect(budget.remaining(30_000)).toBe(0);
  });

  it('frees a restart once the oldest one leaves the sliding window', () => {
    const budget = new RestartBudget(3, 3 * MIN);
    budget.tryConsume(0);
    budget.tryConsume(MIN);
    budget.tryConsume(2 * MIN);
    expect(budget.tryConsume(3 * MIN - 1)).toBe(false);
    expect(budget.tryConsume(3 * MIN)).toBe(true);
    expect(budget.remaining(3 * MIN)).toBe(0);
    expect(budget.remaining(5 * MIN)).toBe(2);
  });

  it('a refused attempt does not count as a restart', () => {
    const budget = new RestartBudget(1, MIN);
    expect(budget.tryConsume(0)).toBe(true);
    expect(budget.tryConsume(1000)).toBe(false);
    expect(budget.tryConsume(MIN)).toBe(true);
  });

  it('reset gives the whole budget back', () => {
    const budget = new RestartBudget(2, MIN);
    budget.tryConsume(0);
    budget.tryConsume(1);
    budget.reset();
    expect(budget.remaining(2)).toBe(2);
  });

  it('rejects nonsense limits', () => {
    expect(() => new RestartBudget(-1, MIN)).toThrow(RangeError);
    expect(() => new RestartBudget(3, 0)).toThrow(RangeError);
  });
});
