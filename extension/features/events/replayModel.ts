import type { ParamsOf, ReplayEvents } from '../../../daemon/protocol';

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

export interface SeqRange {
  readonly fromSeq: number;
  /** Inclusive; absent = up to the head of the log. */
  readonly toSeq?: number;
}

export interface TimeRange {
  /** ISO-8601, inclusive. */
  readonly from: string;
  /** ISO-8601, exclusive; absent = up to now. */
  readonly to?: string;
}

const SEQ = /^\d+$/;

/**
 * A sequence range as typed: `120` (from 120 on), `120-200` or `120..200` (both inclusive). The
 * start must be a stored sequence number, so a range past the head is refused here, not silently
 * replayed as nothing.
 */
export function parseSeqRange(text: string, headSeq: number): Parsed<SeqRange> {
  const t = text.trim();
  if (t === '') return { ok: false, message: 'Give a sequence number or a range, e.g. 120 or 120-200.' };
  const parts = t.split(/\s*(?:\.\.|-)\s*/);
  if (parts.length > 2 || parts.some((p) => !SEQ.test(p))) return { ok: false, message: 'Use whole numbers: 120, or 120-200.' };
  const [from, to] = parts.map(Number) as [number, number | undefined];
  if (from < 1) return { ok: false, message: 'Sequence numbers start at 1.' };
  if (to !== undefined && to < from) return { ok: false, message: `The range ends (${to}) before it starts (${from}).` };
  if (from > headSeq) return { ok: false, message: `The log ends at seq ${headSeq}; start at or below it.` };
  return { ok: true, value: to === undefined ? { fromSeq: from } : { fromSeq: from, toSeq: to } };
}

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A time range as typed: `30m`, `2h`, `1d` (the last so long), or `<ISO time>` (from then on), or
 * `<ISO time> .. <ISO time>`.
 */
export function parseTimeRange(text: string, nowMs: number): Parsed<TimeRange> {
  const t = text.trim();
  const relative = /^(\d+)\s*([mhd])$/.exec(t);
  if (relative) {
    const ms = Number(relative[1]) * UNIT_MS[relative[2]!]!;
    if (ms <= 0) return { ok: false, message: 'The duration must be more than zero.' };
    return { ok: true, value: { from: new Date(nowMs - ms).toISOString() } };
  }
  const parts = t.split(/\s*\.\.\s*/);
  if (t === '' || parts.length > 2) return { ok: false, message: 'Give 30m, 2h or 1d, or an ISO time, or "<ISO time> .. <ISO time>".' };
  const times = parts.map((p) => Date.parse(p));
  const bad = parts.findIndex((p, i) => !/^\d{4}-\d{2}-\d{2}T/.test(p) || Number.isNaN(times[i]));
  if (bad !== -1) return { ok: false, message: `"${parts[bad]}" is not an ISO time like 2026-01-01T10:00:00Z.` };
  const [from, to] = times as [number, number | undefined];
  if (to !== undefined && to <= from) return { ok: false, message: 'The end must be after the start.' };
  if (from >= nowMs) return { ok: false, message: 'The start is in the future.' };
  return { ok: true, value: to === undefined ? { from: new Date(from).toISOString() } : { from: new Date(from).toISOString(), to: new Date(to).toISOString() } };
}

export interface ReplayChoice {
  readonly subscription: string;
  readonly types: readonly string[];
  readonly streams: readonly string[];
  readonly range: ({ readonly kind: 'seq' } & SeqRange) | ({ readonly kind: 'time' } & TimeRange);
}

/** The `events/replay` params of a finished QuickPick flow; empty filters are left out (= the subscription's own). */
export function replayParams(choice: ReplayChoice): ParamsOf<typeof ReplayEvents> {
  const { range } = choice;
  return {
    name: choice.subscription,
    ...(choice.types.length > 0 ? { types: [...choice.types] } : {}),
    ...(choice.streams.length > 0 ? { streams: [...choice.streams] } : {}),
    ...(range.kind === 'seq' ? { fromSeq: range.fromSeq, ...(range.toSeq !== undefined ? { toSeq: range.toSeq } : {}) } : { from: range.from, ...(range.to !== undefined ? { to: range.to } : {}) }),
  };
}

/** The range in words for the progress and result messages. */
export function describeRange(range: ReplayChoice['range']): string {
  if (range.kind === 'seq') return range.toSeq === undefined ? `seq ${range.fromSeq} onwards` : `seq ${range.fromSeq}–${range.toSeq}`;
  return range.to === undefined ? `since ${range.from}` : `${range.from} to ${range.to}`;
}

/** What the user is told once the daemon accepted the replay. */
export function replayResultMessage(choice: ReplayChoice, count: number): string {
  const range = describeRange(choice.range);
  if (count === 0) return `No event of ${range} matched the filter of ${choice.subscription}: nothing was re-delivered.`;
  return `${count === 1 ? '1 event' : `${count} events`} of ${range} re-delivered to ${choice.subscription}, marked as replay.`;
}

/** Why a subscription cannot be replayed to right now, or undefined when it can. */
export function replayBlocker(sub: { readonly name: string; readonly consumer?: string }): string | undefined {
  return sub.consumer === undefined
    ? `Subscription ${sub.name} has no consumer attached: replayed events go to the attached consumer, so start its client process first.`
    : undefined;
}
