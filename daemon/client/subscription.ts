import type { EventEnvelope, SubscriptionFilter } from '../protocol';

/** Where a subscription starts: stored events with seq > afterSeq first (catch-up), then live ones. */
export type SubscribeFilter = SubscriptionFilter & {
  /** Catch up from here; omit to receive only events appended after the subscription starts. */
  afterSeq?: number;
};

/** An open `events/subscribe`; it survives reconnects. */
export interface Subscription {
  readonly filter: Readonly<SubscriptionFilter>;
  /**
   * Seq of the last event delivered to the callback; before the first one, the seq the subscription
   * started after. A reconnect resumes from here, so nothing is missed or delivered twice.
   */
  readonly lastSeq: number;
  /** The daemon's id for it on the current connection; it changes on every reconnect. */
  readonly subscriptionId: string | undefined;
  /** Stop delivery now and tell the daemon (if connected). Safe to call twice. */
  dispose(): Promise<void>;
}

type Log = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

/** Client-side state of one subscription: its cursor and the daemon id it has on this connection. */
export class ClientSubscription implements Subscription {
  subscriptionId: string | undefined;
  /** Highest seq delivered (or skipped as already seen); -1 until the daemon first answered. */
  lastSeq = -1;
  disposed = false;

  constructor(
    readonly filter: Readonly<SubscriptionFilter>,
    /** Catch-up start the caller asked for, used only for the first `events/subscribe`. */
    readonly initialAfterSeq: number | undefined,
    private readonly onEvent: (event: EventEnvelope) => void,
    readonly onError: ((error: Error) => void) | undefined,
    private readonly log: Log,
    private readonly release: (sub: ClientSubscription) => Promise<void>,
  ) {}

  get started(): boolean {
    return this.lastSeq >= 0;
  }

  /** The daemon accepted (or re-accepted) the subscription under `subscriptionId`. */
  activate(subscriptionId: string, headSeq: number): void {
    this.subscriptionId = subscriptionId;
    // A live-only subscription starts at the head: later events all have a greater seq.
    if (!this.started) this.lastSeq = this.initialAfterSeq ?? headSeq;
  }

  /** Deliver in seq order, dropping what was already delivered (catch-up after a reconnect overlaps). */
  deliver(event: EventEnvelope): void {
    if (this.disposed) return;
    if (event.seq <= this.lastSeq) {
      this.log('debug', `subscription ${this.subscriptionId ?? '?'}: skipped event seq ${event.seq}, already delivered`);
      return;
    }
    this.lastSeq = event.seq;
    try {
      this.onEvent(event);
    } catch (e) {
      this.log('error', `subscription callback threw on event seq ${event.seq}: ${(e as Error)?.stack ?? String(e)}`);
    }
  }

  dispose(): Promise<void> {
    if (this.disposed) return Promise.resolve();
    this.disposed = true;
    return this.release(this);
  }
}
