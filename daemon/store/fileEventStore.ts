import { randomUUID } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Priority } from '../protocol';
import { ErrorCode, RpcError } from '../protocol';
import type { Clock, TimerHandle } from '../services/shared/clock';
import { StoreCorruptionError } from './errors';
import { EventIndex, Interner, PRIORITY_RANK } from './eventIndex';
import type { EncodedEvent } from './framing';
import { checkFrame, encodeFrames, findNextValidFrame, frameJson, frameKey, frameSize, readFrameKey } from './framing';
import type { TailScan } from './recovery';
import { applyCutsToScans, planCuts, readRange, scanSegment } from './recovery';
import type { SegmentSummary, StreamTally } from './segments';
import { Segment, fsyncDir, parseSegmentFileName, segmentFileName } from './segments';
import type { SnapshotFile } from './snapshotFile';
import { SnapshotStore } from './snapshotFile';
import { StreamRouter, matchesAnyTypePattern, retentionClassKey } from './streams';
import type {
  AppendResult,
  EventFilter,
  EventRecord,
  EventStore,
  LogStats,
  NewEvent,
  Projection,
  StoreOptions,
  StreamConfig,
} from './types';

const DAY_MS = 86_400_000;
const RETENTION_INTERVAL_MS = 3_600_000;
/** Frames checked between yields of the background pass, so it never holds the event loop for long. */
const BACKGROUND_CHUNK = 1000;
/** Tail segments kept in memory between the verification and the replay pass (re-read beyond this). */
const REPLAY_BUFFER_BUDGET = 256 * 1024 * 1024;

/** Hooks for tests and fault injection; a hook that throws makes that I/O step fail. */
export interface StoreIoHooks {
  beforeWrite?(file: string, bytes: number): void | Promise<void>;
  beforeSync?(file: string): void | Promise<void>;
}

export interface OpenStoreOptions extends StoreOptions {
  projections: Projection[];
  /**
   * Events kept in memory, newest first (default 200,000). Older events stay in the index
   * (seq, time, type, stream, priority, file offset) and are read from their segment on demand, so
   * queries over recent events never touch the disk and memory stays bounded for a big log.
   */
  eventCacheSize?: number;
  /**
   * Frame bytes of cached events (default 32 MiB): whichever of this and `eventCacheSize` is reached
   * first evicts, so a log of big events (SLO aggregates with histograms) does not hold hundreds of MB.
   */
  eventCacheBytes?: number;
  ioHooks?: StoreIoHooks;
}

/** Counters for benchmarks, /metrics and tests. */
export interface StoreDiagnostics {
  /** Write rounds (one group commit each). */
  rounds: number;
  /** fdatasync calls on segment files. */
  fsyncs: number;
  /** write(2) calls on segment files. */
  writes: number;
  /** Projection `apply` calls that threw (each is a bug in that projection). */
  projectionErrors: number;
  /** True once records before the snapshot are verified and indexed. */
  indexReady: boolean;
  eventsInMemory: number;
}

interface PreparedEvent {
  input: NewEvent;
  id: string;
  stream: StreamConfig;
  classKey: string;
}

interface Batch {
  events: PreparedEvent[];
  resolve(records: EventRecord[]): void;
  reject(error: unknown): void;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const PRIORITIES = new Set<string>(['low', 'normal', 'high', 'critical']);
/** Longest type or id accepted: keeps the frame key within its 16-bit length field. */
const MAX_NAME_CHARS = 1024;

const shuttingDown = () => new RpcError(ErrorCode.ShuttingDown, 'The event store is closed; the daemon is shutting down.');

/**
 * The file-backed event store. See daemon/store/index.ts for the on-disk layout and guarantees.
 */
export class FileEventStore implements EventStore {
  private readonly dataDir: string;
  private readonly logDir: string;
  private readonly clock: Clock;
  private readonly router: StreamRouter;
  private readonly projections: Projection[];
  private readonly groupCommit: boolean;
  private readonly fsync: boolean;
  private readonly snapshotEvery: number;
  private readonly segmentMaxBytes: number;
  private readonly segmentMaxAgeMs: number;
  private readonly cacheSize: number;
  private readonly cacheBytes: number;
  private readonly hooks: StoreIoHooks;
  private readonly log: NonNullable<StoreOptions['log']>;
  private readonly snapshots: SnapshotStore;

  private readonly index = new EventIndex(4096);
  private readonly types = new Interner();
  private readonly streamNames = new Interner();
  /** id → seq of every stored event (within retention): the idempotency set. */
  private readonly ids = new Map<string, number>();
  /** Ids queued or being written, so a concurrent repeat waits for the first instead of writing twice. */
  private readonly pendingIds = new Map<string, Promise<EventRecord>>();
  private readonly segments: Segment[] = [];
  private readonly segmentsById = new Map<number, Segment>();
  /** The segment each retention class appends to. */
  private readonly current = new Map<string, Segment>();
  private nextSegmentId = 1;

  private lastSeqValue = 0;
  private lastTimeMs = 0;
  /** First seq of the newest durable write round: retention keeps the segments holding it. */
  private lastRoundFirst = 0;
  private snapshotSeq = 0;
  private snapshotRequestedAt = 0;

  private readonly queue: Batch[] = [];
  private writing = false;
  private kickScheduled = false;
  private roundDone: Promise<void> = Promise.resolve();
  private paused = false;
  private idleWaiters: (() => void)[] = [];
  /** Set after an fsync failure (or a failed rollback): the page cache can no longer be trusted. */
  private broken: Error | undefined;

  private indexReady = false;
  private readonly indexGate = deferred<void>();
  private gateWaiters = 0;
  private backgroundAbort = false;
  private backgroundDone: Promise<void> = Promise.resolve();

  private readonly listeners = new Set<(events: EventRecord[]) => void>();
  private snapshotChain: Promise<void> = Promise.resolve();
  private retentionChain: Promise<unknown> = Promise.resolve();
  private retentionTimer: TimerHandle | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly counters = { rounds: 0, fsyncs: 0, writes: 0, projectionErrors: 0 };

  constructor(options: OpenStoreOptions) {
    this.dataDir = options.dataDir;
    this.logDir = join(options.dataDir, 'log');
    this.clock = options.clock;
    this.router = new StreamRouter(options.streams);
    this.projections = [...options.projections];
    const names = new Set<string>();
    for (const p of this.projections) {
      if (names.has(p.name)) throw new Error(`Two projections are named "${p.name}"; snapshot entries need unique names.`);
      names.add(p.name);
    }
    this.groupCommit = options.groupCommit ?? true;
    this.fsync = options.fsync ?? true;
    this.snapshotEvery = Math.max(1, options.snapshotEvery ?? 10_000);
    this.segmentMaxBytes = Math.max(1, options.segmentMaxBytes ?? 64 * 1024 * 1024);
    this.segmentMaxAgeMs = Math.max(1, options.segmentMaxAgeMs ?? DAY_MS);
    this.cacheSize = Math.max(0, options.eventCacheSize ?? 200_000);
    this.cacheBytes = Math.max(0, options.eventCacheBytes ?? 32 * 1024 * 1024);
    this.hooks = options.ioHooks ?? {};
    this.log = options.log ?? ((level, message) => process.stderr.write(`[store] ${level}: ${message}\n`));
    this.snapshots = new SnapshotStore(join(options.dataDir, 'snapshots', 'projections.json'), this.fsync);
    for (const s of this.router.configs) this.streamNames.id(s.name);
    // The gate is awaited only by operations that need the full index; closing early rejects it.
    this.indexGate.promise.catch(() => undefined);
  }

  get lastSeq(): number {
    return this.lastSeqValue;
  }

  // ---------------------------------------------------------------- start-up

  /** Load the snapshot, verify and replay the tail, cut a torn end, then verify older records in the background. */
  async open(): Promise<void> {
    await mkdir(this.logDir, { recursive: true });
    await mkdir(join(this.dataDir, 'snapshots'), { recursive: true });
    const files = await this.listSegments();

    const loaded = await this.snapshots.load();
    let snapshot: SnapshotFile | undefined;
    if (loaded.kind === 'invalid') {
      this.log('warn', `Snapshot ${this.snapshots.path} ${loaded.reason}; rebuilding every projection from the whole log.`);
    } else if (loaded.kind === 'ok') {
      snapshot = this.restoreProjections(loaded.snapshot);
    }
    if (!snapshot) for (const p of this.projections) p.reset();
    const S = snapshot?.seq ?? 0;
    this.snapshotSeq = S;
    this.snapshotRequestedAt = S;

    const byClass = new Map<string, { seg: Segment; size: number }[]>();
    for (const f of files) {
      const list = byClass.get(f.seg.classKey) ?? [];
      list.push(f);
      byClass.set(f.seg.classKey, list);
    }
    const summaries = snapshot?.log?.segments ?? {};
    const scans: TailScan[] = [];
    const preOnly: Segment[] = [];
    let budget = REPLAY_BUFFER_BUDGET;
    for (const list of byClass.values()) {
      list.sort((a, b) => a.seg.firstSeqName - b.seg.firstSeqName);
      for (let i = 0; i < list.length; i++) {
        const { seg, size } = list[i]!;
        const next = list[i + 1];
        const newestOfClass = next === undefined;
        const summary: SegmentSummary | undefined = summaries[seg.file];
        if (!newestOfClass && next.seg.firstSeqName <= S + 1) {
          // Every record of this segment precedes the next segment's first seq, so the snapshot covers it.
          seg.size = size;
          seg.preEnd = size;
          if (summary && summary.size === size) seg.adoptSummary(summary);
          else seg.statsComplete = false;
          preOnly.push(seg);
          continue;
        }
        const keep = budget >= size;
        const scan = await scanSegment({ segment: seg, fileSize: size, newestOfClass, summary }, S, keep);
        if (keep) budget -= size;
        scans.push(scan);
      }
    }

    const { round, cutRound } = planCuts(scans);
    if (cutRound && round && round.first <= S) {
      throw new StoreCorruptionError(
        this.logDir,
        0,
        `the newest write (records ${round.first}..${round.last}) is incomplete but the snapshot at seq ${S} already includes part of it`,
      );
    }
    applyCutsToScans(scans);

    let tailCount = 0;
    let tailMax = 0;
    for (const s of scans) {
      tailCount += s.seqs.length;
      if (s.seqs.length) tailMax = Math.max(tailMax, s.seqs[s.seqs.length - 1]!);
    }
    if (S > 0) {
      let knownMax = tailMax;
      let allKnown = true;
      for (const s of scans) {
        if (s.summarised) knownMax = Math.max(knownMax, summaries[s.segment.file]!.lastSeq);
        if (s.preNewest) knownMax = Math.max(knownMax, s.preNewest.seq);
      }
      for (const seg of preOnly) {
        knownMax = Math.max(knownMax, seg.lastSeq);
        if (!seg.statsComplete) allKnown = false;
      }
      if (allKnown && knownMax < S) {
        throw new StoreCorruptionError(
          this.logDir,
          0,
          `the log ends at seq ${knownMax} but the snapshot ${this.snapshots.path} includes records up to seq ${S}; ` +
            'move the snapshot aside to rebuild from what the log holds',
        );
      }
      if (tailCount > 0 && tailCount !== tailMax - S) {
        throw new StoreCorruptionError(
          this.logDir,
          0,
          `records after the snapshot (seq ${S}) are missing: expected ${tailMax - S} up to seq ${tailMax}, found ${tailCount}; a segment file may have been removed`,
        );
      }
    }

    // Every check passed and nothing on disk has changed yet. Tally what the snapshot covers, then replay.
    for (const s of scans) {
      const seg = s.segment;
      if (s.summarised) seg.adoptSummary(summaries[seg.file]!);
      else if (s.preEnd > 0) seg.statsComplete = false;
      if (s.preNewest) {
        seg.lastSeq = Math.max(seg.lastSeq, s.preNewest.seq);
        seg.newestTime = Math.max(seg.newestTime ?? 0, s.preNewest.time);
      }
      if (s.firstTime !== undefined) seg.firstTime = Math.min(seg.firstTime ?? Infinity, s.firstTime);
    }
    const replayedRound = await this.replay(scans);

    for (const s of scans) {
      s.segment.size = s.cutAt ?? s.fileSize;
      s.segment.preEnd = s.preEnd;
    }
    for (const s of scans) {
      if (s.cutAt === undefined || s.cutAt >= s.fileSize) continue;
      const fh = await open(s.segment.path, 'r+');
      try {
        await fh.truncate(s.cutAt);
        if (this.fsync) await fh.datasync();
      } finally {
        await fh.close();
      }
      this.log('warn', `Cut ${s.fileSize - s.cutAt} bytes from ${s.segment.path} at offset ${s.cutAt}: ${s.cutReason}.`);
    }

    for (const list of byClass.values()) {
      const newest = list[list.length - 1]!.seg;
      this.current.set(newest.classKey, newest);
    }
    for (const seg of this.segments) {
      if (seg.newestTime !== undefined) this.lastTimeMs = Math.max(this.lastTimeMs, seg.newestTime);
    }
    this.lastSeqValue = Math.max(S, tailMax);
    let preRound = 0;
    for (const s of scans) if (s.preNewest && s.preNewest.seq === S) preRound = s.preNewest.roundFirst;
    this.lastRoundFirst = replayedRound ?? (snapshot?.log?.lastRoundFirst || preRound || S);
    this.index.evict(this.cacheSize, this.cacheBytes);

    this.log(
      'info',
      `Opened event log ${this.logDir}: ${this.segments.length} segments, last seq ${this.lastSeqValue}, ` +
        `snapshot at ${S}, replayed ${tailCount} events.`,
    );
    this.armRetentionTimer();
    const pre = [...preOnly, ...scans.filter((s) => s.preEnd > 0).map((s) => s.segment)];
    this.backgroundDone = this.verifyBackground(pre, S).catch((e: unknown) => {
      this.log('error', `Background verification of the event log failed: ${(e as Error).stack ?? String(e)}`);
      // Serve what is indexed rather than leave queries waiting forever.
      if (!this.indexReady && !this.backgroundAbort) {
        this.indexReady = true;
        this.indexGate.resolve();
      }
    });
  }

  private async listSegments(): Promise<{ seg: Segment; size: number }[]> {
    const out: { seg: Segment; size: number }[] = [];
    for (const name of await readdir(this.logDir)) {
      const parsed = parseSegmentFileName(name);
      if (!parsed) {
        if (name.endsWith('.seg')) this.log('warn', `Ignoring ${join(this.logDir, name)}: not a segment file name this daemon writes.`);
        continue;
      }
      const st = await stat(join(this.logDir, name));
      if (!st.isFile()) continue;
      const seg = this.addSegment(name, parsed.classKey, parsed.retentionDays, parsed.firstSeq);
      out.push({ seg, size: st.size });
    }
    return out;
  }

  private addSegment(file: string, classKey: string, retentionDays: number | null, firstSeq: number): Segment {
    const seg = new Segment(this.nextSegmentId++, this.logDir, file, classKey, retentionDays, firstSeq);
    this.segments.push(seg);
    this.segmentsById.set(seg.id, seg);
    return seg;
  }

  /** Restore every projection from the snapshot, or return undefined (after a warning) to rebuild. */
  private restoreProjections(snap: SnapshotFile): SnapshotFile | undefined {
    const want = this.projections.map((p) => p.name).sort();
    const have = Object.keys(snap.projections).sort();
    if (want.length !== have.length || want.some((n, i) => n !== have[i])) {
      this.log(
        'warn',
        `Snapshot ${this.snapshots.path} holds projections [${have.join(', ')}] but the daemon has [${want.join(', ')}]; ` +
          'rebuilding every projection from the whole log.',
      );
      return undefined;
    }
    for (const p of this.projections) {
      try {
        p.restore(snap.projections[p.name]);
      } catch (e) {
        this.log('warn', `Projection ${p.name} could not restore from ${this.snapshots.path} (${(e as Error).message}); rebuilding every projection from the whole log.`);
        return undefined;
      }
    }
    return snap;
  }

  /** Replay the verified tail records in seq order across classes: index, tallies, projections. */
  private async replay(scans: TailScan[]): Promise<number | undefined> {
    let lastRound: number | undefined;
    // Per class, the scans are already in file order; merge classes by seq.
    const byClass = new Map<string, TailScan[]>();
    for (const s of scans) {
      const l = byClass.get(s.segment.classKey) ?? [];
      l.push(s);
      byClass.set(s.segment.classKey, l);
    }
    interface Cursor {
      scans: TailScan[];
      si: number;
      ri: number;
      buf: Buffer | undefined;
    }
    const cursors: Cursor[] = [];
    for (const l of byClass.values()) cursors.push({ scans: l, si: 0, ri: 0, buf: undefined });
    const load = async (c: Cursor): Promise<boolean> => {
      while (c.si < c.scans.length) {
        const s = c.scans[c.si]!;
        if (c.ri < s.seqs.length) {
          if (!c.buf) c.buf = s.buffer ?? (await readRange(s.segment.path, s.start, s.fileSize));
          return true;
        }
        s.buffer = undefined;
        c.buf = undefined;
        c.si++;
        c.ri = 0;
      }
      return false;
    };
    const live: Cursor[] = [];
    for (const c of cursors) if (await load(c)) live.push(c);
    while (live.length) {
      let best = 0;
      for (let k = 1; k < live.length; k++) {
        const a = live[k]!;
        const b = live[best]!;
        if (a.scans[a.si]!.seqs[a.ri]! < b.scans[b.si]!.seqs[b.ri]!) best = k;
      }
      const c = live[best]!;
      const s = c.scans[c.si]!;
      const off = s.offsets[c.ri]!;
      const end = s.ends[c.ri]!;
      const seq = s.seqs[c.ri]!;
      const rel = off - s.start;
      const buf = c.buf!;
      let ev: EventRecord;
      try {
        ev = JSON.parse(frameJson(buf, rel, end - s.start)) as EventRecord;
      } catch (e) {
        throw new StoreCorruptionError(s.segment.path, off, `record body is not valid JSON (${(e as Error).message})`);
      }
      if (ev.seq !== seq) throw new StoreCorruptionError(s.segment.path, off, `record body says seq ${ev.seq} but its frame says ${seq}`);
      const time = buf.readDoubleLE(rel + 20);
      lastRound = seq - buf.readUInt32LE(rel + 28);
      this.ingest(ev, s.segment, off, end - off, time);
      this.applyToProjections(ev);
      c.ri++;
      // Only crossing into the next segment of a class may need I/O.
      if (c.ri >= s.seqs.length && !(await load(c))) live.splice(best, 1);
    }
    return lastRound;
  }

  /** Verify and index the records the snapshot covers, without blocking start-up. */
  private async verifyBackground(segments: Segment[], S: number): Promise<void> {
    const runs: EventIndex[] = [];
    const byClass = new Map<string, Segment[]>();
    for (const seg of segments) {
      const l = byClass.get(seg.classKey) ?? [];
      l.push(seg);
      byClass.set(seg.classKey, l);
    }
    const alerts: { file: string; offset: number; reason: string }[] = [];
    let sinceYield = 0;
    for (const list of byClass.values()) {
      list.sort((a, b) => a.firstSeqName - b.firstSeqName);
      const run = new EventIndex(1024);
      for (const seg of list) {
        if (this.backgroundAbort) return this.abortGate();
        let buf: Buffer;
        try {
          buf = await readRange(seg.path, 0, seg.preEnd);
        } catch (e) {
          alerts.push({ file: seg.path, offset: 0, reason: `segment cannot be read (${(e as Error).message})` });
          continue;
        }
        const countStats = !seg.statsComplete;
        let pos = 0;
        while (pos < buf.length) {
          if (++sinceYield >= BACKGROUND_CHUNK) {
            sinceYield = 0;
            await yieldToEventLoop();
            if (this.backgroundAbort) return this.abortGate();
          }
          const c = checkFrame(buf, pos);
          let failure: string;
          if (c.ok) {
            if (c.header.seq > S) {
              failure = `record seq ${c.header.seq} lies after the snapshot seq ${S} in a segment the snapshot covers`;
            } else {
              // The key outside the JSON is all the index needs: no JSON parsing for old records.
              const h = c.header;
              const key = readFrameKey(buf, pos);
              const size = c.end - pos;
              run.push(
                {
                  seq: h.seq,
                  time: h.time,
                  typeId: this.types.id(key.type),
                  streamId: this.streamNames.id(key.stream),
                  priority: h.priority,
                  segmentId: seg.id,
                  offset: pos,
                  size,
                  id: key.id,
                },
                undefined,
              );
              // Filled during the scan so no single step after it blocks the event loop for long.
              if (!this.ids.has(key.id)) this.ids.set(key.id, h.seq);
              if (countStats) {
                seg.tally(key.stream, size, h.seq, h.time);
                seg.records++;
              }
              if (h.seq > seg.lastSeq) seg.lastSeq = h.seq;
              if (seg.newestTime === undefined || h.time > seg.newestTime) seg.newestTime = h.time;
              if (seg.firstTime === undefined || h.time < seg.firstTime) seg.firstTime = h.time;
              pos = c.end;
              continue;
            }
          } else {
            failure = c.reason;
          }
          alerts.push({ file: seg.path, offset: pos, reason: failure });
          const next = findNextValidFrame(buf, pos + 1);
          if (!next) break;
          pos = next.offset;
        }
        seg.statsComplete = true;
      }
      runs.push(run);
    }
    this.index.prepend(runs.length === 1 ? runs[0]! : mergeRuns(runs));
    this.index.evict(this.cacheSize, this.cacheBytes);
    this.indexReady = true;
    this.indexGate.resolve();
    for (const a of alerts) {
      this.log('error', `Corrupt record in ${a.file} at offset ${a.offset}: ${a.reason}. Raising a system.alert event; the store keeps serving.`);
      try {
        await this.append([{ type: 'system.alert', priority: 'high', actor: 'daemon', source: 'store', payload: a }]);
      } catch (e) {
        this.log('error', `Could not append the system.alert for ${a.file}: ${(e as Error).message}`);
      }
    }
    if (!this.closed) {
      await this.enforceRetention().catch((e: unknown) => this.log('error', `Retention failed: ${(e as Error).message}`));
    }
  }

  private abortGate(): void {
    if (!this.indexReady) this.indexGate.reject(shuttingDown());
  }

  /** Resolves once the records before the snapshot are verified and indexed (rejects if the store closes first). */
  whenIndexed(): Promise<void> {
    return this.indexGate.promise;
  }

  // ---------------------------------------------------------------- appends

  async append(events: NewEvent[]): Promise<AppendResult[]> {
    if (this.closed) throw shuttingDown();
    if (events.length === 0) return [];
    const prepared: (PreparedEvent | undefined)[] = events.map((e) => this.prepare(e));
    if (!this.indexReady && (this.gateWaiters > 0 || events.some((e) => e.id !== undefined))) {
      // An explicit id may repeat one stored before the snapshot: wait for the full id set. Later
      // appends queue behind so call order stays seq order.
      this.gateWaiters++;
      try {
        await this.indexGate.promise;
      } finally {
        this.gateWaiters--;
      }
      if (this.closed) throw shuttingDown();
    }
    if (this.broken) throw this.storageFailure(this.broken);

    // Each input slot is answered by a stored event, a pending one, an earlier slot of this call, or a new write.
    const results: (Promise<AppendResult> | undefined)[] = new Array(events.length);
    const toWrite: PreparedEvent[] = [];
    const writeSlot: number[] = new Array(events.length).fill(-1);
    const inCall = new Map<string, number>();
    for (let i = 0; i < events.length; i++) {
      const p = prepared[i]!;
      if (events[i]!.id !== undefined) {
        const storedSeq = this.ids.get(p.id);
        if (storedSeq !== undefined) {
          results[i] = this.eventBySeq(storedSeq).then((event) => ({ event, duplicate: true }));
          continue;
        }
        const pending = this.pendingIds.get(p.id);
        if (pending) {
          results[i] = pending.then((event) => ({ event, duplicate: true }));
          continue;
        }
        const earlier = inCall.get(p.id);
        if (earlier !== undefined) {
          writeSlot[i] = earlier;
          continue;
        }
        inCall.set(p.id, toWrite.length);
      }
      writeSlot[i] = toWrite.length;
      toWrite.push(p);
    }
    if (toWrite.length > 0) {
      const d = deferred<EventRecord[]>();
      this.queue.push({ events: toWrite, resolve: d.resolve, reject: d.reject });
      toWrite.forEach((p, k) => {
        if (p.input.id === undefined) return;
        const one = d.promise.then((recs) => recs[k]!);
        one.catch(() => undefined);
        this.pendingIds.set(p.id, one);
      });
      const clear = () => {
        for (const p of toWrite) if (p.input.id !== undefined) this.pendingIds.delete(p.id);
      };
      d.promise.then(clear, clear);
      this.scheduleKick();
      const firstSlotOf = new Map<number, number>();
      for (let i = 0; i < events.length; i++) {
        if (results[i] !== undefined) continue;
        const k = writeSlot[i]!;
        const duplicate = firstSlotOf.has(k);
        firstSlotOf.set(k, i);
        results[i] = d.promise.then((recs) => ({ event: recs[k]!, duplicate }));
      }
    }
    return Promise.all(results as Promise<AppendResult>[]);
  }

  private prepare(e: NewEvent): PreparedEvent {
    if (typeof e.type !== 'string' || e.type.length === 0 || e.type.length > MAX_NAME_CHARS || e.type.includes('\n')) {
      throw new RpcError(ErrorCode.InvalidParams, `An event needs a \`type\`: a string of 1..${MAX_NAME_CHARS} characters without line breaks.`);
    }
    if (e.id !== undefined && (typeof e.id !== 'string' || e.id.length === 0 || e.id.length > MAX_NAME_CHARS)) {
      throw new RpcError(ErrorCode.InvalidParams, `Event ${e.type} has an \`id\` that is not a string of 1..${MAX_NAME_CHARS} characters.`);
    }
    if (typeof e.actor !== 'string') throw new RpcError(ErrorCode.InvalidParams, `Event ${e.type} needs a string \`actor\`.`);
    if (e.priority !== undefined && !PRIORITIES.has(e.priority)) {
      throw new RpcError(ErrorCode.InvalidParams, `Event ${e.type} has priority "${String(e.priority)}"; use low, normal, high or critical.`);
    }
    const stream = this.router.resolve(e.type, e.stream);
    return { input: e, id: e.id ?? randomUUID(), stream, classKey: retentionClassKey(stream.retentionDays) };
  }

  private storageFailure(cause: unknown): RpcError {
    return new RpcError(
      ErrorCode.StorageFailure,
      `The event log could not make the write durable (${(cause as Error)?.message ?? String(cause)}). Nothing was acknowledged.`,
    );
  }

  private scheduleKick(): void {
    if (this.kickScheduled || this.writing) return;
    this.kickScheduled = true;
    // Appends issued in the same tick share the first round too, not only those queued behind an fsync.
    queueMicrotask(() => {
      this.kickScheduled = false;
      this.kick();
    });
  }

  private kick(): void {
    if (this.writing || this.paused) return;
    if (this.queue.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
      return;
    }
    const batches = this.groupCommit ? this.queue.splice(0) : this.queue.splice(0, 1);
    this.writing = true;
    this.roundDone = this.runRound(batches)
      .catch((e: unknown) => {
        // runRound settles every batch itself; reaching here is a bug, but never leave callers hanging.
        this.log('error', `Write round failed unexpectedly: ${(e as Error).stack ?? String(e)}`);
        for (const b of batches) b.reject(this.storageFailure(e));
      })
      .finally(() => {
        this.writing = false;
        this.kick();
      });
  }

  private whenIdle(): Promise<void> {
    if (!this.writing && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async runRound(batches: Batch[]): Promise<void> {
    if (this.broken) {
      for (const b of batches) b.reject(this.storageFailure(this.broken));
      return;
    }
    const nowMs = Math.max(this.clock.now(), this.lastTimeMs);
    const time = new Date(nowMs).toISOString();
    const roundFirst = this.lastSeqValue + 1;
    let seq = roundFirst;
    const accepted: { batch: Batch; encoded: EncodedEvent[]; prepared: PreparedEvent[] }[] = [];
    for (const b of batches) {
      try {
        const encoded = b.events.map((p, k): EncodedEvent => {
          const json = JSON.stringify(buildRecord(p, seq + k, time));
          const key = frameKey(p.input.type, p.stream.name, p.id);
          return {
            seq: seq + k,
            time: nowMs,
            priority: PRIORITY_RANK[p.input.priority ?? 'normal'],
            key,
            keyBytes: Buffer.byteLength(key),
            json,
            jsonBytes: Buffer.byteLength(json),
          };
        });
        accepted.push({ batch: b, encoded, prepared: b.events });
        seq += b.events.length;
      } catch (e) {
        b.reject(new RpcError(ErrorCode.InvalidParams, `Event payload cannot be stored as JSON: ${(e as Error).message}`));
      }
    }
    if (accepted.length === 0) return;
    const roundLast = seq - 1;

    const perClass = new Map<string, { retentionDays: number | null; events: EncodedEvent[] }>();
    for (const a of accepted) {
      a.prepared.forEach((p, k) => {
        let c = perClass.get(p.classKey);
        if (!c) {
          c = { retentionDays: p.stream.retentionDays, events: [] };
          perClass.set(p.classKey, c);
        }
        c.events.push(a.encoded[k]!);
      });
    }

    this.counters.rounds++;
    const touched: { seg: Segment; buf: Buffer; at: number }[] = [];
    let syncing = false;
    try {
      for (const [classKey, c] of perClass) {
        const seg = await this.segmentFor(classKey, c.retentionDays, c.events[0]!.seq, nowMs);
        touched.push({ seg, buf: encodeFrames(c.events, roundFirst, roundLast), at: seg.size });
      }
      await Promise.all(touched.map((t) => this.writeAll(t.seg, t.buf, t.at)));
      if (this.fsync) {
        syncing = true;
        await Promise.all(
          touched.map(async (t) => {
            await this.hooks.beforeSync?.(t.seg.path);
            this.counters.fsyncs++;
            await t.seg.writeHandle!.datasync();
          }),
        );
      }
    } catch (e) {
      await this.rollback(touched, syncing, e);
      const err = this.storageFailure(e);
      for (const a of accepted) a.batch.reject(err);
      return;
    }

    // Durable: commit bookkeeping, then apply in seq order, then notify, then answer.
    this.lastSeqValue = roundLast;
    this.lastTimeMs = nowMs;
    this.lastRoundFirst = roundFirst;
    const location = new Map<number, { seg: Segment; offset: number; size: number }>();
    for (const t of touched) {
      let off = t.at;
      const c = perClass.get(t.seg.classKey)!;
      for (const e of c.events) {
        const size = frameSize(e);
        location.set(e.seq, { seg: t.seg, offset: off, size });
        off += size;
      }
      t.seg.size = off;
    }
    for (const a of accepted) {
      const records = a.encoded.map((e) => {
        const ev = JSON.parse(e.json) as EventRecord;
        const loc = location.get(e.seq)!;
        this.ingest(ev, loc.seg, loc.offset, loc.size, nowMs);
        this.applyToProjections(ev);
        return ev;
      });
      for (const l of this.listeners) {
        try {
          l(records);
        } catch (err) {
          this.log('error', `An onAppend listener threw: ${(err as Error).stack ?? String(err)}`);
        }
      }
      a.batch.resolve(records);
    }
    this.index.evict(this.cacheSize, this.cacheBytes);
    if (this.lastSeqValue - this.snapshotRequestedAt >= this.snapshotEvery && !this.closed) {
      this.snapshotRequestedAt = this.lastSeqValue;
      this.snapshot().catch((e: unknown) => this.log('error', `Periodic snapshot failed: ${(e as Error).message}`));
    }
  }

  /** The segment a class writes to, rolling to a new file past the size or age limit. */
  private async segmentFor(classKey: string, retentionDays: number | null, firstSeq: number, nowMs: number): Promise<Segment> {
    let seg = this.current.get(classKey);
    const full = seg !== undefined && seg.size > 0 && (seg.size >= this.segmentMaxBytes || (seg.firstTime !== undefined && nowMs - seg.firstTime >= this.segmentMaxAgeMs));
    if (!seg || full) {
      const file = segmentFileName(classKey, firstSeq);
      const fh = await open(join(this.logDir, file), 'wx');
      const fresh = this.addSegment(file, classKey, retentionDays, firstSeq);
      fresh.writeHandle = fh;
      const old = seg;
      this.current.set(classKey, fresh);
      if (this.fsync) {
        try {
          await fsyncDir(this.logDir);
        } catch (e) {
          // The new file's directory entry may not survive a crash; as with a failed fdatasync, stop.
          this.broken = e as Error;
          throw e;
        }
      }
      if (old?.writeHandle) {
        const h = old.writeHandle;
        old.writeHandle = undefined;
        await h.close().catch(() => undefined);
      }
      seg = fresh;
    }
    if (!seg.writeHandle) seg.writeHandle = await open(seg.path, 'r+');
    return seg;
  }

  private async writeAll(seg: Segment, buf: Buffer, at: number): Promise<void> {
    await this.hooks.beforeWrite?.(seg.path, buf.length);
    const fh = seg.writeHandle!;
    let off = 0;
    while (off < buf.length) {
      this.counters.writes++;
      const { bytesWritten } = await fh.write(buf, off, buf.length - off, at + off);
      off += bytesWritten;
    }
  }

  /** Undo a failed round's bytes. After a failed fsync the page cache is suspect: stop accepting writes. */
  private async rollback(touched: { seg: Segment; at: number }[], syncFailed: boolean, cause: unknown): Promise<void> {
    this.log('error', `Event log write failed (${(cause as Error)?.message ?? String(cause)}); the batch was not acknowledged.`);
    try {
      for (const t of touched) {
        const fh: FileHandle | undefined = t.seg.writeHandle;
        if (!fh) continue;
        await fh.truncate(t.at);
        if (this.fsync) await fh.datasync();
      }
    } catch (e) {
      this.broken = e as Error;
      this.log('error', `Could not roll back the failed write (${(e as Error).message}); the store refuses further appends until restart.`);
      return;
    }
    if (syncFailed) {
      this.broken = cause instanceof Error ? cause : new Error(String(cause));
      this.log('error', 'fdatasync failed: the store refuses further appends until restart, so nothing is acknowledged that the disk may have lost.');
    }
  }

  private ingest(ev: EventRecord, seg: Segment, offset: number, size: number, timeMs: number): void {
    this.index.push(
      {
        seq: ev.seq,
        time: timeMs,
        typeId: this.types.id(ev.type),
        streamId: this.streamNames.id(ev.stream),
        priority: PRIORITY_RANK[ev.priority] ?? 1,
        segmentId: seg.id,
        offset,
        size,
        id: ev.id,
      },
      ev,
    );
    this.ids.set(ev.id, ev.seq);
    seg.tally(ev.stream, size, ev.seq, timeMs);
    seg.records++;
    if (ev.seq > seg.lastSeq) seg.lastSeq = ev.seq;
    if (seg.newestTime === undefined || timeMs > seg.newestTime) seg.newestTime = timeMs;
    if (seg.firstTime === undefined) seg.firstTime = timeMs;
  }

  private applyToProjections(ev: EventRecord): void {
    for (const p of this.projections) {
      try {
        p.apply(ev);
      } catch (e) {
        this.counters.projectionErrors++;
        this.log('error', `Projection ${p.name} threw on event ${ev.seq} (${ev.type}); this is a bug in the projection: ${(e as Error).stack ?? String(e)}`);
      }
    }
  }

  // ---------------------------------------------------------------- reads

  async query(filter: EventFilter, page: { limit: number; order: 'asc' | 'desc'; beforeSeq?: number }): Promise<EventRecord[]> {
    if (this.closed) throw shuttingDown();
    if (!this.indexReady) await this.indexGate.promise;
    const idx = this.index;
    let lo = 0;
    let hi = idx.length;
    if (filter.afterSeq !== undefined) lo = Math.max(lo, idx.upperBoundSeq(filter.afterSeq));
    if (page.beforeSeq !== undefined) hi = Math.min(hi, idx.lowerBoundSeq(page.beforeSeq));
    if (filter.fromTime !== undefined) lo = Math.max(lo, idx.lowerBoundTime(filter.fromTime));
    if (filter.toTime !== undefined) hi = Math.min(hi, idx.lowerBoundTime(filter.toTime));

    const streamMask = this.streamMask(filter);
    let typeMask: Uint8Array | undefined;
    if (filter.types && filter.types.length > 0) {
      const names = this.types.names;
      typeMask = new Uint8Array(names.length);
      for (let t = 0; t < names.length; t++) if (matchesAnyTypePattern(filter.types, names[t]!)) typeMask[t] = 1;
    }
    const minRank = filter.minPriority !== undefined ? PRIORITY_RANK[filter.minPriority] : 0;
    const limit = Math.max(0, Math.floor(page.limit));
    const hits: number[] = [];
    const matches = (p: number): boolean =>
      (streamMask === undefined || streamMask[idx.streamId[p]!] === 1) &&
      (typeMask === undefined || typeMask[idx.typeId[p]!] === 1) &&
      idx.priority[p]! >= minRank;
    if (page.order === 'desc') {
      for (let p = hi - 1; p >= lo && hits.length < limit; p--) if (matches(p)) hits.push(p);
    } else {
      for (let p = lo; p < hi && hits.length < limit; p++) if (matches(p)) hits.push(p);
    }
    return this.materialize(hits);
  }

  private streamMask(filter: EventFilter): Uint8Array | undefined {
    const lists: string[][] = [];
    if (filter.stream !== undefined) lists.push([filter.stream]);
    if (filter.streams !== undefined) lists.push(filter.streams);
    if (lists.length === 0) return undefined;
    const known = this.streamNames.names;
    let mask: Uint8Array | undefined;
    for (const list of lists) {
      const m = new Uint8Array(known.length);
      for (const name of list) {
        const id = this.streamNames.find(name);
        if (id === undefined) {
          throw new RpcError(ErrorCode.NotFound, `No stream named "${name}". Known streams: ${known.join(', ')}.`, {
            kind: 'stream',
            id: name,
            known: [...known],
          });
        }
        m[id] = 1;
      }
      mask = mask ? mask.map((v, i) => v & m[i]!) : m;
    }
    return mask;
  }

  async *readFrom(afterSeq: number): AsyncIterable<EventRecord> {
    if (this.closed) throw shuttingDown();
    if (!this.indexReady) await this.indexGate.promise;
    let cursor = afterSeq;
    for (;;) {
      if (this.closed) throw shuttingDown();
      const start = this.index.upperBoundSeq(cursor);
      if (start >= this.index.length) return;
      const end = Math.min(this.index.length, start + 512);
      const positions: number[] = [];
      for (let p = start; p < end; p++) positions.push(p);
      const chunkEnd = this.index.seq[end - 1]!;
      const events = await this.materialize(positions);
      for (const ev of events) yield ev;
      cursor = chunkEnd;
    }
  }

  private async eventBySeq(seq: number): Promise<EventRecord> {
    const pos = this.index.positionOf(seq);
    const [ev] = pos < 0 ? [] : await this.materialize([pos]);
    if (!ev) throw new RpcError(ErrorCode.Conflict, `Event ${seq} was dropped by retention while it was being read.`);
    return ev;
  }

  /** Events at index positions (captured now), from memory or from their segments. */
  private async materialize(positions: number[]): Promise<EventRecord[]> {
    const idx = this.index;
    const out: (EventRecord | undefined)[] = new Array(positions.length);
    const misses = new Map<number, { k: number; offset: number; size: number; seq: number }[]>();
    positions.forEach((p, k) => {
      const ev = idx.events[p];
      if (ev) {
        out[k] = ev;
        return;
      }
      const segId = idx.segmentId[p]!;
      const list = misses.get(segId) ?? [];
      list.push({ k, offset: idx.offset[p]!, size: idx.size[p]!, seq: idx.seq[p]! });
      misses.set(segId, list);
    });
    for (const [segId, list] of misses) {
      const seg = this.segmentsById.get(segId);
      if (!seg || seg.dropped) continue;
      list.sort((a, b) => a.offset - b.offset);
      let i = 0;
      while (i < list.length) {
        // Coalesce nearby frames into one read.
        let j = i + 1;
        while (j < list.length && list[j]!.offset - (list[j - 1]!.offset + list[j - 1]!.size) <= 64 * 1024) j++;
        const from = list[i]!.offset;
        const to = list[j - 1]!.offset + list[j - 1]!.size;
        let buf: Buffer;
        try {
          const fh = await seg.reader();
          buf = Buffer.allocUnsafe(to - from);
          let got = 0;
          while (got < buf.length) {
            const { bytesRead } = await fh.read(buf, got, buf.length - got, from + got);
            if (bytesRead === 0) break;
            got += bytesRead;
          }
        } catch (e) {
          if (!seg.dropped) this.log('error', `Could not read ${seg.path}: ${(e as Error).message}`);
          i = j;
          continue;
        }
        for (let m = i; m < j; m++) {
          const r = list[m]!;
          const rel = r.offset - from;
          const c = checkFrame(buf, rel);
          if (!c.ok || c.header.seq !== r.seq) {
            this.log('error', `Record seq ${r.seq} in ${seg.path} at offset ${r.offset} no longer verifies (${c.ok ? 'seq mismatch' : c.reason}).`);
            continue;
          }
          out[r.k] = JSON.parse(frameJson(buf, rel, c.end)) as EventRecord;
        }
        i = j;
      }
    }
    return out.filter((e): e is EventRecord => e !== undefined);
  }

  // ---------------------------------------------------------------- stats, listeners

  stats(): LogStats {
    const perStream = new Map<string, StreamTally>();
    let bytes = 0;
    let segments = 0;
    for (const seg of this.segments) {
      if (seg.dropped) continue;
      segments++;
      bytes += seg.size;
      for (const [name, t] of seg.streams) {
        const agg = perStream.get(name);
        if (!agg) {
          perStream.set(name, { ...t });
          continue;
        }
        agg.events += t.events;
        agg.bytes += t.bytes;
        if (t.lastSeq > agg.lastSeq) {
          agg.lastSeq = t.lastSeq;
          agg.lastTime = t.lastTime;
        }
      }
    }
    const names = [...this.router.names(), ...[...perStream.keys()].filter((n) => !this.router.get(n))];
    let events = 0;
    const streams = names.map((name) => {
      const t = perStream.get(name);
      events += t?.events ?? 0;
      return t && t.events > 0
        ? { name, events: t.events, bytes: t.bytes, lastSeq: t.lastSeq, lastTime: new Date(t.lastTime).toISOString() }
        : { name, events: 0, bytes: 0, lastSeq: 0 };
    });
    return { bytes, events, segments, lastSeq: this.lastSeqValue, snapshotSeq: this.snapshotSeq, streams };
  }

  streams(): StreamConfig[] {
    return this.router.configs.map((s) => ({ ...s, typePatterns: [...s.typePatterns] }));
  }

  onAppend(listener: (events: EventRecord[]) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  diagnostics(): StoreDiagnostics {
    let cached = 0;
    for (const e of this.index.events) if (e) cached++;
    return { ...this.counters, indexReady: this.indexReady, eventsInMemory: cached };
  }

  // ---------------------------------------------------------------- snapshots, retention, close

  snapshot(): Promise<void> {
    const run = this.snapshotChain.then(() => this.writeSnapshot());
    this.snapshotChain = run.catch(() => undefined);
    return run;
  }

  private async writeSnapshot(): Promise<void> {
    // Everything below runs in one tick: the captured state is exactly "all events up to seq".
    const seq = this.lastSeqValue;
    const projections: Record<string, unknown> = {};
    for (const p of this.projections) projections[p.name] = p.snapshot();
    const segments: Record<string, SegmentSummary> = {};
    for (const seg of this.segments) if (!seg.dropped && seg.statsComplete) segments[seg.file] = seg.summary();
    await this.snapshots.save({ seq, projections, log: { lastRoundFirst: this.lastRoundFirst, segments } });
    if (seq > this.snapshotSeq) this.snapshotSeq = seq;
  }

  enforceRetention(): Promise<number> {
    const run = this.retentionChain.then(() => this.dropExpired());
    this.retentionChain = run.catch(() => undefined);
    return run;
  }

  private expired(seg: Segment, nowMs: number): boolean {
    if (seg.dropped || seg.retentionDays === null) return false;
    // The newest write round stays whole: recovery needs all of it to tell a torn write from an old one.
    if (seg.lastSeq >= this.lastRoundFirst && seg.records > 0) return false;
    if (seg.records === 0) return seg !== this.current.get(seg.classKey) && seg.size === 0;
    return seg.newestTime !== undefined && nowMs - seg.newestTime > seg.retentionDays * DAY_MS;
  }

  private async dropExpired(): Promise<number> {
    if (this.closed) return 0;
    if (!this.indexReady) await this.indexGate.promise;
    const nowMs = this.clock.now();
    const candidates = this.segments.filter((s) => this.expired(s, nowMs));
    if (candidates.length === 0) return 0;
    // Projections must keep the effect of what retention removes: snapshot past those records first.
    if (candidates.some((s) => s.lastSeq > this.snapshotSeq)) await this.snapshot();
    this.paused = true;
    try {
      await this.roundDone;
      const drop = this.segments.filter((s) => this.expired(s, this.clock.now()) && s.lastSeq <= this.snapshotSeq);
      const dropped = new Set<number>();
      for (const seg of drop) {
        try {
          await seg.closeHandles();
          await unlink(seg.path);
        } catch (e) {
          this.log('error', `Could not drop expired segment ${seg.path}: ${(e as Error).message}`);
          continue;
        }
        seg.dropped = true;
        dropped.add(seg.id);
        if (this.current.get(seg.classKey) === seg) this.current.delete(seg.classKey);
        this.log('info', `Dropped expired segment ${seg.path} (${seg.records} events, newest ${seg.newestTime === undefined ? 'none' : new Date(seg.newestTime).toISOString()}).`);
      }
      if (dropped.size === 0) return 0;
      if (this.fsync) await fsyncDir(this.logDir);
      for (const id of this.index.removeSegments(dropped)) this.ids.delete(id);
      for (let i = this.segments.length - 1; i >= 0; i--) {
        const seg = this.segments[i]!;
        if (dropped.has(seg.id)) {
          this.segments.splice(i, 1);
          this.segmentsById.delete(seg.id);
        }
      }
      return dropped.size;
    } finally {
      this.paused = false;
      this.kick();
    }
  }

  private armRetentionTimer(): void {
    if (this.closed) return;
    this.retentionTimer = this.clock.setTimer(RETENTION_INTERVAL_MS, () => {
      this.enforceRetention()
        .catch((e: unknown) => this.log('error', `Retention failed: ${(e as Error).message}`))
        .finally(() => this.armRetentionTimer());
    });
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    this.retentionTimer?.cancel();
    this.retentionTimer = undefined;
    this.backgroundAbort = true;
    await this.backgroundDone;
    this.abortGate();
    await this.retentionChain;
    await this.whenIdle();
    try {
      await this.snapshot();
    } catch (e) {
      this.log('error', `Final snapshot failed: ${(e as Error).message}; the next start replays the log instead.`);
    }
    for (const seg of this.segments) {
      try {
        await seg.closeHandles();
      } catch (e) {
        this.log('warn', `Closing ${seg.path} failed: ${(e as Error).message}`);
      }
    }
  }
}

function buildRecord(p: PreparedEvent, seq: number, time: string): EventRecord {
  const e = p.input;
  const rec: EventRecord = {
    id: p.id,
    seq,
    type: e.type,
    stream: p.stream.name,
    time,
    priority: (e.priority ?? 'normal') as Priority,
    actor: e.actor,
    schemaVersion: e.schemaVersion ?? 1,
    payload: e.payload === undefined ? null : e.payload,
  };
  if (e.source !== undefined) rec.source = e.source;
  if (e.correlationId !== undefined) rec.correlationId = e.correlationId;
  if (e.causationId !== undefined) rec.causationId = e.causationId;
  if (e.origin !== undefined) rec.origin = { daemon: e.origin.daemon, seq: e.origin.seq, time: e.origin.time };
  return rec;
}

/** Merge per-class runs (each sorted by seq) into one index sorted by seq. */
function mergeRuns(runs: EventIndex[]): EventIndex {
  const total = runs.reduce((n, r) => n + r.length, 0);
  const out = new EventIndex(Math.max(16, total));
  const pos = runs.map(() => 0);
  for (let n = 0; n < total; n++) {
    let best = -1;
    for (let k = 0; k < runs.length; k++) {
      if (pos[k]! >= runs[k]!.length) continue;
      if (best < 0 || runs[k]!.seq[pos[k]!]! < runs[best]!.seq[pos[best]!]!) best = k;
    }
    const r = runs[best]!;
    const i = pos[best]!++;
    out.push(
      {
        seq: r.seq[i]!,
        time: r.time[i]!,
        typeId: r.typeId[i]!,
        streamId: r.streamId[i]!,
        priority: r.priority[i]!,
        segmentId: r.segmentId[i]!,
        offset: r.offset[i]!,
        size: r.size[i]!,
        id: r.ids[i]!,
      },
      r.events[i],
    );
  }
  return out;
}
