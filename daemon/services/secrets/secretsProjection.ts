import type { AuditFields } from './auditChain';
import * as z from 'zod';
import type { SecretAuditAction} from '../../protocol/secrets';
import {
  SecretBackend,
  SecretHookRun,
  SecretRotationHook,
  SecretRotationPolicy,
  SecretType,
  type SecretAuditEntry,
  type SecretMetadata,
} from '../../protocol/secrets';
import type * as proto from '../../protocol/secrets';
import { eventTime } from '../../protocol/events';
import type { EventRecord, Projection } from '../../store/types';

/** Event types of the secrets domain; only the secrets service appends them (reserved). */
export const SecretEvents = {
  created: 'secret.created',
  rotated: 'secret.rotated',
  rolledBack: 'secret.rolledBack',
  revealed: 'secret.revealed',
  deleted: 'secret.deleted',
  restored: 'secret.restored',
  versionDeleted: 'secret.versionDeleted',
  versionUndeleted: 'secret.versionUndeleted',
  versionDestroyed: 'secret.versionDestroyed',
  denied: 'secret.denied',
  /** Not audited (no value is read or written): metadata and bookkeeping. */
  updated: 'secret.updated',
  hookSet: 'secret.hookSet',
  hookRan: 'secret.hookRan',
  versionDeprecated: 'secret.versionDeprecated',
} as const;

const ACTION_OF_TYPE: Record<string, z.infer<typeof SecretAuditAction>> = {
  [SecretEvents.created]: 'created',
  [SecretEvents.rotated]: 'rotated',
  [SecretEvents.rolledBack]: 'rolledBack',
  [SecretEvents.revealed]: 'revealed',
  [SecretEvents.deleted]: 'deleted',
  [SecretEvents.restored]: 'restored',
  [SecretEvents.versionDeleted]: 'versionDeleted',
  [SecretEvents.versionUndeleted]: 'versionUndeleted',
  [SecretEvents.versionDestroyed]: 'versionDestroyed',
  [SecretEvents.denied]: 'denied',
};

/** Entries kept per secret in its history (oldest dropped first). */
export const HISTORY_LIMIT = 500;

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
  /** When the version this write replaces leaves its grace period (ISO-8601). */
  graceUntil: z.string().optional(),
});
export const SecretRolledBackPayload = SecretVersionPayload.extend({ fromVersion: z.number().int().positive() });
/** `restored`: `version` is current again, `fromVersion` (the replaced current) is previous. */
export const SecretRestoredPayload = Base.extend({
  version: z.number().int().positive(),
  fromVersion: z.number().int().positive(),
  graceUntil: z.string().optional(),
});
export const SecretDeniedPayload = z.object({
  secretId: z.string().optional(),
  secretName: z.string().optional(),
  environment: z.string().optional(),
  version: z.number().int().positive().optional(),
  outcome: z.enum(['denied', 'failed']),
  attempted: z.string(),
  reason: z.string(),
  audit: AuditLink,
});
export const SecretUpdatedPayload = z.object({
  secretId: z.string(),
  rotation: SecretRotationPolicy.optional(),
  tags: z.record(z.string(), z.string()).optional(),
});
export const SecretHookSetPayload = z.object({ secretId: z.string(), hook: SecretRotationHook.nullable() });
export const SecretHookRanPayload = z.object({ secretId: z.string(), run: SecretHookRun });
export const SecretVersionDeprecatedPayload = z.object({ secretId: z.string(), version: z.number().int().positive() });

const DAY_MS = 86_400_000;
const POLICY_DAYS = { never: undefined, daily: 1, weekly: 7, monthly: 30, quarterly: 90 } as const;

/** Days between rotations of a policy, undefined for `never`. */
export function rotationDays(rotation: SecretRotationPolicy): number | undefined {
  return rotation.policy === 'custom' ? rotation.customDays : POLICY_DAYS[rotation.policy];
}

interface State {
  secrets: SecretMetadata[];
  audit: SecretAuditEntry[];
  history?: Record<string, HistoryEntry[]>;
}

type HistoryEntry = z.infer<typeof proto.SecretHistoryEntry>;

/** Secrets metadata, each secret's history and the audit trail, from `secret.*` events. */
export class SecretsProjection implements Projection {
  readonly name = 'secrets';

  /** `teamMode`: label every secret with whether teammates' daemons share it (`sharedWithTeam`). */
  constructor(private readonly teamMode = false) {}
  private readonly secrets = new Map<string, SecretMetadata>();
  private readonly history = new Map<string, HistoryEntry[]>();
  private audit: SecretAuditEntry[] = [];

  apply(event: EventRecord): void {
    if (!event.type.startsWith('secret.')) return;
    const time = eventTime(event);
    switch (event.type) {
      case SecretEvents.created: {
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
        if (event.origin) secret.origin = event.origin.daemon;
        this.label(secret);
        setNextRotation(secret);
        this.secrets.set(d.secretId, secret);
        this.record(event, 'created', secret, 1, d.audit);
        return;
      }
      case SecretEvents.rotated:
      case SecretEvents.rolledBack: {
        const p = SecretRolledBackPayload.partial({ fromVersion: true }).safeParse(event.payload);
        if (!p.success) return;
        const secret = this.secrets.get(p.data.secretId);
        if (!secret) return;
        for (const v of secret.versions) {
          if (v.state === 'current') {
            v.state = 'previous';
            if (p.data.graceUntil !== undefined) v.graceUntil = p.data.graceUntil;
          } else if (v.state === 'previous') {
            v.state = 'deprecated';
            delete v.graceUntil;
          }
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
        setNextRotation(secret);
        this.record(event, event.type === SecretEvents.rotated ? 'rotated' : 'rolledBack', secret, p.data.version, p.data.audit);
        return;
      }
      case SecretEvents.restored: {
        const p = SecretRestoredPayload.safeParse(event.payload);
        if (!p.success) return;
        const secret = this.secrets.get(p.data.secretId);
        if (!secret) return;
        for (const v of secret.versions) {
          if (v.version === p.data.version) {
            v.state = 'current';
            delete v.graceUntil;
          } else if (v.version === p.data.fromVersion) {
            v.state = 'previous';
            if (p.data.graceUntil !== undefined) v.graceUntil = p.data.graceUntil;
          } else if (v.state !== 'deprecated') {
            v.state = 'deprecated';
            delete v.graceUntil;
          }
        }
        secret.currentVersion = p.data.version;
        secret.updatedAt = time;
        this.record(event, 'restored', secret, p.data.version, p.data.audit);
        return;
      }
      case SecretEvents.versionDeleted:
      case SecretEvents.versionUndeleted:
      case SecretEvents.versionDestroyed: {
        const p = SecretVersionPayload.safeParse(event.payload);
        if (!p.success) return;
        const secret = this.secrets.get(p.data.secretId);
        const v = secret?.versions.find((x) => x.version === p.data.version);
        if (!secret || !v) return;
        if (event.type === SecretEvents.versionDeleted) v.deleted = true;
        else if (event.type === SecretEvents.versionUndeleted) delete v.deleted;
        else {
          v.destroyed = true;
          delete v.deleted;
        }
        secret.updatedAt = time;
        this.record(event, ACTION_OF_TYPE[event.type]!, secret, p.data.version, p.data.audit);
        return;
      }
      case SecretEvents.revealed:
      case SecretEvents.deleted: {
        const p = SecretVersionPayload.partial({ version: true }).safeParse(event.payload);
        if (!p.success) return;
        const secret = this.secrets.get(p.data.secretId);
        if (!secret) return;
        this.record(event, ACTION_OF_TYPE[event.type]!, secret, p.data.version, p.data.audit);
        if (event.type === SecretEvents.deleted) {
          this.secrets.delete(p.data.secretId);
          this.history.delete(p.data.secretId);
        }
        return;
      }
      case SecretEvents.denied: {
        const p = SecretDeniedPayload.safeParse(event.payload);
        if (!p.success) return;
        const d = p.data;
        const entry = deniedEntryOf(event.seq, event.actor, d);
        this.audit.push(entry);
        if (d.secretId !== undefined && this.secrets.has(d.secretId)) {
          this.addHistory(d.secretId, {
            seq: event.seq,
            time: d.audit.at,
            actor: event.actor,
            kind: 'denied',
            ...(d.version !== undefined ? { version: d.version } : {}),
            detail: `${d.attempted}: ${d.reason}`,
          });
        }
        return;
      }
      case SecretEvents.updated: {
        const p = SecretUpdatedPayload.safeParse(event.payload);
        const secret = p.success ? this.secrets.get(p.data.secretId) : undefined;
        if (!p.success || !secret) return;
        if (p.data.rotation) secret.rotation = p.data.rotation;
        if (p.data.tags) secret.tags = p.data.tags;
        secret.updatedAt = time;
        setNextRotation(secret);
        this.addHistory(secret.id, { seq: event.seq, time, actor: event.actor, kind: 'updated', detail: describeUpdate(p.data) });
        return;
      }
      case SecretEvents.hookSet: {
        const p = SecretHookSetPayload.safeParse(event.payload);
        const secret = p.success ? this.secrets.get(p.data.secretId) : undefined;
        if (!p.success || !secret) return;
        if (p.data.hook) secret.hook = p.data.hook;
        else delete secret.hook;
        secret.updatedAt = time;
        const detail = p.data.hook ? (p.data.hook.kind === 'command' ? `command ${p.data.hook.command}` : `webhook ${new URL(p.data.hook.url).host}`) : 'cleared';
        this.addHistory(secret.id, { seq: event.seq, time, actor: event.actor, kind: 'hookSet', detail });
        return;
      }
      case SecretEvents.hookRan: {
        const p = SecretHookRanPayload.safeParse(event.payload);
        const secret = p.success ? this.secrets.get(p.data.secretId) : undefined;
        if (!p.success || !secret) return;
        const run = p.data.run;
        secret.lastHookRun = run;
        const how = run.exitCode !== undefined ? `exit code ${run.exitCode}` : run.status !== undefined ? `HTTP ${run.status}` : (run.error ?? '');
        this.addHistory(secret.id, {
          seq: event.seq,
          time,
          actor: event.actor,
          kind: 'hookRan',
          version: run.version,
          detail: `${run.kind} hook ${run.ok ? 'ok' : 'failed'} (${how}, ${Math.round(run.durationMs)} ms)`,
          hook: run,
        });
        return;
      }
      case SecretEvents.versionDeprecated: {
        const p = SecretVersionDeprecatedPayload.safeParse(event.payload);
        const secret = p.success ? this.secrets.get(p.data.secretId) : undefined;
        const v = p.success ? secret?.versions.find((x) => x.version === p.data.version) : undefined;
        if (!secret || !v || v.state !== 'previous') return;
        v.state = 'deprecated';
        delete v.graceUntil;
        this.addHistory(secret.id, { seq: event.seq, time, actor: event.actor, kind: 'deprecated', version: v.version, detail: 'grace period over' });
        return;
      }
      default:
        return;
    }
  }

  private record(
    event: EventRecord,
    action: z.infer<typeof SecretAuditAction>,
    secret: SecretMetadata,
    version: number | undefined,
    link: z.infer<typeof AuditLink>,
  ): void {
    // The audit chain is this daemon's: what was done through it. A teammate's change shows in the
    // secret's history (actor@daemon) but is not linked into this chain (its own daemon audits it).
    if (!event.origin) this.audit.push(auditEntryOf(event.seq, event.actor, action, secret, version, link));
    this.addHistory(secret.id, {
      seq: event.seq,
      time: link.at,
      actor: event.origin ? `${event.actor}@${event.origin.daemon}` : event.actor,
      kind: action,
      ...(version !== undefined ? { version } : {}),
    });
  }

  private addHistory(secretId: string, entry: HistoryEntry): void {
    let list = this.history.get(secretId);
    if (!list) this.history.set(secretId, (list = []));
    list.push(entry);
    if (list.length > HISTORY_LIMIT) list.splice(0, list.length - HISTORY_LIMIT);
  }

  get(id: string): SecretMetadata | undefined {
    return this.secrets.get(id);
  }

  /** Team mode: Vault and AWS secrets are shared (teammates read the same backend); local-vault ones never leave this daemon. */
  private label(secret: SecretMetadata): SecretMetadata {
    if (this.teamMode) secret.sharedWithTeam = secret.backend !== 'local';
    else delete secret.sharedWithTeam;
    return secret;
  }

  byName(name: string, environment: string): SecretMetadata | undefined {
    for (const s of this.secrets.values()) if (s.name === name && s.environment === environment) return s;
    return undefined;
  }

  all(): SecretMetadata[] {
    return [...this.secrets.values()].sort((a, b) => a.environment.localeCompare(b.environment) || a.name.localeCompare(b.name));
  }

  /** Oldest first. */
  historyOf(secretId: string): readonly HistoryEntry[] {
    return this.history.get(secretId) ?? [];
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
    return { secrets: this.all(), audit: this.audit, history: Object.fromEntries(this.history) };
  }

  restore(state: unknown): void {
    this.reset();
    const s = state as Partial<State> | null;
    for (const secret of s?.secrets ?? []) this.secrets.set(secret.id, this.label(structuredClone(secret)));
    for (const [id, list] of Object.entries(s?.history ?? {})) this.history.set(id, structuredClone(list));
    this.audit = structuredClone(s?.audit ?? []);
  }

  reset(): void {
    this.secrets.clear();
    this.history.clear();
    this.audit = [];
  }
}

function describeUpdate(u: z.infer<typeof SecretUpdatedPayload>): string {
  const parts: string[] = [];
  if (u.rotation) {
    const every = u.rotation.policy === 'custom' ? `every ${u.rotation.customDays} days` : u.rotation.policy;
    parts.push(`rotation ${every}${u.rotation.graceHours !== undefined ? `, grace ${u.rotation.graceHours} h` : ''}`);
  }
  if (u.tags) parts.push(`tags ${Object.keys(u.tags).join(', ') || '(none)'}`);
  return parts.join('; ');
}

/** The audit entry of a refusal (hashes what `auditFieldsOfDenied` gives). */
export function deniedEntryOf(seq: number, actor: string, d: z.infer<typeof SecretDeniedPayload>): SecretAuditEntry {
  return { seq, ...deniedFieldsOf(actor, d, d.audit.at, d.audit.prevHash), hash: d.audit.hash };
}

/** What the hash of a refusal covers. */
export function deniedFieldsOf(
  actor: string,
  d: Omit<z.infer<typeof SecretDeniedPayload>, 'audit'>,
  time: string,
  prevHash: string,
): AuditFields {
  return {
    prevHash,
    time,
    actor,
    action: 'denied',
    ...(d.secretId !== undefined ? { secretId: d.secretId } : {}),
    ...(d.secretName !== undefined ? { secretName: d.secretName } : {}),
    ...(d.environment !== undefined ? { environment: d.environment } : {}),
    ...(d.version !== undefined ? { version: d.version } : {}),
    outcome: d.outcome,
    attempted: d.attempted,
    reason: d.reason,
  };
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

/** One period after the newest version was written (a restore or policy change keeps that base). */
function setNextRotation(secret: SecretMetadata): void {
  const days = rotationDays(secret.rotation);
  const base = Math.max(...secret.versions.map((v) => Date.parse(v.createdAt)));
  if (days === undefined) delete secret.nextRotation;
  else secret.nextRotation = new Date(base + days * DAY_MS).toISOString();
}
