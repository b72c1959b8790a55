import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ListDlq,
  ListDurableSubscriptions,
  ListStreams,
  QueryEvents,
  StreamActivity,
  type AnyRequestType,
  type EventEnvelope,
  type ParamsOf,
} from '../../../../daemon/protocol';
import { HostToEventsDashboard } from '../../../../webview/protocol/eventsDashboard';
import { DaemonUnavailableError, type DaemonSession, type Disposable } from '../../../../extension/daemon/connection';
import type { DaemonState } from '../../../../extension/daemon/state';
import { EventsDashboardFeed } from '../../../../extension/features/events/eventsDashboardFeed';
import { dlqEntry, event, NOW, stream, subscription } from './fixtures';

const daemon = { pid: 42, host: '127.0.0.1', port: 5000, daemonVersion: '0.1.0', startedAt: '2026-01-01T10:00:00.000Z', dataDir: '/d' };

/** A session double answering the events queries from a small in-memory log. */
class FakeSession implements DaemonSession {
  state: DaemonState = { kind: 'connected', daemon };
  log: EventEnvelope[] = [];
  calls: { method: string; params: unknown }[] = [];
  failWith: Error | undefined;
  private readonly stateListeners = new Set<(s: DaemonState) => void>();
  readonly appendListeners = new Set<(e: EventEnvelope) => void>();

  onDidChangeState(cb: (s: DaemonState) => void): Disposable {
    this.stateListeners.add(cb);
    return { dispose: () => this.stateListeners.delete(cb) };
  }
  async request<T extends AnyRequestType>(type: T, params: ParamsOf<T>): Promise<never> {
    this.calls.push({ method: type.method, params });
    if (this.state.kind !== 'connected') throw new DaemonUnavailableError('not connected');
    if (this.failWith) throw this.failWith;
    const answer = (): unknown => {
      switch (type.method) {
        case StreamActivity.method:
          return { bucketMinutes: 1, buckets: [{ start: '2026-01-01T11:59:00.000Z', counts: { default: 2 } }] };
        case ListStreams.method:
          return { streams: [stream('default', { events: this.log.length, lastSeq: this.log.length }), stream('api_events')] };
        case ListDlq.method:
          return (params as { status: string }).status === 'parked' ? { entries: [dlqEntry('a'), dlqEntry('b')] } : { entries: [dlqEntry('c', { status: 'retrying' })] };
        case ListDurableSubscriptions.method:
          return { subscriptions: [subscription('billing', { checkpoint: 1, consumer: 'c1' }), subscription('audit', { checkpoint: 3 })] };
        case QueryEvents.method: {
          const p = params as { afterSeq?: number; order?: string; limit?: number };
          const rows = p.order === 'desc' ? [...this.log].reverse() : this.log.filter((e) => e.seq > (p.afterSeq ?? 0));
          return { events: rows.slice(0, p.limit ?? 100) };
        }
        default:
          throw new Error(`unexpected ${type.method}`);
      }
    };
    return answer() as never;
  }
  onNotification(): Disposable {
    return { dispose: () => undefined };
  }
  onDidAppend(cb: (e: EventEnvelope) => void): Disposable {
    this.appendListeners.add(cb);
    return { dispose: () => this.appendListeners.delete(cb) };
  }
  setState(s: DaemonState): void {
    this.state = s;
    for (const l of [...this.stateListeners]) l(s);
  }
}

describe('EventsDashboardFeed', () => {
  let session: FakeSession;
  let posted: HostToEventsDashboard[];
  let commands: string[];
  const make = (inspectSeq?: number) =>
    new EventsDashboardFeed({
      session,
      channel: {
        post: (m) => {
          // Everything the feed posts must pass the webview's own schema.
          posted.push(HostToEventsDashboard.parse(m));
          return true;
        },
        visible: true,
      },
      runCommand: (c) => commands.push(c),
      log: () => undefined,
      inspectSeq,
      now: () => NOW,
      refreshMs: 100,
    });

  beforeEach(() => {
    vi.useFakeTimers();
    session = new FakeSession();
    session.log = [
      event(1, { correlationId: 'order-9' }),
      event(2, { type: 'api.request', stream: 'api_events' }),
      event(3, { type: 'order.paid', correlationId: 'order-9', causationId: 'id-1' }),
      event(4, { type: 'order.shipped', causationId: 'id-3' }),
    ];
    posted = [];
    commands = [];
  });
  afterEach(() => vi.useRealTimers());

  it('posts the connection, then figures: activity, DLQ size, subscription lag, newest events', async () => {
    const feed = make();
    feed.onReady();
    await vi.advanceTimersByTimeAsync(0);
    expect(posted[0]).toMatchObject({ type: 'connection', state: 'connected' });
    const data = posted.find((m) => m.type === 'data');
    expect(data).toMatchObject({
      range: '1h',
      streams: ['api_events', 'default'],
      dlq: { parked: 2, retrying: 1, more: false },
      subscriptions: { count: 2, attached: 1, lag: 4 },
      receivedAt: NOW,
    });
    expect(data?.type === 'data' && data.recent.map((e) => e.seq)).toEqual([4, 3, 2, 1]);
    expect(session.calls.find((c) => c.method === StreamActivity.method)?.params).toEqual({ minutes: 60, bucketMinutes: 1 });
    feed.dispose();
  });

  it('asks for the chosen range and reloads (throttled) when events are appended', async () => {
    const feed = make();
    feed.onReady();
    await vi.advanceTimersByTimeAsync(0);
    feed.onMessage({ type: 'setRange', range: '24h' });
    await vi.advanceTimersByTimeAsync(0);
    expect(session.calls.filter((c) => c.method === StreamActivity.method).at(-1)?.params).toEqual({ minutes: 1440, bucketMinutes: 15 });
    const before = posted.filter((m) => m.type === 'data').length;
    for (const l of [...session.appendListeners]) l(event(5));
    for (const l of [...session.appendListeners]) l(event(6));
    await vi.advanceTimersByTimeAsync(150);
    expect(posted.filter((m) => m.type === 'data').length - before).toBeGreaterThanOrEqual(1);
    expect(posted.filter((m) => m.type === 'data').length - before).toBeLessThanOrEqual(2);
    feed.dispose();
  });

  it('inspects an event with the events correlated to it, oldest first', async () => {
    const feed = make(3);
    feed.onReady();
    await vi.advanceTimersByTimeAsync(0);
    const inspected = posted.find((m) => m.type === 'inspect');
    expect(inspected?.type === 'inspect' && inspected.event.seq).toBe(3);
    expect(inspected?.type === 'inspect' && inspected.correlated.map((e) => e.seq)).toEqual([1, 4]);
    expect(inspected).toMatchObject({ searched: 4 });
    feed.dispose();
  });

  it('says so when the inspected event is not in the log, or a query fails', async () => {
    const feed = make();
    feed.onReady();
    await vi.advanceTimersByTimeAsync(0);
    feed.onMessage({ type: 'inspect', seq: 99 });
    await vi.advanceTimersByTimeAsync(0);
    expect(posted.at(-1)).toEqual({ type: 'error', scope: 'inspect', message: 'Event #99 is not in the log (retention may have dropped it).' });
    session.failWith = new Error('boom');
    feed.onMessage({ type: 'refresh' });
    await vi.advanceTimersByTimeAsync(0);
    expect(posted).toContainEqual({ type: 'error', scope: 'data', message: 'Could not load the event figures: boom' });
    feed.dispose();
  });

  it('runs only the commands it is asked for, and stops listening once hidden', async () => {
    const feed = make();
    feed.onReady();
    await vi.advanceTimersByTimeAsync(0);
    feed.onMessage({ type: 'runCommand', command: 'replayEvents' });
    expect(commands).toEqual(['replayEvents']);
    feed.onVisibilityChange(false);
    expect(session.appendListeners.size).toBe(0);
    const calls = session.calls.length;
    session.setState({ kind: 'stopped', reason: 'stopped by user', failure: false });
    await vi.advanceTimersByTimeAsync(1000);
    expect(session.calls.length).toBe(calls);
    feed.dispose();
  });
});
