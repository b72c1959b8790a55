import { formatDuration } from '../../../webview/protocol/format';

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

const OBJECTIVE_HELP = 'The objective is the share of good events, strictly between 0 and 1: 0.999 (or 99.9%) means 99.9% good.';

/**
 * The objective as typed in the wizard: a ratio (`0.999`) or a percentage (`99.9%`, or `99.9`,
 * which cannot be a ratio). Rejected with the reason when it is not strictly inside (0, 1).
 */
export function parseObjective(text: string): Parsed<number> {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, message: OBJECTIVE_HELP };
  const percent = trimmed.endsWith('%');
  const number = Number(percent ? trimmed.slice(0, -1).trim() : trimmed);
  if (!Number.isFinite(number)) return { ok: false, message: `"${trimmed}" is not a number. ${OBJECTIVE_HELP}` };
  const ratio = percent || number > 1 ? number / 100 : number;
  if (ratio <= 0 || ratio >= 1) {
    return { ok: false, message: `The objective must be > 0 and < 1 (got ${ratio}): 1 would leave no error budget at all, 0 would allow every event to fail.` };
  }
  return { ok: true, value: Number(ratio.toPrecision(12)) };
}

/** What an objective means over a window, shown under the input box while the user types. */
export function objectiveHint(objective: number, windowDays: number): string {
  const budgetRatio = 1 - objective;
  const outage = formatDuration(budgetRatio * windowDays * 86_400_000);
  return `${Number((objective * 100).toPrecision(8))}% good: an error budget of ${Number((budgetRatio * 100).toPrecision(6))}% of events, about ${outage} of full outage per ${windowDays} days.`;
}

/** A latency threshold in ms: a positive number up to one hour. */
export function parseThresholdMs(text: string): Parsed<number> {
  const n = Number(text.trim().replace(/ms$/i, '').trim());
  if (text.trim() === '' || !Number.isFinite(n)) return { ok: false, message: 'Type the threshold in milliseconds, e.g. 300: requests that take at most this long are good.' };
  if (n <= 0 || n > 3_600_000) return { ok: false, message: 'The threshold must be > 0 ms and at most 3,600,000 ms (one hour).' };
  return { ok: true, value: n };
}

const ID_PATTERN = /^[a-z][a-z0-9_]*$/;

/** An SLO id from its name (`Checkout latency` → `checkout_latency`), unique among `existing`. */
export function suggestSloId(name: string, existing: ReadonlySet<string>): string {
  let base = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 56);
  if (!ID_PATTERN.test(base)) base = `slo_${base}`.replace(/_+$/, '');
  if (!existing.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}_${n}`;
    if (!existing.has(candidate)) return candidate;
  }
}

/** Why an id typed by the user cannot be used, or undefined when it can. */
export function checkSloId(id: string, existing: ReadonlySet<string>): string | undefined {
  if (id.length < 2 || id.length > 64) return 'An SLO id has 2 to 64 characters.';
  if (!ID_PATTERN.test(id)) return 'An SLO id is lower-case letters, digits and "_", starting with a letter.';
  if (existing.has(id)) return `An SLO with id "${id}" exists already.`;
  return undefined;
}
