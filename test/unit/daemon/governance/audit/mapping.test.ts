import owaspRuleset from '@stoplight/spectral-owasp-ruleset';
import { describe, expect, it } from 'vitest';
import { CATEGORY_COVERAGE, categoryOfRule, OWASP_CATEGORIES, RULE_CATEGORIES } from '../../../../../daemon/services/governance/audit/categories';
import { CUSTOM_RULES } from '../../../../../daemon/services/governance/audit/customRules';

const owaspRules = Object.keys((owaspRuleset as { rules: Record<string, unknown> }).rules);

describe('OWASP category mapping', () => {
  it('maps every rule of the installed OWASP ruleset to the category its name carries', () => {
    expect(owaspRules.length).toBeGreaterThan(20);
    for (const rule of owaspRules) {
      const fromName = /^owasp:(api\d+):2023-/.exec(rule)?.[1]?.toUpperCase();
      expect(categoryOfRule(rule), rule).toBe(fromName);
    }
  });

  it('has no stale entries: every owasp entry is a rule of the installed ruleset', () => {
    for (const rule of Object.keys(RULE_CATEGORIES).filter((r) => r.startsWith('owasp:'))) expect(owaspRules, rule).toContain(rule);
  });

  it('maps our own rules to API6, API9 and API10', () => {
    const ours = Object.keys(CUSTOM_RULES).map((r) => categoryOfRule(r));
    expect(new Set(ours)).toEqual(new Set(['API6', 'API9', 'API10']));
  });

  it('gives every OWASP category at least one rule, and unknown rules no category', () => {
    for (const c of OWASP_CATEGORIES) expect(Object.values(RULE_CATEGORIES), c).toContain(c);
    expect(categoryOfRule('some-future-rule')).toBeUndefined();
    expect(categoryOfRule('parser')).toBe('structure');
    expect(categoryOfRule('invalid-ref')).toBe('structure');
  });

  it('documents the coverage of all ten categories', () => {
    expect(Object.keys(CATEGORY_COVERAGE).sort()).toEqual([...OWASP_CATEGORIES].sort());
  });
});
