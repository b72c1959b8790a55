import { DidAlertSlo, DidChangeSlo, ErrorCode, GetSlo, SloSeries } from '../../../daemon/protocol';
import {
  SLO_RANGES,
  type HostToSloDashboard,
  type SloDashboardCommand,
  type SloDashboardToHost,
  type SloRange,
} from '../../../webview/protocol/sloDashboard';
import type { DaemonSession, Disposable } from '../../daemon/connection';
import type { DaemonState } from '../../daemon/state';
import { Throttle } from '../../shared/throttle';

export interface SloDashboardFeedOptions {
  readonly session: DaemonSession;
  readonly channel: { post(message: HostToSloDashboard): boolean; readonly visible: boolean };
  readonly runCommand: (command: SloDashboardCommand) => void;
  readonly log: (level: 'warn' | 'debug', message: string) => void;
  /** The SLO to show when the panel opens (a restored panel says which it showed instead). */
  readonly sloId?: string;
  /** Chooses an SLO when none was given nor restored (the worst one). */
  readonly defaultSloId: () => Promise<string | undefined>;
  readonly now?: () => number;
  /** At most one reload per this interval while samples stream in, ms. */
  readonly refreshMs?: number;
}

/** Buckets asked for the burn-down over the whole window. */
const WINDOW_BUCKETS = 180;

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const isNotFound = (e: unknown): boolean => typeof e === 'object' && e !== null && 'code' in e && (e as { code: unknown }).code === ErrorCode.NotFound;

/** Series bucket size for a whole window: about WINDOW_BUCKETS points, whole minutes. */
export function windowResolutionMinutes(windowDays: number): number {
  return Math.max(1, Math.ceil((windowDays * 1440) / WINDOW_BUCKETS));
}

/**
 * Feeds one SLO dashboard: the SLO's status and series when it is ready, again (throttled) when
 * `slo/didChange` or `slo/didAlert` name its SLO, and on range changes. Nothing runs while hidden.
 */
export class SloDashboardFeed implements Disposable {
  private active = false;
  private selected: string | undefined;
  private range: SloRange = '24h';
  private generation = 0;
  private readonly throttle: Throttle;
  private readonly listeners: Disposable[];

  constructor(private readonly opts: SloDashboardFeedOptions) {
    this.selected = opts.sloId;
    this.throttle = new Throttle(() => void this.load(), opts.refreshMs ?? 1_000);
    const mine = (sloId: string): boolean => this.active && this.selected !== undefined && (sloId === this.selected || sloId === this.resolvedId);
    this.listeners = [
      opts.session.onDidChangeState((state) => this.onState(state)),
      opts.session.onNotification(DidChangeSlo, (p) => {
        if (mine(p.sloId)) this.throttle.trigger();
      }),
      opts.session.onNotification(DidAlertSlo, (p) => {
        if (mine(p.alert.sloId)) this.throttle.trigger();
      }),
    ];
  }

  /** The canonical id of what is shown (an alias resolves to it after the first load). */
  private resolvedId: string | undefined;

  get sloId(): string | undefined {
    return this.resolvedId ?? this.selected;
  }

  /** Show another SLO in this panel. */
  select(sloId: string): void {
    this.selected = sloId;
    this.resolvedId = undefined;
    if (this.active) void this.load();
  }

  onReady(): void {
    this.active = true;
    this.postConnection(this.opts.session.state);
    // A restored panel says which SLO it showed right after `ready`; wait a moment for it.
    setTimeout(() => void this.load(), 0);
  }

  onVisibilityChange(visible: boolean): void {
    // Becoming visible reloads the webview, whose `ready` re-activates the feed.
    if (!visible) this.active = false;
  }

  onMessage(msg: Exclude<SloDashboardToHost, { type: 'ready' }>): void {
    switch (msg.type) {
      case 'restore':
        if (this.selected === undefined) this.selected = msg.sloId;
        this.range = msg.range;
        void this.load();
        break;
      case 'setRange':
        this.range = msg.range;
        void this.load();
        break;
      case 'refresh':
        void this.load();
        break;
      case 'runCommand':
        this.opts.runCommand(msg.command);
        break;
    }
  }

  dispose(): void {
    this.active = false;
    this.throttle.dispose();
    for (const l of this.listeners) l.dispose();
  }

  private onState(state: DaemonState): void {
    if (!this.active) return;
    this.postConnection(state);
    if (state.kind === 'connected') void this.load();
  }

  private postConnection(state: DaemonState): void {
    this.opts.channel.post({ type: 'connection', state: state.kind, reason: state.kind === 'stopped' ? state.reason : undefined });
  }

  /** Fetch status and both series; a newer load wins over an older one still in flight. */
  async load(): Promise<void> {
    if (!this.active || this.opts.session.state.kind !== 'connected') return;
    const gen = ++this.generation;
    try {
      this.selected ??= await this.opts.defaultSloId();
      const id = this.selected;
      if (id === undefined) {
        this.opts.channel.post({ type: 'error', message: 'There are no SLOs yet. Create one with "CogniForge: Create SLO".', gone: true });
        return;
      }
      const status = await this.opts.session.request(GetSlo, { id });
      const now = (this.opts.now ?? Date.now)();
      const windowStart = now - status.slo.windowDays * 86_400_000;
      const range = SLO_RANGES[this.range];
      // The daemon refuses a `from` before the window: a 30-day range on a 7-day SLO shows the window.
      const from = Math.max(now - range.minutes * 60_000, windowStart + 60_000);
      const [windowSeries, rangeSeries] = await Promise.all([
        this.opts.session.request(SloSeries, { id: status.slo.id, resolutionMinutes: windowResolutionMinutes(status.slo.windowDays) }),
        this.opts.session.request(SloSeries, { id: status.slo.id, from: new Date(from).toISOString(), resolutionMinutes: range.resolutionMinutes }),
      ]);
      if (gen !== this.generation || !this.active) return;
      this.resolvedId = status.slo.id;
      this.opts.channel.post({
        type: 'data',
        status,
        windowSeries: { resolutionMinutes: windowSeries.resolutionMinutes, buckets: windowSeries.buckets.map(({ start, good, bad }) => ({ start, good, bad })) },
        range: this.range,
        rangeSeries: { resolutionMinutes: rangeSeries.resolutionMinutes, buckets: rangeSeries.buckets },
        latency: rangeSeries.latency.samples > 0 ? rangeSeries.latency : null,
        receivedAt: now,
      });
    } catch (e) {
      if (gen !== this.generation) return;
      this.opts.log('warn', `SLO dashboard: loading ${this.selected ?? '(none)'} failed: ${message(e)}`);
      this.opts.channel.post({
        type: 'error',
        message: isNotFound(e) ? `SLO "${this.selected}" does not exist (any more).` : `Could not load the SLO: ${message(e)}`,
        gone: isNotFound(e),
      });
    }
  }
}
