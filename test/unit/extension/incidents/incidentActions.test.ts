import { describe, expect, it } from 'vitest';
import { ErrorCode, INCIDENT_STATUSES, INCIDENT_TRANSITIONS, RpcError } from '../../../../daemon/protocol';
import {
  keepLines,
  oneLine,
  incidentRefOf,
  isReviewRequiredError,
  nextStatusChoices,
  parseActionItem,
  parseCreateArgs,
  parseServices,
  SEVERITY_CHOICES,
  validateHandle,
  validateRequiredText,
  validateTitle,
} from '../../../../extension/features/incidents/incidentActions';

describe('nextStatusChoices', () => {
  it('offers exactly the next states the lifecycle table allows, for every status', () => {
    for (const status of INCIDENT_STATUSES) {
      expect(nextStatusChoices(status).map((c) => c.value)).toEqual(INCIDENT_TRANSITIONS[status]);
    }
  });
  it('calls the move back from resolved a reopen', () => {
    const reopen = nextStatusChoices('resolved').find((c) => c.value === 'investigating');
    expect(reopen?.description).toMatch(/^Reopen/);
  });
  it('offers nothing once closed', () => {
    expect(nextStatusChoices('closed')).toEqual([]);
  });
});

describe('SEVERITY_CHOICES', () => {
  it('lists SEV1..SEV4 in order, each with what it means', () => {
    expect(SEVERITY_CHOICES.map((c) => c.value)).toEqual(['SEV1', 'SEV2', 'SEV3', 'SEV4']);
    expect(SEVERITY_CHOICES[0]?.description).toMatch(/^Critical: Outage/);
  });
});

describe('input validation', () => {
  it('wants a title of 1..200 characters', () => {
    expect(validateTitle('   ')).toMatch(/title/);
    expect(validateTitle('x'.repeat(201))).toMatch(/200/);
    expect(validateTitle('Checkout returns 502')).toBeUndefined();
  });
  it('names what is missing in a required text', () => {
    expect(validateRequiredText('The resolution')(' ')).toBe('The resolution is required');
    expect(validateRequiredText('The resolution')('rolled back')).toBeUndefined();
  });
  it('accepts an empty handle (clears the role) but not one with spaces', () => {
    expect(validateHandle('')).toBeUndefined();
    expect(validateHandle('alice')).toBeUndefined();
    expect(validateHandle('alice smith')).toMatch(/no spaces/);
  });
});

describe('parseServices', () => {
  it('splits on commas, trims and drops empties and duplicates', () => {
    expect(parseServices(' checkout, payments api ,, checkout ')).toEqual({ ok: true, value: ['checkout', 'payments api'] });
    expect(parseServices('')).toEqual({ ok: true, value: [] });
  });
  it('refuses an over-long name and too many names', () => {
    expect(parseServices('x'.repeat(201)).ok).toBe(false);
    expect(parseServices(Array.from({ length: 101 }, (_, i) => `s${i}`).join(',')).ok).toBe(false);
  });
});

describe('parseActionItem', () => {
  it('reads owner | due | what', () => {
    expect(parseActionItem('alice | 2026-12-01 | Add a canary | then alert')).toEqual({
      ok: true,
      value: { owner: 'alice', due: '2026-12-01', description: 'Add a canary | then alert', done: false },
    });
  });
  it('says what is wrong', () => {
    expect(parseActionItem('alice 2026-12-01')).toEqual({ ok: false, error: 'Write it as: owner | YYYY-MM-DD | what to do' });
    expect(parseActionItem('alice | 2026-13-40 | x')).toEqual({ ok: false, error: '"2026-13-40" is not a date like 2026-12-01' });
    expect(parseActionItem('alice smith | 2026-12-01 | x').ok).toBe(false);
    expect(parseActionItem('alice | 2026-12-01 |  ').ok).toBe(false);
  });
});

describe('parseCreateArgs', () => {
  it('takes the pre-fill an SLO page alert passes', () => {
    expect(parseCreateArgs({ title: 'Checkout burning budget', severity: 'SEV2', sloIds: ['availability_30d'], services: ['checkout'] })).toEqual({
      title: 'Checkout burning budget',
      severity: 'SEV2',
      sloIds: ['availability_30d'],
      services: ['checkout'],
    });
  });
  it('ignores what is not a pre-fill (palette, tree row, bad shapes)', () => {
    expect(parseCreateArgs(undefined)).toEqual({});
    expect(parseCreateArgs('x')).toEqual({});
    expect(parseCreateArgs([1])).toEqual({});
    expect(parseCreateArgs({ severity: 'SEV9' })).toEqual({});
  });
});

describe('incidentRefOf', () => {
  it('finds the incident in a tree row, an object or a string', () => {
    expect(incidentRefOf({ kind: 'incident', id: 'incident:abc', incidentId: 'abc' })).toBe('abc');
    expect(incidentRefOf({ id: 'INC-4' })).toBe('INC-4');
    expect(incidentRefOf(' INC-5 ')).toBe('INC-5');
  });
  it('is undefined for nothing, a group row or a tree id', () => {
    expect(incidentRefOf(undefined)).toBeUndefined();
    expect(incidentRefOf({ kind: 'group', id: 'group:SEV1' })).toBeUndefined();
    expect(incidentRefOf({ id: 'incident:abc' })).toBeUndefined();
  });
});

describe('isReviewRequiredError', () => {
  it('recognises the daemon refusing to close without a review', () => {
    expect(isReviewRequiredError(new RpcError(ErrorCode.FailedPrecondition, 'submit its review', { id: 'x', severity: 'SEV1', missing: 'review' }))).toBe(true);
  });
  it('does not mistake other failures for it', () => {
    expect(isReviewRequiredError(new RpcError(ErrorCode.FailedPrecondition, 'closed', { id: 'x' }))).toBe(false);
    expect(isReviewRequiredError(new RpcError(ErrorCode.InvalidTransition, 'no', { missing: 'review' }))).toBe(false);
    expect(isReviewRequiredError(new Error('x'))).toBe(false);
  });
});

describe('review draft in a one-line input box', () => {
  const draft = 'INC-3 "Checkout 5xx" (SEV2), detected by slo x.\n\nTimeline:\n- 10:00 transition: detected → acknowledged (ann)';

  it('shows the lines joined and gives back the multi-line original when accepted unchanged', () => {
    const shown = oneLine(draft)!;
    expect(shown).not.toContain('\n');
    expect(keepLines(draft, shown)).toBe(draft);
  });

  it('turns the markers of an edited text back into newlines', () => {
    const edited = `${oneLine(draft)!} ⏎ Customers saw 502 for 40 minutes.`;
    expect(keepLines(draft, edited)).toBe(`${draft}\nCustomers saw 502 for 40 minutes.`);
  });

  it('passes text through when there was no draft', () => {
    expect(oneLine(undefined)).toBeUndefined();
    expect(keepLines(undefined, 'typed by hand')).toBe('typed by hand');
  });
});
