import { randomBytes } from 'node:crypto';
import { ErrorCode, RpcError } from '../../protocol';
import type {
  SecretAuditEntry,
  CreateSecret,
  RotateSecret,
  SecretMetadata,
  SecretType,
  SecretsAuditRequest,
} from '../../protocol/secrets';
import type { ParsedParamsOf } from '../../protocol/define';
import type { Clock } from '../shared/clock';
import type { EventStore } from '../../store/types';
import { GENESIS_HASH, auditHash, verifyAuditChain, type ChainVerdict } from './auditChain';
import { FernetError } from './fernet';
import { VaultError, type LocalVault } from './localVault';
import type {
  SecretsProjection} from './secretsProjection';
import {
  AuditLink,
  SecretCreatedPayload,
  SecretEvents,
  auditActionOf,
  auditEntryOf,
  auditFieldsOf,
} from './secretsProjection';
import { generateSecretValue } from './valueGenerator';

/** Not part of the audit chain: it names no secret, and carries only a count. */
export const MasterKeyRotated = 'secret.masterKeyRotated';

const invalid = (method: string, path: string, message: string) =>
  new RpcError(ErrorCode.InvalidParams, `Invalid params for ${method}: ${path}: ${message}`, { method, issues: [{ path, message }] });

/**
 * Secrets in the local vault. Commands run one at a time (the audit chain and check-and-set need a
 * single writer); each writes the vault file first, then appends an event that carries only a version
 * reference, and answers once that event is durable. Values never reach an event, an error or a log.
 */
export class SecretsService {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: EventStore,
    private readonly projection: SecretsProjection,
    private readonly vault: LocalVault,
    private readonly clock: Clock,
  ) {}

  create(p: ParsedParamsOf<typeof CreateSecret>, actor: string): Promise<SecretMetadata> {
    if (p.value !== undefined && p.generate === true) throw invalid('secrets/create', 'generate', 'give either a value or generate: true, not both');
    if (p.value === undefined && p.generate === false) throw invalid('secrets/create', 'value', 'required when generate is false');
    return this.serial(async () => {
      if (this.projection.byName(p.name, p.environment)) {
        throw new RpcError(ErrorCode.Duplicate, `a secret named "${p.name}" already exists in environment "${p.environment}"`, {
          name: p.name,
          environment: p.environment,
        });
      }
      const value = p.value ?? this.generated('secrets/create', p.type);
      const secretId = `sec_${randomBytes(8).toString('hex')}`;
      this.vault.put([{ secretId, version: 1, value }]);
      const meta = { id: secretId, name: p.name, environment: p.environment };
      await this.store.append([
        {
          type: SecretEvents.created,
          actor,
          payload: SecretCreatedPayload.parse({
            secretId,
            name: p.name,
            type: p.type,
            environment: p.environment,
            backend: 'local',
            rotation: p.rotation ?? { policy: 'never' },
            tags: p.tags ?? {},
            version: 1,
            audit: this.link(actor, 'created', meta, 1),
          }),
        },
      ]);
      return this.mustGet(secretId);
    });
  }

  list(filter: { environment?: string; type?: SecretType }): SecretMetadata[] {
    return this.projection.all().filter((s) => (!filter.environment || s.environment === filter.environment) && (!filter.type || s.type === filter.type));
  }

  get(id: string): SecretMetadata {
    return this.mustGet(id);
  }

  rotate(p: ParsedParamsOf<typeof RotateSecret>, actor: string): Promise<SecretMetadata> {
    return this.serial(async () => {
      const secret = this.mustGet(p.id);
      if (p.expectedVersion !== undefined && p.expectedVersion !== secret.currentVersion) {
        throw new RpcError(
          ErrorCode.Conflict,
          `secret ${secret.name} is at version ${secret.currentVersion}, not the expected ${p.expectedVersion}: another write won`,
          { id: secret.id, expectedVersion: p.expectedVersion, currentVersion: secret.currentVersion },
        );
      }
      const value = p.value ?? this.generated('secrets/rotate', secret.type);
      return this.writeVersion(secret, value, actor, SecretEvents.rotated);
    });
  }

  rollback(id: string, version: number, actor: string): Promise<SecretMetadata> {
    return this.serial(async () => {
      const secret = this.mustGet(id);
      this.mustHaveVersion(secret, version);
      if (version === secret.currentVersion) {
        throw new RpcError(ErrorCode.FailedPrecondition, `version ${version} of ${secret.name} is already current`, { id, version });
      }
      const value = this.readValue(secret, version);
      return this.writeVersion(secret, value, actor, SecretEvents.rolledBack, version);
    });
  }

  /** The value, after the audit event recording this read is durable. */
  reveal(id: string, version: number | undefined, actor: string): Promise<{ id: string; version: number; value: string }> {
    return this.serial(async () => {
      const secret = this.mustGet(id);
      const v = version ?? secret.currentVersion;
      this.mustHaveVersion(secret, v);
      const value = this.readValue(secret, v);
      await this.store.append([
        { type: SecretEvents.revealed, actor, payload: { secretId: id, version: v, audit: this.link(actor, 'revealed', secret, v) } },
      ]);
      return { id, version: v, value };
    });
  }

  delete(id: string, actor: string): Promise<{ ok: true }> {
    return this.serial(async () => {
      const secret = this.mustGet(id);
      await this.store.append([
        { type: SecretEvents.deleted, actor, payload: { secretId: id, audit: this.link(actor, 'deleted', secret, undefined) } },
      ]);
      // After the event: a crash in between leaves entries that start-up prunes (no live secret names them).
      this.vault.remove(id);
      return { ok: true as const };
    });
  }

  audit(p: ParsedParamsOf<typeof SecretsAuditRequest>): SecretAuditEntry[] {
    const out: SecretAuditEntry[] = [];
    const trail = this.projection.auditTrail();
    for (let i = trail.length - 1; i >= 0 && out.length < p.limit; i--) {
      const e = trail[i]!;
      if ((p.secretId === undefined || e.secretId === p.secretId) && (p.actor === undefined || e.actor === p.actor)) out.push(e);
    }
    return out;
  }

  /** Rebuild the audit entries from the event log itself and check the chain. */
  async verifyAudit(): Promise<ChainVerdict> {
    const entries: SecretAuditEntry[] = [];
    const names = new Map<string, { id: string; name: string; environment: string }>();
    let afterSeq = 0;
    for (;;) {
      const page = await this.store.query({ types: ['secret.**'], afterSeq }, { limit: 1000, order: 'asc' });
      for (const ev of page) {
        afterSeq = ev.seq;
        const action = auditActionOf(ev.type);
        if (!action) continue;
        const payload = ev.payload as { secretId?: unknown; version?: unknown; audit?: unknown };
        const link = AuditLink.safeParse(payload?.audit);
        if (ev.type === SecretEvents.created) {
          const created = SecretCreatedPayload.safeParse(ev.payload);
          if (created.success) names.set(created.data.secretId, { id: created.data.secretId, name: created.data.name, environment: created.data.environment });
        }
        const secret = typeof payload?.secretId === 'string' ? names.get(payload.secretId) : undefined;
        if (!link.success || !secret) {
          return { ok: false, entries: entries.length + 1, brokenAtSeq: ev.seq, reason: 'the event has no valid audit link or names an unknown secret' };
        }
        const version = typeof payload.version === 'number' ? payload.version : undefined;
        entries.push(auditEntryOf(ev.seq, ev.actor, action, secret, version, link.data));
      }
      if (page.length < 1000) break;
    }
    return verifyAuditChain(entries);
  }

  rotateMasterKey(actor: string): Promise<{ reencrypted: number }> {
    return this.serial(async () => {
      let result: { reencrypted: number };
      try {
        result = this.vault.rotateMasterKey();
      } catch (e) {
        if (e instanceof VaultError) throw new RpcError(ErrorCode.FailedPrecondition, e.message);
        throw e;
      }
      await this.store.append([{ type: MasterKeyRotated, actor, payload: result }]);
      return result;
    });
  }

  private async writeVersion(
    secret: SecretMetadata,
    value: string,
    actor: string,
    type: typeof SecretEvents.rotated | typeof SecretEvents.rolledBack,
    fromVersion?: number,
  ): Promise<SecretMetadata> {
    const version = Math.max(...secret.versions.map((v) => v.version)) + 1;
    this.vault.put([{ secretId: secret.id, version, value }]);
    const action = type === SecretEvents.rotated ? 'rotated' : 'rolledBack';
    await this.store.append([
      {
        type,
        actor,
        payload: {
          secretId: secret.id,
          version,
          ...(fromVersion !== undefined ? { fromVersion } : {}),
          audit: this.link(actor, action, secret, version),
        },
      },
    ]);
    return this.mustGet(secret.id);
  }

  /** The next link of the audit chain; valid because commands run one at a time. */
  private link(
    actor: string,
    action: SecretAuditEntry['action'],
    secret: Pick<SecretMetadata, 'id' | 'name' | 'environment'>,
    version: number | undefined,
  ): { at: string; prevHash: string; hash: string } {
    const at = new Date(this.clock.now()).toISOString();
    const prevHash = this.projection.auditHead ?? GENESIS_HASH;
    const hash = auditHash(auditFieldsOf(actor, action, secret, version, at, prevHash));
    return { at, prevHash, hash };
  }

  private generated(method: string, type: SecretType): string {
    const value = generateSecretValue(type);
    if (value === undefined) throw invalid(method, 'value', `a ${type} cannot be generated; pass its value`);
    return value;
  }

  private readValue(secret: SecretMetadata, version: number): string {
    if (!this.vault.has(secret.id, version)) {
      throw new RpcError(ErrorCode.FailedPrecondition, `the vault file has no entry for ${secret.name} version ${version}`, { id: secret.id, version });
    }
    try {
      return this.vault.read(secret.id, version);
    } catch (e) {
      if (e instanceof FernetError) {
        throw new RpcError(ErrorCode.FailedPrecondition, `vault entry for ${secret.name} version ${version}: ${e.message}`, {
          id: secret.id,
          version,
          reason: e.reason,
        });
      }
      throw e;
    }
  }

  private mustGet(id: string): SecretMetadata {
    const s = this.projection.get(id);
    if (!s) throw new RpcError(ErrorCode.NotFound, `no secret with id ${id}`, { kind: 'secret', id });
    return s;
  }

  private mustHaveVersion(secret: SecretMetadata, version: number): void {
    if (!secret.versions.some((v) => v.version === version)) {
      throw new RpcError(ErrorCode.NotFound, `secret ${secret.name} has no version ${version}`, {
        kind: 'secretVersion',
        id: secret.id,
        version,
        versions: secret.versions.map((v) => v.version),
      });
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
