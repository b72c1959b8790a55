import { randomUUID } from 'node:crypto';
import {
  DidDeliver,
  ErrorCode,
  RpcError,
  type CreateDurableSubscription,
  type DlqEntry,
  type DurableSubscriptionInfo,
  type ListDlq,
  type ParsedParamsOf,
  type ReplayEvents,
  type ResultOf,
} from '../../protocol';
import type { EventRecord, EventStore } from '../../store/types';
import type { Clock, TimerHandle } from '../shared/clock';
import { matchesDurableFilter, retryDelay, watermark } from './deliveryPolicy';
import { SUBSCRIPTION_STREAM, SubscriptionEvents, type DurableDefinition, type DurableSubscriptionsProjection } from './durableProjection';
import type { SubscriberChannel } from './subscriptions';

interface Delivery {
  /** The `deliveryId` of the notification. */
  readonly key: string;
  readonly kind: 'live' | 'replay' | 'retry';
  readonly event: EventRecord;
  /** Deliveries of this copy so far. */
  attempt: number;
  /** queued: read, not sent; sent: waiting for ack; waiting: backing off before the next attempt; parking: going to the DLQ. */
  state: 'queued' | 'sent' | 'waiting' | 'parking';
  timer?: TimerHandle;
  readonly dlqEntryId?: string;
}

interface Runtime {
  readonly name: string;
  readonly consumer: string;
  /** Highest seq read from the log (matching or not). */
  cursor: number;
  /** Live deliveries read but not yet acked or parked, by seq, in seq order. */
  readonly live: Map<number, Delivery>;
  /** Replayed and DLQ-retried copies, by delivery key, in arrival order. */
  readonly extra: Map<string, Delivery>;
  /** Checkpoint as last persisted. */
  persisted: number;
  /** Acks and parks since the last persisted checkpoint. */
  resolvedSinceCheckpoint: number;
  checkpointTimer?: TimerHandle;
  persisting?: Promise<void>;
  pumping: boolean;
  dirty: boolean;
  closed: boolean;
}

export interface DurableOptions {
  /** Persist the checkpoint after this many acks/parks (default 100). */
  checkpointEvery?: number;
  /** ...or this long after the first unpersisted ack, ms (default 1000). */
  checkpointIntervalMs?: number;
  /** Most events one replay may deliver (default 10,000). */
  maxReplay?: number;
  /** [0, 1) random source for jitter. */
  random?: () => number;
  onError?: (message: string) => void;
}

/** Skip-only progress (no matching events) is persisted once it passes this many seqs. */
const SKIP_PERSIST_SEQS = 10_000;
const READ_PAGE = 500;

const notFound = (name: string) => new RpcError(ErrorCode.NotFound, `No durable subscription "${name}"`, { kind: 'subscription', id: name });

function encodeCursor(n: number): string {
  return Buffer.from(JSON.stringify({ v: 1, n })).toString('base64url');
}

function decodeCursor(text: string, method: string): number {
  try {
    const c = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { v?: unknown; n?: unknown };
    if (c.v === 1 && Number.isSafeInteger(c.n)) return c.n as number;
  } catch {
    // Falls through to the error below.
  }
  throw new RpcError(ErrorCode.InvalidParams, `Invalid params for ${method}: cursor: not a cursor from a previous page`, {
    method,
    issues: [{ path: 'cursor', message: 'not a cursor from a previous page' }],
  });
}

/**
 * Durable named subscriptions with ack/nack, redelivery, retries with backoff, a DLQ and replay.
 *
 * Semantics: at-least-once, in order per stream. A subscription's events of one stream are handed
 * to the consumer one at a time (the next only after the previous was acked or parked), streams in
 * parallel, at most `maxInFlight` read-but-unresolved events in all. The checkpoint (every matching
 * seq up to it acked or parked) is persisted as a `subscription.checkpoint` event every
 * `checkpointEvery` acks or `checkpointIntervalMs`, and on detach or graceful stop; after a crash the
 * consumer gets again what was acked after the last persisted checkpoint. Replayed and DLQ-retried
 * copies are out of band: not ordered with live deliveries, not part of the checkpoint.
 */
export class DurableSubscriptions {
  private readonly runtimes = new Map<string, Runtime>();
  /** DLQ ids whose retry is being appended: a concurrent second retry must not deliver twice. */
  private readonly claimed = new Set<string>();
  private readonly detachListeners: (() => void)[] = [];
  private readonly checkpointEvery: number;
  private readonly checkpointIntervalMs: number;
  private readonly maxReplay: number;
  private readonly random: () => number;
  private readonly onError: (message: string) => void;

  constructor(
    private readonly store: EventStore,
    private readonly projection: DurableSubscriptionsProjection,
    private readonly channel: SubscriberChannel,
    private readonly clock: Clock,
    options: DurableOptions = {},
  ) {
    this.checkpointEvery = options.checkpointEvery ?? 100;
    this.checkpointIntervalMs = options.checkpointIntervalMs ?? 1000;
    this.maxReplay = options.maxReplay ?? 10_000;
    this.random = options.random ?? Math.random;
    this.onError = options.onError ?? (() => undefined);
    this.detachListeners.push(store.onAppend(() => this.wakeAll()));
    this.detachListeners.push(
      channel.onConnectionClosed((id) => {
        for (const rt of [...this.runtimes.values()]) if (rt.consumer === id) void this.detach(rt, true);
      }),
    );
  }

  // ---------------------------------------------------------------- definitions

  async create(p: ParsedParamsOf<typeof CreateDurableSubscription>, actor: string): Promise<ResultOf<typeof CreateDurableSubscription>> {
    const known = new Set(this.store.streams().map((s) => s.name));
    const unknown = (p.filter.streams ?? []).filter((s) => !known.has(s));
    if (unknown.length > 0) {
      throw new RpcError(ErrorCode.InvalidParams, `Invalid params for events/createSubscription: filter.streams: unknown stream "${unknown[0]}"`, {
        method: 'events/createSubscription',
        issues: [{ path: 'filter.streams', message: `unknown stream(s) ${unknown.join(', ')}; known: ${[...known].join(', ')}` }],
      });
    }
    const existing = this.projection.get(p.name);
    if (existing) {
      if (p.ifExists === 'keep') return { subscription: this.info(existing), created: false };
      throw new RpcError(ErrorCode.Duplicate, `A durable subscription named "${p.name}" already exists`, { kind: 'subscription', id: p.name });
    }
    const head = this.store.lastSeq;
    if (p.startAfterSeq !== undefined && p.startAfterSeq > head) {
      throw new RpcError(ErrorCode.FailedPrecondition, `startAfterSeq ${p.startAfterSeq} is beyond the end of the log (last seq ${head})`, {
        startAfterSeq: p.startAfterSeq,
        lastSeq: head,
      });
    }
    const definition: DurableDefinition = {
      name: p.name,
      filter: p.filter,
      ackTimeoutMs: p.ackTimeoutMs,
      maxAttempts: p.maxAttempts,
      backoff: p.backoff,
      maxInFlight: p.maxInFlight,
      createdAt: new Date(this.clock.now()).toISOString(),
      createdBy: actor,
      checkpoint: p.startAfterSeq ?? head,
    };
    await this.append(SubscriptionEvents.created, { definition }, actor);
    return { subscription: this.info(this.mustGet(p.name)), created: true };
  }

  list(): DurableSubscriptionInfo[] {
    return this.projection.list().map((d) => this.info(d));
  }

  async delete(name: string, actor: string): Promise<void> {
    this.mustGet(name);
    const rt = this.runtimes.get(name);
    if (rt) void this.detach(rt, false);
    await this.append(SubscriptionEvents.deleted, { name }, actor);
  }

  // ---------------------------------------------------------------- consumers

  /**
   * Make `connectionId` the consumer of `name`. One consumer per subscription: a second attach from
   * another connection is refused (Conflict) unless `takeover`, which detaches the first.
   * Delivery starts when the returned `start` runs (after the answer went out).
   */
  attach(connectionId: string, name: string, takeover: boolean): { subscription: DurableSubscriptionInfo; start: () => void } {
    if (!connectionId.startsWith('ws:')) {
      throw new RpcError(ErrorCode.FailedPrecondition, 'A durable subscription needs a WebSocket connection (/rpc) to deliver to');
    }
    const def = this.mustGet(name);
    const current = this.runtimes.get(name);
    if (current && current.consumer === connectionId) return { subscription: this.info(def), start: () => this.wake(current) };
    if (current && !takeover) {
      throw new RpcError(ErrorCode.Conflict, `Durable subscription "${name}" already has a consumer; pass takeover: true to replace it`, {
        kind: 'subscription',
        id: name,
      });
    }
    if (current) void this.detach(current, true);
    const rt: Runtime = {
      name,
      consumer: connectionId,
      cursor: def.checkpoint,
      live: new Map(),
      extra: new Map(),
      persisted: def.checkpoint,
      resolvedSinceCheckpoint: 0,
      pumping: false,
      dirty: false,
      closed: false,
    };
    this.runtimes.set(name, rt);
    return {
      subscription: this.info(def),
      start: () => {
        const retrying = this.projection.entries().filter((r) => r.entry.subscription === name && r.entry.status === 'retrying');
        void Promise.all(retrying.map((r) => this.enqueueRetry(rt, r.entry))).then(() => this.wake(rt));
      },
    };
  }

  /** Detach and persist the checkpoint; resolves once it is durable (a failed write is reported through onError). */
  detachConsumer(connectionId: string, name: string): Promise<void> {
    const rt = this.runtimes.get(name);
    if (!rt || rt.consumer !== connectionId) {
      throw new RpcError(ErrorCode.FailedPrecondition, `This connection is not the consumer of "${name}"`, { kind: 'subscription', id: name });
    }
    return this.detach(rt, true);
  }

  async ack(connectionId: string, name: string, seq: number, deliveryId: string | undefined): Promise<boolean> {
    const rt = this.consumerRuntime(connectionId, name);
    const d = this.findDelivery(rt, seq, deliveryId);
    if (!d || d.state === 'parking') return false;
    d.timer?.cancel();
    if (d.kind === 'live') {
      rt.live.delete(d.event.seq);
      this.resolved(rt);
    } else {
      rt.extra.delete(d.key);
      if (d.dlqEntryId) await this.append(SubscriptionEvents.redelivered, { id: d.dlqEntryId, name }, 'daemon');
    }
    this.wake(rt);
    return true;
  }

  async nack(connectionId: string, name: string, seq: number, deliveryId: string | undefined, reason: string): Promise<{ nacked: boolean; parked: boolean }> {
    const rt = this.consumerRuntime(connectionId, name);
    const d = this.findDelivery(rt, seq, deliveryId);
    // A nack for a copy already backing off (a late answer to an earlier attempt) changes nothing.
    if (!d || d.state !== 'sent') return { nacked: false, parked: false };
    return { nacked: true, parked: await this.fail(rt, d, reason) };
  }

  // ---------------------------------------------------------------- DLQ

  dlqList(p: ParsedParamsOf<typeof ListDlq>): ResultOf<typeof ListDlq> {
    const after = p.cursor === undefined ? 0 : decodeCursor(p.cursor, 'events/dlqList');
    const rows = this.projection
      .entries()
      .filter((r) => r.parkSeq > after)
      .filter((r) => p.subscription === undefined || r.entry.subscription === p.subscription)
      .filter((r) => p.status === 'all' || r.entry.status === p.status);
    const page = rows.slice(0, p.limit);
    const entries = page.map((r) => ({ ...r.entry }));
    return rows.length > p.limit ? { entries, nextCursor: encodeCursor(page[page.length - 1].parkSeq) } : { entries };
  }

  async dlqGet(id: string): Promise<{ entry: DlqEntry; event?: EventRecord }> {
    const entry = this.projection.entry(id);
    if (!entry) throw new RpcError(ErrorCode.NotFound, `No DLQ entry "${id}"`, { kind: 'dlqEntry', id });
    const event = await this.eventAt(entry.seq);
    return event ? { entry: { ...entry }, event } : { entry: { ...entry } };
  }

  async dlqRetry(p: { ids?: string[]; all?: boolean; subscription?: string }, actor: string): Promise<{ retried: string[]; skipped: string[] }> {
    let entries: DlqEntry[];
    if (p.ids) {
      const missing = p.ids.filter((id) => !this.projection.entry(id));
      if (missing.length > 0) throw new RpcError(ErrorCode.NotFound, `No DLQ entry "${missing[0]}"`, { kind: 'dlqEntry', id: missing[0], missing });
      entries = [...new Set(p.ids)].map((id) => this.projection.entry(id)!);
    } else {
      entries = this.projection
        .entries()
        .map((r) => r.entry)
        .filter((e) => e.status === 'parked' && (p.subscription === undefined || e.subscription === p.subscription));
    }
    const retried = entries.filter((e) => e.status === 'parked' && !this.claimed.has(e.id)).map((e) => e.id);
    const skipped = entries.map((e) => e.id).filter((id) => !retried.includes(id));
    if (retried.length === 0) return { retried, skipped };
    retried.forEach((id) => this.claimed.add(id));
    try {
      await this.append(SubscriptionEvents.unparked, { ids: retried }, actor);
    } finally {
      retried.forEach((id) => this.claimed.delete(id));
    }
    for (const id of retried) {
      const entry = this.projection.entry(id);
      const rt = entry && this.runtimes.get(entry.subscription);
      if (entry && rt) await this.enqueueRetry(rt, entry);
    }
    new Set(retried.map((id) => this.projection.entry(id)?.subscription)).forEach((n) => n && this.runtimes.get(n) && this.wake(this.runtimes.get(n)!));
    return { retried, skipped };
  }

  async dlqDiscard(ids: string[], actor: string): Promise<string[]> {
    const missing = ids.filter((id) => !this.projection.entry(id));
    if (missing.length > 0) throw new RpcError(ErrorCode.NotFound, `No DLQ entry "${missing[0]}"`, { kind: 'dlqEntry', id: missing[0], missing });
    const unique = [...new Set(ids)];
    for (const id of unique) {
      const entry = this.projection.entry(id)!;
      const rt = this.runtimes.get(entry.subscription);
      const copy = rt && [...rt.extra.values()].find((d) => d.dlqEntryId === id);
      if (rt && copy) {
        copy.timer?.cancel();
        rt.extra.delete(copy.key);
      }
    }
    await this.append(SubscriptionEvents.discarded, { ids: unique }, actor);
    return unique;
  }

  // ---------------------------------------------------------------- replay

  async replay(p: ParsedParamsOf<typeof ReplayEvents>, actor: string): Promise<ResultOf<typeof ReplayEvents>> {
    const def = this.mustGet(p.name);
    const rt = this.runtimes.get(p.name);
    if (!rt) {
      throw new RpcError(ErrorCode.FailedPrecondition, `Durable subscription "${p.name}" has no consumer attached; attach one, then replay`, {
        kind: 'subscription',
        id: p.name,
      });
    }
    const head = this.store.lastSeq;
    const [oldest] = await this.store.query({}, { limit: 1, order: 'asc' });
    const firstSeq = oldest?.seq ?? head + 1;
    let fromSeq = p.fromSeq;
    if (fromSeq === undefined) {
      const [first] = await this.store.query({ fromTime: Date.parse(p.from!) }, { limit: 1, order: 'asc' });
      fromSeq = first?.seq ?? head + 1;
    } else if (fromSeq < firstSeq && firstSeq > 1) {
      throw new RpcError(ErrorCode.FailedPrecondition, `fromSeq ${fromSeq} is out of retention: the oldest stored event is seq ${firstSeq}`, {
        fromSeq,
        oldestSeq: firstSeq,
      });
    }
    const toSeq = Math.min(p.toSeq ?? head, head);
    const toTime = p.to === undefined ? undefined : Date.parse(p.to);
    const matches: EventRecord[] = [];
    let after = fromSeq - 1;
    while (after < toSeq) {
      const rows = await this.store.query({ afterSeq: after, toTime }, { limit: READ_PAGE, order: 'asc' });
      for (const e of rows) {
        if (e.seq > toSeq) break;
        if (!matchesDurableFilter(def.filter, e)) continue;
        if (!matchesDurableFilter({ types: p.types, streams: p.streams }, e)) continue;
        matches.push(e);
        if (matches.length > this.maxReplay) {
          throw new RpcError(ErrorCode.FailedPrecondition, `The range holds more than ${this.maxReplay} matching events; narrow it and replay in parts`, {
            max: this.maxReplay,
          });
        }
      }
      if (rows.length < READ_PAGE) break;
      after = rows[rows.length - 1].seq;
    }
    const replayId = randomUUID().slice(0, 8);
    await this.append(
      SubscriptionEvents.replayed,
      { replayId, name: p.name, fromSeq, toSeq, from: p.from, to: p.to, types: p.types, streams: p.streams, count: matches.length },
      actor,
    );
    if (!rt.closed) {
      for (const e of matches) {
        const key = `replay:${replayId}:${e.seq}`;
        rt.extra.set(key, { key, kind: 'replay', event: e, attempt: 0, state: 'queued' });
      }
      this.wake(rt);
    }
    return { replayId, count: matches.length };
  }

  /** Detach every consumer, persisting checkpoints (graceful stop). */
  async close(): Promise<void> {
    this.detachListeners.forEach((d) => d());
    const pending = [...this.runtimes.values()].map((rt) => this.detach(rt, true));
    await Promise.all(pending);
  }

  // ---------------------------------------------------------------- internals

  private info(def: DurableDefinition): DurableSubscriptionInfo {
    const rt = this.runtimes.get(def.name);
    const parked = this.projection.entries().filter((r) => r.entry.subscription === def.name && r.entry.status === 'parked').length;
    return {
      name: def.name,
      filter: def.filter,
      ackTimeoutMs: def.ackTimeoutMs,
      maxAttempts: def.maxAttempts,
      backoff: def.backoff,
      maxInFlight: def.maxInFlight,
      createdAt: def.createdAt,
      createdBy: def.createdBy,
      checkpoint: def.checkpoint,
      ...(rt ? { consumer: rt.consumer } : {}),
      inFlight: rt ? rt.live.size + rt.extra.size : 0,
      lag: this.lagOf(def, rt),
      parked,
    };
  }

  /**
   * Events after what the subscription has resolved. Attached: after the consumer's in-memory
   * watermark (events read and skipped count as done). Detached: after the persisted checkpoint,
   * not counting the subscription's own last checkpoint event, so a caught-up subscription shows 0.
   */
  private lagOf(def: DurableDefinition, rt: Runtime | undefined): number {
    const head = this.store.lastSeq;
    if (rt) return Math.max(0, head - Math.max(def.checkpoint, watermark(rt.cursor, rt.live.keys())));
    const own = def.checkpointEventSeq !== undefined && def.checkpointEventSeq > def.checkpoint ? 1 : 0;
    return Math.max(0, head - def.checkpoint - own);
  }

  private mustGet(name: string): DurableDefinition {
    const def = this.projection.get(name);
    if (!def) throw notFound(name);
    return def;
  }

  private consumerRuntime(connectionId: string, name: string): Runtime {
    this.mustGet(name);
    const rt = this.runtimes.get(name);
    if (!rt || rt.consumer !== connectionId) {
      throw new RpcError(ErrorCode.FailedPrecondition, `This connection is not the consumer of "${name}"; attach first`, { kind: 'subscription', id: name });
    }
    return rt;
  }

  private findDelivery(rt: Runtime, seq: number, deliveryId: string | undefined): Delivery | undefined {
    if (deliveryId !== undefined) {
      const d = rt.extra.get(deliveryId) ?? rt.live.get(seq);
      return d && d.key === deliveryId && d.event.seq === seq ? d : undefined;
    }
    return rt.live.get(seq) ?? [...rt.extra.values()].find((d) => d.event.seq === seq && d.state !== 'queued');
  }

  private append(type: string, payload: unknown, actor: string): Promise<unknown> {
    return this.store.append([{ type, stream: SUBSCRIPTION_STREAM, actor, source: 'events', payload }]);
  }

  private async eventAt(seq: number): Promise<EventRecord | undefined> {
    const [e] = await this.store.query({ afterSeq: seq - 1 }, { limit: 1, order: 'asc' });
    return e?.seq === seq ? e : undefined;
  }

  private async enqueueRetry(rt: Runtime, entry: DlqEntry): Promise<void> {
    const event = await this.eventAt(entry.seq);
    if (!event) {
      this.onError(`DLQ entry ${entry.id}: event seq ${entry.seq} is no longer stored (retention); it cannot be redelivered`);
      return;
    }
    const key = `dlq:${entry.id}`;
    if (rt.closed || rt.extra.has(key)) return;
    rt.extra.set(key, { key, kind: 'retry', event, attempt: 0, state: 'queued', dlqEntryId: entry.id });
  }

  /** New events in the log: read them where the window has room (nothing else changed, so no re-dispatch). */
  private wakeAll(): void {
    for (const rt of this.runtimes.values()) this.wake(rt, false);
  }

  /** Read more of the log if the window allows, and send what may be sent. */
  private wake(rt: Runtime, redispatch = true): void {
    if (rt.closed) return;
    if (redispatch) this.dispatch(rt);
    if (rt.pumping) {
      rt.dirty = true;
      return;
    }
    rt.pumping = true;
    this.pump(rt)
      .catch((e: unknown) => this.onError(`durable subscription ${rt.name}: reading the log failed: ${(e as Error).message}`))
      .finally(() => {
        rt.pumping = false;
        if (rt.dirty && !rt.closed) {
          rt.dirty = false;
          this.wake(rt);
        }
      });
  }

  private async pump(rt: Runtime): Promise<void> {
    const def = this.projection.get(rt.name);
    if (!def) return;
    while (!rt.closed && rt.live.size < def.maxInFlight && rt.cursor < this.store.lastSeq) {
      rt.dirty = false;
      const head = this.store.lastSeq;
      const limit = Math.min(def.maxInFlight - rt.live.size, READ_PAGE);
      const rows = await this.store.query(
        { afterSeq: rt.cursor, types: def.filter.types, streams: def.filter.streams, minPriority: def.filter.minPriority },
        { limit, order: 'asc' },
      );
      if (rt.closed) return;
      for (const e of rows) {
        if (e.seq <= rt.cursor) continue;
        rt.cursor = e.seq;
        if (matchesDurableFilter(def.filter, e)) rt.live.set(e.seq, { key: `live:${e.seq}`, kind: 'live', event: e, attempt: 0, state: 'queued' });
      }
      // A short page means every match up to the head we saw was returned: the rest was skipped.
      if (rows.length < limit) rt.cursor = Math.max(rt.cursor, head);
      this.dispatch(rt);
      this.considerCheckpoint(rt);
    }
  }

  /** Send queued deliveries: live ones one at a time per stream, in seq order; extras within the window. */
  private dispatch(rt: Runtime): void {
    const def = this.projection.get(rt.name);
    if (!def || rt.closed) return;
    const busy = new Set<string>();
    for (const d of rt.live.values()) {
      if (busy.has(d.event.stream)) continue;
      busy.add(d.event.stream);
      if (d.state === 'queued' && !this.send(rt, d, def)) return;
    }
    let active = 0;
    for (const d of rt.extra.values()) {
      if (d.state !== 'queued') active++;
      else if (active < def.maxInFlight) {
        if (!this.send(rt, d, def)) return;
        active++;
      }
    }
  }

  private send(rt: Runtime, d: Delivery, def: DurableDefinition): boolean {
    d.attempt++;
    d.state = 'sent';
    const params = {
      subscription: rt.name,
      deliveryId: d.key,
      attempt: d.attempt,
      replay: d.kind === 'replay',
      ...(d.dlqEntryId ? { dlqEntryId: d.dlqEntryId } : {}),
      event: d.event,
    };
    if (!this.channel.send(rt.consumer, JSON.stringify({ jsonrpc: '2.0', method: DidDeliver.method, params }))) {
      d.attempt--;
      d.state = 'queued';
      void this.detach(rt, true);
      return false;
    }
    d.timer = this.clock.setTimer(def.ackTimeoutMs, () => {
      if (d.state !== 'sent' || rt.closed) return;
      this.fail(rt, d, `ack timeout after ${def.ackTimeoutMs} ms`).catch((e: unknown) =>
        this.onError(`durable subscription ${rt.name}: handling an ack timeout failed: ${(e as Error).message}`),
      );
    });
    return true;
  }

  /** A delivery failed (nack or ack timeout): back off and retry, or park it. Resolves true when parked. */
  private async fail(rt: Runtime, d: Delivery, reason: string): Promise<boolean> {
    const def = this.projection.get(rt.name);
    d.timer?.cancel();
    if (!def || rt.closed) return false;
    if (d.attempt < def.maxAttempts) {
      d.state = 'waiting';
      d.timer = this.clock.setTimer(retryDelay(d.attempt, def.backoff, this.random), () => {
        if (d.state !== 'waiting' || rt.closed) return;
        d.state = 'queued';
        this.dispatch(rt);
      });
      return false;
    }
    d.state = 'parking';
    const entry: DlqEntry = {
      id: d.dlqEntryId ?? randomUUID(),
      subscription: rt.name,
      seq: d.event.seq,
      eventId: d.event.id,
      type: d.event.type,
      stream: d.event.stream,
      reason,
      attempts: d.attempt,
      parkedAt: new Date(this.clock.now()).toISOString(),
      status: 'parked',
      replay: d.kind === 'replay',
    };
    try {
      await this.append(SubscriptionEvents.parked, { entry }, 'daemon');
    } catch (e) {
      // Not parked: try again after the longest backoff, so the event is neither lost nor hot-looped.
      this.onError(`durable subscription ${rt.name}: parking seq ${d.event.seq} failed: ${(e as Error).message}`);
      d.state = 'waiting';
      d.timer = this.clock.setTimer(def.backoff.maxMs, () => {
        if (d.state !== 'waiting' || rt.closed) return;
        d.state = 'queued';
        this.dispatch(rt);
      });
      return false;
    }
    if (d.kind === 'live') {
      rt.live.delete(d.event.seq);
      this.resolved(rt);
    } else {
      rt.extra.delete(d.key);
    }
    this.wake(rt);
    return true;
  }

  /** A live delivery was acked or parked. */
  private resolved(rt: Runtime): void {
    rt.resolvedSinceCheckpoint++;
    this.considerCheckpoint(rt);
  }

  private considerCheckpoint(rt: Runtime): void {
    if (rt.closed) return;
    const w = watermark(rt.cursor, rt.live.keys());
    if (w <= rt.persisted) return;
    // Skip-only progress is persisted rarely: each checkpoint event is itself a seq to skip.
    if (rt.resolvedSinceCheckpoint === 0 && w - rt.persisted < SKIP_PERSIST_SEQS) return;
    if (rt.resolvedSinceCheckpoint >= this.checkpointEvery || w - rt.persisted >= SKIP_PERSIST_SEQS) {
      void this.persist(rt);
      return;
    }
    rt.checkpointTimer ??= this.clock.setTimer(this.checkpointIntervalMs, () => {
      rt.checkpointTimer = undefined;
      void this.persist(rt);
    });
  }

  private persist(rt: Runtime): Promise<void> {
    if (rt.persisting) return rt.persisting;
    rt.checkpointTimer?.cancel();
    rt.checkpointTimer = undefined;
    const w = watermark(rt.cursor, rt.live.keys());
    if (w <= rt.persisted || !this.projection.get(rt.name)) return Promise.resolve();
    const resolvedBefore = rt.resolvedSinceCheckpoint;
    rt.resolvedSinceCheckpoint = 0;
    rt.persisting = this.append(SubscriptionEvents.checkpoint, { name: rt.name, seq: w }, 'daemon')
      .then(
        () => {
          rt.persisted = Math.max(rt.persisted, w);
        },
        (e: unknown) => {
          rt.resolvedSinceCheckpoint += resolvedBefore;
          this.onError(`durable subscription ${rt.name}: persisting checkpoint ${w} failed: ${(e as Error).message}`);
        },
      )
      .finally(() => {
        rt.persisting = undefined;
        this.considerCheckpoint(rt);
      });
    return rt.persisting;
  }

  /** Stop delivering to the consumer; unacked deliveries are redelivered to the next one. */
  private detach(rt: Runtime, persist: boolean): Promise<void> {
    if (rt.closed) return Promise.resolve();
    const done = persist ? this.persist(rt) : Promise.resolve();
    rt.closed = true;
    rt.checkpointTimer?.cancel();
    for (const d of [...rt.live.values(), ...rt.extra.values()]) d.timer?.cancel();
    if (this.runtimes.get(rt.name) === rt) this.runtimes.delete(rt.name);
    return done;
  }
}
