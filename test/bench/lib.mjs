// Shared pieces of the benchmarks: spawn a daemon from dist/, talk raw JSON-RPC over ws, run a
// closed-loop load with N requests in flight, and summarise. Benchmarks report ratios against a
// baseline measured in the same run (the machines are shared and noisy); they never assert.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const DAEMON = join(ROOT, 'dist', 'daemon.js');

// Children die with the benchmark, whatever way it ends (a crashed bench must not leave daemons).
const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

export function tempDir(prefix = 'cf-bench-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function waitFor(check, timeoutMs = 30_000, what = 'condition') {
  const t0 = Date.now();
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Start `dist/daemon.js` on a free port; resolves with its runtime info once the runtime file is there.
 * With `traceGc`, node runs the daemon with `--trace-gc` and `lastMajorGc()` answers the heap after
 * the latest full (mark-compact) collection: live MB and committed MB.
 */
export async function startDaemon({ dataDir = tempDir(), args = [], traceGc = false } = {}) {
  const runtimeFile = join(dataDir, 'daemon.json');
  rmSync(runtimeFile, { force: true });
  const t0 = performance.now();
  const child = spawn(process.execPath, [...(traceGc ? ['--trace-gc'] : []), DAEMON, '--port', '0', '--data-dir', dataDir, ...args], {
    stdio: ['ignore', traceGc ? 'pipe' : 'ignore', 'pipe'],
  });
  let majorGc;
  if (traceGc) {
    let rest = '';
    child.stdout.on('data', (d) => {
      const lines = (rest + d).split('\n');
      rest = lines.pop();
      for (const line of lines) {
        const m = /Mark-Compact [\d.]+ \([\d.]+\) -> ([\d.]+) \(([\d.]+)\) MB/.exec(line);
        if (m) majorGc = { liveMb: Number(m[1]), committedMb: Number(m[2]), count: (majorGc?.count ?? 0) + 1 };
      }
    });
  }
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((r) => child.once('exit', r));
  exited.then(() => children.delete(child));
  const info = await Promise.race([
    waitFor(() => existsSync(runtimeFile) && tryJson(runtimeFile), 60_000, 'daemon runtime file'),
    exited.then((code) => {
      throw new Error(`daemon exited (${code}) before it was ready:\n${stderr}`);
    }),
  ]);
  return {
    ...info,
    dataDir,
    child,
    spawnedAt: t0,
    stderr: () => stderr,
    lastMajorGc: () => majorGc,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

function tryJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** A minimal JSON-RPC ws client: `call(method, params)` → result; rejects on error objects. */
export async function connect(port, token, { initialize = true } = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/rpc`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  await new Promise((res, rej) => {
    ws.once('open', res);
    ws.once('error', rej);
  });
  let nextId = 1;
  const pending = new Map();
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString());
    const list = Array.isArray(msg) ? msg : [msg];
    for (const m of list) {
      const p = pending.get(m.id);
      if (!p) continue;
      pending.delete(m.id);
      if (m.error) p.reject(Object.assign(new Error(m.error.message), { code: m.error.code, data: m.error.data }));
      else p.resolve(m.result);
    }
  });
  const client = {
    ws,
    call(method, params = {}) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      });
    },
    /** Like call, with params already serialized (large payloads built once, sent many times). */
    callRaw(method, paramsJson) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        ws.send(`{"jsonrpc":"2.0","id":${id},"method":${JSON.stringify(method)},"params":${paramsJson}}`);
      });
    },
    /** Send `[method, params]` pairs as one JSON-RPC batch frame; resolves with every result, in order. */
    callBatch(calls) {
      const frame = calls.map(([method, params]) => ({ jsonrpc: '2.0', id: nextId++, method, params }));
      const answers = frame.map((m) => new Promise((resolve, reject) => pending.set(m.id, { resolve, reject })));
      ws.send(JSON.stringify(frame));
      return Promise.all(answers);
    },
    close() {
      ws.close();
    },
  };
  if (initialize) await client.call('daemon/initialize', { protocolVersion: '1.0', client: { name: 'bench' } });
  return client;
}

/**
 * Closed loop: keep `inFlight` calls outstanding for `durationMs`; returns calls/s and latency
 * percentiles (ms) of every completed call.
 */
export async function closedLoop(call, { inFlight, durationMs, warmupMs = 300 }) {
  const latencies = [];
  let done = 0;
  let stop = false;
  let measuring = false;
  const worker = async () => {
    while (!stop) {
      const t = performance.now();
      await call();
      if (measuring) {
        latencies.push(performance.now() - t);
        done++;
      }
    }
  };
  const workers = Array.from({ length: inFlight }, worker);
  await new Promise((r) => setTimeout(r, warmupMs));
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, durationMs));
  measuring = false;
  const elapsed = performance.now() - t0;
  stop = true;
  await Promise.all(workers);
  return { rate: (done / elapsed) * 1000, ...percentiles(latencies) };
}

export function percentiles(values) {
  const s = [...values].sort((a, b) => a - b);
  const at = (q) => (s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN);
  return { p50: at(0.5), p99: at(0.99), n: s.length };
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export function report(title, rows) {
  console.log(`\n## ${title}`);
  for (const [k, v] of Object.entries(rows)) console.log(`  ${k.padEnd(44)} ${typeof v === 'number' ? fmt(v) : v}`);
}

export const fmt = (n) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3));

/** Resident and peak resident memory of a process from /proc/<pid>/status (Linux), MB. */
export function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}
