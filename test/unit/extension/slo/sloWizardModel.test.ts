import { describe, expect, it } from 'vitest';
import { checkSloId, objectiveHint, parseObjective, parseThresholdMs, suggestSloId } from '../../../../extension/features/slo/sloWizardModel';

describe('parseObjective', () => {
  it('accepts ratios and percentages', () => {
    expect(parseObjective('0.999')).toEqual({ ok: true, value: 0.999 });
    expect(parseObjective('99.9%')).toEqual({ ok: true, value: 0.999 });
    expect(parseObjective(' 99.95 ')).toEqual({ ok: true, value: 0.9995 });
  });

  it('rejects values outside (0, 1) and says why', () => {
    for (const text of ['1', '0', '100%', '-0.5', '150']) {
      const parsed = parseObjective(text);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.message).toMatch(/> 0 and < 1/);
    }
    const junk = parseObjective('abc');
    expect(junk.ok || junk.message).toMatch(/not a number/);
  });

  it('explains the budget an objective leaves', () => {
    expect(objectiveHint(0.999, 30)).toBe('99.9% good: an error budget of 0.1% of events, about 43m 12s of full outage per 30 days.');
  });
});

describe('parseThresholdMs', () => {
  it('takes positive milliseconds up to an hour', () => {
    expect(parseThresholdMs('300')).toEqual({ ok: true, value: 300 });
    expect(parseThresholdMs('250 ms')).toEqual({ ok: true, value: 250 });
    expect(parseThresholdMs('0').ok).toBe(false);
    expect(parseThresholdMs('').ok).toBe(false);
    expect(parseThresholdMs('3600001').ok).toBe(false);
  });
});

describe('SLO ids', () => {
  it('derives a valid, unique id from the name', () => {
    expect(suggestSloId('Checkout latency (p99)', new Set())).toBe('checkout_latency_p99');
    expect(suggestSloId('Checkout latency', new Set(['checkout_latency']))).toBe('checkout_latency_2');
    expect(suggestSloId('99% API', new Set())).toBe('slo_99_api');
    expect(checkSloId(suggestSloId('Ünïcode näme', new Set()), new Set())).toBeUndefined();
  });

  it('explains a bad id', () => {
    expect(checkSloId('Bad-Id', new Set())).toMatch(/lower-case/);
    expect(checkSloId('taken', new Set(['taken']))).toMatch(/exists/);
  });
});
