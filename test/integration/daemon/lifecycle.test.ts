import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { LOCK_FILE, RUNTIME_FILE } from '../../../daemon/protocol';
import { RpcClient, UpgradeRefused, makeTempDir, runDaemonToExit, useDaemons } from '../helpers/daemonProcess';

const start = useDaemons();

describe('cogniforged start-up', () => {
  it('writes a 0600 runtime file with port, pid, token and versions, and logs where it listens', async () => {
    const d = await start();
    const path = join(d.dataDir, RUNTIME_FILE);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const info = JSON.parse(readFileSync(path, 'utf8'));
    expect(info).toMatchObject({ pid: d.child.pid, host: '127.0.0.1', port: d.port, protocolVersion: '1.0' });
    expect(info.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(readFileSync(join(d.dataDir, LOCK_FILE), 'utf8').trim()).toBe(String(d.child.pid));
    // The line travels through a pipe and may arrive after the runtime file is readable.
    await vi.waitFor(() => expect(d.stderr()).toContain(`listening on ws://127.0.0.1:${d.port}/rpc`), { timeout: 5_000 });
    expect(d.stderr()).not.toContain(info.token);
  });

  it('answers /healthz without a token and reveals nothing but liveness', async () => {
    const d = await start();
    const res = await fetch(`${d.httpUrl}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"status":"ok"}');
    expect(res.headers.get('server')).toBeNull();
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('refuses a second daemon on the same data dir, naming the running pid', async () => {
    const d = await start();
    const second = await runDaemonToExit(['--port', '0', '--data-dir', d.dataDir]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`another cogniforged (pid ${d.child.pid}) is running on ${d.dataDir}`);
    // The first daemon and its files are untouched.
    expect(JSON.parse(readFileSync(join(d.dataDir, RUNTIME_FILE), 'utf8')).pid).toBe(d.child.pid);
    const c = await d.connect();
    await expect(c.request('daemon/ping')).resolves.toHaveProperty('time');
    await c.close();
  });

  it('names the flag when the port is taken', async () => {
    const d = await start();
    const other = await runDaemonToExit(['--port', String(d.port), '--data-dir', join(makeTempDir(), 'data')]);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(`port ${d.port} is in use; choose another with --port or COGNIFORGE_PORT`);
  });

  it('takes over a stale lock left by a dead process', async () => {
    const dataDir = join(makeTempDir(), 'data');
    mkdirSync(dataDir, { recursive: true });
    // Above any pid_max: no process has this pid.
    writeFileSync(join(dataDir, LOCK_FILE), '2147483646\n');
    const d = await start({ dataDir });
    expect(readFileSync(join(dataDir, LOCK_FILE), 'utf8').trim()).toBe(String(d.child.pid));
  });
});

describe('cogniforged flags', () => {
  it('refuses a non-loopback host with an SSH tunnel hint (exit 2)', async () => {
    const r = await runDaemonToExit(['--host', '0.0.0.0', '--data-dir', join(makeTempDir(), 'data')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('refusing to listen on "0.0.0.0"');
    expect(r.stderr).toContain('ssh -L 5000:127.0.0.1:5000 host');
  });

  it('names a bad flag or variable (exit 2), including one from .env', async () => {
    const bad = await runDaemonToExit(['--port', 'http']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--port: must be a whole number (got "http")');
    const cwd = makeTempDir('cf-dotenv-');
    writeFileSync(join(cwd, '.env'), 'COGNIFORGE_MAX_MESSAGE_BYTES=huge\n');
    const fromEnv = await runDaemonToExit([], { cwd });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toContain('COGNIFORGE_MAX_MESSAGE_BYTES: must be a byte count');
  });

  it('prints help and version', async () => {
    const help = await runDaemonToExit(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--no-fsync .*benchmarks only/);
    const version = await runDaemonToExit(['--version']);
    expect(version.stdout).toMatch(/^cogniforged \d+\.\d+\.\d+ \(protocol 1\.0\)/);
  });
});

describe('cogniforged stop', () => {
  it('on SIGTERM tells clients, exits 0 and removes the runtime file and lock', async () => {
    const d = await start();
    const c = await d.connect();
    await c.request('events/publish', { type: 'api.request' });
    const exit = await d.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(c.notifications.map((n) => n.method)).toContain('daemon/didShutdown');
    expect((await c.closed).code).toBe(1001);
    expect(existsSync(join(d.dataDir, RUNTIME_FILE))).toBe(false);
    expect(existsSync(join(d.dataDir, LOCK_FILE))).toBe(false);
  });

  it('stops cleanly when whoever read its stderr has gone (EPIPE on every log line)', async () => {
    const d = await start();
    // The parent closing its end of the pipe is what a crashed launcher looks like to the daemon.
    d.child.stderr?.destroy();
    const c = await d.connect();
    await c.request('events/publish', { type: 'api.request' });
    await c.close();
    expect(await d.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('on SIGINT exits 0 too', async () => {
    const d = await start();
    expect(await d.stop('SIGINT')).toEqual({ code: 0, signal: null });
    expect(existsSync(join(d.dataDir, RUNTIME_FILE))).toBe(false);
  });

  it('on daemon/shutdown answers first, then stops the same way', async () => {
    const d = await start();
    const c = await d.connect();
    await expect(c.request('daemon/shutdown', {})).resolves.toEqual({ ok: true });
    expect(await d.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(join(d.dataDir, RUNTIME_FILE))).toBe(false);
  });

  it('keeps acknowledged events across a restart, with a fresh owner token', async () => {
    const d = await start();
    const c = await d.connect();
    const published = await c.request<{ seq: number; id: string }>('events/publish', { type: 'api.request', payload: { n: 1 } });
    await d.stop();
    const again = await start({ dataDir: d.dataDir });
    expect(again.token).not.toBe(d.token);
    await expect(RpcClient.connect(again.wsUrl, { token: d.token })).rejects.toBeInstanceOf(UpgradeRefused);
    const c2 = await again.connect();
    const { events } = await c2.request<{ events: { id: string; seq: number }[] }>('events/query', { types: ['api.**'] });
    expect(events).toEqual([expect.objectContaining({ id: published.id, seq: published.seq })]);
    await c2.close();
  });
});
