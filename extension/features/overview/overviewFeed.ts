import { GetStatus } from '../../../daemon/protocol';
import type { HostToOverview, OverviewCommand, OverviewToHost } from '../../../webview/protocol/overview';
import type { DaemonSession, Disposable } from '../../daemon/connection';
import type { DaemonState } from '../../daemon/state';

export interface OverviewFeedOptions {
  readonly session: DaemonSession;
  readonly channel: { post(message: HostToOverview): boolean; readonly visible: boolean };
  readonly runCommand: (command: OverviewCommand) => void;
  readonly log: (level: 'warn' | 'debug', message: string) => void;
  readonly now?: () => number;
  /** `daemon/status` poll interval while the panel is visible, ms. */
  readonly pollMs?: number;
  /** Appended-event counts are batched for this long before they are posted, ms. */
  readonly appendFlushMs?: number;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Feeds one Overview panel: the connection state when it changes, `daemon/status` every 2 s while
 * the panel is visible, and counts of appended events in between. Nothing runs while the panel is
 * hidden: no polling, no event subscription.
 */
export class OverviewFeed implements Disposable {
  private active = false;
  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  private polling = false;
  private appendListener: Disposable | undefined;
  private counts = new Map<string, number>();
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly stateListener: Disposable;

  constructor(private readonly opts: OverviewFeedOptions) {
    this.stateListener = opts.session.onDidChangeState((state) => this.onState(state));
  }

  onReady(): void {
    this.postConnection(this.opts.session.state);
    this.activate();
  }

  onVisibilityChange(visible: boolean): void {
    // Becoming visible reloads the webview, whose `ready` re-activates the feed.
    if (!visible) this.deactivate();
  }

  onMessage(msg: Exclude<OverviewToHost, { type: 'ready' }>): void {
    switch (msg.type) {
      case 'refresh':
        void this.poll();
        break;
      case 'runCommand':
        this.opts.runCommand(msg.command);
        break;
    }
  }

  dispose(): void {
    this.deactivate();
    this.stateListener.dispose();
  }

  private activate(): void {
    this.active = true;
    this.appendListener ??= this.opts.session.onDidAppend((event) => {
      this.counts.set(event.stream, (this.counts.get(event.stream) ?? 0) + 1);
      this.flushTimer ??= setTimeout(() => this.flushCounts(), this.opts.appendFlushMs ?? 500);
    });
    void this.poll();
  }

  private deactivate(): void {
    this.active = false;
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.counts.clear();
    this.appendListener?.dispose();
    this.appendListener = undefined;
  }

  private onState(state: DaemonState): void {
    if (!this.active) return;
    this.postConnection(state);
    if (state.kind === 'connected') void this.poll();
  }

  private postConnection(state: DaemonState): void {
    this.opts.channel.post({
      type: 'connection',
      state: state.kind,
      reason: state.kind === 'stopped' ? state.reason : undefined,
      failure: state.kind === 'stopped' && state.failure,
    });
  }

  /** Poll now, then every `pollMs`; one poll in flight at a time. */
  private async poll(): Promise<void> {
    if (!this.active || this.polling) return;
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    this.polling = true;
    try {
      if (this.opts.session.state.kind === 'connected') {
        const status = await this.opts.session.request(GetStatus, {});
        this.counts.clear();
        this.opts.channel.post({ type: 'status', status, receivedAt: (this.opts.now ?? Date.now)() });
      }
    } catch (e) {
      this.opts.log('warn', `Overview: daemon/status failed: ${message(e)}`);
      this.opts.channel.post({ type: 'statusError', message: message(e) });
    } finally {
      this.polling = false;
      if (this.active) this.pollTimer = setTimeout(() => void this.poll(), this.opts.pollMs ?? 2_000);
    }
  }

  private flushCounts(): void {
    this.flushTimer = undefined;
    if (!this.active || this.counts.size === 0) return;
    const counts = Object.fromEntries(this.counts);
    this.counts.clear();
    this.opts.channel.post({ type: 'appended', counts });
    // Stream counts moved: fetch the status too, so the event-log card (bytes, segments) agrees
    // with the chart instead of lagging until the next poll.
    void this.poll();
  }
}
