import { Kafka, logLevel, type Consumer, type EachBatchPayload, type IHeaders } from 'kafkajs';
import type { TeamStatus } from '../../protocol';
import type { TeamShare } from '../../server/feature';
import type { Clock } from '../shared/clock';
import type { EventRecord, EventStore, NewEvent } from '../../store/types';
import { createMissingTopics } from '../brokers/kafkaTransport';
import type { KafkaSettings } from '../brokers/settings';
import { Headers, TOPIC_PARTITIONS, decodeEvent, topicOf } from '../brokers/wireFormat';

export type TeamLog = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface TeamImporterOptions {
  settings: KafkaSettings;
  daemonId: string;
  store: Pick<EventStore, 'append'>;
  /** What each feature shares (see `DaemonFeature.team`). */
  shares: readonly TeamShare[];
  clock: Clock;
  log?: TeamLog;
  /** Called when `consuming` flips. */
  onChange?: () => void;
  /** First wait after a failed start, ms; doubles up to 30 s. Default 1,000. */
  retryInitialMs?: number;
}

const header = (headers: IHeaders | undefined, name: string): string | undefined => {
  const v = headers?.[name];
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : one.toString();
};

/**
 * Team mode's reading half: one Kafka consumer group per daemon (`<topic prefix>team.<daemon id>`)
 * reads the shared topics from the beginning and appends each teammate's event to this daemon's
 * log with its original id, so the store's idempotency makes redeliveries no-ops and the
 * projections, subscriptions and notifications see it like a local event. The event keeps where
 * it came from in `origin` (daemon, seq, time); the outbox never publishes such events again.
 * Offsets are committed only after the append is durable, so a crash re-reads (at-least-once,
 * deduplicated by id). A partition is read in order, and the aggregate id is the message key, so
 * each incident's or secret's events are applied in the order its daemons wrote them.
 */
export class TeamImporter {
  private readonly kafka: Kafka;
  private readonly topics: string[];
  private readonly group: string;
  private readonly log: TeamLog;
  private consumer: Consumer | undefined;
  private closed = false;
  private consuming = false;
  private imported = 0;
  private skipped = 0;
  private lastImportAt: string | undefined;
  private lastError: { message: string; at: string } | undefined;
  private readonly teammates = new Map<string, { events: number; lastEventAt: string }>();
  private retry: ReturnType<typeof setTimeout> | undefined;
  private starting: Promise<void> | undefined;

  constructor(private readonly o: TeamImporterOptions) {
    this.kafka = new Kafka({
      clientId: `${o.settings.clientId}.team`,
      brokers: o.settings.brokers,
      connectionTimeout: 3_000,
      requestTimeout: 10_000,
      retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 5_000 },
      logLevel: logLevel.NOTHING,
    });
    const streams = [...new Set(o.shares.flatMap((s) => s.streams))].sort();
    this.topics = streams.map((s) => topicOf(o.settings.topicPrefix, s));
    // Per team (topic prefix) and daemon: the same daemon id in another team is another reader.
    this.group = `${o.settings.topicPrefix}team.${o.daemonId}`;
    this.log = o.log ?? (() => undefined);
  }

  /** Start reading in the background; a broker that is down is retried with backoff. */
  start(): void {
    this.starting = this.startWithRetry(this.o.retryInitialMs ?? 1_000);
  }

  status(): TeamStatus {
    return {
      daemonId: this.o.daemonId,
      topics: [...this.topics],
      group: this.group,
      consuming: this.consuming,
      imported: this.imported,
      skipped: this.skipped,
      teammates: [...this.teammates].map(([daemonId, t]) => ({ daemonId, ...t })).sort((a, b) => a.daemonId.localeCompare(b.daemonId)),
      ...(this.lastImportAt !== undefined ? { lastImportAt: this.lastImportAt } : {}),
      ...(this.lastError ? { lastError: { ...this.lastError } } : {}),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    await this.starting?.catch(() => undefined);
    const c = this.consumer;
    this.consumer = undefined;
    await Promise.race([c?.disconnect().catch(() => undefined), new Promise((r) => setTimeout(r, 5_000).unref())]);
  }

  private async startWithRetry(delayMs: number): Promise<void> {
    if (this.closed) return;
    try {
      await this.startConsumer();
    } catch (e) {
      this.fail(e);
      const c = this.consumer;
      this.consumer = undefined;
      await c?.disconnect().catch(() => undefined);
      if (this.closed) return;
      this.retry = setTimeout(() => {
        this.starting = this.startWithRetry(Math.min(delayMs * 2, 30_000));
      }, delayMs);
      this.retry.unref?.();
    }
  }

  private async startConsumer(): Promise<void> {
    // The topics may not exist yet when this daemon is the first of its team.
    await createMissingTopics(this.kafka, this.topics, TOPIC_PARTITIONS);
    const consumer = this.kafka.consumer({
      groupId: this.group,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 5_000, restartOnFailure: () => Promise.resolve(!this.closed) },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => this.setConsuming(true));
    consumer.on(consumer.events.CRASH, (e) => {
      this.fail(e.payload.error);
      this.setConsuming(false);
      // kafkajs restarts the consumer itself (restartOnFailure) unless the error is not retriable.
      if (!e.payload.restart && !this.closed) {
        this.consumer = undefined;
        void consumer.disconnect().catch(() => undefined);
        this.starting = this.startWithRetry(this.o.retryInitialMs ?? 1_000);
      }
    });
    consumer.on(consumer.events.DISCONNECT, () => this.setConsuming(false));
    await consumer.connect();
    await consumer.subscribe({ topics: this.topics, fromBeginning: true });
    await consumer.run({ eachBatchAutoResolve: false, autoCommit: true, eachBatch: (b) => this.onBatch(b) });
    this.log('info', `team: daemon ${this.o.daemonId} reads teammates' events from ${this.topics.join(', ')} (group ${this.group})`);
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const events: NewEvent[] = [];
    const origins: string[] = [];
    for (const message of batch.messages) {
      const origin = header(message.headers, Headers.origin);
      if (origin === this.o.daemonId) continue;
      let event: EventRecord;
      try {
        if (origin === undefined) throw new Error(`no ${Headers.origin} header (not written by a CogniForge daemon in team mode)`);
        if (message.value === null) throw new Error('empty message');
        const truncated = header(message.headers, Headers.truncated);
        if (truncated !== undefined) throw new Error(`event of ${truncated} bytes was too large for the broker and was sent without its payload; it stays on ${origin}`);
        event = decodeEvent(message.value);
      } catch (e) {
        this.skipped++;
        this.log('warn', `team: skipped message ${batch.topic}/${batch.partition}@${message.offset}: ${(e as Error).message}`);
        continue;
      }
      // An event a teammate imported itself is never published again; this guards against a loop all the same.
      if (event.origin !== undefined) continue;
      if (!this.o.shares.some((s) => s.accepts(event))) {
        this.skipped++;
        continue;
      }
      events.push({
        id: event.id,
        type: event.type,
        stream: event.stream,
        priority: event.priority,
        actor: event.actor,
        ...(event.source !== undefined ? { source: event.source } : {}),
        ...(event.correlationId !== undefined ? { correlationId: event.correlationId } : {}),
        ...(event.causationId !== undefined ? { causationId: event.causationId } : {}),
        schemaVersion: event.schemaVersion,
        payload: event.payload,
        origin: { daemon: origin, seq: event.seq, time: event.time },
      });
      origins.push(origin);
    }
    if (!isRunning() || isStale()) return;
    if (events.length > 0) {
      // Durable before the offset moves: a crash here re-reads the batch, and the ids make it a no-op.
      const results = await this.o.store.append(events);
      const now = new Date(this.o.clock.now()).toISOString();
      results.forEach((r, i) => {
        if (r.duplicate) return;
        this.imported++;
        const t = this.teammates.get(origins[i]!) ?? { events: 0, lastEventAt: now };
        t.events++;
        t.lastEventAt = r.event.origin?.time ?? now;
        this.teammates.set(origins[i]!, t);
      });
      this.lastImportAt = now;
    }
    const last = batch.messages.at(-1);
    if (last) resolveOffset(last.offset);
    await heartbeat();
  }

  private setConsuming(on: boolean): void {
    if (this.consuming === on) return;
    this.consuming = on;
    if (on) this.log('info', `team: joined ${this.group}`);
    this.o.onChange?.();
  }

  private fail(e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    const first = this.lastError?.message !== message;
    this.lastError = { message, at: new Date(this.o.clock.now()).toISOString() };
    if (first) this.log('warn', `team: cannot read teammates' events (${message}); retrying`);
  }
}
