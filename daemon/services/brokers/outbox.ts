import { ErrorCode, RpcError, type BrokerStatus } from '../../protocol';
import type { Clock, TimerHandle } from '../shared/clock';
import type { EventRecord, EventStore } from '../../store/types';
import type { BrokerTransport } from './transport';

export type OutboxLog = (level: 'info' | 'warn' | 'error', message: string) => void;

/** What the outbox reads: the log's head, events after a cursor, and a nudge per append. */
export type OutboxStore = Pick<EventStore, 'lastSeq' | 'readFrom' | 'onAppend'>;

/** The durable cursor (see OutboxCursor); an interface so the loop can be tested on its own. */
export interface Cursor {
  readonly seq: number;
  save(seq: number): Promise<void>;
}

/** Runs one broker call through the dependency's policy (`policies.execute('kafka', fn, options)`). */
export type PolicyRunner = <T>(fn: (signal: AbortSignal) => Promise<T>, options: { timeoutMs: number; signal: AbortSignal }) => Promise<T>;

export interface BrokerOutboxOptions {
  store: OutboxStore;
  transport: BrokerTransport;
  cursor: Cursor;
  runPolicy: PolicyRunner;
  /** Close the dependency's circuit (after a probe showed the broker accepts connections again). */
  resetBreaker: (reason: string) => void;
  clock: Clock;
  /** Most events per publish call. */
  batchSize: number;
  /** Per publish or connect attempt, ms. */
  publishTimeoutMs: number;
  /** First wait after a failure, ms; doubles up to `retryMaxMs`. Defaults 250 and 5,000. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** While the circuit is open, probe the broker this often, ms (default 1,000). */
  probeIntervalMs?: number;
  log?: OutboxLog;
  /** Called with the full status each time `connected` flips. */
  onChange?: (status: BrokerStatus) => void;
}

/**
 * The publisher loop over the event log. The log is the outbox: appending an event is all an RPC
 * does; this loop reads the events after the durable cursor in log order, publishes them in
 * batches of at most `batchSize` (one publish outstanding, so the broker sees log order even across
 * retries), then moves the cursor. While the broker is down the events simply wait in the log and
 * the loop retries with backoff through the dependency policy (timeouts, circuit breaker); after a
 * crash it resumes from the cursor, so events after it may be published twice with the same id.
 */
export class BrokerOutbox {
  private readonly o: Required<Omit<BrokerOutboxOptions, 'onChange' | 'log'>> & Pick<BrokerOutboxOptions, 'onChange'>;
  private readonly log: OutboxLog;
  private readonly abort = new AbortController();
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly sleepers = new Set<{ forAppend: boolean; done: () => void }>();
  private triedOnce = false;
  private connected = false;
  private sinceMs: number;
  private lastError: { message: string; at: string } | undefined;
  private publishedSinceStart = 0;
  private readonly detach: () => void;
  /** Newest sequence number the broker acknowledged; the durable cursor catches up after each save. */
  private position: number;
  /** The cursor writes, one after the other; the next publish does not wait for them. */
  private saving: Promise<void> = Promise.resolve();
  private saveQueued = false;

  constructor(options: BrokerOutboxOptions) {
    this.o = { retryInitialMs: 250, retryMaxMs: 5_000, probeIntervalMs: 1_000, ...options };
    this.log = options.log ?? (() => undefined);
    this.sinceMs = options.clock.now();
    this.position = options.cursor.seq;
    this.detach = options.store.onAppend(() => this.nudge());
    options.transport.onDisconnect((reason) => {
      if (this.stopped) return;
      this.markDown(reason);
      this.nudge();
    });
  }

  /** Start the loop (once). */
  start(): void {
    this.loop ??= this.run().catch((e: unknown) => this.log('error', `brokers: outbox loop stopped: ${(e as Error).stack ?? String(e)}`));
  }

  status(): BrokerStatus {
    const head = this.o.store.lastSeq;
    const seq = Math.min(this.o.cursor.seq, head);
    return {
      kind: this.o.transport.kind,
      target: this.o.transport.target,
      connected: this.connected,
      outboxLag: Math.max(0, head - seq),
      lastPublishedSeq: seq,
      headSeq: head,
      publishedSinceStart: this.publishedSinceStart,
      ...(this.lastError ? { lastError: { ...this.lastError } } : {}),
      since: new Date(this.sinceMs).toISOString(),
    };
  }

  /** Stop the loop, abandon a publish in flight (it is resent after the restart), close the client. Safe to call twice. */
  async close(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.detach();
      this.abort.abort(new Error('daemon stopping'));
      this.nudge();
    }
    await this.loop;
    await this.saving;
    await Promise.race([this.o.transport.close().catch(() => undefined), new Promise((r) => setTimeout(r, 3_000).unref())]);
  }

  private async run(): Promise<void> {
    let delay = this.o.retryInitialMs;
    while (!this.stopped) {
      const head = this.o.store.lastSeq;
      if (this.position > head) {
        // The cursor names events this log no longer has (a data dir restored from an older copy):
        // what comes next gets new sequence numbers above the head, so publish from there.
        this.log('warn', `brokers: outbox cursor ${this.position} is past the log head ${head}; continuing from ${head}`);
        await this.saveCursor(head);
      }
      const pending = head > this.position;
      if (!pending && this.connected) {
        await this.sleep(undefined);
        continue;
      }
      try {
        if (pending) await this.publishNext();
        else await this.policy((signal) => this.o.transport.connect(signal));
        this.markUp();
        delay = this.o.retryInitialMs;
      } catch (e) {
        if (this.stopped) break;
        this.markDown(e instanceof Error ? e.message : String(e));
        await this.o.transport.reset().catch(() => undefined);
        await this.waitBeforeRetry(e, delay);
        delay = Math.min(delay * 2, this.o.retryMaxMs);
      }
    }
  }

  private async publishNext(): Promise<void> {
    const from = this.position;
    const batch: EventRecord[] = [];
    for await (const event of this.o.store.readFrom(from)) {
      batch.push(event);
      if (batch.length >= this.o.batchSize) break;
    }
    if (batch.length === 0) {
      // Retention dropped everything after the cursor before it was published: nothing to send.
      this.log('warn', `brokers: events after ${from} are no longer in the log (retention); the broker misses them`);
      await this.saveCursor(this.o.store.lastSeq);
      return;
    }
    // Events imported from teammates (team mode) are on the broker already, sent by their origin.
    const own = batch.some((e) => e.origin !== undefined) ? batch.filter((e) => e.origin === undefined) : batch;
    if (own.length > 0) await this.policy((signal) => this.o.transport.publish(own, signal));
    this.publishedSinceStart += own.length;
    // The next batch goes out while the cursor is written (two fsyncs): a crash in between only
    // re-sends what the broker already has, with the same ids.
    this.queueCursorSave(batch[batch.length - 1]!.seq);
  }

  private policy<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.o.runPolicy(fn, { timeoutMs: this.o.publishTimeoutMs, signal: this.abort.signal });
  }

  private async saveCursor(seq: number): Promise<void> {
    this.queueCursorSave(seq);
    await this.saving;
  }

  /** Move the position now and write it behind the saves already queued (one write for several moves). */
  private queueCursorSave(seq: number): void {
    this.position = seq;
    if (this.saveQueued) return;
    this.saveQueued = true;
    this.saving = this.saving.then(async () => {
      this.saveQueued = false;
      try {
        await this.o.cursor.save(this.position);
      } catch (e) {
        // The broker has the events; a lost cursor only means they are sent again after a restart.
        this.log('error', `brokers: could not save the outbox cursor (${(e as Error).message}); events after it may be published again after a restart`);
      }
    });
  }

  private async waitBeforeRetry(e: unknown, delay: number): Promise<void> {
    const open = circuitOpenUntil(e);
    if (open === undefined) {
      await this.sleep(delay);
      return;
    }
    // The circuit stays open for a while (60 s by default); when the broker takes connections
    // again sooner, close it and try at once rather than leave events waiting.
    while (!this.stopped && this.o.clock.now() < open) {
      await this.sleep(Math.min(this.o.probeIntervalMs, open - this.o.clock.now()));
      if (this.stopped) return;
      try {
        await this.o.transport.probe(this.abort.signal);
        this.o.resetBreaker('the broker accepts connections again (outbox probe)');
        return;
      } catch {
        // Still down: keep waiting.
      }
    }
  }

  private markUp(): void {
    this.triedOnce = true;
    if (this.connected) return;
    this.connected = true;
    this.sinceMs = this.o.clock.now();
    const lag = this.status().outboxLag;
    this.log('info', `brokers: connected to ${this.o.transport.kind} at ${this.o.transport.target}${lag > 0 ? `; ${lag} event(s) to publish` : ''}`);
    this.o.onChange?.(this.status());
  }

  private markDown(message: string): void {
    const at = this.o.clock.now();
    this.lastError = { message, at: new Date(at).toISOString() };
    const first = !this.triedOnce;
    this.triedOnce = true;
    // Already known to be down: the retries stay quiet.
    if (!this.connected && !first) return;
    const wasConnected = this.connected;
    this.connected = false;
    this.sinceMs = at;
    this.log('warn', `brokers: ${this.o.transport.kind} at ${this.o.transport.target} unreachable (${message}); events wait in the log and are published when it is back`);
    if (wasConnected) this.o.onChange?.(this.status());
  }

  /** Wait `ms` (undefined: until the next append or disconnect), or until stopped. */
  private sleep(ms: number | undefined): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer: TimerHandle | undefined;
      const waiter = { forAppend: ms === undefined, done: () => undefined as void };
      waiter.done = () => {
        timer?.cancel();
        this.sleepers.delete(waiter);
        resolve();
      };
      this.sleepers.add(waiter);
      if (ms !== undefined) timer = this.o.clock.setTimer(ms, waiter.done);
    });
  }

  /** An append or a lost connection wakes an idle loop; stopping wakes every wait. */
  private nudge(): void {
    for (const w of [...this.sleepers]) if (w.forAppend || this.stopped) w.done();
  }
}

/** When an open circuit lets calls through again (epoch ms), or undefined for other failures. */
function circuitOpenUntil(e: unknown): number | undefined {
  if (!(e instanceof RpcError) || e.code !== ErrorCode.BackendUnavailable) return undefined;
  const data = e.data as { reason?: unknown; retryAt?: unknown } | undefined;
  if (data?.reason !== 'circuitOpen' || typeof data.retryAt !== 'string') return undefined;
  return Date.parse(data.retryAt);
}
