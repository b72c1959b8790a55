import { ErrorCode, RpcError } from '../protocol';
import type { StreamConfig } from './types';

/**
 * The streams a fresh daemon knows. The first three are the seed's event bus streams with their
 * retention; the domain streams are kept forever because services rebuild their state from them;
 * `default` (kept) takes whatever matches no other stream. Patterns use `**` so sub-types
 * (`incident.timeline.added`) route with their domain.
 */
export const DEFAULT_STREAMS: StreamConfig[] = [
  { name: 'api_events', retentionDays: 7, typePatterns: ['api.**'] },
  { name: 'security_events', retentionDays: 30, typePatterns: ['security.**'] },
  { name: 'system_events', retentionDays: 14, typePatterns: ['system.**'] },
  { name: 'slo_events', retentionDays: null, typePatterns: ['slo.**'] },
  { name: 'incident_events', retentionDays: null, typePatterns: ['incident.**', 'oncall.**', 'escalation.**', 'review.**'] },
  { name: 'dr_events', retentionDays: null, typePatterns: ['dr.**', 'backup.**'] },
  { name: 'config_events', retentionDays: null, typePatterns: ['config.**', 'secret.**'] },
  { name: 'governance_events', retentionDays: null, typePatterns: ['governance.**'] },
  { name: 'resilience_events', retentionDays: null, typePatterns: ['resilience.**'] },
  { name: 'daemon_events', retentionDays: null, typePatterns: ['daemon.**', 'scheduler.**', 'auth.**'] },
  { name: 'default', retentionDays: null, typePatterns: [] },
];

export const DEFAULT_STREAM_NAME = 'default';

const isRest = (segment: string): boolean => segment === '**' || segment === '#';
const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Turn a type pattern into an anchored regular expression. Segments are dot-separated; `*` matches
 * exactly one segment; `**` or `#` matches zero or more segments (AMQP topic semantics), so
 * `api.**` matches `api`, `api.request` and `api.request.slow`.
 */
export function compileTypePattern(pattern: string): RegExp {
  const segments = pattern.split('.');
  let source = '^';
  segments.forEach((segment, i) => {
    const leadingRestBefore = i === 1 && isRest(segments[0]!);
    if (isRest(segment)) {
      if (i === 0) {
        // A leading rest swallows its own trailing dot so zero segments leave no stray separator.
        source += segments.length > 1 ? '(?:[^.]+\\.)*' : '(?:[^.]+(?:\\.[^.]+)*)?';
      } else {
        source += '(?:\\.[^.]+)*';
      }
      return;
    }
    const body = segment === '*' ? '[^.]+' : escapeRegExp(segment);
    source += i === 0 || leadingRestBefore ? body : `\\.${body}`;
  });
  return new RegExp(`${source}$`);
}

const compiledPatterns = new Map<string, RegExp>();
const MAX_CACHED_PATTERNS = 1024;

/** True when `type` matches `pattern` (see compileTypePattern). Compiled patterns are cached. */
export function matchesTypePattern(pattern: string, type: string): boolean {
  let re = compiledPatterns.get(pattern);
  if (!re) {
    // Patterns come from configuration and subscriptions: a small set. The bound only guards
    // against a client that invents a new pattern per call.
    if (compiledPatterns.size >= MAX_CACHED_PATTERNS) compiledPatterns.clear();
    re = compileTypePattern(pattern);
    compiledPatterns.set(pattern, re);
  }
  return re.test(type);
}

/** True when `type` matches any of `patterns`. */
export const matchesAnyTypePattern = (patterns: readonly string[], type: string): boolean =>
  patterns.some((p) => matchesTypePattern(p, type));

/** Retention class key of a retention setting, as used in segment file names (`keep`, `r7d`, `r0.5d`). */
export function retentionClassKey(retentionDays: number | null): string {
  return retentionDays === null ? 'keep' : `r${retentionDays}d`;
}

/** Inverse of retentionClassKey; undefined for a key that is not one. */
export function parseRetentionClassKey(key: string): { retentionDays: number | null } | undefined {
  if (key === 'keep') return { retentionDays: null };
  const m = /^r(\d+(?:\.\d+)?)d$/.exec(key);
  if (!m) return undefined;
  const days = Number(m[1]);
  return days > 0 ? { retentionDays: days } : undefined;
}

/** Resolves the stream (and so the retention class) of each appended event. */
export class StreamRouter {
  readonly configs: readonly StreamConfig[];
  private readonly byName = new Map<string, StreamConfig>();
  private readonly byType = new Map<string, StreamConfig>();

  constructor(streams: readonly StreamConfig[]) {
    const configs = [...streams];
    if (!configs.some((s) => s.name === DEFAULT_STREAM_NAME)) {
      configs.push({ name: DEFAULT_STREAM_NAME, retentionDays: null, typePatterns: [] });
    }
    for (const s of configs) {
      if (this.byName.has(s.name)) throw new Error(`Stream "${s.name}" is configured twice.`);
      if (s.retentionDays !== null && !(Number.isFinite(s.retentionDays) && s.retentionDays > 0)) {
        throw new Error(`Stream "${s.name}" has retentionDays ${s.retentionDays}; use a positive number of days or null.`);
      }
      this.byName.set(s.name, s);
    }
    this.configs = configs;
  }

  get(name: string): StreamConfig | undefined {
    return this.byName.get(name);
  }

  /** The stream an event goes to: the explicit one (which must exist), else the first pattern match, else `default`. */
  resolve(type: string, explicit?: string): StreamConfig {
    if (explicit !== undefined) {
      const s = this.byName.get(explicit);
      if (!s) {
        throw new RpcError(ErrorCode.NotFound, `No stream named "${explicit}". Known streams: ${this.names().join(', ')}.`, {
          kind: 'stream',
          id: explicit,
          known: this.names(),
        });
      }
      return s;
    }
    let s = this.byType.get(type);
    if (!s) {
      s = this.configs.find((c) => matchesAnyTypePattern(c.typePatterns, type)) ?? this.byName.get(DEFAULT_STREAM_NAME)!;
      // Event types are a small vocabulary; user-published ones are bounded by what callers invent.
      if (this.byType.size < 10_000) this.byType.set(type, s);
    }
    return s;
  }

  names(): string[] {
    return this.configs.map((c) => c.name);
  }
}
