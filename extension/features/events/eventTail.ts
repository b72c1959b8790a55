import { EventTypePattern, type EventEnvelope } from '../../../daemon/protocol';

/** Events the live tail keeps by default; older ones fall off the end. */
export const DEFAULT_TAIL_LIMIT = 100;

/**
 * True when `type` matches `pattern` as the daemon matches subscription filters: segments split on
 * `.`, `*` stands for one segment, `**` or `#` for any number of them (zero included).
 */
export function matchesTypePattern(pattern: string, type: string): boolean {
  const p = pattern.split('.');
  const t = type.split('.');
  const match = (i: number, j: number): boolean => {
    if (i === p.length) return j === t.length;
    const segment = p[i]!;
    if (segment === '**' || segment === '#') {
      for (let k = j; k <= t.length; k++) if (match(i + 1, k)) return true;
      return false;
    }
    if (j === t.length) return false;
    return (segment === '*' || segment === t[j]) && match(i + 1, j + 1);
  };
  return match(0, 0);
}

export type ParsedPatterns = { readonly ok: true; readonly patterns: readonly string[] } | { readonly ok: false; readonly message: string };

/** Comma- or space-separated type patterns as typed in an input box; empty means "every type". */
export function parseTypePatterns(text: string): ParsedPatterns {
  const patterns = text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const pattern of patterns) {
    const checked = EventTypePattern.safeParse(pattern);
    if (!checked.success) return { ok: false, message: `"${pattern}": ${checked.error.issues[0]?.message ?? 'not a type pattern'}` };
  }
  if (patterns.length > 50) return { ok: false, message: 'At most 50 patterns.' };
  return { ok: true, patterns };
}

/** What the tree shows of the tail. */
export interface TailSnapshot {
  readonly paused: boolean;
  /** Type patterns events must match; empty = every event. */
  readonly patterns: readonly string[];
  /** Newest first. */
  readonly events: readonly EventEnvelope[];
  /** Matching events that arrived while paused (not kept). */
  readonly missed: number;
  readonly limit: number;
}

/**
 * The live tail: the newest matching events, bounded, newest first. Paused, it keeps what it shows
 * and only counts what it misses, so the list holds still while the user reads it.
 */
export class EventTail {
  private events: EventEnvelope[] = [];
  private paused = false;
  private patterns: readonly string[] = [];
  private missed = 0;

  constructor(private readonly limit = DEFAULT_TAIL_LIMIT) {}

  /** Offer an appended event; true when what the tail shows changed. */
  push(event: EventEnvelope): boolean {
    if (this.patterns.length > 0 && !this.patterns.some((p) => matchesTypePattern(p, event.type))) return false;
    if (this.paused) {
      this.missed++;
      return true;
    }
    // The session may hand over an event twice around a reconnect (catch-up): keep one.
    if (this.events.some((e) => e.seq === event.seq)) return false;
    this.events.unshift(event);
    if (this.events.length > this.limit) this.events.length = this.limit;
    return true;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.missed = 0;
  }

  /** Narrow the tail to these patterns; events already shown that do not match are dropped. */
  setPatterns(patterns: readonly string[]): void {
    this.patterns = [...patterns];
    if (patterns.length > 0) this.events = this.events.filter((e) => patterns.some((p) => matchesTypePattern(p, e.type)));
  }

  clear(): void {
    this.events = [];
    this.missed = 0;
  }

  find(seq: number): EventEnvelope | undefined {
    return this.events.find((e) => e.seq === seq);
  }

  snapshot(): TailSnapshot {
    return { paused: this.paused, patterns: this.patterns, events: [...this.events], missed: this.missed, limit: this.limit };
  }
}
