import { createHash } from 'node:crypto';
import type { SecretAuditEntry } from '../../protocol/secrets';

/** `prevHash` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** The part of an audit entry its hash covers: everything except `seq` (unknown before the append) and `hash`. */
export type AuditFields = Omit<SecretAuditEntry, 'seq' | 'hash'>;

/** Hex SHA-256 over the fields in a fixed order, so the same entry always hashes the same. */
export function auditHash(f: AuditFields): string {
  const fields: unknown[] = [
    f.prevHash,
    f.time,
    f.actor,
    f.action,
    f.secretId ?? null,
    f.secretName ?? null,
    f.environment ?? null,
    f.version ?? null,
    f.outcome,
  ];
  // Refusals also cover what was attempted and why; success entries keep the original nine fields,
  // so chains written before refusals were audited still verify.
  if (f.outcome !== 'success') fields.push(f.attempted ?? null, f.reason ?? null);
  const canonical = JSON.stringify(fields);
  return createHash('sha256').update(canonical).digest('hex');
}

export interface ChainVerdict {
  ok: boolean;
  entries: number;
  brokenAtSeq?: number;
  reason?: string;
}

/** Check, oldest first, that each entry links to the previous one and that its own hash matches. */
export function verifyAuditChain(entries: readonly SecretAuditEntry[]): ChainVerdict {
  let prev = GENESIS_HASH;
  for (const e of entries) {
    if (e.prevHash !== prev) {
      return { ok: false, entries: entries.length, brokenAtSeq: e.seq, reason: 'prevHash does not match the previous entry (an entry was removed or reordered)' };
    }
    if (auditHash(e) !== e.hash) {
      return { ok: false, entries: entries.length, brokenAtSeq: e.seq, reason: 'hash does not match the entry (the entry was altered)' };
    }
    prev = e.hash;
  }
  return { ok: true, entries: entries.length };
}
