import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Fernet, exactly as https://github.com/fernet/spec/blob/master/Spec.md defines it, so tokens are
 * interchangeable with Python's `cryptography.fernet`:
 * `0x80 ‖ timestamp (u64 BE, seconds) ‖ IV (16) ‖ AES-128-CBC(PKCS7) ciphertext ‖ HMAC-SHA256 (32)`,
 * base64url with padding. The key is 32 bytes, base64url: first half signs, second half encrypts.
 */
const VERSION = 0x80;
const HEADER_BYTES = 1 + 8 + 16;
const HMAC_BYTES = 32;
/** Python refuses tokens stamped more than this far in the future (clock skew), seconds. */
const MAX_CLOCK_SKEW_S = 60;

export type FernetFailure = 'malformed' | 'version' | 'hmac' | 'expired' | 'future' | 'decrypt';

/** Why a token was refused. The message never contains the token or the plaintext. */
export class FernetError extends Error {
  constructor(
    readonly reason: FernetFailure,
    message: string,
  ) {
    super(message);
    this.name = 'FernetError';
  }
}

/** A key that is not 32 bytes of base64url. The message never contains the key. */
export class FernetKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FernetKeyError';
  }
}

function fromBase64Url(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text)) return undefined;
  return Buffer.from(text.replace(/=+$/, ''), 'base64url');
}

function toBase64UrlPadded(bytes: Buffer): string {
  return bytes.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** A fresh random Fernet key, in the standard 44-character form. */
export function generateFernetKey(): string {
  return toBase64UrlPadded(randomBytes(32));
}

/** Throws FernetKeyError unless `key` is 32 bytes of base64url (the standard Fernet key form). */
export function parseFernetKey(key: string): { signing: Buffer; encryption: Buffer } {
  const trimmed = key.trim();
  const raw = fromBase64Url(trimmed);
  if (!raw || raw.length !== 32 || trimmed.replace(/=+$/, '').length !== 43) {
    throw new FernetKeyError('a Fernet key is 32 bytes encoded as URL-safe base64 (44 characters ending in "=")');
  }
  return { signing: raw.subarray(0, 16), encryption: raw.subarray(16) };
}

export interface EncryptOptions {
  /** Token timestamp, epoch ms (defaults to now). */
  now?: number;
  /** Only for spec test vectors: a fixed 16-byte IV. */
  iv?: Buffer;
}

export interface DecryptOptions {
  /** Refuse tokens older than this, seconds. */
  ttlSeconds?: number;
  /** Current time for the TTL and skew checks, epoch ms (defaults to now). */
  now?: number;
}

export class Fernet {
  private readonly signing: Buffer;
  private readonly encryption: Buffer;

  constructor(key: string) {
    const k = parseFernetKey(key);
    this.signing = k.signing;
    this.encryption = k.encryption;
  }

  encrypt(plaintext: Buffer | string, options: EncryptOptions = {}): string {
    const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    const iv = options.iv ?? randomBytes(16);
    if (iv.length !== 16) throw new Error('Fernet IV must be 16 bytes');
    const cipher = createCipheriv('aes-128-cbc', this.encryption, iv);
    const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
    const header = Buffer.alloc(HEADER_BYTES);
    header[0] = VERSION;
    header.writeBigUInt64BE(BigInt(Math.floor((options.now ?? Date.now()) / 1000)), 1);
    iv.copy(header, 9);
    const signed = Buffer.concat([header, ciphertext]);
    const mac = createHmac('sha256', this.signing).update(signed).digest();
    return toBase64UrlPadded(Buffer.concat([signed, mac]));
  }

  /** The token's timestamp, epoch seconds, after the HMAC check. */
  timestamp(token: string): number {
    return Number(this.verify(token).readBigUInt64BE(1));
  }

  decrypt(token: string, options: DecryptOptions = {}): Buffer {
    const raw = this.verify(token);
    const stamped = Number(raw.readBigUInt64BE(1));
    const nowS = Math.floor((options.now ?? Date.now()) / 1000);
    // As in Python's implementation, the timestamp is only judged when a TTL is asked for.
    if (options.ttlSeconds !== undefined) {
      if (stamped + options.ttlSeconds < nowS) {
        throw new FernetError('expired', `Fernet token expired (older than ${options.ttlSeconds} s)`);
      }
      if (stamped > nowS + MAX_CLOCK_SKEW_S) throw new FernetError('future', 'Fernet token timestamp is in the future');
    }
    const iv = raw.subarray(9, HEADER_BYTES);
    const ciphertext = raw.subarray(HEADER_BYTES, raw.length - HMAC_BYTES);
    try {
      const decipher = createDecipheriv('aes-128-cbc', this.encryption, iv);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch {
      throw new FernetError('decrypt', 'Fernet token failed to decrypt (bad padding)');
    }
  }

  /** Decode and check framing, version and HMAC (constant time); answers the raw token bytes. */
  private verify(token: string): Buffer {
    const raw = fromBase64Url(token.trim());
    if (!raw || raw.length < HEADER_BYTES + 16 + HMAC_BYTES || (raw.length - HEADER_BYTES - HMAC_BYTES) % 16 !== 0) {
      throw new FernetError('malformed', 'Fernet token is malformed (not base64url or wrong length)');
    }
    if (raw[0] !== VERSION) throw new FernetError('version', `Fernet token has version 0x${raw[0]!.toString(16)}, expected 0x80`);
    const signed = raw.subarray(0, raw.length - HMAC_BYTES);
    const mac = raw.subarray(raw.length - HMAC_BYTES);
    const expected = createHmac('sha256', this.signing).update(signed).digest();
    if (!timingSafeEqual(mac, expected)) {
      throw new FernetError('hmac', 'Fernet token failed the HMAC check: it was tampered with or encrypted under another key');
    }
    return raw;
  }
}

/**
 * Several keys, like Python's MultiFernet: the first encrypts, any of them decrypts, and `rotate`
 * re-encrypts a token under the first key keeping its timestamp.
 */
export class MultiFernet {
  private readonly fernets: Fernet[];

  constructor(keys: readonly string[]) {
    if (keys.length === 0) throw new FernetKeyError('MultiFernet needs at least one key');
    this.fernets = keys.map((k) => new Fernet(k));
  }

  encrypt(plaintext: Buffer | string, options: EncryptOptions = {}): string {
    return this.fernets[0]!.encrypt(plaintext, options);
  }

  decrypt(token: string, options: DecryptOptions = {}): Buffer {
    return this.decryptWithIndex(token, options).plaintext;
  }

  /** Which key (0 = primary) opened the token. */
  decryptWithIndex(token: string, options: DecryptOptions = {}): { plaintext: Buffer; keyIndex: number } {
    let last: unknown;
    for (let i = 0; i < this.fernets.length; i++) {
      try {
        return { plaintext: this.fernets[i]!.decrypt(token, options), keyIndex: i };
      } catch (e) {
        if (!(e instanceof FernetError) || e.reason !== 'hmac') throw e;
        last = e;
      }
    }
    throw last;
  }

  rotate(token: string): string {
    const { plaintext, keyIndex } = this.decryptWithIndex(token);
    const stamped = this.fernets[keyIndex]!.timestamp(token);
    return this.encrypt(plaintext, { now: stamped * 1000 });
  }
}
