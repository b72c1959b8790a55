import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Fernet, generateFernetKey } from '../../../../daemon/services/secrets/fernet';
import { LocalVault, VaultError } from '../../../../daemon/services/secrets/localVault';

const dirs: string[] = [];
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'cf-vault-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const now = () => Date.parse('2026-03-01T00:00:00Z');
const vaultFile = (d: string) => JSON.parse(readFileSync(join(d, 'vault', 'vault.json'), 'utf8')) as {
  keyCheck: string;
  entries: { secretId: string; version: number; token: string }[];
};

describe('LocalVault', () => {
  it('generates a 0600 key file once and reuses it on the next open', () => {
    const d = dataDir();
    const v1 = LocalVault.open({ dataDir: d, env: {}, now });
    v1.put([{ secretId: 'sec_0000000000000001', version: 1, value: 'hunter2' }]);
    const keyFile = join(d, 'vault', 'master.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(d, 'vault', 'vault.json')).mode & 0o777).toBe(0o600);
    const key = readFileSync(keyFile, 'utf8');
    const v2 = LocalVault.open({ dataDir: d, env: {}, now });
    expect(readFileSync(keyFile, 'utf8')).toBe(key);
    expect(v2.read('sec_0000000000000001', 1)).toBe('hunter2');
    expect(v2.keySource).toBe('key file');
    // Stored as a standard Fernet token under the key in the file.
    expect(new Fernet(key.trim()).decrypt(vaultFile(d).entries[0]!.token).toString()).toBe('hunter2');
    expect(readFileSync(join(d, 'vault', 'vault.json'), 'utf8')).not.toContain('hunter2');
  });

  it('takes COGNIFORGE_MASTER_KEY, else MASTER_ENCRYPTION_KEY, and writes no key file', () => {
    const d = dataDir();
    const key = generateFernetKey();
    const v = LocalVault.open({ dataDir: d, env: { MASTER_ENCRYPTION_KEY: key }, now });
    v.put([{ secretId: 'sec_0000000000000001', version: 1, value: 'x' }]);
    expect(v.keySource).toBe('MASTER_ENCRYPTION_KEY');
    expect(existsSync(join(d, 'vault', 'master.key'))).toBe(false);
    expect(new Fernet(key).decrypt(vaultFile(d).entries[0]!.token).toString()).toBe('x');
    const w = LocalVault.open({ dataDir: d, env: { COGNIFORGE_MASTER_KEY: key, MASTER_ENCRYPTION_KEY: 'ignored' }, now });
    expect(w.keySource).toBe('COGNIFORGE_MASTER_KEY');
  });

  it('names the variable, never its value, for a malformed key', () => {
    const bad = 'not-a-fernet-key-at-all-but-secretish';
    expect(() => LocalVault.open({ dataDir: dataDir(), env: { COGNIFORGE_MASTER_KEY: bad }, now })).toThrow(
      /the variable COGNIFORGE_MASTER_KEY is not a valid Fernet key/,
    );
    try {
      LocalVault.open({ dataDir: dataDir(), env: { COGNIFORGE_MASTER_KEY: bad }, now });
    } catch (e) {
      expect((e as Error).message).not.toContain(bad);
    }
  });

  it('refuses a wrong master key and leaves the vault file untouched', () => {
    const d = dataDir();
    const v = LocalVault.open({ dataDir: d, env: { COGNIFORGE_MASTER_KEY: generateFernetKey() }, now });
    v.put([{ secretId: 'sec_0000000000000001', version: 1, value: 'x' }]);
    const before = readFileSync(join(d, 'vault', 'vault.json'), 'utf8');
    const wrong = generateFernetKey();
    expect(() => LocalVault.open({ dataDir: d, env: { COGNIFORGE_MASTER_KEY: wrong }, now })).toThrow(VaultError);
    expect(() => LocalVault.open({ dataDir: d, env: { COGNIFORGE_MASTER_KEY: wrong }, now })).toThrow(/does not open the vault.*wrong key.*nothing was changed/);
    expect(readFileSync(join(d, 'vault', 'vault.json'), 'utf8')).toBe(before);
    // No env and no key file for an existing vault: refused, no key generated.
    expect(() => LocalVault.open({ dataDir: d, env: {}, now })).toThrow(/no master key/);
    expect(existsSync(join(d, 'vault', 'master.key'))).toBe(false);
  });

  it('rotates the master key: every entry re-encrypted, no old-key ciphertext left', () => {
    const d = dataDir();
    const v = LocalVault.open({ dataDir: d, env: {}, now });
    const oldKey = readFileSync(join(d, 'vault', 'master.key'), 'utf8').trim();
    v.put([
      { secretId: 'sec_0000000000000001', version: 1, value: 'one' },
      { secretId: 'sec_0000000000000001', version: 2, value: 'two' },
      { secretId: 'sec_0000000000000002', version: 1, value: 'three' },
    ]);
    const oldTokens = vaultFile(d).entries.map((e) => e.token);
    expect(v.rotateMasterKey()).toEqual({ reencrypted: 3 });
    const newKey = readFileSync(join(d, 'vault', 'master.key'), 'utf8').trim();
    expect(newKey).not.toBe(oldKey);
    expect(newKey.split('\n')).toHaveLength(1);
    const text = readFileSync(join(d, 'vault', 'vault.json'), 'utf8');
    for (const t of oldTokens) expect(text).not.toContain(t);
    const file = vaultFile(d);
    for (const token of [file.keyCheck, ...file.entries.map((e) => e.token)]) {
      expect(() => new Fernet(oldKey).decrypt(token)).toThrow(/HMAC/);
      expect(() => new Fernet(newKey).decrypt(token)).not.toThrow();
    }
    const reopened = LocalVault.open({ dataDir: d, env: {}, now });
    expect(reopened.read('sec_0000000000000001', 2)).toBe('two');
  });

  it('finishes a MultiFernet rotation given through the variable ("new,old") at start-up', () => {
    const d = dataDir();
    const oldKey = generateFernetKey();
    const newKey = generateFernetKey();
    LocalVault.open({ dataDir: d, env: { COGNIFORGE_MASTER_KEY: oldKey }, now }).put([{ secretId: 'sec_0000000000000001', version: 1, value: 'v' }]);
    const v = LocalVault.open({ dataDir: d, env: { COGNIFORGE_MASTER_KEY: `${newKey},${oldKey}` }, now });
    expect(v.read('sec_0000000000000001', 1)).toBe('v');
    for (const token of [vaultFile(d).keyCheck, vaultFile(d).entries[0]!.token]) expect(() => new Fernet(oldKey).decrypt(token)).toThrow(/HMAC/);
    expect(LocalVault.open({ dataDir: d, env: { COGNIFORGE_MASTER_KEY: newKey }, now }).read('sec_0000000000000001', 1)).toBe('v');
    expect(() => v.rotateMasterKey()).toThrow(/COGNIFORGE_MASTER_KEY/);
  });

  it('reports a tampered entry as an HMAC failure', () => {
    const d = dataDir();
    LocalVault.open({ dataDir: d, env: {}, now }).put([{ secretId: 'sec_0000000000000001', version: 1, value: 'v' }]);
    const file = vaultFile(d);
    const raw = Buffer.from(file.entries[0]!.token, 'base64url');
    raw[30] = raw[30]! ^ 1;
    file.entries[0]!.token = raw.toString('base64url');
    writeFileSync(join(d, 'vault', 'vault.json'), JSON.stringify({ format: 1, ...file }));
    const v = LocalVault.open({ dataDir: d, env: {}, now });
    expect(() => v.read('sec_0000000000000001', 1)).toThrow(/HMAC check/);
  });
});
