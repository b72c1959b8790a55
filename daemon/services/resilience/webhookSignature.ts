import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures, so a receiver can tell a CogniForge delivery from a forgery or a replay.
 *
 *   X-CogniForge-Timestamp: <unix seconds>
 *   X-CogniForge-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 *
 * The timestamp is inside the signed bytes (Stripe's scheme), so it cannot be changed without
 * breaking the signature; receivers refuse deliveries older than a tolerance (default 5 min).
 */
export const SIGNATURE_HEADER = 'X-CogniForge-Signature';
export const TIMESTAMP_HEADER = 'X-CogniForge-Timestamp';

export function signWebhook(
  secret: string | Buffer,
  rawBody: string,
  /** Epoch ms. */
  nowMs: number,
): Record<typeof SIGNATURE_HEADER | typeof TIMESTAMP_HEADER, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: `sha256=${mac(secret, timestamp, rawBody)}` };
}

export interface VerifyWebhookInput {
  secret: string | Buffer;
  /** The request body exactly as received (before any JSON parsing). */
  rawBody: string;
  /** Value of X-CogniForge-Timestamp. */
  timestamp: string | undefined;
  /** Value of X-CogniForge-Signature. */
  signature: string | undefined;
  /** Epoch ms. */
  nowMs: number;
  /** Largest accepted age (or clock skew), ms. Default 300,000. */
  toleranceMs?: number;
}

export function verifyWebhookSignature(input: VerifyWebhookInput): { valid: true } | { valid: false; reason: string } {
  const { timestamp, signature } = input;
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp)) {
    return { valid: false, reason: 'missing or malformed timestamp' };
  }
  if (signature === undefined || !/^sha256=[0-9a-f]{64}$/.test(signature)) {
    return { valid: false, reason: 'missing or malformed signature' };
  }
  const ageMs = Math.abs(input.nowMs - Number(timestamp) * 1000);
  if (ageMs > (input.toleranceMs ?? 300_000)) {
    return { valid: false, reason: 'timestamp outside the tolerance (replay?)' };
  }
  const expected = Buffer.from(mac(input.secret, timestamp, input.rawBody), 'hex');
  const given = Buffer.from(signature.slice('sha256='.length), 'hex');
  return timingSafeEqual(expected, given) ? { valid: true } : { valid: false, reason: 'signature does not match' };
}

function mac(secret: string | Buffer, timestamp: string, rawBody: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');
}
