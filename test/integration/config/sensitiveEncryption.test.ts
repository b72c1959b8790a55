import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Fernet, generateFernetKey } from '../../../daemon/services/secrets/fernet';
import { makeTempDir, useDaemons } from '../helpers/daemonProcess';

const start = useDaemons();

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}
const holdersOf = (dataDir: string, clear: string) => filesUnder(dataDir).filter((f) => readFileSync(f).includes(clear));
const tokensIn = (dataDir: string) =>
  Object.values((JSON.parse(readFileSync(join(dataDir, 'config', 'sensitive.json'), 'utf8')) as { values: Record<string, string> }).values);
const opensAll = (key: string, tokens: string[]) => tokens.every((t) => { try { new Fernet(key).decrypt(t); return true; } catch { return false; } });
const reveal = { environment: 'test', key: 'DB_PASSWORD', reveal: true };

describe('sensitive config values encrypted at rest under the vault master key', () => {
  it('never writes the clear value, serves it after a restart and re-encrypts on secrets/rotateMasterKey', async () => {
    const d = await start();
    const c = await d.connect();
    await c.request('config/set', { environment: 'test', key: 'DB_PASSWORD', value: 'clear-7Hq2-value', sensitive: true });
    await c.request('config/set', { environment: 'test', key: 'DB_PASSWORD', value: 'clear-8Zx4-value', sensitive: true });
    expect(holdersOf(d.dataDir, 'clear-7Hq2')).toEqual([]);
    expect(holdersOf(d.dataDir, 'clear-8Zx4')).toEqual([]);
    const oldKey = readFileSync(join(d.dataDir, 'vault', 'master.key'), 'utf8').trim();
    expect(opensAll(oldKey, tokensIn(d.dataDir))).toBe(true);
    await c.close();
    await d.stop();

    const d2 = await start({ dataDir: d.dataDir });
    const c2 = await d2.connect();
    expect(await c2.request('config/get', reveal)).toMatchObject({ value: 'clear-8Zx4-value', version: 2 });
    expect(await c2.request('config/get', { ...reveal, version: 1 })).toMatchObject({ value: 'clear-7Hq2-value' });
    await c2.request('secrets/rotateMasterKey', {});
    const newKey = readFileSync(join(d.dataDir, 'vault', 'master.key'), 'utf8').trim();
    expect(newKey).not.toBe(oldKey);
    const tokens = tokensIn(d.dataDir);
    expect(tokens).toHaveLength(2);
    expect(opensAll(newKey, tokens)).toBe(true);
    expect(tokens.some((t) => opensAll(oldKey, [t]))).toBe(false);
    expect(holdersOf(d.dataDir, 'clear-8Zx4')).toEqual([]);
    expect(await c2.request('config/get', reveal)).toMatchObject({ value: 'clear-8Zx4-value' });
    await c2.close();
  });

  it('migrates a plaintext file at start and follows a "<new>,<old>" master key variable', async () => {
    const dataDir = join(makeTempDir(), 'data');
    const oldKey = generateFernetKey();
    const first = await start({ dataDir, env: { COGNIFORGE_MASTER_KEY: oldKey } });
    const c = await first.connect();
    await c.request('config/set', { environment: 'test', key: 'DB_PASSWORD', value: 'clear-5Kd9-value', sensitive: true });
    await c.close();
    await first.stop();

    // A data dir from before encryption: the same entry's value in clear (format 1).
    mkdirSync(join(dataDir, 'config'), { recursive: true });
    const id = ['test', 'DB_PASSWORD', '1'].join('\u0000');
    writeFileSync(join(dataDir, 'config', 'sensitive.json'), JSON.stringify({ formatVersion: 1, values: { [id]: 'clear-5Kd9-value' } }), { mode: 0o600 });

    const newKey = generateFernetKey();
    const second = await start({ dataDir, env: { COGNIFORGE_MASTER_KEY: `${newKey},${oldKey}` } });
    const c2 = await second.connect();
    expect(await c2.request('config/get', reveal)).toMatchObject({ value: 'clear-5Kd9-value' });
    expect(holdersOf(dataDir, 'clear-5Kd9')).toEqual([]);
    expect(opensAll(newKey, tokensIn(dataDir))).toBe(true);
    expect(opensAll(oldKey, tokensIn(dataDir).slice(0, 1))).toBe(false);
    await c2.close();
    await second.stop();

    const third = await start({ dataDir, env: { COGNIFORGE_MASTER_KEY: newKey } });
    const c3 = await third.connect();
    expect(await c3.request('config/get', reveal)).toMatchObject({ value: 'clear-5Kd9-value' });
    await c3.close();
  });
});
