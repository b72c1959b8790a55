import { SloEventType, type SloDefinition, type SloSample } from '../../protocol/slo';
import type { NewEvent } from '../../store/types';
import { BUCKET_COUNT, bucketOf } from './latencyHistogram';
import { compileClassifier, type Classifier } from './sli';
import { MINUTE_MS } from './sloMath';

/** One SLO's samples in one minute. */
export interface AggregateRow {
  sloId: string;
  /** Minute index. */
  minute: number;
  good: number;
  total: number;
  /** Samples per latency bucket (dense: adding a sample allocates nothing). */
  latency: Float64Array;
}

/** An aggregate row as `slo.samplesAggregated` (and `slo.batchRecorded` rows) store it. */
export interface AggregatePayload {
  sloId: string;
  /** Start of the minute, ISO-8601. */
  minute: string;
  good: number;
  total: number;
  /** Flat sparse histogram: bucket index, count, bucket index, count... */
  histogram: number[];
}

/** SLO definition → its compiled classifier; a new definition object (an update) compiles again. */
export class Classifiers {
  private readonly compiled = new WeakMap<SloDefinition, Classifier>();

  of(slo: SloDefinition): Classifier {
    let c = this.compiled.get(slo);
    if (!c) this.compiled.set(slo, (c = compileClassifier(slo)));
    return c;
  }
}

/**
 * Per-SLO, per-minute good/total counters and latency histograms of a set of samples, before they
 * become events. Rows are found by SLO, then by minute number, so a sample costs map lookups and
 * array increments, no strings or objects.
 */
export class SampleAggregate {
  /** Minute → one row per SLO position of the `slos` the samples were added with. */
  private readonly byMinute = new Map<number, (AggregateRow | undefined)[]>();
  private rowCount = 0;

  /** Rows so far. */
  get size(): number {
    return this.rowCount;
  }

  /**
   * Count one sample for every SLO whose classifier counts it; answers how many did. Every call on
   * one aggregate must pass the same `slos` (rows are found by position).
   */
  add(slos: readonly SloDefinition[], classifiers: readonly Classifier[], sample: SloSample, time: number): number {
    const minute = Math.floor(time / MINUTE_MS);
    let rows = this.byMinute.get(minute);
    let bucket = -1;
    let matched = 0;
    for (let i = 0; i < slos.length; i++) {
      const verdict = classifiers[i]!(sample);
      if (verdict === 'ignored') continue;
      if (bucket < 0) bucket = bucketOf(sample.durationMs);
      if (!rows) this.byMinute.set(minute, (rows = new Array<AggregateRow | undefined>(slos.length)));
      let row = rows[i];
      if (!row) {
        rows[i] = row = { sloId: slos[i]!.id, minute, good: 0, total: 0, latency: new Float64Array(BUCKET_COUNT) };
        this.rowCount++;
      }
      row.total++;
      if (verdict === 'good') row.good++;
      row.latency[bucket]!++;
      matched++;
    }
    return matched;
  }

  /**
   * Add every row of `other` into this one, matching rows by SLO id (the SLO list may have changed
   * in between). An aggregate filled by `merge` must not be given `add` calls.
   */
  merge(other: SampleAggregate): void {
    for (const [minute, theirs] of other.byMinute) {
      let mine = this.byMinute.get(minute);
      if (!mine) this.byMinute.set(minute, (mine = []));
      for (const row of theirs) {
        if (!row) continue;
        const into = mine.find((r) => r?.sloId === row.sloId);
        if (!into) {
          mine.push({ ...row, latency: row.latency.slice() });
          this.rowCount++;
          continue;
        }
        into.good += row.good;
        into.total += row.total;
        for (let b = 0; b < BUCKET_COUNT; b++) into.latency[b]! += row.latency[b]!;
      }
    }
  }

  /** Rows by SLO, then minute. */
  rows(): AggregateRow[] {
    const out: AggregateRow[] = [];
    for (const rows of this.byMinute.values()) for (const row of rows) if (row) out.push(row);
    return out.sort((a, b) => (a.sloId === b.sloId ? a.minute - b.minute : a.sloId < b.sloId ? -1 : 1));
  }

  sloIds(): Set<string> {
    return new Set(this.rows().map((r) => r.sloId));
  }

  /** The rows as stored payloads, by SLO then minute. */
  payloads(): AggregatePayload[] {
    return this.rows().map((row) => {
      const histogram: number[] = [];
      for (let b = 0; b < BUCKET_COUNT; b++) if (row.latency[b] !== 0) histogram.push(b, row.latency[b]!);
      return { sloId: row.sloId, minute: new Date(row.minute * MINUTE_MS).toISOString(), good: row.good, total: row.total, histogram };
    });
  }

  /** One `slo.samplesAggregated` event per row. */
  events(actor: string): NewEvent[] {
    return this.payloads().map((payload) => ({ type: SloEventType.SamplesAggregated, actor, payload }));
  }
}
