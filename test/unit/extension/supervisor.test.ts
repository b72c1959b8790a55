import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DidAppend,
  DidShutdown,
  GetStatus,
  Shutdown,
  type AnyNotificationType,
  type AnyRequestType,
  type EventEnvelope,
  type RuntimeInfo,
} from '../../../daemon/protocol';
import { DaemonUnavailableError, type ClientState, type Disposable, type RpcConnection } from '../../../extension/daemon/connection';
import { RestartBudget } from '../../../extension/daemon/restartBudget';
import { computeSpawnPlan, type DaemonSettings, type SpawnPlan } from '../../../extension/daemon/spawnPlan';
import { DaemonSupervisor, type DaemonExit } from '../../../extension/daemon/supervisor';

/** A connection double: records requests, lets the test drive state changes and notifications. */
class FakeConnection implements RpcConnection {
  state: ClientState = 'connected';
  readonly requests: string[] = [];
  closed = false;
  subscriptions = 0;
  private readonly stateListeners = new Set<(s: ClientState) => void>();
  private readonly notificationListeners = new Map<string, Set<(p: unknown) => void>>();
  private readonly eventListeners = new Set<(e: EventEnvelope) => void>();

  constructor(
    readonly info: RuntimeInfo,
    private readonly answers: Partial<Record<string, (params: unknown) => unknown>> = {},
  ) {}

  async request<T extends AnyRequestType>(type: T, params: unknown): Promise<never> {
    this.requests.push(type.method);
    const answer = this.answers[type.method];
    if (!answer) throw new Error(`no answer for ${type.method}`);
    return answer(params) as never;
  }

  onNotification<T extends AnyNotificationType>(type: T, cb: (params: never) => void): Disposable {
    const set = this.notificationListeners.get(type.method) ?? new Set();
    this.notificationListeners.set(type.method, set);
    const listener = cb as (p: unknown) => void;
    set.add(listener);
    return { dispose: () => set.delete(listener) };
  }

  async subscribe(_filter: unknown, onEvent: (e: EventEnvelope) => void): Promise<{ dispose(): Promise<void> }> {
    this.subscriptions++;
    this.eventListeners.add(onEvent);
    return {
      dispose: async () => {
        this.subscriptions--;
        this.eventListeners.delete(onEvent);
      },
    };
  }

  onStateChange(cb: (s: ClientState) => void): Disposable {
    this.stateListeners.add(cb);
    return { dispose: () => this.stateListeners.delete(cb) };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.setState('stopped');
  }

  setState(s: ClientState): void {
    this.state = s;
    for (const l of [...this.stateListeners]) l(s);
  }

  notify(method: string, params: unknown): void {
    for (const l of this.notificationListeners.get(method) ?? []) l(params);
  }

  emitEvent(e: EventEnvelope): void {
    for (const l of this.eventListeners) l(e);
  }
}

const runtime = (pid: number, port = 5000): RuntimeInfo => ({
  pid,
  host: '127.0.0.1',
  port,
  token: 'x'.repeat(43),
  protocolVersion: '1.0',
  daemonVersion: '0.1.0',
  startedAt: '2026-01-01T10:00:00.000Z',
});

const event = (stream: string, seq: number): EventEnvelope => ({
  id: `e${seq}`,
  seq,
  type: 'api.request',
  stream,
  time: '2026-01-01T10:00:00.000Z',
  priority: 'normal',
  actor: 'owner',
  schemaVersion: 1,
  payload: null,
});

/** The outside world of a supervisor: one data dir, processes by pid, a launcher. */
class World {
  runtimeFile: RuntimeInfo | undefined;
  readonly alive = new Set<number>();
  readonly launches: SpawnPlan[] = [];
  readonly connections: FakeConnection[] = [];
  readonly killed: number[] = [];
  readonly logs: string[] = [];
  settings: DaemonSettings = { port: 5000, dataDir: '/data/cf', autoStart: true, nodePath: '' };
  nextPid = 1000;
  /** What a launched daemon does: comes up (the default), hangs without a runtime file, or exits. */
  onLaunch: (pid: number) => DaemonExit | 'up' | 'silent' = () => 'up';
  logTail: string[] = [];
  connectError: Error | undefined;

  startDaemon(pid = this.nextPid++): RuntimeInfo {
    this.alive.add(pid);
    this.runtimeFile = runtime(pid);
    return this.runtimeFile;
  }

  /** The daemon dies without cleaning up (kill -9): its runtime file stays, stale. */
  crash(pid: number): void {
    this.alive.delete(pid);
    this.lastConnection().setState('reconnecting');
  }

  lastConnection(): FakeConnection {
    const c = this.connections.at(-1);
    if (!c) throw new Error('no connection yet');
    return c;
  }

  supervisor(extra: { budget?: RestartBudget } = {}): DaemonSupervisor {
    return new DaemonSupervisor({
      settings: () => this.settings,
      planFor: (settings) => computeSpawnPlan({ settings, daemonScript: '/ext/dist/daemon.js', execPath: '/bin/node', env: {} }),
      probe: { read: async () => this.runtimeFile, isPidAlive: (pid) => this.alive.has(pid) },
      launch: async (plan) => {
        this.launches.push(plan);
        const pid = this.nextPid++;
        const outcome = this.onLaunch(pid);
        if (outcome === 'up' || outcome === 'silent') {
          if (outcome === 'up') this.startDaemon(pid);
          else this.alive.add(pid);
          return { pid, exited: new Promise<DaemonExit>(() => undefined) };
        }
        return { pid, exited: Promise.resolve(outcome) };
      },
      connect: async (info) => {
        if (this.connectError) throw this.connectError;
        const conn = new FakeConnection(info, {
          [Shutdown.method]: () => {
            this.alive.delete(info.pid);
            if (this.runtimeFile?.pid === info.pid) this.runtimeFile = undefined;
            return { ok: true };
          },
          [GetStatus.method]: () => ({ pid: info.pid }),
        });
        this.connections.push(conn);
        return conn;
      },
      readLogTail: async () => this.logTail,
      log: (level, message) => this.logs.push(`${level}: ${message}`),
      now: () => Date.now(),
      kill: (pid) => {
        this.killed.push(pid);
        this.alive.delete(pid);
      },
      budget: extra.budget,
      startTimeoutMs: 5_000,
      startPollMs: 50,
      watchIntervalMs: 1_000,
      stopTimeoutMs: 1_000,
    });
  }
}

/** Let pending promises and due timers run. */
const flush = async (ms = 0): Promise<void> => {
  await vi.advanceTimersByTimeAsync(ms);
};

describe('DaemonSupervisor', () => {
  let world: World;
  beforeEach(() => {
    vi.useFakeTimers();
    world = new World();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('connects to a running daemon without launching one', async () => {
    const info = world.startDaemon(77);
    const s = world.supervisor();
    const states: string[] = [];
    s.onDidChangeState((st) => states.push(st.kind));
    await s.start();
    expect(s.state).toMatchObject({ kind: 'connected', daemon: { pid: 77, port: info.port, dataDir: '/data/cf' } });
    expect(world.launches).toHaveLength(0);
    expect(states).toEqual(['connecting', 'connected']);
    s.dispose();
  });

  it('ignores a stale runtime file (pid gone) and launches a daemon when auto-start is on', async () => {
    world.runtimeFile = runtime(5);
    const s = world.supervisor();
    const states: string[] = [];
    s.onDidChangeState((st) => states.push(st.kind));
    await s.start();
    expect(world.launches).toHaveLength(1);
    expect(world.launches[0]!.args).toEqual(['/ext/dist/daemon.js', '--port', '5000', '--data-dir', '/data/cf']);
    expect(states).toEqual(['connecting', 'starting', 'connected']);
    expect(s.state.kind === 'connected' && s.state.daemon.pid).toBe(world.launches.length + 999);
    s.dispose();
  });

  it('stays stopped, without error, when no daemon runs and auto-start is off', async () => {
    world.settings = { ...world.settings, autoStart: false };
    const s = world.supervisor();
    await s.start();
    expect(s.state).toMatchObject({ kind: 'stopped', failure: false });
    expect(s.state.kind === 'stopped' && s.state.reason).toContain('cogniforge.daemon.autoStart');
    expect(world.launches).toHaveLength(0);
    s.dispose();
  });

  it('launches on an explicit start even with auto-start off', async () => {
    world.settings = { ...world.settings, autoStart: false };
    const s = world.supervisor();
    await s.start({ userInitiated: true });
    expect(world.launches).toHaveLength(1);
    expect(s.state.kind).toBe('connected');
    s.dispose();
  });

  it('reports a daemon that exits while starting with its last output line', async () => {
    world.onLaunch = () => ({ code: 1, signal: null });
    world.logTail = ['starting', 'Error: port 5000 is in use'];
    const s = world.supervisor();
    const done = s.start();
    await flush(3_000);
    await done;
    expect(s.state).toMatchObject({ kind: 'stopped', failure: true });
    expect(s.state.kind === 'stopped' && s.state.reason).toBe(
      'The CogniForge daemon exited while starting (exit code 1): Error: port 5000 is in use',
    );
    expect(world.logs.some((l) => l.includes('Last daemon output'))).toBe(true);
    s.dispose();
  });

  it('gives up waiting for a daemon that never writes its runtime file', async () => {
    world.onLaunch = () => 'silent';
    const s = world.supervisor();
    const done = s.start();
    await flush(6_000);
    await done;
    expect(s.state).toMatchObject({ kind: 'stopped', failure: true });
    expect(s.state.kind === 'stopped' && s.state.reason).toContain('did not start within 5 s');
    s.dispose();
  });

  it('joins a daemon another window started when its own launch lost the race', async () => {
    world.onLaunch = () => {
      // Another window's daemon holds the lock and writes its file; ours exits at once.
      world.startDaemon(4242);
      return { code: 1, signal: null };
    };
    const s = world.supervisor();
    await s.start();
    expect(s.state).toMatchObject({ kind: 'connected', daemon: { pid: 4242 } });
    s.dispose();
  });

  it('restarts a crashed daemon at most 3 times in 3 minutes, then stops and says why', async () => {
    world.startDaemon(10);
    world.logTail = ['FATAL: corrupt segment 3'];
    const s = world.supervisor({ budget: new RestartBudget(3, 180_000) });
    await s.start();
    for (let i = 0; i < 3; i++) {
      world.crash((s.state.kind === 'connected' && s.state.daemon.pid) || -1);
      await flush(100);
      expect(s.state.kind).toBe('connected');
    }
    expect(world.launches).toHaveLength(3);
    world.crash((s.state.kind === 'connected' && s.state.daemon.pid) || -1);
    await flush(100);
    expect(world.launches).toHaveLength(3);
    expect(s.state).toMatchObject({ kind: 'stopped', failure: true });
    const reason = s.state.kind === 'stopped' ? s.state.reason : '';
    expect(reason).toContain('restarted 3 times within 3 minutes');
    expect(reason).toContain('FATAL: corrupt segment 3');
    s.dispose();
  });

  it('restarts again once the window has passed', async () => {
    world.startDaemon(10);
    const s = world.supervisor({ budget: new RestartBudget(1, 60_000) });
    await s.start();
    world.crash(10);
    await flush(100);
    expect(world.launches).toHaveLength(1);
    await flush(61_000);
    world.crash((s.state.kind === 'connected' && s.state.daemon.pid) || -1);
    await flush(100);
    expect(world.launches).toHaveLength(2);
    expect(s.state.kind).toBe('connected');
    s.dispose();
  });

  it('shows reconnecting while the daemon lives, and connected again when the client recovers', async () => {
    world.startDaemon(10);
    const s = world.supervisor();
    await s.start();
    world.lastConnection().setState('reconnecting');
    await flush(3_000);
    expect(s.state.kind).toBe('reconnecting');
    expect(world.launches).toHaveLength(0);
    world.lastConnection().setState('connected');
    expect(s.state.kind).toBe('connected');
    s.dispose();
  });

  it('does not restart a daemon that announced its shutdown', async () => {
    world.startDaemon(10);
    const s = world.supervisor();
    await s.start();
    world.lastConnection().notify(DidShutdown.method, { reason: 'stopped by another window' });
    world.alive.delete(10);
    world.runtimeFile = undefined;
    world.lastConnection().setState('reconnecting');
    await flush(100);
    expect(s.state).toMatchObject({ kind: 'stopped', failure: false });
    expect(s.state.kind === 'stopped' && s.state.reason).toContain('stopped by another window');
    expect(world.launches).toHaveLength(0);
    s.dispose();
  });

  it('while stopped, joins a daemon started elsewhere', async () => {
    world.settings = { ...world.settings, autoStart: false };
    const s = world.supervisor();
    await s.start();
    expect(s.state.kind).toBe('stopped');
    world.startDaemon(555);
    await flush(1_100);
    expect(s.state).toMatchObject({ kind: 'connected', daemon: { pid: 555 } });
    s.dispose();
  });

  it('switches to the new daemon when another window restarted it', async () => {
    world.startDaemon(10);
    const s = world.supervisor();
    await s.start();
    const first = world.lastConnection();
    world.alive.delete(10);
    world.startDaemon(11);
    first.setState('reconnecting');
    await flush(100);
    expect(s.state).toMatchObject({ kind: 'connected', daemon: { pid: 11 } });
    expect(first.closed).toBe(true);
    expect(world.launches).toHaveLength(0);
    s.dispose();
  });

  it('stop asks the daemon to shut down, waits for it and does not restart it', async () => {
    world.startDaemon(10);
    const s = world.supervisor();
    await s.start();
    const conn = world.lastConnection();
    await s.stop();
    expect(conn.requests).toContain(Shutdown.method);
    expect(conn.closed).toBe(true);
    expect(s.state).toMatchObject({ kind: 'stopped', failure: false });
    await flush(5_000);
    expect(world.launches).toHaveLength(0);
    expect(s.state.kind).toBe('stopped');
    s.dispose();
  });

  it('stop without a connection sends SIGTERM to the daemon on the data dir', async () => {
    world.connectError = new Error('refused');
    world.startDaemon(10);
    const s = world.supervisor();
    await s.start();
    expect(s.state).toMatchObject({ kind: 'stopped', failure: true });
    await s.stop();
    expect(world.killed).toEqual([10]);
    s.dispose();
  });

  it('does not retry, in the background, a live daemon it could not connect to', async () => {
    world.connectError = new Error('refused the token');
    world.startDaemon(10);
    const s = world.supervisor();
    const states: string[] = [];
    s.onDidChangeState((st) => states.push(st.kind));
    await s.start();
    await flush(10_000);
    expect(states).toEqual(['connecting', 'stopped']);
    expect(s.state.kind === 'stopped' && s.state.reason).toContain('refused the token');
    s.dispose();
  });

  it('restart stops the daemon and starts a fresh one', async () => {
    world.startDaemon(10);
    const s = world.supervisor();
    await s.start();
    await s.restart();
    expect(world.launches).toHaveLength(1);
    expect(s.state.kind === 'connected' && s.state.daemon.pid).not.toBe(10);
    s.dispose();
  });

  it('rejects requests while there is no daemon, with the reason', async () => {
    world.settings = { ...world.settings, autoStart: false };
    const s = world.supervisor();
    await s.start();
    await expect(s.request(GetStatus, {})).rejects.toBeInstanceOf(DaemonUnavailableError);
    await expect(s.request(GetStatus, {})).rejects.toThrow(/not running/);
    s.dispose();
  });

  it('keeps notification listeners across daemon restarts', async () => {
    world.startDaemon(10);
    const s = world.supervisor();
    const seen: number[] = [];
    s.onNotification(DidAppend, (p) => seen.push(p.event.seq));
    await s.start();
    world.lastConnection().notify(DidAppend.method, { subscriptionId: 's', event: event('default', 1) });
    world.crash(10);
    await flush(100);
    expect(world.connections).toHaveLength(2);
    world.lastConnection().notify(DidAppend.method, { subscriptionId: 's', event: event('default', 2) });
    expect(seen).toEqual([1, 2]);
    s.dispose();
  });

  it('subscribes to appended events only while someone listens, on every new connection', async () => {
    world.startDaemon(10);
    const s = world.supervisor();
    await s.start();
    expect(world.lastConnection().subscriptions).toBe(0);
    const seen: number[] = [];
    const listener = s.onDidAppend((e) => seen.push(e.seq));
    await flush();
    expect(world.lastConnection().subscriptions).toBe(1);
    world.lastConnection().emitEvent(event('default', 1));
    world.crash(10);
    await flush(100);
    expect(world.lastConnection().subscriptions).toBe(1);
    world.lastConnection().emitEvent(event('default', 2));
    expect(seen).toEqual([1, 2]);
    listener.dispose();
    await flush();
    expect(world.lastConnection().subscriptions).toBe(0);
    s.dispose();
  });

  it('a listener that throws does not stop the others', async () => {
    world.startDaemon(10);
    const s = world.supervisor();
    const seen: string[] = [];
    s.onDidChangeState(() => {
      throw new Error('boom');
    });
    s.onDidChangeState((st) => seen.push(st.kind));
    await s.start();
    expect(seen).toEqual(['connecting', 'connected']);
    expect(world.logs.some((l) => l.includes('boom'))).toBe(true);
    s.dispose();
  });

  it('after dispose, changes nothing and closes its connection', async () => {
    world.startDaemon(10);
    const s = world.supervisor();
    await s.start();
    const conn = world.lastConnection();
    s.dispose();
    await flush();
    expect(conn.closed).toBe(true);
    world.crash(10);
    await flush(5_000);
    expect(world.launches).toHaveLength(0);
  });
});
