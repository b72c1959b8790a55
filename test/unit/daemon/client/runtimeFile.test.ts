import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPidAlive, readRuntimeFile, runtimeUrl } from '../../../../daemon/client';
import type { RuntimeInfo } from '../../../../daemon/protocol';

const valid: RuntimeInfo = {
  pid: 4242,
  host: '127.0.0.1',
  port: 5123,
  token: 'x'.repeat(43),
  protocolVersion: '1.0',
  daemonVersion: '0.1.0',
  startedAt: '2026-11-27T17:14:00.000Z',
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cf-runtime-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('readRuntimeFile', () => {
  it('reads a valid runtime file', () => {
    writeFileSync(join(dir, 'daemon.json'), JSON.stringify(valid));
    expect(readRuntimeFile(dir)).toEqual(valid);
  });

  it('is undefined when there is no file or no dir', () => {
    expect(readRuntimeFile(dir)).toBeUndefined();
    expect(readRuntimeFile(join(dir, 'missing'))).toBeUndefined();
  });

  it('is undefined for garbage, a half-written file, or the wrong shape', () => {
    const file = join(dir, 'daemon.json');
    writeFileSync(file, '\u0000\u0001not json');
    expect(readRuntimeFile(dir)).toBeUndefined();
    writeFileSync(file, JSON.stringify(valid).slice(0, 30));
    expect(readRuntimeFile(dir)).toBeUndefined();
    writeFileSync(file, JSON.stringify({ ...valid, port: 'five thousand' }));
    expect(readRuntimeFile(dir)).toBeUndefined();
    writeFileSync(file, JSON.stringify({ ...valid, token: 'short' }));
    expect(readRuntimeFile(dir)).toBeUndefined();
  });
});

describe('runtimeUrl', () => {
  it('builds the /rpc ws url, bracketing IPv6 hosts', () => {
    expect(runtimeUrl(valid)).toBe('ws://127.0.0.1:5123/rpc');
    expect(runtimeUrl({ ...valid, host: '::1' })).toBe('ws://[::1]:5123/rpc');
  });
});

describe('isPidAlive', () => {
  it('is true for this process and false for one that exited', () => {
    expect(isPidAlive(process.pid)).toBe(true);
    const exited = spawnSync(process.execPath, ['-e', '0']);
    expect(isPidAlive(exited.pid!)).toBe(false);
  });

  it('is false for pids that cannot exist', () => {
    expect(isPidAlive(0)).toBe(false);
    expect(isPidAlive(-1)).toBe(false);
    expect(isPidAlive(1.5)).toBe(false);
  });
});
