import type { AuditFields } from './auditChain';
import * as z from 'zod';
import type { SecretAuditAction} from '../../protocol/secrets';
import { SecretBackend, SecretRotationPolicy, SecretType, type SecretAuditEntry, type SecretMetadata } from '../../protocol/secrets';
import type { EventRecord, Projection } from '../../store/types';

/** Event types of the secrets domain; only the secrets service appends them (reserved). */
export const SecretEvents = {
  created: 'secret.created',
  rotated: 'secret.rotated',
  rolledBack: 'secret.rolledBack',
  revealed: 'secret.revealed',
  deleted: 'secret.deleted',
} as const;

const ACTION_OF_TYPE: Record<string, z.infer<typeof SecretAuditAction>> = {
  [SecretEvents.created]: 'created',
  [SecretEvents.rotated]: 'rotated',
  [SecretEvents.rolledBack]: 'rolledBack',
  [SecretEvents.revealed]: 'revealed',
  [SecretEvents.deleted]: 'deleted',
};

/** Hash-chain link carried by every secrets event (never a value, never ciphertext). */
export const AuditLink = z.object({
  /** Command time (ISO-8601), part of the hash. */
  at: z.string(),
  prevHash: z.string(),
  hash: z.string(),
});

const Base = z.object({ secretId: z.string(), audit: AuditLink });
export const SecretCreatedPayload = Base.extend({
  name: z.string(),
  type: SecretType,
  environment: z.string(),
  backend: SecretBackend,
  /** Backend path or name (Vault KV path, AWS secret name); absent for local. */
  location: z.string().optional(),
  rotation: SecretRotationPolicy,
  tags: z.record(z.string(), z.string()),
  version: z.literal(1),
  /** The backend's reference of version 1 (absent for local: the version number is the reference). */
  ref: z.string().optional(),
});
export const SecretVersionPayload = Base.extend({
  version: z.number().int().positive(),
  /** The backend's reference of the new version (Vault KV version, AWS VersionId). */
  ref: z.string().optional(),
});
export const SecretRolledBackPayload = SecretVersionPayload.extend({ fromVersion: z.number().int().positive() });

const DAY_MS = 86_400_000;
const POLICY_DAYS = { never: undefined, daily: 1, weekly: 7, monthly: 30, quarterly: 90 } as const;

/** Days between rotations of a policy, undefined for `never`. */
export function rotationDays(rotation: SecretRotationPolicy): number | undefined {
  return rotation.policy === 'custom' ? rotation.customDays : POLICY_DAYS[rotation.policy];
}

interface State {
  secrets: SecretMetadata[];
  audit: SecretAuditEntry[];
}

/** Secrets metadata and the audit trail, from `secret.*` events. */
export class SecretsProjection implements Projection {
  readonly name = 'secrets';
  private readonly secrets = new Map<string, SecretMetadata>();
  private audit: SecretAuditEntry[] = [];

  apply(event: EventRecord): void {
    const action = ACTION_OF_TYPE[event.type];
    if (!action) return;
    const time = event.time;
    if (event.type === SecretEvents.created) {
      const p = SecretCreatedPayload.safeParse(event.payload);
      if (!p.success) return;
      const d = p.data;
      const secret: SecretMetadata = {
        id: d.secretId,
        name: d.name,
        type: d.type,
        environment: d.environment,
        backend: d.backend,
        ...(d.location !== undefined ? { location: d.location } : {}),
        currentVersion: 1,
        versions: [{ version: 1, createdAt: time, createdBy: event.actor, state: 'current', ...(d.ref !== undefined ? { backendRef: d.ref } : {}) }],
        rotation: d.rotation,
        tags: d.tags,
        createdAt: time,
        createdBy: event.actor,
        updatedAt: time,
      };
      setNextRotation(secret, event.time);
      this.secrets.set(d.secretId, secret);
      this.record(event, action, secret, 1, d.audit);
      return;
    }
    if (event.type === SecretEvents.rotated || event.type === SecretEvents.rolledBack) {
      const p = SecretRolledBackPayload.partial({ fromVersion: true }).safeParse(event.payload);
      if (!p.success) return;
      const secret = this.secrets.get(p.data.secretId);
      if (!secret) return;
      for (const v of secret.versions) {
        if (v.state === 'current') v.state = 'previous';
        else if (v.state === 'previous') v.state = 'deprecated';
      }
      secret.versions.push({
        version: p.data.version,
        createdAt: time,
        createdBy: event.actor,
        state: 'current',
        ...(p.data.fromVersion !== undefined ? { rolledBackFrom: p.data.fromVersion } : {}),
        ...(p.data.ref !== undefined ? { backendRef: p.data.ref } : {}),
      });
      secret.currentVersion = p.data.version;
      secret.updatedAt = time;
      setNextRotation(secret, time);
      this.record(event, action, secret, p.data.version, p.data.audit);
      return;
    }
    const p = SecretVersionPayload.partial({ version: true }).safeParse(event.payload);
    if (!p.success) return;
    const secret = this.secrets.get(p.data.secretId);
    if (!secret) return;
    this.record(event, action, secret, p.data.version, p.data.audit);
    if (event.type === SecretEvents.deleted) this.secrets.delete(p.data.secretId);
  }

  private record(
    event: EventRecord,
    action: z.infer<typeof SecretAuditAction>,
    secret: SecretMetadata,
    version: number | undefined,
    link: z.infer<typeof AuditLink>,
  ): void {
    this.audit.push(auditEntryOf(event.seq, event.actor, action, secret, version, link));
  }

  get(id: string): SecretMetadata | undefined {
    return this.secrets.get(id);
  }

  byName(name: string, environment: string): SecretMetadata | undefined {
    for (const s of this.secrets.values()) if (s.name === name && s.environment === environment) return s;
    return undefined;
  }

  all(): SecretMetadata[] {
    return [...this.secrets.values()].sort((a, b) => a.environment.localeCompare(b.environment) || a.name.localeCompare(b.name));
  }

  /** Oldest first. */
  auditTrail(): readonly SecretAuditEntry[] {
    return this.audit;
  }

  /** Hash of the newest audit entry: the `prevHash` of the next one. */
  get auditHead(): string | undefined {
    return this.audit.at(-1)?.hash;
  }

  snapshot(): State {
    return { secrets: this.all(), audit: this.audit };
  }

  restore(state: unknown): void {
    this.reset();
    const s = state as Partial<State> | null;
    for (const secret of s?.secrets ?? []) this.secrets.set(secret.id, structuredClone(secret));
    this.audit = structuredClone(s?.audit ?? []);
  }

  reset(): void {
    this.secrets.clear();
    this.audit = [];
  }
}

/**
 * The fields of an audit entry its hash covers. The service hashes exactly these when it appends and
 * the projection stores exactly these, so the two can never disagree about what an entry holds.
 */
export function auditFieldsOf(
  actor: string,
  action: z.infer<typeof SecretAuditAction>,
  secret: Pick<SecretMetadata, 'id' | 'name' | 'environment'>,
  version: number | undefined,
  time: string,
  prevHash: string,
): AuditFields {
  return {
    prevHash,
    time,
    actor,
    action,
    secretId: secret.id,
    secretName: secret.name,
    environment: secret.environment,
    ...(version !== undefined ? { version } : {}),
    outcome: 'success',
  };
}

export function auditEntryOf(
  seq: number,
  actor: string,
  action: z.infer<typeof SecretAuditAction>,
  secret: Pick<SecretMetadata, 'id' | 'name' | 'environment'>,
  version: number | undefined,
  link: z.infer<typeof AuditLink>,
): SecretAuditEntry {
  return { seq, ...auditFieldsOf(actor, action, secret, version, link.at, link.prevHash), hash: link.hash };
}

/** The audit action an event type records, if it is a secrets event. */
export function auditActionOf(type: string): z.infer<typeof SecretAuditAction> | undefined {
  return ACTION_OF_TYPE[type];
}

function setNextRotation(secret: SecretMetadata, fromIso: string): void {
  const days = rotationDays(secret.rotation);
  if (days === undefined) delete secret.nextRotation;
  else secret.nextRotation = new Date(Date.parse(fromIso) + days * DAY_MS).toISOString();
}
