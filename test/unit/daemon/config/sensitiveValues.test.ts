import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSensitiveValues } from '../../../../daemon/services/config/sensitiveValues';

const dirs: string[] = [];
const dataDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'cf-config-sensitive-'));
  dirs.push(d);
  return d;
};

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('FileSensitiveValues', () => {
  it('persists values in a 0600 file in a 0700 directory and reloads them', async () => {
    const dir = dataDir();
    const a = await FileSensitiveValues.open(dir);
    await a.put([
      { ref: { environment: 'prod', key: 'db.pw', version: 1 }, value: 'p1' },
      { ref: { environment: 'prod', key: 'db.pw', version: 2 }, value: { nested: ['x'] } },
    ]);
    const file = join(dir, 'config', 'sensitive.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'config')).mode & 0o777).toBe(0o700);
    const b = await FileSensitiveValues.open(dir);
    expect(b.get({ environment: 'prod', key: 'db.pw', version: 1 })).toBe('p1');
    expect(b.get({ environment: 'prod', key: 'db.pw', version: 2 })).toEqual({ nested: ['x'] });
    expect(b.get({ environment: 'prod', key: 'db.pw', version: 3 })).toBeUndefined();
  });

  it('drops values no event refers to, on disk too', async () => {
    const dir = dataDir();
    const a = await FileSensitiveValues.open(dir);
    await a.put([
      { ref: { environment: 'test', key: 'kept', version: 1 }, value: 'keep-me' },
      { ref: { environment: 'test', key: 'orphan', version: 1 }, value: 'drop-me' },
    ]);
    expect(await a.retainOnly((r) => r.key === 'kept')).toBe(1);
    expect(readFileSync(join(dir, 'config', 'sensitive.json'), 'utf8')).not.toContain('drop-me');
    expect((await FileSensitiveValues.open(dir)).get({ environment: 'test', key: 'kept', version: 1 })).toBe('keep-me');
  });

  it('refuses a corrupt file with a message naming it', async () => {
    const dir = dataDir();
    await FileSensitiveValues.open(dir);
    writeFileSync(join(dir, 'config', 'sensitive.json'), '{not json');
    await expect(FileSensitiveValues.open(dir)).rejects.toThrow(/sensitive\.json is not valid JSON/);
  });
});
