import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readLogTail, readRuntimeInfo } from '../../../extension/daemon/processes';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cf-ext-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const info = {
  pid: 1234,
  host: '127.0.0.1',
  port: 5000,
  token: 'a'.repeat(43),
  protocolVersion: '1.0',
  daemonVersion: '0.1.0',
  startedAt: '2026-01-01T10:00:00.000Z',
};

describe('readRuntimeInfo', () => {
  it('reads a valid runtime file', async () => {
    writeFileSync(join(dir, 'daemon.json'), JSON.stringify(info));
    expect(await readRuntimeInfo(dir)).toEqual(info);
  });

  it('answers undefined for a missing, half-written or foreign file', async () => {
    expect(await readRuntimeInfo(dir)).toBeUndefined();
    writeFileSync(join(dir, 'daemon.json'), '{"pid": 12');
    expect(await readRuntimeInfo(dir)).toBeUndefined();
    writeFileSync(join(dir, 'daemon.json'), JSON.stringify({ ...info, port: 'x' }));
    expect(await readRuntimeInfo(dir)).toBeUndefined();
  });
});

describe('readLogTail', () => {
  it('answers the last lines without the trailing blank', async () => {
    const file = join(dir, 'daemon.log');
    writeFileSync(file, Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n') + '\n\n');
    expect(await readLogTail(file, 3)).toEqual(['line 47', 'line 48', 'line 49']);
  });

  it('drops the cut first line of a large file', async () => {
    const file = join(dir, 'daemon.log');
    writeFileSync(file, 'x'.repeat(20_000) + '\nlast words\n');
    expect(await readLogTail(file)).toEqual(['last words']);
  });

  it('answers nothing for a missing file', async () => {
    expect(await readLogTail(join(dir, 'nope.log'))).toEqual([]);
  });
});
