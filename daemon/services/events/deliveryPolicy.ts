import type { DurableFilter, PayloadPredicate, Priority } from '../../protocol';
import { matchesTypePattern } from '../../store/streams';
import type { EventRecord } from '../../store/types';

const PRIORITY_RANK: Record<Priority, number> = { low: 0, normal: 1, high: 2, critical: 3 };

/** Event types never delivered to durable subscriptions: their own bookkeeping (a checkpoint would feed itself). */
export const BOOKKEEPING_TYPE = 'subscription.**';

function fieldAt(payload: unknown, path: string): { found: boolean; value: unknown } {
  let cur: unknown = payload;
  for (const key of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || !Object.prototype.hasOwnProperty.call(cur, key)) return { found: false, value: undefined };
    cur = (cur as Record<string, unknown>)[key];
  }
  return { found: true, value: cur };
}

/** Deep equality of JSON values (key order ignored). */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

export function matchesPredicate(payload: unknown, p: PayloadPredicate): boolean {
  const { found, value } = fieldAt(payload, p.path);
  switch (p.op) {
    case 'exists':
      return found;
    case 'eq':
      return found && jsonEqual(value, p.value);
    case 'neq':
      return !found || !jsonEqual(value, p.value);
    case 'in':
      return found && (p.value as unknown[]).some((v) => jsonEqual(value, v));
    case 'gt':
    case 'lt': {
      // Numbers compare with numbers, strings with strings (ISO times sort as strings); anything else never matches.
      if (typeof value !== typeof p.value || (typeof value !== 'number' && typeof value !== 'string')) return false;
      return p.op === 'gt' ? (value as number | string) > (p.value as number | string) : (value as number | string) < (p.value as number | string);
    }
  }
}

/** Whether a durable subscription with this filter receives the event. */
export function matchesDurableFilter(filter: DurableFilter, e: EventRecord): boolean {
  if (matchesTypePattern(BOOKKEEPING_TYPE, e.type)) return false;
  if (filter.streams && filter.streams.length > 0 && !filter.streams.includes(e.stream)) return false;
  if (filter.minPriority && PRIORITY_RANK[e.priority] < PRIORITY_RANK[filter.minPriority]) return false;
  if (filter.types && filter.types.length > 0 && !filter.types.some((t) => matchesTypePattern(t, e.type))) return false;
  return (filter.where ?? []).every((p) => matchesPredicate(e.payload, p));
}

/**
 * Delay before attempt `attempt + 1` after `attempt` failed, ms: initialMs × 2^(attempt−1), capped at
 * maxMs, then up to `jitter` of it taken off at random (`random` answers [0, 1)), so consumers that
 * failed together do not retry together.
 */
export function retryDelay(attempt: number, backoff: { initialMs: number; maxMs: number; jitter: number }, random: () => number): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(Math.max(attempt - 1, 0), 40));
  return Math.round(base * (1 - backoff.jitter * random()));
}

/**
 * The checkpoint a subscription may persist: every seq up to it was either not matching, acked or
 * parked. `cursor` is the highest seq read from the log; `outstanding` the seqs read but unresolved.
 */
export function watermark(cursor: number, outstanding: Iterable<number>): number {
  let low = Infinity;
  for (const s of outstanding) if (s < low) low = s;
  return low === Infinity ? cursor : Math.min(cursor, low - 1);
}
