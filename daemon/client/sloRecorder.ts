import { randomUUID } from 'node:crypto';
import { ErrorCode, MAX_CLIENT_ID_CHARS, MAX_SAMPLE_BATCH, RecordSampleBatch, isRpcError, type SloSample } from '../protocol';
import type { DaemonClient } from './daemonClient';

/**
 * `recordRequest()` for users' services: samples are buffered in memory and sent to the daemon in
 * `slo/recordBatch` calls, so serving a request never waits on the daemon.
 *
 * Delivery rules:
 *  - The buffer is bounded (`maxBuffer` samples, in flight included). When it is full, new samples are
 *    dropped and counted; `recordRequest` never blocks, throws or awaits.
 *  - `slo/recordBatch` is all or nothing, and every batch carries a `batchId` (a fresh UUID) that the
 *    daemon remembers per token. A batch that failed in a way that proves nothing was applied (an
 *    error answer), or whose fate is unknown (the connection dropped or the call timed out after it
 *    was sent), goes back to the front of the buffer and is tried again with the same `batchId`, at
 *    most `maxAttempts` times: a repeat the daemon already recorded is answered `duplicate` and
 *    counted once. A batch of unknown fate that used up its attempts is counted as `lost` (it may or
 *    may not have been recorded); one that provably was not applied is counted as `dropped`.
 */

/** One served request; the fields of `SloSample`, with `service` defaulting to the recorder's. */
export interface SloRequestSample {
  /** Default: the recorder's `service` option. */
  service?: string;
  method: string;
  route: string;
  /** HTTP status, 100..599. */
  status: number;
  /** Response time, ms (≥ 0). */
  durationMs: number;
  /** When the request finished (epoch ms, Date or ISO-8601); when recordRequest was called by default. */
  timestamp?: number | Date | string;
  /** The request timed out or was abandoned (bad for availability whatever its status). */
  timedOut?: boolean;
  /** For customRatio SLOs: whether this event is good. */
  good?: boolean;
  /** Who called (an API client id), for route usage; clipped to 128 characters, ignored when empty. */
  client?: string;
}

/** Counters since the recorder was created, in samples. */
export interface SloRecorderStats {
  /** Accepted by recordRequest (buffered). */
  recorded: number;
  /** Acknowledged by the daemon (durable). */
  sent: number;
  /** Never reached the daemon: buffer full, retries used up, or still buffered at close(). */
  dropped: number;
  /** Sent `maxAttempts` times without a definite answer: the daemon may or may not have recorded them. */
  lost: number;
  /** Refused by the daemon as invalid (a batch is all or nothing: the others of the batch are re-sent). */
  rejected: number;
  /** Not a valid sample (bad status, negative duration, missing method or route...): never buffered. */
  invalid: number;
  /** Buffered or in flight right now. */
  pending: number;
}

/** Where batches go; `fromClient` wraps a DaemonClient, tests pass a fake. */
export interface SloTransport {
  /** Whether a batch sent now would go out at once (connected); when false the recorder waits. */
  isReady(): boolean;
  /**
   * Send one `slo/recordBatch`; resolves once the daemon acknowledged it as durable. `batchId` is the
   * same on every attempt of one batch, so a repeat is recorded once.
   */
  send(samples: SloSample[], batchId: string): Promise<void>;
}

export interface SloRecorderOptions {
  /** Service name for samples that do not name one. */
  service?: string;
  /** Send what is buffered at least this often, ms. Default 1000. */
  flushIntervalMs?: number;
  /** Send as soon as this many samples are buffered; also the batch size (≤ 10,000). Default 5000. */
  maxBatchSize?: number;
  /** Most samples held in memory (buffered + in flight); more are dropped. Default 50,000. */
  maxBuffer?: number;
  /** Attempts per batch the daemon did not apply (it answered an error, or it was not connected). Default 5. */
  maxAttempts?: number;
  /** Delivery problems, for the service's log; never throws into the caller. */
  onError?: (error: Error, info: { samples: number; outcome: FlushFailure }) => void;
  /** Epoch ms for default timestamps; `Date.now` by default. */
  now?: () => number;
}

/** What a failed send means for its batch. */
export type FlushFailure =
  /** The daemon did not apply it: safe to send again. */
  | 'notApplied'
  /** The daemon refused it as invalid: sending it again would fail again. */
  | 'rejected'
  /** Too big for one message: split it and send the halves. */
  | 'tooLarge'
  /** It may or may not have been applied: never re-sent. */
  | 'unknown';

/** Daemon answers that prove an all-or-nothing command changed nothing and may succeed later. */
const NOT_APPLIED_CODES: ReadonlySet<number> = new Set([
  ErrorCode.NotInitialized,
  ErrorCode.Unauthorized,
  ErrorCode.Forbidden,
  ErrorCode.RateLimited,
  ErrorCode.BackendUnavailable,
  ErrorCode.ShuttingDown,
]);

/**
 * Classify a failed `slo/recordBatch`. Only answers of the daemon itself prove nothing was applied;
 * a timeout (`RpcError(Timeout)` is also what the client raises when no answer came), a dropped
 * connection, an internal or storage error may hide an applied batch, so they count as unknown.
 */
export function classifyFlushError(error: unknown): FlushFailure {
  if (isRpcError(error)) {
    if (error.code === ErrorCode.InvalidParams) return 'rejected';
    if (error.code === ErrorCode.MessageTooLarge) return 'tooLarge';
    return NOT_APPLIED_CODES.has(error.code) ? 'notApplied' : 'unknown';
  }
  // Raised before anything was written to the socket (params not serializable).
  if (error instanceof TypeError) return 'rejected';
  // ClientError outcomeUnknown / closed / aborted / invalidResult, or anything unexpected.
  return 'unknown';
}

/** Indexes of the samples an InvalidParams answer names (`samples.3.timestamp` or a path array). */
export function rejectedSampleIndexes(error: unknown, batchSize: number): Set<number> {
  const found = new Set<number>();
  if (!isRpcError(error) || error.code !== ErrorCode.InvalidParams) return found;
  const issues = (error.data as { issues?: unknown } | undefined)?.issues;
  if (!Array.isArray(issues)) return found;
  for (const issue of issues) {
    const path = (issue as { path?: unknown } | null)?.path;
    const parts = Array.isArray(path) ? path.map(String) : typeof path === 'string' ? path.split('.') : [];
    const index = parts[0] === 'samples' ? Number(parts[1]) : NaN;
    if (Number.isInteger(index) && index >= 0 && index < batchSize) found.add(index);
  }
  return found;
}

interface Buffered {
  service: string;
  method: string;
  route: string;
  status: number;
  durationMs: number;
  /** Epoch ms. */
  time: number;
  timedOut?: boolean;
  good?: boolean;
  client?: string;
}

interface Batch {
  /** The idempotency key: kept across attempts, new whenever the samples change (split, rest). */
  id: string;
  items: Buffered[];
  attempts: number;
}

const newBatch = (items: Buffered[], attempts = 0): Batch => ({ id: randomUUID(), items, attempts });

const MAX_SERVICE = 128;
const MAX_METHOD = 16;
const MAX_ROUTE = 512;
const MAX_DURATION_MS = 86_400_000;
const MAX_CLIENT = MAX_CLIENT_ID_CHARS;

export class SloRecorder {
  private readonly service: string;
  private readonly flushIntervalMs: number;
  private readonly maxBatchSize: number;
  private readonly maxBuffer: number;
  private readonly maxAttempts: number;
  private readonly now: () => number;

  /** Samples not yet in a batch, oldest first. */
  private buffer: Buffered[] = [];
  /** Batches not (known to be) applied, to be sent again with their batchId before the buffer. */
  private retries: Batch[] = [];
  private inFlight = 0;
  private counts = { recorded: 0, sent: 0, dropped: 0, lost: 0, rejected: 0, invalid: 0 };
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Immediate | undefined;
  private sending: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly transport: SloTransport,
    private readonly options: SloRecorderOptions = {},
  ) {
    this.service = clip(options.service ?? 'api', MAX_SERVICE);
    this.flushIntervalMs = positive(options.flushIntervalMs, 1000, 'flushIntervalMs');
    this.maxBatchSize = Math.min(MAX_SAMPLE_BATCH, positive(options.maxBatchSize, 5000, 'maxBatchSize'));
    this.maxBuffer = positive(options.maxBuffer, 50_000, 'maxBuffer');
    this.maxAttempts = positive(options.maxAttempts, 5, 'maxAttempts');
    this.now = options.now ?? Date.now;
    this.timer = setInterval(() => this.kick(), this.flushIntervalMs);
    // A recorder must not keep a service's process alive on its own.
    this.timer.unref();
  }

  /** A recorder sending through `client` (which must be started, e.g. by `connect()`). */
  static fromClient(client: DaemonClient, options?: SloRecorderOptions): SloRecorder {
    return new SloRecorder(
      {
        isReady: () => client.state === 'connected',
        send: async (samples, batchId) => {
          await client.request(RecordSampleBatch, { samples, batchId });
        },
      },
      options,
    );
  }

  /** Buffer one request. Never throws, blocks or awaits; a full buffer drops the sample (counted). */
  recordRequest(sample: SloRequestSample): void {
    try {
      if (this.closed || this.pendingCount() >= this.maxBuffer) {
        this.counts.dropped++;
        return;
      }
      const item = this.normalize(sample);
      if (!item) {
        this.counts.invalid++;
        return;
      }
      this.buffer.push(item);
      this.counts.recorded++;
      if (this.buffer.length >= this.maxBatchSize && !this.soon) {
        // Sent from the event loop, not inside the caller's request handler.
        this.soon = setImmediate(() => {
          this.soon = undefined;
          this.kick();
        });
      }
    } catch {
      // A getter on a caller's object threw: the sample is unusable, the caller must not notice.
      this.counts.invalid++;
    }
  }

  /**
   * Send everything buffered now. Resolves when it was all acknowledged or a send failed (what the
   * daemon did not apply stays buffered for the next attempt). Never rejects.
   */
  async flush(): Promise<void> {
    while (this.sending) await this.sending;
    await this.run();
  }

  /**
   * Stop the timer, send what is buffered (retrying batches the daemon did not apply, up to
   * `maxAttempts`), then count whatever is left as dropped. Later recordRequest calls are dropped.
   * Does not close the DaemonClient.
   */
  async close(): Promise<void> {
    if (this.closed) {
      while (this.sending) await this.sending;
      return;
    }
    this.closed = true;
    clearInterval(this.timer);
    if (this.soon) clearImmediate(this.soon);
    for (let round = 0; round <= this.maxAttempts && this.buffer.length + this.retries.length > 0; round++) {
      await this.flush();
      if (!this.transport.isReady()) break;
    }
    for (const b of this.retries) this.counts.dropped += b.items.length;
    this.counts.dropped += this.buffer.length;
    this.retries = [];
    this.buffer = [];
  }

  stats(): SloRecorderStats {
    return { ...this.counts, pending: this.pendingCount() };
  }

  private pendingCount(): number {
    let n = this.buffer.length + this.inFlight;
    for (const b of this.retries) n += b.items.length;
    return n;
  }

  private kick(): void {
    if (!this.sending) void this.run();
  }

  /** One drain at a time: batches go out in order. */
  private run(): Promise<void> {
    const p = this.drain().finally(() => {
      if (this.sending === p) this.sending = undefined;
    });
    this.sending = p;
    return p;
  }

  /** Send batches one after another until the buffer is empty or a send fails. */
  private async drain(): Promise<void> {
    while (this.retries.length > 0 || this.buffer.length > 0) {
      if (!this.transport.isReady()) return;
      const batch = this.retries.shift() ?? newBatch(this.buffer.splice(0, this.maxBatchSize));
      if (!(await this.send(batch))) return;
    }
  }

  /** One attempt; true when the loop may go on with the next batch. */
  private async send(batch: Batch): Promise<boolean> {
    const samples = batch.items.map(toSample);
    batch.attempts++;
    this.inFlight += batch.items.length;
    let failure: unknown;
    try {
      await this.transport.send(samples, batch.id);
    } catch (e) {
      failure = e ?? new Error('send failed');
    } finally {
      this.inFlight -= batch.items.length;
    }
    if (failure === undefined) {
      this.counts.sent += batch.items.length;
      return true;
    }
    const outcome = classifyFlushError(failure);
    this.report(failure, batch.items.length, outcome);
    switch (outcome) {
      case 'notApplied':
        return this.retryLater(batch);
      case 'tooLarge': {
        if (batch.items.length === 1) {
          this.counts.rejected++;
          return true;
        }
        const half = Math.ceil(batch.items.length / 2);
        this.retries.unshift(newBatch(batch.items.slice(0, half)), newBatch(batch.items.slice(half)));
        return true;
      }
      case 'rejected': {
        const bad = rejectedSampleIndexes(failure, batch.items.length);
        if (bad.size === 0 || bad.size === batch.items.length) {
          this.counts.rejected += batch.items.length;
          return true;
        }
        // All or nothing: the valid rest of the batch was not recorded either, so send it again.
        this.counts.rejected += bad.size;
        const rest = batch.items.filter((_, i) => !bad.has(i));
        this.retries.unshift(newBatch(rest, batch.attempts));
        return batch.attempts < this.maxAttempts || this.giveUp();
      }
      case 'unknown':
        return this.retryLater(batch, 'lost');
    }
  }

  /** Back to the front of the queue with the same batchId, unless it used up its attempts. */
  private retryLater(batch: Batch, exhausted: 'dropped' | 'lost' = 'dropped'): boolean {
    if (batch.attempts >= this.maxAttempts) {
      this.counts[exhausted] += batch.items.length;
      return false;
    }
    this.retries.unshift(batch);
    return false;
  }

  /** A rest batch that used up its attempts: drop it. */
  private giveUp(): boolean {
    const batch = this.retries.shift();
    if (batch) this.counts.dropped += batch.items.length;
    return true;
  }

  private report(error: unknown, samples: number, outcome: FlushFailure): void {
    try {
      this.options.onError?.(error instanceof Error ? error : new Error(String(error)), { samples, outcome });
    } catch {
      // The caller's logger failing must not stop delivery.
    }
  }

  /** The sample in wire limits, or undefined when it cannot be made valid. */
  private normalize(s: SloRequestSample): Buffered | undefined {
    const status = s.status;
    if (!Number.isInteger(status) || status < 100 || status > 599) return undefined;
    const duration = s.durationMs;
    if (typeof duration !== 'number' || !(duration >= 0)) return undefined;
    if (typeof s.method !== 'string' || s.method.length === 0 || typeof s.route !== 'string' || s.route.length === 0) return undefined;
    const service = s.service === undefined ? this.service : typeof s.service === 'string' && s.service.length > 0 ? clip(s.service, MAX_SERVICE) : undefined;
    if (service === undefined) return undefined;
    const time = s.timestamp === undefined ? this.now() : s.timestamp instanceof Date ? s.timestamp.getTime() : typeof s.timestamp === 'string' ? Date.parse(s.timestamp) : s.timestamp;
    // Beyond ±8.64e15 ms a Date is invalid and toISOString would throw.
    if (!Number.isFinite(time) || Math.abs(time) > 8.64e15) return undefined;
    const item: Buffered = {
      service,
      method: clip(s.method.toUpperCase(), MAX_METHOD),
      route: clip(s.route, MAX_ROUTE),
      status,
      durationMs: Math.min(duration, MAX_DURATION_MS),
      time,
    };
    if (s.timedOut === true) item.timedOut = true;
    if (typeof s.good === 'boolean') item.good = s.good;
    if (typeof s.client === 'string' && s.client.length > 0) item.client = clip(s.client, MAX_CLIENT);
    return item;
  }
}

/** `SloRecorder.fromClient(client, options)`. */
export function createSloRecorder(client: DaemonClient, options?: SloRecorderOptions): SloRecorder {
  return SloRecorder.fromClient(client, options);
}

function toSample(b: Buffered): SloSample {
  const s: SloSample = {
    service: b.service,
    method: b.method,
    route: b.route,
    status: b.status,
    durationMs: b.durationMs,
    timestamp: new Date(b.time).toISOString(),
  };
  if (b.timedOut) s.timedOut = true;
  if (b.good !== undefined) s.good = b.good;
  if (b.client !== undefined) s.client = b.client;
  return s;
}

const clip = (s: string, max: number): string => (s.length > max ? s.slice(0, max) : s);

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 1) throw new RangeError(`SloRecorder: ${name} must be ≥ 1, got ${value}`);
  return Math.floor(value);
}
