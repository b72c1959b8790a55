// The daemon side of the e2e run: starts `dist/daemon.js` on port 0 with a temp data dir, reads the
// runtime file it writes, and offers a raw JSON-RPC helper (ws + owner token) for seeding data.
// Scenarios may stop and start the daemon through the extension, so the runtime file is re-read for
// every new connection and every daemon that ran on the data dir is stopped at the end.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { WebSocket } from 'ws';
import { GiveUp, commandLine, isAlive, spawnLogged, stopProcess, waitFor } from './processes.mjs';

const RUNTIME_FILE = 'daemon.json';
const LOCK_FILE = 'daemon.lock';

/** `<dataDir>/daemon.json` parsed, or undefined while no daemon runs there. */
export function readRuntime(dataDir) {
  try {
    const info = JSON.parse(readFileSync(join(dataDir, RUNTIME_FILE), 'utf8'));
    return typeof info.port === 'number' && typeof info.token === 'string' ? info : undefined;
  } catch {
    return undefined;
  }
}

function lockPid(dataDir) {
  try {
    const pid = Number.parseInt(readFileSync(join(dataDir, LOCK_FILE), 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * @param {{ daemonJs: string, dataDir: string, logPath: string, cwd: string, env?: NodeJS.ProcessEnv, nodePath?: string }} options
 */
export async function startDaemon({ daemonJs, dataDir, logPath, cwd, env = process.env, nodePath = process.execPath }) {
  if (!existsSync(daemonJs)) throw new Error(`${daemonJs} is missing: the build (node esbuild.mjs) did not produce the daemon.`);
  // cwd: the daemon reads a .env from its working directory; the repo's must not leak into the run.
  const started = spawnLogged(nodePath, [resolve(daemonJs), '--port', '0', '--data-dir', dataDir], { logPath, cwd, env });
  let exit;
  void started.exited.then((e) => {
    exit = e;
  });
  const runtime = await waitFor(
    () => {
      if (exit) throw new GiveUp(`the daemon exited (${exit.code ?? exit.signal}) before it was ready:\n${started.output()}`);
      const info = readRuntime(dataDir);
      return info && info.pid === started.child.pid ? info : undefined;
    },
    { timeoutMs: 20_000, what: `${join(dataDir, RUNTIME_FILE)} of the started daemon` },
  );
  return new DaemonHandle(dataDir, started.child.pid, runtime);
}

export class DaemonHandle {
  /** Pids of every daemon seen on the data dir: the harness's own and those the extension started. */
  #pids = new Set();
  #connection;
  #nextId = 1;

  constructor(dataDir, pid, runtime) {
    /** The data dir the daemon (and the extension, through its setting) uses. */
    this.dataDir = dataDir;
    /** Pid of the daemon this harness spawned. */
    this.spawnedPid = pid;
    this.#pids.add(pid);
    this.#remember(runtime);
  }

  #remember(runtime) {
    if (runtime?.pid) this.#pids.add(runtime.pid);
    return runtime;
  }

  /** The running daemon's runtime info (port, token, pid, ...), or undefined when none runs. */
  runtime() {
    return this.#remember(readRuntime(this.dataDir));
  }

  /** Waits until a daemon with a pid other than `previousPid` (or any, when omitted) is up. */
  async waitForRuntime({ previousPid, timeoutMs = 20_000 } = {}) {
    return waitFor(
      () => {
        const info = this.runtime();
        return info && info.pid !== previousPid && isAlive(info.pid) ? info : undefined;
      },
      { timeoutMs, what: 'a running daemon (daemon.json with a live pid)' },
    );
  }

  async #connect() {
    if (this.#connection && this.#connection.socket.readyState === WebSocket.OPEN) return this.#connection;
    const info = this.runtime();
    if (!info) throw new Error(`no daemon is running on ${this.dataDir} (no ${RUNTIME_FILE})`);
    const socket = new WebSocket(`ws://127.0.0.1:${info.port}/rpc`, {
      headers: { Authorization: `Bearer ${info.token}` },
    });
    const pending = new Map();
    const connection = { socket, pending, info };
    socket.on('message', (data) => {
      let message;
      try {
        message = JSON.parse(data.toString());
      } catch {
        return;
      }
      const waiter = message.id !== undefined ? pending.get(message.id) : undefined;
      if (!waiter) return;
      pending.delete(message.id);
      if (message.error) {
        waiter.reject(Object.assign(new Error(`${waiter.method}: ${message.error.message}`), { code: message.error.code, data: message.error.data }));
      } else {
        waiter.resolve(message.result);
      }
    });
    socket.on('close', () => {
      for (const waiter of pending.values()) waiter.reject(new Error(`${waiter.method}: the daemon connection closed`));
      pending.clear();
      if (this.#connection === connection) this.#connection = undefined;
    });
    await new Promise((resolveOpen, reject) => {
      socket.once('open', resolveOpen);
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`daemon refused the connection: HTTP ${res.statusCode}`)));
    });
    socket.on('error', () => {
      // The close handler rejects what is pending.
    });
    this.#connection = connection;
    await this.#send(connection, 'daemon/initialize', {
      protocolVersion: info.protocolVersion ?? '1.0',
      client: { name: 'cogniforge-e2e' },
    });
    return connection;
  }

  #send(connection, method, params, timeoutMs = 10_000) {
    const id = this.#nextId++;
    return new Promise((resolveCall, reject) => {
      const timer = setTimeout(() => {
        connection.pending.delete(id);
        reject(new Error(`${method}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      connection.pending.set(id, {
        method,
        resolve: (value) => {
          clearTimeout(timer);
          resolveCall(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      connection.socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  /**
   * One JSON-RPC call with the owner token, e.g. `rpc('events/publish', { type: 'e2e.ping' })`.
   * @param {string} method
   * @param {Record<string, unknown>} [params]
   */
  async rpc(method, params = {}) {
    const connection = await this.#connect();
    return this.#send(connection, method, params);
  }

  /** Closes the helper's connection (the daemon keeps running). */
  disconnect() {
    this.#connection?.socket.close();
    this.#connection = undefined;
  }

  /**
   * Stops every daemon seen on the data dir: a graceful `daemon/shutdown` first, then by pid. A pid
   * is only signalled while its command line still names daemon.js, so a reused pid is left alone.
   */
  async stopAll() {
    if (this.runtime()) {
      try {
        await Promise.race([this.rpc('daemon/shutdown'), new Promise((r) => setTimeout(r, 3_000))]);
      } catch {
        // Stopped by pid below.
      }
    }
    this.disconnect();
    const locked = lockPid(this.dataDir);
    if (locked) this.#pids.add(locked);
    const stopped = [];
    for (const pid of this.#pids) {
      const cmd = commandLine(pid);
      if (!cmd || !cmd.includes('daemon.js')) continue;
      await stopProcess(pid, { graceMs: 5_000 });
      stopped.push(pid);
    }
    return stopped;
  }
}
