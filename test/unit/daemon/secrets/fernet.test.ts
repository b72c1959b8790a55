import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Fernet, FernetError, FernetKeyError, MultiFernet, generateFernetKey } from '../../../../daemon/services/secrets/fernet';

/** Run a Python snippet with `cryptography`; stdin → stdout. */
function python(script: string, input: string): string {
  return execFileSync('python3', ['-c', script], { input, encoding: 'utf8' }).trim();
}

// The generate.json vector of the Fernet spec (github.com/fernet/spec).
const SPEC = {
  token: 'gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==',
  now: Date.parse('1985-10-26T01:20:00-07:00'),
  iv: Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]),
  src: 'hello',
  secret: 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=',
};

function tamper(token: string, byteIndex: number): string {
  const raw = Buffer.from(token, 'base64url');
  raw[byteIndex] = raw[byteIndex]! ^ 0x01;
  return raw.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

describe('Fernet', () => {
  it('reproduces the spec test vector byte for byte and decrypts it', () => {
    const f = new Fernet(SPEC.secret);
    expect(f.encrypt(SPEC.src, { now: SPEC.now, iv: SPEC.iv })).toBe(SPEC.token);
    expect(f.decrypt(SPEC.token).toString()).toBe(SPEC.src);
  });

  it('writes tokens Python cryptography decrypts, and decrypts tokens Python wrote', () => {
    const key = generateFernetKey();
    const plaintext = 'pässwörd with ünïcode and = + / chars';
    const ours = new Fernet(key).encrypt(plaintext);
    const decryptedByPython = python(
      'import sys\nfrom cryptography.fernet import Fernet\nk, t = sys.stdin.read().split()\nsys.stdout.write(Fernet(k.encode()).decrypt(t.encode()).decode("utf-8"))',
      `${key}\n${ours}`,
    );
    expect(decryptedByPython).toBe(plaintext);

    const pyOut = python(
      'import sys\nfrom cryptography.fernet import Fernet\nk = Fernet.generate_key()\nt = Fernet(k).encrypt(sys.stdin.read().encode("utf-8"))\nprint(k.decode(), t.decode())',
      plaintext,
    );
    const [pyKey, pyToken] = pyOut.split(' ');
    expect(new Fernet(pyKey!).decrypt(pyToken!).toString('utf8')).toBe(plaintext);
  });

  it('refuses a tampered token with an error that names the HMAC check', () => {
    const f = new Fernet(generateFernetKey());
    const token = f.encrypt('value');
    for (const index of [0 + 9, 30, 60]) {
      const bad = tamper(token, index);
      expect(() => f.decrypt(bad)).toThrow(/HMAC check failed|failed the HMAC check/);
    }
    expect(() => new Fernet(generateFernetKey()).decrypt(token)).toThrow(FernetError);
    try {
      f.decrypt(tamper(token, 40));
    } catch (e) {
      expect((e as FernetError).reason).toBe('hmac');
    }
  });

  it('refuses a wrong version byte and malformed tokens', () => {
    const f = new Fernet(SPEC.secret);
    expect(() => f.decrypt('not a token!')).toThrow(/malformed/);
    expect(() => f.decrypt(SPEC.token.slice(0, 40))).toThrow(/malformed/);
    expect(() => f.decrypt(tamper(SPEC.token, 0))).toThrow(/version/);
  });

  it('applies an optional TTL', () => {
    const f = new Fernet(generateFernetKey());
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const token = f.encrypt('v', { now: t0 });
    expect(f.decrypt(token, { ttlSeconds: 60, now: t0 + 59_000 }).toString()).toBe('v');
    expect(() => f.decrypt(token, { ttlSeconds: 60, now: t0 + 61_000 })).toThrow(/expired/);
    expect(f.decrypt(token, { now: t0 + 10 * 365 * 86_400_000 }).toString()).toBe('v');
  });

  it('rejects malformed keys without echoing them', () => {
    for (const bad of ['', 'short', 'x'.repeat(44), Buffer.alloc(16).toString('base64url')]) {
      try {
        new Fernet(bad);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(FernetKeyError);
        if (bad.length > 0) expect((e as Error).message).not.toContain(bad);
      }
    }
  });
});

describe('MultiFernet', () => {
  it('encrypts with the first key, decrypts with any, rotates onto the first', () => {
    const oldKey = generateFernetKey();
    const newKey = generateFernetKey();
    const oldToken = new Fernet(oldKey).encrypt('secret', { now: Date.parse('2026-01-01T00:00:00Z') });
    const multi = new MultiFernet([newKey, oldKey]);
    expect(multi.decryptWithIndex(oldToken)).toMatchObject({ keyIndex: 1 });
    const rotated = multi.rotate(oldToken);
    expect(new Fernet(newKey).decrypt(rotated).toString()).toBe('secret');
    expect(new Fernet(newKey).timestamp(rotated)).toBe(new Fernet(oldKey).timestamp(oldToken));
    expect(() => new Fernet(oldKey).decrypt(rotated)).toThrow(/HMAC/);
    expect(() => new MultiFernet([generateFernetKey()]).decrypt(oldToken)).toThrow(/HMAC/);
  });

  it('interoperates with Python MultiFernet', () => {
    const [a, b] = [generateFernetKey(), generateFernetKey()];
    const token = new MultiFernet([a, b]).encrypt('multi');
    const out = python(
      'import sys\nfrom cryptography.fernet import Fernet, MultiFernet\nb, a, t = sys.stdin.read().split()\nsys.stdout.write(MultiFernet([Fernet(b.encode()), Fernet(a.encode())]).decrypt(t.encode()).decode())',
      `${b} ${a} ${token}`,
    );
    expect(out).toBe('multi');
  });
});
