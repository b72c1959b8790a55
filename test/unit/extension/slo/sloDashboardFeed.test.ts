import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DidAlertSlo,
  DidChangeSlo,
  ErrorCode,
  GetSlo,
  RpcError,
  SloSeries,
  type AnyNotificationType,
  type AnyRequestType,
  type SloStatus,
} from '../../../../daemon/protocol';
import type { DaemonSession, Disposable } from '../../../../extension/daemon/connection';
import type { DaemonState } from '../../../../extension/daemon/state';
import { SloDashboardFeed, windowResolutionMinutes } from '../../../../extension/features/slo/sloDashboardFeed';
import { HostToSloDashboard } from '../../../../webview/protocol/sloDashboard';
import { pageAlert, sloStatus } from '../../webview/slo/sloFixtures';

const NOW = Date.parse('2026-11-27T12:00:00.000Z');
const daemon = { pid: 42, host: '127.0.0.1', port: 5000, daemonVersion: '0.1.0', startedAt: '2026-01-01T10:00:00.000Z', dataDir: '/d' };
const NO_LATENCY = { p50: null, p95: null, p99: null, samples: 0 };

/** A session double answering slo/get and slo/series from `slos`, and emitting notifications the test sends. */
class FakeSession implements DaemonSession {
  state: DaemonState = { kind: 'connected', daemon };
  slos = new Map<string, SloStatus>();
  calls: { method: string; params: Record<string, unknown> }[] = [];
  private readonly notificationListeners = new Map<string, Set<(p: unknown) => void>>();

  onDidChangeState(): Disposable {
    return { dispose: () => undefined };
  }
  async request<T extends AnyRequestType>(type: T, params: unknown): Promise<never> {
    const p = params as Record<string, unknown>;
    this.calls.push({ method: type.method, params: p });
    const slo = this.slos.get(String(p.id));
    if (!slo) throw new RpcError(ErrorCode.NotFound, `no SLO ${String(p.id)}`);
    if (type.method === GetSlo.method) return slo as never;
    if (type.method === SloSeries.method) {
      return {
        sloId: slo.slo.id,
        resolutionMinutes: p.resolutionMinutes,
        buckets: [{ start: '2026-11-27T11:00:00.000Z', good: 90, bad: 10, latency: NO_LATENCY }],
        latency: { p50: 12, p95: 80, p99: 240, samples: 100 },
      } as never;
    }
    throw new Error(`unexpected ${type.method}`);
  }
  onNotification<T extends AnyNotificationType>(type: T, cb: (p: never) => void): Disposable {
    const set = this.notificationListeners.get(type.method) ?? new Set();
    this.notificationListeners.set(type.method, set);
    set.add(cb as (p: unknown) => void);
    return { dispose: () => set.delete(cb as (p: unknown) => void) };
  }
  onDidAppend(): Disposable {
    return { dispose: () => undefined };
  }
  notify(type: AnyNotificationType, params: unknown): void {
    for (const l of this.notificationListeners.get(type.method) ?? []) l(params);
  }
  count(method: string): number {
    return this.calls.filter((c) => c.method === method).length;
  }
}

describe('SloDashboardFeed', () => {
  let session: FakeSession;
  let posted: HostToSloDashboard[];
  let feed: SloDashboardFeed;

  const make = (sloId?: string): SloDashboardFeed =>
    new SloDashboardFeed({
      session,
      sloId,
      defaultSloId: async () => 'slo_avail_30d',
      channel: {
        visible: true,
        post: (m) => {
          // Everything the host posts must pass the schema the webview validates with.
          expect(HostToSloDashboard.safeParse(m).success).toBe(true);
          posted.push(m);
          return true;
        },
      },
      runCommand: () => undefined,
      log: () => undefined,
      now: () => NOW,
      refreshMs: 1_000,
    });

  beforeEach(() => {
    vi.useFakeTimers();
    session = new FakeSession();
    session.slos.set('slo_avail_30d', sloStatus({}));
    session.slos.set('slo_7d', sloStatus({ id: 'slo_7d', windowDays: 7 }));
    posted = [];
  });
  afterEach(() => {
    feed.dispose();
    vi.useRealTimers();
  });

  const data = (): Extract<HostToSloDashboard, { type: 'data' }>[] => posted.filter((m): m is Extract<HostToSloDashboard, { type: 'data' }> => m.type === 'data');

  it('posts the status, the whole-window series and the selected range with its latency', async () => {
    feed = make('slo_avail_30d');
    feed.onReady();
    await vi.runOnlyPendingTimersAsync();
    const [first] = data();
    expect(first!.status.slo.id).toBe('slo_avail_30d');
    expect(first!.range).toBe('24h');
    expect(first!.windowSeries.resolutionMinutes).toBe(windowResolutionMinutes(30));
    expect(first!.latency).toEqual({ p50: 12, p95: 80, p99: 240, samples: 100 });
    const rangeCall = session.calls.find((c) => c.method === SloSeries.method && c.params.from !== undefined)!;
    expect(rangeCall.params).toMatchObject({ from: new Date(NOW - 1440 * 60_000).toISOString(), resolutionMinutes: 15 });
  });

  it('keeps a 30-day range inside a 7-day SLO window', async () => {
    feed = make('slo_7d');
    feed.onReady();
    await vi.runOnlyPendingTimersAsync();
    feed.onMessage({ type: 'setRange', range: '30d' });
    await vi.runOnlyPendingTimersAsync();
    const last = session.calls.filter((c) => c.method === SloSeries.method && c.params.from !== undefined).at(-1)!;
    expect(Date.parse(String(last.params.from))).toBeGreaterThan(NOW - 7 * 86_400_000);
    expect(data().at(-1)!.range).toBe('30d');
  });

  it('reloads on notifications for its SLO only, throttled while samples stream in', async () => {
    feed = make('slo_avail_30d');
    feed.onReady();
    await vi.runOnlyPendingTimersAsync();
    const before = session.count(GetSlo.method);
    session.notify(DidChangeSlo, { sloId: 'slo_7d', change: 'samples' });
    expect(session.count(GetSlo.method)).toBe(before);
    for (let i = 0; i < 50; i++) session.notify(DidChangeSlo, { sloId: 'slo_avail_30d', change: 'samples' });
    session.notify(DidAlertSlo, { state: 'fired', alert: pageAlert() });
    await vi.advanceTimersByTimeAsync(2_500);
    // One load at once, one trailing load for the rest of the burst.
    expect(session.count(GetSlo.method) - before).toBe(2);
  });

  it('uses the SLO a restored panel names, and says so when it no longer exists', async () => {
    feed = make();
    feed.onReady();
    feed.onMessage({ type: 'restore', sloId: 'gone_slo', range: '6h' });
    await vi.runOnlyPendingTimersAsync();
    const error = posted.find((m) => m.type === 'error');
    expect(error).toEqual({ type: 'error', message: 'SLO "gone_slo" does not exist (any more).', gone: true });
    feed.select('slo_7d');
    await vi.runOnlyPendingTimersAsync();
    expect(data().at(-1)).toMatchObject({ range: '6h', status: { slo: { id: 'slo_7d' } } });
    expect(feed.sloId).toBe('slo_7d');
  });

  it('does nothing while hidden', async () => {
    feed = make('slo_avail_30d');
    feed.onReady();
    await vi.runOnlyPendingTimersAsync();
    feed.onVisibilityChange(false);
    const calls = session.calls.length;
    session.notify(DidChangeSlo, { sloId: 'slo_avail_30d', change: 'samples' });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(session.calls.length).toBe(calls);
  });
});
