/**
 * Spawn a real `dist/daemon.js` on port 0 with a temp data dir, and talk to it with raw JSON-RPC over
 * `ws`. Shared by the daemon integration tests, e2e and benchmarks:
 *
 * ```ts
 * const d = await spawnDaemon();                 // builds dist/daemon.js first when it is stale
 * const c = await d.connect();                   // authenticated + daemon/initialize done
 * const { seq } = await c.request('events/publish', { type: 'api.request' });
 * await d.stop();                                // SIGTERM, resolves { code, signal }
 * ```
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { afterAll } from 'vitest';
import { RUNTIME_FILE, RuntimeInfo } from '../../../daemon/protocol';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DAEMON_JS = join(REPO_ROOT, 'dist', 'daemon.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

let checked = false;

/**
 * Build `dist/daemon.js` with `node esbuild.mjs` when it is missing or older than a daemon source.
 * Checked once per test process (`npm test` builds before running, so this only matters when a
 * single file is run by hand).
 */
export function ensureDaemonBuilt(): void {
  if (checked) return;
  checked = true;
  const stale =
    !existsSync(DAEMON_JS) ||
    statSync(DAEMON_JS).mtimeMs < Math.max(newestMtime(join(REPO_ROOT, 'daemon')), statSync(join(REPO_ROOT, 'package.json')).mtimeMs);
  if (stale) execFileSync(process.execPath, ['esbuild.mjs'], { cwd: REPO_ROOT, stdio: 'inherit' });
}

const tempDirs = new Set<string>();

/** A fresh temp dir, removed by `removeTempDirs()`. */
export function makeTempDir(prefix = 'cf-daemon-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

/**
 * For one test file: a `start` that spawns daemons, all of which are killed (SIGKILL: whatever state
 * a test left them in) and whose temp dirs are removed after the file's tests.
 */
export function useDaemons(): (...args: Parameters<typeof spawnDaemon>) => Promise<DaemonProcess> {
  const running: DaemonProcess[] = [];
  afterAll(async () => {
    await Promise.all(running.map((d) => d.stop('SIGKILL')));
    removeTempDirs();
  });
  return async (...args) => {
    const d = await spawnDaemon(...args);
    running.push(d);
    return d;
  };
}

/** The child's environment: ours minus every COGNIFORGE_* (so a developer's settings do not leak in). */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('COGNIFORGE_')) env[k] = v;
  return { ...env, NODE_ENV: 'test', ...extra };
}

export interface SpawnOptions {
  /** Extra flags; `--port 0` and `--data-dir` are added unless given. */
  args?: string[];
  env?: Record<string, string>;
  /** Reuse a data dir (restart scenarios); a fresh temp dir by default. */
  dataDir?: string;
  /** Working directory of the child (its `.env` is read from there); a temp dir by default. */
  cwd?: string;
  /** How long to wait for the runtime file, ms. */
  readyTimeoutMs?: number;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly dataDir: string;
  readonly runtime: RuntimeInfo;
  readonly port: number;
  /** Owner token (scope admin). */
  readonly token: string;
  /** `ws://127.0.0.1:PORT/rpc`. */
  readonly wsUrl: string;
  /** `http://127.0.0.1:PORT`. */
  readonly httpUrl: string;
  readonly exited: Promise<Exit>;
  /** Everything the daemon wrote to stderr so far (its log). */
  stderr(): string;
  /** Open an authenticated connection (owner token unless given) and, by default, initialize it. */
  connect(options?: ConnectOptions): Promise<RpcClient>;
  /** `fetch` against the daemon with the owner token (unless `token: null`). */
  http(path: string, init?: RequestInit & { token?: string | null }): Promise<Response>;
  /** Send a signal (SIGTERM by default) and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

/** Spawn the daemon and wait until its runtime file names it. */
export async function spawnDaemon(options: SpawnOptions = {}): Promise<DaemonProcess> {
  ensureDaemonBuilt();
  const dataDir = options.dataDir ?? join(makeTempDir(), 'data');
  const args = [...(options.args ?? [])];
  if (!args.some((a) => a === '--port' || a.startsWith('--port='))) args.push('--port', '0');
  if (!args.some((a) => a === '--data-dir' || a.startsWith('--data-dir='))) args.push('--data-dir', dataDir);
  const child = spawn(process.execPath, [DAEMON_JS, ...args], {
    cwd: options.cwd ?? makeTempDir('cf-cwd-'),
    env: childEnv(options.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.resume();
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let gone: Exit | undefined;
  void exited.then((e) => (gone = e));

  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
  let runtime: RuntimeInfo | undefined;
  while (!runtime) {
    if (gone) throw new Error(`daemon exited (code ${gone.code}, signal ${gone.signal}) before it was ready:\n${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`daemon not ready after ${options.readyTimeoutMs ?? 20_000} ms:\n${stderr}`);
    }
    runtime = readRuntime(dataDir, child.pid!);
    if (!runtime) await sleep(20);
  }
  const info = runtime;
  const base = `127.0.0.1:${info.port}`;
  const d: DaemonProcess = {
    child,
    dataDir,
    runtime: info,
    port: info.port,
    token: info.token,
    wsUrl: `ws://${base}/rpc`,
    httpUrl: `http://${base}`,
    exited,
    stderr: () => stderr,
    connect: (o = {}) => RpcClient.connect(d.wsUrl, { token: info.token, ...o }),
    http: (path, init = {}) => {
      const { token, ...rest } = init;
      const headers = new Headers(rest.headers);
      const t = token === undefined ? info.token : token;
      if (t !== null) headers.set('Authorization', `Bearer ${t}`);
      return fetch(`http://${base}${path}`, { ...rest, headers });
    },
    async stop(signal = 'SIGTERM') {
      if (!gone) child.kill(signal);
      return exited;
    },
  };
  return d;
}

function readRuntime(dataDir: string, pid: number): RuntimeInfo | undefined {
  try {
    const parsed = RuntimeInfo.safeParse(JSON.parse(readFileSync(join(dataDir, RUNTIME_FILE), 'utf8')));
    return parsed.success && parsed.data.pid === pid ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Run the daemon with arguments expected to make it exit by itself (bad flags, lock held, port taken). */
export async function runDaemonToExit(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<Exit & { stderr: string; stdout: string }> {
  ensureDaemonBuilt();
  const child = spawn(process.execPath, [DAEMON_JS, ...args], {
    cwd: options.cwd ?? makeTempDir('cf-cwd-'),
    env: childEnv(options.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
  const exit = await new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  clearTimeout(timer);
  return { ...exit, stderr, stdout };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A JSON-RPC error answer, thrown by `RpcClient.request`. */
export class RpcResponseError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcResponseError';
  }
}

/** The error answer a call must get: fails the test when the call succeeds or fails otherwise. */
export async function rpcError(p: Promise<unknown>): Promise<RpcResponseError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RpcResponseError) return e;
    throw e;
  }
  throw new Error('expected an error answer, but the call succeeded');
}

export interface ConnectOptions {
  /** Bearer token; the owner token by default, `null` to send none. */
  token?: string | null;
  /** Call `daemon/initialize` right away (default true). */
  initialize?: boolean;
  headers?: Record<string, string>;
}

export interface Notification {
  method: string;
  params: unknown;
}

type Frame = Record<string, unknown> | unknown[];

/**
 * A deliberately raw JSON-RPC client: requests by id, notifications collected, and `exchange`
 * for frames the tests craft by hand (the answer is the next frame that is not a notification
 * and not the answer to a pending `request`).
 */
export class RpcClient {
  private nextId = 1;
  private readonly pending = new Map<number | string, (msg: Record<string, unknown>) => void>();
  private readonly unmatched: Frame[] = [];
  private unmatchedWaiters: ((f: Frame) => void)[] = [];
  readonly notifications: Notification[] = [];
  private notificationWaiters: (() => void)[] = [];
  /** Resolves with the close code and reason once the socket closed. */
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data: Buffer) => this.onFrame(JSON.parse(data.toString()) as Frame));
    ws.on('error', () => undefined);
  }

  static async connect(url: string, options: ConnectOptions = {}): Promise<RpcClient> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.Authorization = `Bearer ${options.token}`;
    const ws = new WebSocket(url, { headers, maxPayload: 256 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => reject(new UpgradeRefused(res.statusCode ?? 0, body)));
      });
      ws.once('error', reject);
    });
    const client = new RpcClient(ws);
    if (options.initialize !== false) await client.request('daemon/initialize', { protocolVersion: '1.0', client: { name: 'test' } });
    return client;
  }

  /** Call a method; resolves the result, rejects with RpcResponseError for an error answer. */
  async request<T = Record<string, unknown>>(method: string, params?: unknown): Promise<T> {
    const answer = await this.call(method, params);
    if ('error' in answer) {
      const e = answer.error as { code: number; message: string; data?: unknown };
      throw new RpcResponseError(e.code, e.message, e.data);
    }
    return answer.result as T;
  }

  /** Call a method; resolves the whole answer object (result or error). */
  call(method: string, params?: unknown): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const answer = new Promise<Record<string, unknown>>((resolve) => this.pending.set(id, resolve));
    this.ws.send(JSON.stringify(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params }));
    return answer;
  }

  notify(method: string, params?: unknown): void {
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', method, params }));
  }

  /** Send a hand-made frame (text, or bytes as a binary frame) without waiting. */
  sendRaw(frame: string | Buffer): void {
    this.ws.send(frame, { binary: Buffer.isBuffer(frame) });
  }

  /** Send a hand-made frame and resolve the next unmatched answer frame. */
  async exchange(frame: string | Buffer, timeoutMs = 5000): Promise<Frame> {
    const next = this.nextUnmatched(timeoutMs);
    this.sendRaw(frame);
    return next;
  }

  /** The next answer frame no `request` claimed (crafted frames, batches, id-null errors). */
  nextUnmatched(timeoutMs = 5000): Promise<Frame> {
    const queued = this.unmatched.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.unmatchedWaiters = this.unmatchedWaiters.filter((w) => w !== waiter);
        reject(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (f: Frame) => {
        clearTimeout(timer);
        resolve(f);
      };
      this.unmatchedWaiters.push(waiter);
    });
  }

  /** Wait until `count` notifications matching `filter` arrived; resolves them. */
  async waitForNotifications(count: number, filter: (n: Notification) => boolean = () => true, timeoutMs = 10_000): Promise<Notification[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const matching = this.notifications.filter(filter);
      if (matching.length >= count) return matching;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${count} notifications, got ${matching.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.notificationWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    return this.closed;
  }

  private onFrame(frame: Frame): void {
    if (!Array.isArray(frame) && typeof frame.method === 'string' && !('id' in frame)) {
      this.notifications.push({ method: frame.method, params: frame.params });
      const waiters = this.notificationWaiters;
      this.notificationWaiters = [];
      waiters.forEach((w) => w());
      return;
    }
    if (!Array.isArray(frame)) {
      const resolve = this.pending.get(frame.id as number);
      if (resolve) {
        this.pending.delete(frame.id as number);
        resolve(frame);
        return;
      }
    }
    const waiter = this.unmatchedWaiters.shift();
    if (waiter) waiter(frame);
    else this.unmatched.push(frame);
  }
}

/** The server answered the WebSocket upgrade with an HTTP error. */
export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upgrade refused with HTTP ${status}: ${body}`);
    this.name = 'UpgradeRefused';
  }
}
