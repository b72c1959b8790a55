import { ListDlq, ListDurableSubscriptions, ListStreams, QueryEvents, StreamActivity, type EventEnvelope } from '../../../daemon/protocol';
import {
  EVENTS_RANGES,
  isCorrelated,
  MAX_CORRELATED,
  RECENT_EVENTS,
  type EventsDashboardCommand,
  type EventsDashboardToHost,
  type EventsRange,
  type HostToEventsDashboard,
} from '../../../webview/protocol/eventsDashboard';
import type { DaemonSession, Disposable } from '../../daemon/connection';
import type { DaemonState } from '../../daemon/state';
import { Throttle } from '../../shared/throttle';
import { headSeqOf, subscriptionLag } from './eventsTreeModel';

export interface EventsDashboardFeedOptions {
  readonly session: DaemonSession;
  readonly channel: { post(message: HostToEventsDashboard): boolean; readonly visible: boolean };
  readonly runCommand: (command: EventsDashboardCommand) => void;
  readonly log: (level: 'warn' | 'debug', message: string) => void;
  /** The event to inspect when the panel opens. */
  readonly inspectSeq?: number;
  readonly now?: () => number;
  /** At most one reload per this interval while events pour in, ms. */
  readonly refreshMs?: number;
}

/** Newest events searched for ones correlated with the inspected event (one `events/query` page). */
export const CORRELATION_SEARCH = 1000;
/** DLQ entries counted per status; more shows as "1000+". */
const DLQ_COUNT_LIMIT = 1000;

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Feeds one Events dashboard: events per stream over the chosen range, DLQ size, subscription lag
 * and the newest events, reloaded (throttled) while events are appended; and the inspector: one
 * event with the events correlated to it. Nothing runs while the panel is hidden.
 */
export class EventsDashboardFeed implements Disposable {
  private active = false;
  private range: EventsRange = '1h';
  private inspected: number | undefined;
  private generation = 0;
  private inspectGeneration = 0;
  private readonly throttle: Throttle;
  private appendListener: Disposable | undefined;
  private readonly stateListener: Disposable;

  constructor(private readonly opts: EventsDashboardFeedOptions) {
    this.inspected = opts.inspectSeq;
    this.throttle = new Throttle(() => void this.load(), opts.refreshMs ?? 1_000);
    this.stateListener = opts.session.onDidChangeState((state) => this.onState(state));
  }

  onReady(): void {
    this.active = true;
    this.appendListener ??= this.opts.session.onDidAppend(() => this.throttle.trigger());
    this.postConnection(this.opts.session.state);
    // A restored panel says what it showed right after `ready`; wait a moment for it.
    setTimeout(() => {
      void this.load();
      if (this.inspected !== undefined) void this.inspect(this.inspected);
    }, 0);
  }

  onVisibilityChange(visible: boolean): void {
    // Becoming visible reloads the webview, whose `ready` re-activates the feed.
    if (!visible) this.deactivate();
  }

  onMessage(msg: Exclude<EventsDashboardToHost, { type: 'ready' }>): void {
    switch (msg.type) {
      case 'restore':
        this.range = msg.range;
        this.inspected ??= msg.inspectSeq;
        break;
      case 'setRange':
        this.range = msg.range;
        void this.load();
        break;
      case 'refresh':
        void this.load();
        if (this.inspected !== undefined) void this.inspect(this.inspected);
        break;
      case 'inspect':
        void this.inspect(msg.seq);
        break;
      case 'runCommand':
        this.opts.runCommand(msg.command);
        break;
    }
  }

  dispose(): void {
    this.deactivate();
    this.throttle.dispose();
    this.stateListener.dispose();
  }

  private deactivate(): void {
    this.active = false;
    this.appendListener?.dispose();
    this.appendListener = undefined;
  }

  private onState(state: DaemonState): void {
    if (!this.active) return;
    this.postConnection(state);
    if (state.kind === 'connected') void this.load();
  }

  private postConnection(state: DaemonState): void {
    this.opts.channel.post({ type: 'connection', state: state.kind, reason: state.kind === 'stopped' ? state.reason : undefined });
  }

  /** Figures for the chart and cards, and the newest events; a newer load wins over an older one. */
  async load(): Promise<void> {
    if (!this.active || this.opts.session.state.kind !== 'connected') return;
    const gen = ++this.generation;
    const range = this.range;
    const { session } = this.opts;
    try {
      const [activity, { streams }, parked, retrying, { subscriptions }, { events }] = await Promise.all([
        session.request(StreamActivity, EVENTS_RANGES[range]),
        session.request(ListStreams, {}),
        session.request(ListDlq, { status: 'parked', limit: DLQ_COUNT_LIMIT }),
        session.request(ListDlq, { status: 'retrying', limit: DLQ_COUNT_LIMIT }),
        session.request(ListDurableSubscriptions, {}),
        session.request(QueryEvents, { order: 'desc', limit: RECENT_EVENTS }),
      ]);
      if (gen !== this.generation || !this.active) return;
      const head = headSeqOf(streams);
      this.opts.channel.post({
        type: 'data',
        range,
        activity,
        streams: streams.map((s) => s.name).sort(),
        dlq: { parked: parked.entries.length, retrying: retrying.entries.length, more: parked.nextCursor !== undefined },
        subscriptions: {
          count: subscriptions.length,
          attached: subscriptions.filter((s) => s.consumer !== undefined).length,
          lag: subscriptions.reduce((n, s) => n + subscriptionLag(s, head), 0),
        },
        recent: events,
        receivedAt: (this.opts.now ?? Date.now)(),
      });
    } catch (e) {
      if (gen !== this.generation) return;
      this.opts.log('warn', `Events dashboard: loading failed: ${message(e)}`);
      this.opts.channel.post({ type: 'error', scope: 'data', message: `Could not load the event figures: ${message(e)}` });
    }
  }

  /** Show one event in the inspector with the events correlated to it among the newest ones. */
  async inspect(seq: number): Promise<void> {
    this.inspected = seq;
    if (!this.active || this.opts.session.state.kind !== 'connected') return;
    const gen = ++this.inspectGeneration;
    const { session } = this.opts;
    try {
      const [{ events: found }, { events: newest }] = await Promise.all([
        session.request(QueryEvents, { afterSeq: seq - 1, limit: 1 }),
        session.request(QueryEvents, { order: 'desc', limit: CORRELATION_SEARCH }),
      ]);
      if (gen !== this.inspectGeneration || !this.active) return;
      const event: EventEnvelope | undefined = found[0]?.seq === seq ? found[0] : undefined;
      if (!event) {
        this.opts.channel.post({ type: 'error', scope: 'inspect', message: `Event #${seq} is not in the log (retention may have dropped it).` });
        return;
      }
      const correlated = newest
        .filter((e) => isCorrelated(event, e))
        .sort((a, b) => a.seq - b.seq)
        .slice(0, MAX_CORRELATED);
      this.opts.channel.post({ type: 'inspect', event, correlated, searched: newest.length });
    } catch (e) {
      if (gen !== this.inspectGeneration) return;
      this.opts.log('warn', `Events dashboard: inspecting #${seq} failed: ${message(e)}`);
      this.opts.channel.post({ type: 'error', scope: 'inspect', message: `Could not load event #${seq}: ${message(e)}` });
    }
  }
}
