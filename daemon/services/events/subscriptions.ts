import { DidAppend, ErrorCode, RpcError, type Priority, type SubscriptionFilter } from '../../protocol';
import type { EventRecord, EventStore } from '../../store/types';
import { matchesTypePattern } from '../../store/streams';

/** How the subscription manager reaches connections; the server implements it. */
export interface SubscriberChannel {
  /** Whether the connection is still open. */
  hasConnection(connectionId: string): boolean;
  /** Queue a frame; false when the connection is gone (or was just cut as a slow consumer). */
  send(connectionId: string, frame: string): boolean;
  /** Queue a frame and wait while the connection's backlog is large; false when it is gone. */
  sendPaced(connectionId: string, frame: string): Promise<boolean>;
  onConnectionClosed(listener: (connectionId: string) => void): () => void;
}

const PRIORITY_RANK: Record<Priority, number> = { low: 0, normal: 1, high: 2, critical: 3 };

interface Subscription {
  readonly id: string;
  readonly connectionId: string;
  readonly types?: readonly string[];
  readonly streams?: ReadonlySet<string>;
  readonly minRank: number;
  /** Highest seq considered (delivered or skipped): the no-gap, no-duplicate watermark. */
  lastSeq: number;
  /** False while catching up from the log: live events are then read from the log instead. */
  live: boolean;
  closed: boolean;
  /** `"subscriptionId":"…"` pre-serialised for the notification frame. */
  readonly idJson: string;
}

const frameFor = (sub: Subscription, eventJson: string): string =>
  `{"jsonrpc":"2.0","method":"${DidAppend.method}","params":{"subscriptionId":${sub.idJson},"event":${eventJson}}}`;

/**
 * Server-pushed `events/didAppend`. Every subscription starts by reading the log after its watermark
 * (the requested `afterSeq`, or the head at subscribe time) and switches to live delivery only once
 * it has read up to the head, in the same tick; a seq watermark drops anything already seen. So
 * stored and live events arrive in order with no gap and no duplicate at the switch-over.
 * Subscriptions die with their connection.
 */
export class SubscriptionManager {
  private readonly subs = new Map<string, Subscription>();
  private readonly byConnection = new Map<string, Set<Subscription>>();
  private nextId = 1;
  private readonly detach: (() => void)[] = [];

  constructor(
    private readonly store: EventStore,
    private readonly channel: SubscriberChannel,
    private readonly onError: (message: string) => void,
    /** Most subscriptions one connection may hold. */
    private readonly maxPerConnection = 100,
  ) {
    this.detach.push(store.onAppend((events) => this.deliverLive(events)));
    this.detach.push(channel.onConnectionClosed((id) => this.dropConnection(id)));
  }

  /**
   * Register a subscription. Nothing is sent until `start()` (call it after the subscribe answer went
   * out, so the client knows the id before the first notification).
   */
  subscribe(
    connectionId: string,
    filter: SubscriptionFilter,
    afterSeq: number | undefined,
  ): { subscriptionId: string; headSeq: number; start: () => void } {
    if (!connectionId.startsWith('ws:')) {
      throw new RpcError(ErrorCode.FailedPrecondition, 'Subscriptions need a WebSocket connection (/rpc)');
    }
    const headSeq = this.store.lastSeq;
    if (afterSeq !== undefined && afterSeq > headSeq) {
      throw new RpcError(
        ErrorCode.FailedPrecondition,
        `afterSeq ${afterSeq} is beyond the end of the log (last seq ${headSeq}); was the data dir replaced?`,
        { afterSeq, lastSeq: headSeq },
      );
    }
    const own = this.byConnection.get(connectionId) ?? new Set<Subscription>();
    if (own.size >= this.maxPerConnection) {
      throw new RpcError(ErrorCode.FailedPrecondition, `A connection may hold at most ${this.maxPerConnection} subscriptions; unsubscribe some first`, {
        max: this.maxPerConnection,
      });
    }
    const id = `sub-${this.nextId++}`;
    const sub: Subscription = {
      id,
      connectionId,
      types: filter.types && filter.types.length > 0 ? [...filter.types] : undefined,
      streams: filter.streams && filter.streams.length > 0 ? new Set(filter.streams) : undefined,
      minRank: filter.minPriority ? PRIORITY_RANK[filter.minPriority] : 0,
      lastSeq: afterSeq ?? headSeq,
      live: false,
      closed: false,
      idJson: JSON.stringify(id),
    };
    if (!this.channel.hasConnection(connectionId)) {
      sub.closed = true;
      return { subscriptionId: id, headSeq, start: () => undefined };
    }
    this.subs.set(id, sub);
    own.add(sub);
    this.byConnection.set(connectionId, own);
    return {
      subscriptionId: id,
      headSeq,
      start: () => {
        this.catchUp(sub).catch((e: unknown) => {
          this.onError(`subscription ${id} catch-up failed: ${(e as Error).message}`);
          this.remove(sub);
        });
      },
    };
  }

  unsubscribe(connectionId: string, subscriptionId: string): void {
    const sub = this.subs.get(subscriptionId);
    if (!sub || sub.connectionId !== connectionId) {
      throw new RpcError(ErrorCode.NotFound, `No subscription "${subscriptionId}" on this connection`, {
        kind: 'subscription',
        id: subscriptionId,
      });
    }
    this.remove(sub);
  }

  dropConnection(connectionId: string): void {
    for (const sub of this.byConnection.get(connectionId) ?? []) this.remove(sub);
  }

  /** Subscriptions currently held (all connections). */
  get size(): number {
    return this.subs.size;
  }

  close(): void {
    this.detach.forEach((d) => d());
    for (const sub of [...this.subs.values()]) this.remove(sub);
  }

  private matches(sub: Subscription, e: EventRecord): boolean {
    if (sub.streams && !sub.streams.has(e.stream)) return false;
    if (PRIORITY_RANK[e.priority] < sub.minRank) return false;
    if (sub.types && !sub.types.some((p) => matchesTypePattern(p, e.type))) return false;
    return true;
  }

  private async catchUp(sub: Subscription): Promise<void> {
    while (!sub.closed) {
      for await (const e of this.store.readFrom(sub.lastSeq)) {
        if (sub.closed) return;
        if (e.seq <= sub.lastSeq) continue;
        sub.lastSeq = e.seq;
        if (!this.matches(sub, e)) continue;
        const sent = await this.channel.sendPaced(sub.connectionId, frameFor(sub, JSON.stringify(e)));
        if (!sent) {
          this.remove(sub);
          return;
        }
      }
      // Same tick as the check: no append can slip between reading the head and going live.
      if (sub.lastSeq >= this.store.lastSeq) {
        sub.live = true;
        return;
      }
    }
  }

  private deliverLive(events: readonly EventRecord[]): void {
    if (this.subs.size === 0) return;
    for (const e of events) {
      let json: string | undefined;
      for (const sub of this.subs.values()) {
        if (!sub.live || sub.closed || e.seq <= sub.lastSeq) continue;
        sub.lastSeq = e.seq;
        if (!this.matches(sub, e)) continue;
        json ??= JSON.stringify(e);
        if (!this.channel.send(sub.connectionId, frameFor(sub, json))) this.remove(sub);
      }
    }
  }

  private remove(sub: Subscription): void {
    sub.closed = true;
    this.subs.delete(sub.id);
    const own = this.byConnection.get(sub.connectionId);
    if (own) {
      own.delete(sub);
      if (own.size === 0) this.byConnection.delete(sub.connectionId);
    }
  }
}
