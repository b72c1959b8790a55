import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, isLoopbackHost, loadDotEnv, parseConfig, type DaemonConfig } from '../../../../daemon/config';

function run(argv: string[], env: Record<string, string | undefined> = {}): DaemonConfig {
  const outcome = parseConfig(argv, { HOME: '/home/u', ...env });
  if (outcome.action !== 'run') throw new Error(`expected run, got ${outcome.action}`);
  return outcome.config;
}

function failure(argv: string[], env: Record<string, string | undefined> = {}): ConfigError {
  try {
    parseConfig(argv, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).exitCode).toBe(2);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('uses the embedded defaults', () => {
    const c = run([], { XDG_DATA_HOME: '/xdg' });
    expect(c).toEqual({
      port: 5000,
      host: '127.0.0.1',
      dataDir: resolve('/xdg/cogniforge'),
      maxMessageBytes: 4 * 1024 * 1024,
      rateLimit: { perSecond: 50_000, burst: 100_000 },
      heartbeatMs: 30_000,
      maxSendBufferBytes: 8 * 1024 * 1024,
      groupCommit: true,
      fsync: true,
      snapshotEvery: 10_000,
      logLevel: 'info',
      validateResults: false,
    });
  });

  it('reads flags in both --flag value and --flag=value forms', () => {
    const c = run(['--port', '0', '--data-dir=/tmp/x', '--max-message-bytes', '1MiB', '--rate-limit=5', '--rate-burst', '7', '--log-level', 'debug']);
    expect(c.port).toBe(0);
    expect(c.dataDir).toBe(resolve('/tmp/x'));
    expect(c.maxMessageBytes).toBe(1024 * 1024);
    expect(c.rateLimit).toEqual({ perSecond: 5, burst: 7 });
    expect(c.logLevel).toBe('debug');
  });

  it('takes env variables, and flags win over them', () => {
    const env = { COGNIFORGE_PORT: '6001', COGNIFORGE_DATA_DIR: '/data', COGNIFORGE_MAX_MESSAGE_BYTES: '65536' };
    expect(run([], env)).toMatchObject({ port: 6001, dataDir: resolve('/data'), maxMessageBytes: 65536 });
    expect(run(['--port', '7000'], env).port).toBe(7000);
  });

  it('switches off group commit and fsync only when asked', () => {
    expect(run(['--no-group-commit', '--no-fsync'])).toMatchObject({ groupCommit: false, fsync: false });
  });

  it('validates results by default under NODE_ENV=test and on request', () => {
    expect(run([], { NODE_ENV: 'test' }).validateResults).toBe(true);
    expect(run([], { NODE_ENV: 'production' }).validateResults).toBe(false);
    expect(run(['--validate-results'], { NODE_ENV: 'production' }).validateResults).toBe(true);
    expect(run([], { NODE_ENV: 'test', COGNIFORGE_VALIDATE_RESULTS: 'false' }).validateResults).toBe(false);
  });

  it('names the flag or variable of a bad value', () => {
    expect(failure(['--port', 'abc']).message).toMatch(/^--port: must be a whole number \(got "abc"\)/);
    expect(failure(['--port', '70000']).message).toMatch(/^--port: must be at most 65535/);
    expect(failure([], { COGNIFORGE_PORT: '-1' }).message).toMatch(/^COGNIFORGE_PORT: /);
    expect(failure(['--max-message-bytes', 'lots']).message).toMatch(/^--max-message-bytes: must be a byte count/);
    expect(failure(['--max-message-bytes', '10']).message).toMatch(/at least 1024 bytes/);
    expect(failure(['--log-level', 'loud']).message).toMatch(/^--log-level: must be debug, info, warn or error/);
    expect(failure(['--rate-limit', '1.5']).message).toMatch(/^--rate-limit: /);
  });

  it('refuses unknown options, stray arguments and missing values', () => {
    expect(failure(['--prot', '1']).message).toBe('unknown option --prot (see --help)');
    expect(failure(['serve']).message).toBe('unexpected argument "serve" (see --help)');
    expect(failure(['--port']).message).toMatch(/--port needs a value/);
    expect(failure(['--port', '--no-fsync']).message).toMatch(/--port needs a value/);
    expect(failure(['--no-fsync=1']).message).toBe('--no-fsync takes no value');
  });

  it('accepts loopback hosts only and suggests an SSH tunnel otherwise', () => {
    expect(run(['--host', '127.0.0.2']).host).toBe('127.0.0.2');
    expect(run(['--host', '::1']).host).toBe('::1');
    expect(run(['--host', 'localhost']).host).toBe('localhost');
    for (const host of ['0.0.0.0', '192.168.1.10', '::', 'example.com', '128.0.0.1']) {
      const e = failure(['--host', host, '--port', '5001']);
      expect(e.message).toContain(`refusing to listen on "${host}"`);
      expect(e.message).toContain('ssh -L 5001:127.0.0.1:5001 host');
    }
  });

  it('answers help and version without a config', () => {
    const help = parseConfig(['--help'], {});
    expect(help.action).toBe('help');
    if (help.action === 'help') {
      for (const flag of ['--port', '--host', '--data-dir', '--max-message-bytes', '--rate-limit', '--no-group-commit', '--no-fsync', '--log-level']) {
        expect(help.text).toContain(flag);
      }
      expect(help.text).toMatch(/--no-fsync.*benchmarks only/);
      expect(help.text).toContain('COGNIFORGE_PORT');
    }
    const version = parseConfig(['--version'], {});
    expect(version.action).toBe('version');
  });
});

describe('isLoopbackHost', () => {
  it('knows 127.0.0.0/8, ::1 and localhost', () => {
    expect(['127.0.0.1', '127.255.0.9', '::1', '[::1]', 'LOCALHOST'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '10.0.0.1', '::ffff:7f00:1', '127.0.0', 'localhost.example.com'].some(isLoopbackHost)).toBe(false);
  });
});

describe('loadDotEnv', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('merges .env under the real environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cf-env-'));
    dirs.push(dir);
    writeFileSync(join(dir, '.env'), 'COGNIFORGE_PORT=6100\nCOGNIFORGE_LOG_LEVEL=debug\n# comment\n');
    const env = loadDotEnv(dir, { COGNIFORGE_PORT: '6200' });
    expect(env.COGNIFORGE_PORT).toBe('6200');
    expect(env.COGNIFORGE_LOG_LEVEL).toBe('debug');
    expect(run([], env)).toMatchObject({ port: 6200, logLevel: 'debug' });
  });

  it('is a copy of the environment when there is no .env', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cf-env-'));
    dirs.push(dir);
    expect(loadDotEnv(dir, { A: '1' })).toEqual({ A: '1' });
  });
});
