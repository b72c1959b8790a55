import { join } from 'node:path';
import {
  DidShutdown,
  Shutdown,
  type AnyNotificationType,
  type AnyRequestType,
  type EventEnvelope,
  type NotificationParamsOf,
  type ParamsOf,
  type ResultOf,
  type RuntimeInfo,
} from '../../daemon/protocol';
import { Settings } from '../ids';
import { DaemonUnavailableError, type Connector, type DaemonSession, type Disposable, type RpcConnection } from './connection';
import { RestartBudget } from './restartBudget';
import { DAEMON_LOG_FILE, type DaemonSettings, type SpawnPlan } from './spawnPlan';
import type { DaemonEndpoint, DaemonState } from './state';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export type LogFn = (level: LogLevel, message: string) => void;

/** Looks at the data dir for a daemon: its runtime file and whether its process lives. */
export interface RuntimeProbe {
  read(dataDir: string): Promise<RuntimeInfo | undefined>;
  isPidAlive(pid: number): boolean;
}

export interface DaemonExit {
  readonly code: number | null;
  readonly signal: string | null;
  /** Set when the process could not be started or waited for. */
  readonly error?: string;
}

/** A daemon process this window started (detached: it outlives the window). */
export interface LaunchedDaemon {
  readonly pid: number | undefined;
  /** Settles when the process exits; never rejects. */
  readonly exited: Promise<DaemonExit>;
}

export type Launcher = (plan: SpawnPlan) => Promise<LaunchedDaemon>;

export interface SupervisorOptions {
  readonly settings: () => DaemonSettings;
  readonly planFor: (settings: DaemonSettings) => SpawnPlan;
  readonly probe: RuntimeProbe;
  readonly launch: Launcher;
  readonly connect: Connector;
  /** Last lines of the daemon's output file; empty when unreadable. */
  readonly readLogTail: (file: string) => Promise<string[]>;
  readonly log: LogFn;
  readonly now?: () => number;
  readonly kill?: (pid: number) => void;
  readonly budget?: RestartBudget;
  /** How long a launched daemon may take to write its runtime file, ms. */
  readonly startTimeoutMs?: number;
  /** Poll interval while a launched daemon starts, ms. */
  readonly startPollMs?: number;
  /** How often the daemon process is checked while reconnecting or stopped, ms. */
  readonly watchIntervalMs?: number;
  /** How long `stop()` waits for the daemon process to exit, ms. */
  readonly stopTimeoutMs?: number;
}

/**
 * After our launched daemon exited, how long to keep looking for a runtime file: when two windows
 * start a daemon at once, the loser exits (the data dir is locked) while the winner writes its file.
 */
const EXIT_GRACE_MS = 2_000;

interface NotificationRoute {
  readonly type: AnyNotificationType;
  readonly listeners: Set<(params: unknown) => void>;
}

type WatchMode = 'lost' | 'idle';

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Finds, starts, connects to and watches over the daemon of the configured data dir; the one place
 * that knows about processes and runtime files. Several windows share one daemon: each finds it
 * through the runtime file, and only when none runs (and auto-start is on) does a window launch one.
 *
 * A daemon that dies under us (connection lost and its pid gone) is restarted within the
 * RestartBudget; a daemon stopped on purpose (by this or another window) is not. While stopped, the
 * data dir is still watched so a daemon started elsewhere (another window, a terminal) is joined.
 *
 * Every async flow carries the generation it started in; `stop`, `reconnect` and `dispose` bump the
 * generation, so a flow that lost the race returns without touching state.
 */
export class DaemonSupervisor implements DaemonSession, Disposable {
  private current: DaemonState = { kind: 'connecting' };
  private readonly stateListeners = new Set<(state: DaemonState) => void>();
  private conn: RpcConnection | undefined;
  private connDisposables: Disposable[] = [];
  private endpoint: DaemonEndpoint | undefined;
  private generation = 0;
  private pending: Promise<void> | undefined;
  private watchTimer: ReturnType<typeof setInterval> | undefined;
  private watchBusy = false;
  /** Set when the daemon announced `daemon/didShutdown`: its exit is then no crash. */
  private shutdownReason: string | undefined;
  /** True while this window is stopping the daemon on purpose. */
  private stopping = false;
  private disposed = false;
  /** A live daemon we could not connect to: the idle watch leaves it alone until the user starts. */
  private refusedPid: number | undefined;
  private readonly routes = new Map<string, NotificationRoute>();
  private readonly appendListeners = new Set<(event: EventEnvelope) => void>();
  private appendSubscription: Promise<{ dispose(): Promise<void> }> | undefined;
  private readonly budget: RestartBudget;
  private readonly now: () => number;

  constructor(private readonly opts: SupervisorOptions) {
    this.budget = opts.budget ?? new RestartBudget();
    this.now = opts.now ?? Date.now;
  }

  get state(): DaemonState {
    return this.current;
  }

  /** The daemon of the current or last connection. */
  get daemon(): DaemonEndpoint | undefined {
    return this.endpoint;
  }

  onDidChangeState(cb: (state: DaemonState) => void): Disposable {
    this.stateListeners.add(cb);
    return { dispose: () => this.stateListeners.delete(cb) };
  }

  /**
   * Connect to the running daemon, or launch one when none runs and auto-start is on (or the user
   * asked: `userInitiated` also resets the restart budget). Settles when connected or stopped; the
   * outcome is in `state`, never a rejection.
   */
  start(opts: { userInitiated?: boolean } = {}): Promise<void> {
    if (this.disposed) return Promise.resolve();
    if (opts.userInitiated) {
      this.budget.reset();
      this.refusedPid = undefined;
    }
    if (this.current.kind === 'connected' || this.current.kind === 'reconnecting') return Promise.resolve();
    if (this.pending) return this.pending;
    return this.runEstablish(opts.userInitiated ?? false);
  }

  /** Drop the connection and find the daemon again, e.g. after the data dir setting changed. */
  async reconnect(): Promise<void> {
    if (this.disposed) return;
    this.generation++;
    this.stopWatch();
    await this.dropConnection();
    this.endpoint = undefined;
    await this.runEstablish(false);
  }

  /**
   * Ask the daemon to shut down (for every window sharing it) and wait until its process is gone.
   * Without a connection, a live daemon on the data dir is sent SIGTERM instead.
   */
  async stop(): Promise<void> {
    if (this.disposed) return;
    const gen = ++this.generation;
    this.pending = undefined;
    this.stopWatch();
    this.stopping = true;
    try {
      const pid = await this.requestShutdown();
      await this.dropConnection();
      if (pid !== undefined && !(await this.waitForExit(pid))) {
        this.opts.log('warn', `Daemon pid ${pid} is still running ${this.stopTimeoutMs()} ms after it was asked to stop.`);
      }
    } finally {
      this.stopping = false;
    }
    if (gen !== this.generation) return;
    this.setState({ kind: 'stopped', reason: 'The daemon was stopped from this window.', failure: false });
    this.startWatch('idle');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start({ userInitiated: true });
  }

  async request<T extends AnyRequestType>(type: T, params: ParamsOf<T>): Promise<ResultOf<T>> {
    const conn = this.conn;
    if (!conn) throw new DaemonUnavailableError(this.unavailableReason());
    return conn.request(type, params);
  }

  onNotification<T extends AnyNotificationType>(type: T, cb: (params: NotificationParamsOf<T>) => void): Disposable {
    let route = this.routes.get(type.method);
    if (!route) {
      route = { type, listeners: new Set() };
      this.routes.set(type.method, route);
      if (this.conn) this.attachRoute(this.conn, route);
    }
    const listener = cb as (params: unknown) => void;
    const listeners = route.listeners;
    listeners.add(listener);
    return { dispose: () => listeners.delete(listener) };
  }

  onDidAppend(cb: (event: EventEnvelope) => void): Disposable {
    this.appendListeners.add(cb);
    if (this.conn && !this.appendSubscription) this.openAppendSubscription(this.conn);
    return {
      dispose: () => {
        if (!this.appendListeners.delete(cb) || this.appendListeners.size > 0) return;
        void this.closeAppendSubscription();
      },
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.generation++;
    this.stopWatch();
    void this.dropConnection();
    this.stateListeners.clear();
  }

  private runEstablish(userInitiated: boolean): Promise<void> {
    const gen = ++this.generation;
    this.stopWatch();
    const run: Promise<void> = this.establish(gen, userInitiated)
      .catch((e: unknown) => {
        if (gen !== this.generation) return;
        this.opts.log('error', message(e));
        this.setState({ kind: 'stopped', reason: message(e), failure: true });
        this.startWatch('idle');
      })
      .finally(() => {
        if (this.pending === run) this.pending = undefined;
      });
    this.pending = run;
    return run;
  }

  private async establish(gen: number, userInitiated: boolean): Promise<void> {
    const settings = this.opts.settings();
    this.shutdownReason = undefined;
    this.setState({ kind: 'connecting' });
    const running = await this.findLiveDaemon(settings.dataDir);
    if (gen !== this.generation) return;
    if (running) {
      await this.connectTo(running, settings.dataDir, gen);
      return;
    }
    if (!userInitiated && !settings.autoStart) {
      this.opts.log('info', `No daemon runs on ${settings.dataDir}; auto-start is off.`);
      this.setState({
        kind: 'stopped',
        reason: `No daemon is running on ${settings.dataDir} and ${Settings.autoStart} is off. Run "CogniForge: Start Daemon" to start one.`,
        failure: false,
      });
      this.startWatch('idle');
      return;
    }
    this.setState({ kind: 'starting' });
    const plan = this.opts.planFor(settings);
    this.opts.log('info', `Starting daemon: ${plan.command} ${plan.args.join(' ')} (output in ${plan.logFile})`);
    let launched: LaunchedDaemon;
    try {
      launched = await this.opts.launch(plan);
    } catch (e) {
      throw new Error(`Could not start the CogniForge daemon with ${plan.command}: ${message(e)}`, { cause: e });
    }
    this.opts.log('info', `Daemon process started (pid ${launched.pid ?? 'unknown'}); waiting for ${settings.dataDir}/daemon.json`);
    const info = await this.waitForRuntime(settings.dataDir, launched, plan.logFile, gen);
    if (info === undefined) return;
    await this.connectTo(info, settings.dataDir, gen);
  }

  private async waitForRuntime(
    dataDir: string,
    launched: LaunchedDaemon,
    logFile: string,
    gen: number,
  ): Promise<RuntimeInfo | undefined> {
    const timeoutMs = this.opts.startTimeoutMs ?? 20_000;
    const pollMs = this.opts.startPollMs ?? 100;
    const deadline = this.now() + timeoutMs;
    let exit: DaemonExit | undefined;
    let exitSeenAt: number | undefined;
    void launched.exited.then((e) => {
      exit = e;
    });
    for (;;) {
      if (gen !== this.generation) return undefined;
      const info = await this.findLiveDaemon(dataDir);
      if (gen !== this.generation) return undefined;
      if (info) return info;
      const now = this.now();
      if (exit) {
        exitSeenAt ??= now;
        if (now - exitSeenAt >= EXIT_GRACE_MS) {
          const how = exit.error ?? (exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`);
          throw new Error(`The CogniForge daemon exited while starting (${how})${await this.lastOutput(logFile)}`);
        }
      } else if (now >= deadline) {
        throw new Error(
          `The CogniForge daemon did not start within ${Math.round(timeoutMs / 1000)} s${await this.lastOutput(logFile)}`,
        );
      }
      await sleep(pollMs);
    }
  }

  private async connectTo(info: RuntimeInfo, dataDir: string, gen: number): Promise<void> {
    let conn: RpcConnection;
    try {
      conn = await this.opts.connect(info);
    } catch (e) {
      this.refusedPid = info.pid;
      throw new Error(
        `Could not connect to the CogniForge daemon (pid ${info.pid}, ${info.host}:${info.port}): ${message(e)}`,
        { cause: e },
      );
    }
    if (gen !== this.generation || this.disposed) {
      await conn.close().catch(() => undefined);
      return;
    }
    this.conn = conn;
    this.endpoint = {
      pid: info.pid,
      host: info.host,
      port: info.port,
      daemonVersion: info.daemonVersion,
      startedAt: info.startedAt,
      dataDir,
    };
    this.connDisposables.push(
      conn.onStateChange((s) => this.onClientState(conn, s)),
      conn.onNotification(DidShutdown, (p) => {
        this.shutdownReason = p.reason;
        this.opts.log('info', `Daemon announced shutdown: ${p.reason}`);
      }),
    );
    for (const route of this.routes.values()) this.attachRoute(conn, route);
    if (this.appendListeners.size > 0) this.openAppendSubscription(conn);
    this.opts.log('info', `Connected to daemon ${info.daemonVersion} (pid ${info.pid}) on ${info.host}:${info.port}`);
    this.setState({ kind: 'connected', daemon: this.endpoint });
  }

  private onClientState(conn: RpcConnection, s: string): void {
    if (conn !== this.conn || this.stopping || this.disposed || !this.endpoint) return;
    if (s === 'connected') {
      this.stopWatch();
      if (this.current.kind !== 'connected') {
        this.opts.log('info', `Reconnected to daemon pid ${this.endpoint.pid}`);
        this.setState({ kind: 'connected', daemon: this.endpoint });
      }
    } else if (s === 'reconnecting' || s === 'stopped') {
      if (this.current.kind === 'connected') {
        this.opts.log('warn', `Lost the connection to daemon pid ${this.endpoint.pid}; reconnecting`);
        this.setState({ kind: 'reconnecting', daemon: this.endpoint });
      }
      this.startWatch('lost');
    }
  }

  /** While reconnecting: did the daemon die, or did another daemon take over the data dir? */
  private async checkLostDaemon(): Promise<void> {
    const endpoint = this.endpoint;
    const conn = this.conn;
    if (!endpoint || !conn || this.stopping) return;
    const gen = this.generation;
    const other = await this.findLiveDaemon(endpoint.dataDir);
    if (gen !== this.generation || conn !== this.conn || conn.state === 'connected' || this.stopping) return;
    if (other && other.pid !== endpoint.pid) {
      this.opts.log('info', `Daemon pid ${other.pid} now serves ${endpoint.dataDir}; switching to it`);
      await this.dropConnection();
      await this.runEstablish(false);
      return;
    }
    if (this.opts.probe.isPidAlive(endpoint.pid)) {
      if (conn.state !== 'stopped') return;
      // The client gave up (e.g. the daemon now refuses the token): start over with a fresh read.
      this.opts.log('warn', `The connection to daemon pid ${endpoint.pid} stopped for good; connecting again`);
      await this.dropConnection();
      await this.runEstablish(false);
      return;
    }

    await this.dropConnection();
    if (this.shutdownReason !== undefined) {
      this.setState({ kind: 'stopped', reason: `The daemon was stopped (${this.shutdownReason}).`, failure: false });
      this.startWatch('idle');
      return;
    }
    const settings = this.opts.settings();
    const output = await this.lastOutput(join(endpoint.dataDir, DAEMON_LOG_FILE));
    if (gen !== this.generation) return;
    const died = `The CogniForge daemon (pid ${endpoint.pid}) exited unexpectedly${output}`;
    if (!settings.autoStart) {
      this.opts.log('error', died);
      this.setState({ kind: 'stopped', reason: `${died} ${Settings.autoStart} is off, so it was not restarted.`, failure: true });
      this.startWatch('idle');
      return;
    }
    if (!this.budget.tryConsume(this.now())) {
      const minutes = Math.round(this.budget.windowMs / 60_000);
      const reason =
        `${died} It was already restarted ${this.budget.maxRestarts} times within ${minutes} minutes, so CogniForge ` +
        'stopped restarting it. Fix the cause (see the log), then run "CogniForge: Start Daemon".';
      this.opts.log('error', reason);
      this.setState({ kind: 'stopped', reason, failure: true });
      this.startWatch('idle');
      return;
    }
    this.opts.log(
      'warn',
      `${died} Restarting it (${this.budget.remaining(this.now())} more restarts allowed within ${Math.round(this.budget.windowMs / 60_000)} minutes).`,
    );
    await this.runEstablish(true);
  }

  /** While stopped: join a daemon someone else started on the data dir. */
  private async checkIdle(): Promise<void> {
    if (this.pending || this.current.kind !== 'stopped') return;
    const gen = this.generation;
    const running = await this.findLiveDaemon(this.opts.settings().dataDir);
    if (!running || running.pid === this.refusedPid) return;
    if (gen !== this.generation || this.pending || this.current.kind !== 'stopped') return;
    this.opts.log('info', `Found daemon pid ${running.pid} on the data dir; connecting`);
    await this.runEstablish(false);
  }

  private startWatch(mode: WatchMode): void {
    if (this.disposed) return;
    this.stopWatch();
    const tick = (): void => {
      if (this.watchBusy) return;
      this.watchBusy = true;
      const check = mode === 'lost' ? this.checkLostDaemon() : this.checkIdle();
      check
        .catch((e: unknown) => this.opts.log('error', `Daemon watch failed: ${message(e)}`))
        .finally(() => {
          this.watchBusy = false;
        });
    };
    this.watchTimer = setInterval(tick, this.opts.watchIntervalMs ?? 2_000);
    if (mode === 'lost') tick();
  }

  private stopWatch(): void {
    if (this.watchTimer !== undefined) clearInterval(this.watchTimer);
    this.watchTimer = undefined;
  }

  /** Shut the daemon down; answers the pid to wait for. */
  private async requestShutdown(): Promise<number | undefined> {
    const conn = this.conn;
    const endpoint = this.endpoint;
    if (conn && endpoint && conn.state === 'connected') {
      try {
        await conn.request(Shutdown, {});
        this.opts.log('info', `Asked daemon pid ${endpoint.pid} to shut down`);
      } catch (e) {
        this.opts.log('warn', `daemon/shutdown failed (${message(e)}); sending SIGTERM to pid ${endpoint.pid}`);
        this.signal(endpoint.pid);
      }
      return endpoint.pid;
    }
    const target = endpoint && this.opts.probe.isPidAlive(endpoint.pid) ? endpoint.pid : (await this.findLiveDaemon(this.opts.settings().dataDir))?.pid;
    if (target === undefined) {
      this.opts.log('info', 'Stop: no daemon is running');
      return undefined;
    }
    this.opts.log('info', `Not connected; sending SIGTERM to daemon pid ${target}`);
    this.signal(target);
    return target;
  }

  private signal(pid: number): void {
    try {
      (this.opts.kill ?? ((p: number) => process.kill(p, 'SIGTERM')))(pid);
    } catch (e) {
      this.opts.log('warn', `Could not signal pid ${pid}: ${message(e)}`);
    }
  }

  private stopTimeoutMs(): number {
    return this.opts.stopTimeoutMs ?? 5_000;
  }

  private async waitForExit(pid: number): Promise<boolean> {
    const deadline = this.now() + this.stopTimeoutMs();
    while (this.opts.probe.isPidAlive(pid)) {
      if (this.now() >= deadline) return false;
      await sleep(this.opts.startPollMs ?? 100);
    }
    return true;
  }

  private async findLiveDaemon(dataDir: string): Promise<RuntimeInfo | undefined> {
    const info = await this.opts.probe.read(dataDir);
    return info && this.opts.probe.isPidAlive(info.pid) ? info : undefined;
  }

  /** The daemon's last output line, to say why it failed; every line goes to the log. */
  private async lastOutput(logFile: string): Promise<string> {
    const lines = (await this.opts.readLogTail(logFile).catch(() => [] as string[])).filter((l) => l.trim() !== '');
    if (lines.length === 0) return '.';
    this.opts.log('error', `Last daemon output (${logFile}):\n${lines.join('\n')}`);
    return `: ${lines[lines.length - 1]!.trim()}`;
  }

  private attachRoute(conn: RpcConnection, route: NotificationRoute): void {
    this.connDisposables.push(
      conn.onNotification(route.type, (params) => {
        for (const listener of [...route.listeners]) this.safely(`${route.type.method} listener`, () => listener(params));
      }),
    );
  }

  private openAppendSubscription(conn: RpcConnection): void {
    const sub = conn.subscribe({}, (event) => {
      for (const listener of [...this.appendListeners]) this.safely('events/didAppend listener', () => listener(event));
    });
    this.appendSubscription = sub;
    sub.catch((e: unknown) => {
      this.opts.log('warn', `Could not subscribe to appended events: ${message(e)}`);
      if (this.appendSubscription === sub) this.appendSubscription = undefined;
    });
  }

  private async closeAppendSubscription(): Promise<void> {
    const sub = this.appendSubscription;
    this.appendSubscription = undefined;
    if (!sub) return;
    try {
      await (await sub).dispose();
    } catch (e) {
      this.opts.log('debug', `Unsubscribing from appended events failed: ${message(e)}`);
    }
  }

  private async dropConnection(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    this.appendSubscription = undefined;
    for (const d of this.connDisposables.splice(0)) d.dispose();
    if (!conn) return;
    try {
      await conn.close();
    } catch (e) {
      this.opts.log('debug', `Closing the daemon connection failed: ${message(e)}`);
    }
  }

  private unavailableReason(): string {
    switch (this.current.kind) {
      case 'stopped':
        return `The CogniForge daemon is not running: ${this.current.reason}`;
      case 'starting':
        return 'The CogniForge daemon is still starting.';
      default:
        return 'Not connected to the CogniForge daemon yet.';
    }
  }

  private safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.opts.log('error', `${what} threw: ${message(e)}`);
    }
  }

  private setState(state: DaemonState): void {
    if (this.disposed) return;
    this.current = state;
    for (const listener of [...this.stateListeners]) this.safely('state listener', () => listener(state));
  }
}
