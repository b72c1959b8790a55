import { spawn } from 'node:child_process';
import { readFile, readdir, stat } from 'node:fs/promises';
import type { CommandAction, HttpCheckAction, RunMode } from '../../protocol/dr';
import { isRpcError } from '../../protocol';
import type { DependencyPolicies } from '../resilience/policies';
import { OutboundHttp } from '../resilience/outbound';
import type { Clock } from '../shared/clock';

/** How an automated step ended. */
export interface StepResult {
  status: 'succeeded' | 'failed' | 'cancelled';
  exitCode?: number;
  signal?: string;
  httpStatus?: number;
  attempts?: number;
  stdoutTail?: string;
  stderrTail?: string;
  error?: string;
}

/** Which run a step belongs to; a command sees it as `COGNIFORGE_DR_RUN_ID` and `COGNIFORGE_DR_MODE`. */
export interface StepContext {
  runId: string;
  mode: RunMode;
}

/** Names of the variables every command step gets (set last: a step's own `env` cannot change them). */
export const RUN_ID_VAR = 'COGNIFORGE_DR_RUN_ID';
export const RUN_MODE_VAR = 'COGNIFORGE_DR_MODE';

/** Runs automated steps; `signal` aborts (cancels) the step. Injected so the run logic is tested without processes. */
export interface StepExecutors {
  command(action: CommandAction, signal: AbortSignal, context: StepContext): Promise<StepResult>;
  httpCheck(action: HttpCheckAction, signal: AbortSignal): Promise<StepResult>;
}

/** Bytes of stdout and of stderr kept per step (the tail: the end is where the error is). */
export const OUTPUT_TAIL_BYTES = 4096;
/** Between SIGTERM and SIGKILL of a process tree that is cancelled or timed out, ms. */
export const KILL_GRACE_MS = 2_000;
/** Shortest time an HTTP check attempt is given, ms. */
const MIN_ATTEMPT_MS = 250;
/** Values shorter than this are not masked (masking `1` would garble every number). */
const MIN_MASKED_LENGTH = 4;
const SECRET_NAME = /secret|token|passw|key|credential|auth/i;

/** Keeps the last `limit` bytes written to it. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Bytes dropped from the front. */
  dropped = 0;

  constructor(private readonly limit = OUTPUT_TAIL_BYTES) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.limit && this.chunks.length > 1) {
      this.size -= this.chunks[0]!.length;
      this.dropped += this.chunks.shift()!.length;
    }
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    const cut = all.length > this.limit ? all.length - this.limit : 0;
    const body = all.subarray(cut).toString('utf8');
    return this.dropped + cut > 0 ? `…${body}` : body;
  }
}

/** Replace every secret value in `text` with `***`. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (s.length >= MIN_MASKED_LENGTH) out = out.split(s).join('***');
  }
  return out;
}

/**
 * The environment a step's process gets: PATH (so names resolve as they did when the plan was
 * saved), the allow-listed variables of the daemon's environment, then the step's own. Nothing else
 * of the daemon's environment (its tokens, keys) leaks in.
 */
export function stepEnvironment(
  action: Pick<CommandAction, 'env' | 'inheritEnv'>,
  daemonEnv: Readonly<Record<string, string | undefined>>,
  context?: StepContext,
): { env: Record<string, string>; secrets: string[] } {
  const env: Record<string, string> = {};
  const secrets: string[] = [];
  if (daemonEnv.PATH !== undefined) env.PATH = daemonEnv.PATH;
  for (const name of action.inheritEnv) {
    const v = daemonEnv[name];
    if (v === undefined) continue;
    env[name] = v;
    secrets.push(v);
  }
  for (const [name, v] of Object.entries(action.env)) {
    env[name] = v;
    if (SECRET_NAME.test(name)) secrets.push(v);
  }
  // Marks the process tree as this run's, so a daemon restarting after a crash can find what it left running.
  if (context) {
    env[RUN_ID_VAR] = context.runId;
    env[RUN_MODE_VAR] = context.mode;
  }
  return { env, secrets };
}

export interface RealExecutorsOptions {
  clock: Clock;
  policies: DependencyPolicies;
  /** Working directory of commands that name none (the daemon's data dir). */
  defaultCwd: string;
  /** The daemon's environment, for `inheritEnv`. */
  env: Readonly<Record<string, string | undefined>>;
}

/** Real processes (no shell, own process group) and real HTTP through the shared outbound helper. */
export class RealStepExecutors implements StepExecutors {
  constructor(private readonly options: RealExecutorsOptions) {}

  async command(action: CommandAction, signal: AbortSignal, context: StepContext): Promise<StepResult> {
    const cwd = action.cwd ?? this.options.defaultCwd;
    const dir = await stat(cwd).catch(() => undefined);
    if (!dir?.isDirectory()) return { status: 'failed', error: `working directory ${cwd} does not exist` };
    if (signal.aborted) return { status: 'cancelled', error: 'cancelled before it started' };
    const { env, secrets } = stepEnvironment(action, this.options.env, context);
    const { clock } = this.options;

    return new Promise<StepResult>((resolve) => {
      const child = spawn(action.executable, action.args, {
        cwd,
        env,
        shell: false,
        // Its own process group, so a cancel or timeout reaches the whole tree it starts.
        detached: process.platform !== 'win32',
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
      });
      const stdout = new TailBuffer();
      const stderr = new TailBuffer();
      child.stdout.on('data', (d: Buffer) => stdout.push(d));
      child.stderr.on('data', (d: Buffer) => stderr.push(d));
      let ending: 'timeout' | 'cancel' | undefined;
      let graceTimer: { cancel(): void } | undefined;
      const killTree = (sig: NodeJS.Signals) => {
        try {
          if (child.pid !== undefined && process.platform !== 'win32') process.kill(-child.pid, sig);
          else child.kill(sig);
        } catch {
          // Already gone.
        }
      };
      const stop = (why: 'timeout' | 'cancel') => {
        if (ending) return;
        ending = why;
        killTree('SIGTERM');
        graceTimer = clock.setTimer(KILL_GRACE_MS, () => killTree('SIGKILL'));
      };
      const timer = clock.setTimer(action.timeoutMs, () => stop('timeout'));
      const onAbort = () => stop('cancel');
      signal.addEventListener('abort', onAbort, { once: true });
      let settled = false;
      const finish = (r: StepResult) => {
        if (settled) return;
        settled = true;
        timer.cancel();
        signal.removeEventListener('abort', onAbort);
        const tails = { stdoutTail: maskSecrets(stdout.text(), secrets), stderrTail: maskSecrets(stderr.text(), secrets) };
        resolve({ ...r, ...tails });
      };
      child.once('error', (e: NodeJS.ErrnoException) => {
        const why = e.code === 'ENOENT' ? 'not found' : e.code === 'EACCES' ? 'not executable' : e.message;
        finish({ status: 'failed', error: `cannot run ${action.executable}: ${why}` });
      });
      child.once('close', (code, sig) => {
        graceTimer?.cancel();
        if (ending === 'cancel') {
          finish({ status: 'cancelled', ...exitOf(code, sig), error: 'cancelled: the process tree was killed' });
        } else if (ending === 'timeout') {
          finish({ status: 'failed', ...exitOf(code, sig), error: `timed out after ${action.timeoutMs} ms: the process tree was killed` });
        } else if (code === action.expectExitCode) {
          finish({ status: 'succeeded', exitCode: code });
        } else {
          const got = code !== null ? `exit code ${code}` : `signal ${sig}`;
          finish({ status: 'failed', ...exitOf(code, sig), error: `${got}, expected exit code ${action.expectExitCode}` });
        }
      });
    });
  }

  async httpCheck(action: HttpCheckAction, signal: AbortSignal): Promise<StepResult> {
    const { clock, policies } = this.options;
    const url = new URL(action.url);
    // The host the user named in the step is the only one this check may reach.
    const http = new OutboundHttp({ policies, clock, allowedHosts: [url.host], maxRedirects: 0, userAgent: 'CogniForge-DR' });
    const dependency = `dr-check:${url.host.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
    const deadline = clock.now() + action.deadlineMs;
    let attempts = 0;
    let lastError = '';
    let lastStatus: number | undefined;
    for (;;) {
      if (signal.aborted) return { status: 'cancelled', attempts, error: 'cancelled' };
      // A probe waits for a host that is down by design: an open circuit must not end the wait
      // early (the breaker would hold every attempt back for its half-open delay).
      if (policies.stats(dependency)[0]?.breaker.state === 'open') {
        policies.resetBreaker(dependency, 'a DR health check keeps probing until its deadline');
      }
      attempts++;
      try {
        const res = await http.request({
          dependency,
          url: action.url,
          method: action.method,
          // The last attempt may overrun the deadline a little rather than be given no time at all.
          timeoutMs: Math.min(action.attemptTimeoutMs, Math.max(MIN_ATTEMPT_MS, deadline - clock.now())),
          expectStatus: [action.expectStatus],
          signal,
        });
        return { status: 'succeeded', httpStatus: res.status, attempts };
      } catch (e) {
        if (signal.aborted) return { status: 'cancelled', attempts, error: 'cancelled' };
        lastError = e instanceof Error ? e.message : String(e);
        const data = isRpcError(e) ? (e.data as { status?: unknown } | undefined) : undefined;
        // The last status any attempt got: a later timeout does not hide what the host answered.
        if (typeof data?.status === 'number') lastStatus = data.status;
      }
      const left = deadline - clock.now();
      if (left <= 0) break;
      await sleep(clock, Math.min(action.intervalMs, left), signal);
    }
    return {
      status: 'failed',
      attempts,
      ...(lastStatus !== undefined ? { httpStatus: lastStatus } : {}),
      error: `no ${action.expectStatus} from ${url.host} within ${action.deadlineMs} ms (${attempts} attempt${attempts === 1 ? '' : 's'}); last: ${lastError}`,
    };
  }
}

function exitOf(code: number | null, sig: NodeJS.Signals | null): { exitCode?: number; signal?: string } {
  return { ...(code !== null ? { exitCode: code } : {}), ...(sig !== null ? { signal: sig } : {}) };
}

function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = clock.setTimer(ms, done);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      timer.cancel();
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/**
 * Find the processes a run left behind when the daemon died (a step's process tree outlives a kill -9:
 * it has its own process group) by the run id in their environment, and stop them: SIGTERM, then
 * SIGKILL after KILL_GRACE_MS. Linux only (reads /proc); elsewhere it finds nothing. Returns the pids.
 */
export async function stopLeftoverProcesses(runIds: readonly string[], clock: Clock, procDir = '/proc'): Promise<number[]> {
  if (runIds.length === 0) return [];
  const markers = runIds.map((id) => Buffer.from(`${RUN_ID_VAR}=${id}\0`));
  let entries: string[];
  try {
    entries = await readdir(procDir);
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let environ: Buffer;
    try {
      environ = await readFile(`${procDir}/${name}/environ`);
    } catch {
      continue;
    }
    if (markers.some((m) => environ.includes(m))) found.push(Number(name));
  }
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // Already gone.
    }
  };
  for (const pid of found) signal(pid, 'SIGTERM');
  if (found.length > 0) clock.setTimer(KILL_GRACE_MS, () => found.forEach((pid) => signal(pid, 'SIGKILL')));
  return found;
}
