import { randomBytes, randomInt } from 'node:crypto';
import type { SecretType } from '../../protocol/secrets';

const LOWER = 'abcdefghijkmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const DIGITS = '23456789';
/** Symbols that need no quoting in a connection string or a shell. */
const SYMBOLS = '-_.~!*';

/** A password of `length` characters with at least one of each class, from a CSPRNG. */
export function generatePassword(length = 32): string {
  const classes = [LOWER, UPPER, DIGITS, SYMBOLS];
  const all = classes.join('');
  const chars = classes.map((c) => c[randomInt(c.length)]!);
  while (chars.length < length) chars.push(all[randomInt(all.length)]!);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}

/**
 * A fresh random value in the usual shape of its type, or undefined for a certificate (it must come
 * from a CA, not from random bytes).
 */
export function generateSecretValue(type: SecretType): string | undefined {
  switch (type) {
    case 'api_key':
      return `cf_${randomBytes(32).toString('base64url')}`;
    case 'database_password':
      return generatePassword(32);
    case 'jwt_secret':
      // 512 bits: enough for HS512, the largest HMAC JWT algorithm.
      return randomBytes(64).toString('base64url');
    case 'encryption_key':
      // A 256-bit key, base64url with padding: also a valid Fernet key.
      return randomBytes(32).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
    case 'oauth_client_secret':
      return randomBytes(32).toString('base64url');
    case 'webhook_secret':
      return `whsec_${randomBytes(32).toString('base64')}`;
    case 'certificate':
      return undefined;
  }
}
