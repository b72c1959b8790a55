import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSensitiveValues } from '../../../../daemon/services/config/sensitiveValues';
import { Fernet, generateFernetKey } from '../../../../daemon/services/secrets/fernet';
import { MasterKeyShare } from '../../../../daemon/services/secrets/masterKeyShare';

const dirs: string[] = [];
const dataDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'cf-config-sensitive-'));
  dirs.push(d);
  return d;
};
const opened: FileSensitiveValues[] = [];
const shareOf = (...keys: string[]) => {
  const share = new MasterKeyShare();
  share.setKeys(keys);
  return share;
};
const openWith = async (dir: string, keys: MasterKeyShare) => {
  const s = await FileSensitiveValues.open(dir, { keys, now: () => Date.now() });
  opened.push(s);
  return s;
};
const fileOf = (dir: string) => join(dir, 'config', 'sensitive.json');
const tokensOf = (dir: string) => Object.values((JSON.parse(readFileSync(fileOf(dir), 'utf8')) as { values: Record<string, string> }).values);

afterEach(() => {
  for (const s of opened.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('FileSensitiveValues', () => {
  it('round-trips values as Fernet tokens in a 0600 file in a 0700 directory', async () => {
    const dir = dataDir();
    const key = generateFernetKey();
    const a = await openWith(dir, shareOf(key));
    await a.put([
      { ref: { environment: 'prod', key: 'db.pw', version: 1 }, value: 'p1-clear-text' },
      { ref: { environment: 'prod', key: 'db.pw', version: 2 }, value: { nested: ['x'] } },
    ]);
    const text = readFileSync(fileOf(dir), 'utf8');
    expect(text).not.toContain('p1-clear-text');
    expect(text).not.toContain('nested');
    // Standard Fernet: the key alone opens a token, without this store.
    expect(tokensOf(dir).map((t) => new Fernet(key).decrypt(t).toString('utf8')).sort()).toEqual(['"p1-clear-text"', '{"nested":["x"]}']);
    expect(statSync(fileOf(dir)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'config')).mode & 0o777).toBe(0o700);
    const b = await openWith(dir, shareOf(key));
    expect(b.get({ environment: 'prod', key: 'db.pw', version: 1 })).toBe('p1-clear-text');
    expect(b.get({ environment: 'prod', key: 'db.pw', version: 2 })).toEqual({ nested: ['x'] });
    expect(b.get({ environment: 'prod', key: 'db.pw', version: 3 })).toBeUndefined();
  });

  it('migrates a plaintext file from before encryption at open', async () => {
    const dir = dataDir();
    mkdirSync(join(dir, 'config'), { recursive: true });
    const id = ['staging', 'api.token', '4'].join('\u0000');
    writeFileSync(fileOf(dir), JSON.stringify({ formatVersion: 1, values: { [id]: 'legacy-secret' } }), { mode: 0o600 });
    const key = generateFernetKey();
    const s = await openWith(dir, shareOf(key));
    expect(s.opened).toEqual({ migrated: 1, reencrypted: 0 });
    expect(s.get({ environment: 'staging', key: 'api.token', version: 4 })).toBe('legacy-secret');
    expect(readFileSync(fileOf(dir), 'utf8')).not.toContain('legacy-secret');
    expect((await openWith(dir, shareOf(key))).get({ environment: 'staging', key: 'api.token', version: 4 })).toBe('legacy-secret');
  });

  it('drops values no event refers to, on disk too', async () => {
    const dir = dataDir();
    const key = generateFernetKey();
    const a = await openWith(dir, shareOf(key));
    await a.put([
      { ref: { environment: 'test', key: 'kept', version: 1 }, value: 'keep-me' },
      { ref: { environment: 'test', key: 'orphan', version: 1 }, value: 'drop-me' },
    ]);
    expect(await a.retainOnly((r) => r.key === 'kept')).toBe(1);
    expect(tokensOf(dir)).toHaveLength(1);
    expect((await openWith(dir, shareOf(key))).get({ environment: 'test', key: 'kept', version: 1 })).toBe('keep-me');
  });

  it('refuses a wrong master key clearly and leaves the file as it was', async () => {
    const dir = dataDir();
    const a = await openWith(dir, shareOf(generateFernetKey()));
    await a.put([{ ref: { environment: 'prod', key: 'k', version: 1 }, value: 'v' }]);
    const before = readFileSync(fileOf(dir), 'utf8');
    await expect(openWith(dir, shareOf(generateFernetKey()))).rejects.toThrow(/master key does not open .*sensitive\.json \(wrong key\); nothing was changed/);
    expect(readFileSync(fileOf(dir), 'utf8')).toBe(before);
  });

  it('names the entry whose token fails its HMAC check, and changes nothing', async () => {
    const dir = dataDir();
    const key = generateFernetKey();
    const a = await openWith(dir, shareOf(key));
    await a.put([{ ref: { environment: 'prod', key: 'db.pw', version: 3 }, value: 'secret' }]);
    const shape = JSON.parse(readFileSync(fileOf(dir), 'utf8')) as { values: Record<string, string> };
    const [id, token] = Object.entries(shape.values)[0]!;
    const raw = Buffer.from(token, 'base64url');
    raw[30] = raw[30]! ^ 1;
    shape.values[id] = raw.toString('base64url');
    const tampered = JSON.stringify(shape);
    writeFileSync(fileOf(dir), tampered);
    await expect(openWith(dir, shareOf(key))).rejects.toThrow(/"db\.pw" version 3 in "prod" cannot be read: Fernet token failed the HMAC check/);
    expect(readFileSync(fileOf(dir), 'utf8')).toBe(tampered);
  });

  it('re-encrypts under the new key when the vault rotates, and after a start-up rotation', async () => {
    const dir = dataDir();
    const oldKey = generateFernetKey();
    const newKey = generateFernetKey();
    const share = shareOf(oldKey);
    const a = await openWith(dir, share);
    await a.put([{ ref: { environment: 'prod', key: 'k', version: 1 }, value: 'rotated-value' }]);
    // What the vault does on secrets/rotateMasterKey: both keys, users re-encrypt, the old one is dropped.
    share.setKeys([newKey, oldKey]);
    share.reencryptUsers(share.fernet());
    share.setKeys([newKey]);
    for (const t of tokensOf(dir)) {
      expect(new Fernet(newKey).decrypt(t).toString('utf8')).toBe('"rotated-value"');
      expect(() => new Fernet(oldKey).decrypt(t)).toThrow(/HMAC/);
    }
    await a.put([{ ref: { environment: 'prod', key: 'k', version: 2 }, value: 'after' }]);
    expect(tokensOf(dir).every((t) => new Fernet(newKey).decrypt(t).length > 0)).toBe(true);

    // `<newer>,<new>` in the variable: the vault moved already and dropped the old key before this store opened.
    const newer = generateFernetKey();
    const startShare = shareOf(newer, newKey);
    startShare.setKeys([newer]);
    const b = await openWith(dir, startShare);
    expect(b.opened.reencrypted).toBe(3);
    expect(b.get({ environment: 'prod', key: 'k', version: 1 })).toBe('rotated-value');
    for (const t of tokensOf(dir)) expect(() => new Fernet(newKey).decrypt(t)).toThrow(/HMAC/);
    expect((await openWith(dir, shareOf(newer))).get({ environment: 'prod', key: 'k', version: 2 })).toBe('after');
  });

  it('refuses a corrupt file with a message naming it', async () => {
    const dir = dataDir();
    await openWith(dir, shareOf(generateFernetKey()));
    writeFileSync(fileOf(dir), '{not json');
    await expect(openWith(dir, shareOf(generateFernetKey()))).rejects.toThrow(/sensitive\.json is not valid JSON/);
  });
});
