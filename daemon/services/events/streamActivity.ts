import { ACTIVITY_WINDOW_MINUTES, ErrorCode, RpcError, type ActivityBucket, type ParsedParamsOf, type ResultOf, type StreamActivity } from '../../protocol';
import type { EventRecord, Projection, StreamConfig } from '../../store/types';

const MINUTE_MS = 60_000;

interface Snapshot {
  /** Epoch minute of the newest event applied. */
  latest: number;
  /** [epoch minute, counts per stream] for the minutes still kept. */
  minutes: [number, Record<string, number>][];
}

/**
 * Events appended per stream and minute over the last day, so "events per stream over time" is
 * answered from memory instead of scanning the log. Pruning follows the newest event's time, not
 * the wall clock, so applying the same log always gives the same state.
 */
export class StreamActivityProjection implements Projection {
  readonly name = 'streamActivity';
  private minutes = new Map<number, Map<string, number>>();
  private latest = 0;

  apply(event: EventRecord): void {
    const at = Date.parse(event.time);
    if (Number.isNaN(at)) return;
    const minute = Math.floor(at / MINUTE_MS);
    if (minute > this.latest) {
      this.latest = minute;
      this.prune();
    }
    if (minute <= this.latest - ACTIVITY_WINDOW_MINUTES) return;
    let counts = this.minutes.get(minute);
    if (!counts) {
      counts = new Map();
      this.minutes.set(minute, counts);
    }
    counts.set(event.stream, (counts.get(event.stream) ?? 0) + 1);
  }

  snapshot(): Snapshot {
    return { latest: this.latest, minutes: [...this.minutes].map(([m, c]) => [m, Object.fromEntries(c)]) };
  }

  restore(state: unknown): void {
    const s = state as Snapshot;
    if (typeof s?.latest !== 'number' || !Array.isArray(s.minutes)) throw new Error('not a streamActivity snapshot');
    this.reset();
    this.latest = s.latest;
    for (const [minute, counts] of s.minutes) this.minutes.set(minute, new Map(Object.entries(counts)));
  }

  reset(): void {
    this.minutes.clear();
    this.latest = 0;
  }

  /**
   * Counts per bucket over the `minutes` before `nowMs`. Buckets are aligned to multiples of
   * `bucketMinutes` since the epoch and every one of the range is listed, empty or not.
   */
  query(params: ParsedParamsOf<typeof StreamActivity>, nowMs: number, streams: readonly StreamConfig[]): ResultOf<typeof StreamActivity> {
    const known = new Set(streams.map((s) => s.name));
    const unknown = params.streams?.find((s) => !known.has(s));
    if (unknown !== undefined) {
      throw new RpcError(ErrorCode.InvalidParams, `Invalid params for events/activity: streams: unknown stream "${unknown}"`, {
        method: 'events/activity',
        issues: [{ path: 'streams', message: `unknown stream; known streams: ${[...known].join(', ')}` }],
      });
    }
    const wanted = params.streams ? new Set(params.streams) : undefined;
    const size = params.bucketMinutes;
    const nowMinute = Math.floor(nowMs / MINUTE_MS);
    const lastBucket = Math.floor(nowMinute / size) * size;
    const firstBucket = Math.floor((nowMinute - params.minutes + 1) / size) * size;
    const buckets: ActivityBucket[] = [];
    for (let start = firstBucket; start <= lastBucket; start += size) {
      const counts: Record<string, number> = {};
      for (let m = start; m < start + size; m++) {
        for (const [stream, n] of this.minutes.get(m) ?? []) {
          if (wanted && !wanted.has(stream)) continue;
          counts[stream] = (counts[stream] ?? 0) + n;
        }
      }
      buckets.push({ start: new Date(start * MINUTE_MS).toISOString(), counts });
    }
    return { bucketMinutes: size, buckets };
  }

  private prune(): void {
    const oldest = this.latest - ACTIVITY_WINDOW_MINUTES;
    for (const minute of this.minutes.keys()) if (minute <= oldest) this.minutes.delete(minute);
  }
}
