// Process plumbing for the e2e harness: free ports, logged child processes, polling, and stopping a
// process (or its whole process group) by pid with a grace period before SIGKILL.
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** Thrown by a waitFor probe when waiting longer cannot help (the process it waits for exited). */
export class GiveUp extends Error {}

/**
 * Polls `probe` until it returns a value other than undefined/false/null, or throws after `timeoutMs`.
 * Errors the probe throws count as "not yet", except GiveUp, which ends the wait at once.
 * @template T
 * @param {() => T | Promise<T>} probe
 * @param {{ timeoutMs?: number, intervalMs?: number, what: string }} options
 * @returns {Promise<T>}
 */
export async function waitFor(probe, { timeoutMs = 20_000, intervalMs = 100, what }) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false && value !== null) return value;
    } catch (error) {
      if (error instanceof GiveUp) throw new Error(error.message);
      lastError = error;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${reason}`);
    }
    await sleep(intervalMs);
  }
}

/**
 * Spawns a process with stdout/stderr appended to `logPath`. `group: true` makes it the leader of a
 * new process group, so stopProcess can end its children too.
 * @param {string} command
 * @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv, logPath: string, group?: boolean }} options
 */
export function spawnLogged(command, args, { cwd, env = process.env, logPath, group = false }) {
  const log = createWriteStream(logPath, { flags: 'a' });
  log.write(`$ ${command} ${args.join(' ')}\n`);
  const child = spawn(command, args, { cwd, env, detached: group, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  /** Everything the process printed so far, for error messages. */
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolveExit) => {
    child.on('exit', (code, signal) => resolveExit({ code, signal }));
    child.on('error', (error) => resolveExit({ code: null, signal: null, error }));
  });
  child.on('close', () => log.end());
  return { child, exited, output: () => output };
}

/** True while a process with this pid exists (a zombie counts as gone). */
export function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\S+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid, sig, group) {
  try {
    process.kill(group ? -pid : pid, sig);
  } catch {
    // Already gone.
  }
}

/**
 * Stops a process by pid: SIGTERM, then SIGKILL after `graceMs`. With `group: true` the whole
 * process group led by `pid` is signalled (code-server and its extension host, pty host, watchers).
 * @returns {Promise<boolean>} whether it had to be killed
 */
export async function stopProcess(pid, { group = false, graceMs = 5_000 } = {}) {
  const alive = () => (group ? groupAlive(pid) : isAlive(pid));
  if (!pid || !alive()) return false;
  signal(pid, 'SIGTERM', group);
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!alive()) return false;
    await sleep(100);
  }
  signal(pid, 'SIGKILL', group);
  await sleep(200);
  return true;
}

/** The command line of a running process, or undefined. Used to check a pid before signalling it. */
export function commandLine(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return undefined;
  }
}
