import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GetStatus, type AnyRequestType, type DaemonStatus, type EventEnvelope } from '../../../daemon/protocol';
import { HostToOverview } from '../../../webview/protocol/overview';
import { DaemonUnavailableError, type DaemonSession, type Disposable } from '../../../extension/daemon/connection';
import type { DaemonState } from '../../../extension/daemon/state';
import { OverviewFeed } from '../../../extension/features/overview/overviewFeed';

const status = (events: number): DaemonStatus => ({
  health: 'ok',
  problems: [],
  version: '0.1.0',
  protocolVersion: '1.0',
  pid: 42,
  startedAt: '2026-01-01T10:00:00.000Z',
  uptimeMs: 1000,
  dataDir: '/data/cf',
  eventLog: { bytes: 2048, events, segments: 1, lastSeq: events, snapshotSeq: 0 },
  streams: [{ name: 'default', events, bytes: 2048 }],
  connections: 1,
});

const daemon = { pid: 42, host: '127.0.0.1', port: 5000, daemonVersion: '0.1.0', startedAt: '2026-01-01T10:00:00.000Z', dataDir: '/d' };

/** A session double: state the test sets, a status answer, and appended events the test emits. */
class FakeSession implements DaemonSession {
  state: DaemonState = { kind: 'connected', daemon };
  statusCalls = 0;
  answer: () => DaemonStatus = () => status(this.statusCalls);
  private readonly stateListeners = new Set<(s: DaemonState) => void>();
  readonly appendListeners = new Set<(e: EventEnvelope) => void>();

  onDidChangeState(cb: (s: DaemonState) => void): Disposable {
    this.stateListeners.add(cb);
    return { dispose: () => this.stateListeners.delete(cb) };
  }
  async request<T extends AnyRequestType>(type: T): Promise<never> {
    if (type.method !== GetStatus.method) throw new Error(`unexpected ${type.method}`);
    this.statusCalls++;
    if (this.state.kind !== 'connected') throw new DaemonUnavailableError('not connected');
    return this.answer() as never;
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
  append(stream: string): void {
    for (const l of [...this.appendListeners]) l({ stream } as EventEnvelope);
  }
}

describe('OverviewFeed', () => {
  let session: FakeSession;
  let posted: HostToOverview[];
  let feed: OverviewFeed;
  const commands: string[] = [];

  beforeEach(() => {
    vi.useFakeTimers();
    session = new FakeSession();
    posted = [];
    commands.length = 0;
    feed = new OverviewFeed({
      session,
      channel: {
        visible: true,
        post: (m) => {
          // Everything the host posts must pass the schema the webview validates with.
          expect(HostToOverview.safeParse(m).success).toBe(true);
          posted.push(m);
          return true;
        },
      },
      runCommand: (c) => commands.push(c),
      log: () => undefined,
      now: () => 1_000_000,
      pollMs: 2000,
      appendFlushMs: 500,
    });
  });
  afterEach(() => {
    feed.dispose();
    vi.useRealTimers();
  });

  it('posts nothing before the webview is ready', async () => {
    await vi.advanceTimersByTimeAsync(10_000);
    expect(posted).toEqual([]);
    expect(session.statusCalls).toBe(0);
  });

  it('on ready, posts the connection state and a status, then polls every 2 s', async () => {
    feed.onReady();
    await vi.advanceTimersByTimeAsync(0);
    expect(posted[0]).toEqual({ type: 'connection', state: 'connected', reason: undefined, failure: false });
    expect(posted[1]).toMatchObject({ type: 'status', receivedAt: 1_000_000 });
    await vi.advanceTimersByTimeAsync(6_000);
    expect(session.statusCalls).toBe(4);
  });

  it('stops polling and listening while hidden', async () => {
    feed.onReady();
    await vi.advanceTimersByTimeAsync(0);
    feed.onVisibilityChange(false);
    const calls = session.statusCalls;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(session.statusCalls).toBe(calls);
    expect(session.appendListeners.size).toBe(0);
  });

  it('batches appended events per stream', async () => {
    feed.onReady();
    await vi.advanceTimersByTimeAsync(0);
    session.append('default');
    session.append('default');
    session.append('security');
    const callsBefore = session.statusCalls;
    await vi.advanceTimersByTimeAsync(500);
    expect(posted.filter((m) => m.type === 'appended')).toEqual([{ type: 'appended', counts: { default: 2, security: 1 } }]);
    // ...and refreshes the status right away, so the event-log card agrees with the new counts.
    expect(session.statusCalls).toBe(callsBefore + 1);
  });

  it('tells the dashboard when the daemon goes away, and why', async () => {
    feed.onReady();
    await vi.advanceTimersByTimeAsync(0);
    session.setState({ kind: 'stopped', reason: 'The daemon exited unexpectedly.', failure: true });
    expect(posted.at(-1)).toEqual({ type: 'connection', state: 'stopped', reason: 'The daemon exited unexpectedly.', failure: true });
    const calls = session.statusCalls;
    await vi.advanceTimersByTimeAsync(4_000);
    expect(session.statusCalls).toBe(calls);
  });

  it('posts the error when a poll fails instead of leaving the dashboard waiting', async () => {
    session.answer = () => {
      throw new Error('daemon/status timed out');
    };
    feed.onReady();
    await vi.advanceTimersByTimeAsync(0);
    expect(posted.at(-1)).toEqual({ type: 'statusError', message: 'daemon/status timed out' });
  });

  it('polls at once when the connection comes back', async () => {
    session.state = { kind: 'reconnecting', daemon };
    feed.onReady();
    await vi.advanceTimersByTimeAsync(0);
    expect(session.statusCalls).toBe(0);
    session.setState({ kind: 'connected', daemon });
    await vi.advanceTimersByTimeAsync(0);
    expect(session.statusCalls).toBe(1);
    expect(posted.at(-1)).toMatchObject({ type: 'status' });
  });

  it('runs only the commands the protocol allows, and refreshes on request', async () => {
    feed.onReady();
    await vi.advanceTimersByTimeAsync(0);
    feed.onMessage({ type: 'runCommand', command: 'restartDaemon' });
    expect(commands).toEqual(['restartDaemon']);
    const calls = session.statusCalls;
    feed.onMessage({ type: 'refresh' });
    await vi.advanceTimersByTimeAsync(0);
    expect(session.statusCalls).toBe(calls + 1);
  });
});
