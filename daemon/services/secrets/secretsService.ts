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
import type { SecretsBackendInfo } from '../../protocol/secrets';
import type * as z from 'zod';
import type { ParsedParamsOf } from '../../protocol/define';
import type { Clock } from '../shared/clock';
import type { EventStore } from '../../store/types';
import { GENESIS_HASH, auditHash, verifyAuditChain, type ChainVerdict } from './auditChain';
import { BackendGateway } from './backends/backendGateway';
import { LocalBackend } from './backends/localBackend';
import type { SecretBackend as Backend, SecretLocator } from './backends/secretBackend';
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

/** The backend's idempotency id of one of our versions (AWS ClientRequestToken: 32..64 characters). */
export const idempotencyKeyOf = (secretId: string, version: number) => `cogniforge-${secretId}-v${String(version).padStart(6, '0')}`;

/**
 * Secrets in their backend (local vault, HashiCorp Vault, AWS Secrets Manager). Commands run one at
 * a time (the audit chain and check-and-set need a single writer); each writes the value to the
 * backend first, then appends an event that carries only a version reference, and answers once that
 * event is durable. A backend that fails leaves nothing appended. Values never reach an event, an
 * error or a log.
 */
export class SecretsService {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly backends: BackendGateway;

  constructor(
    private readonly store: EventStore,
    private readonly projection: SecretsProjection,
    private readonly vault: LocalVault,
    private readonly clock: Clock,
    backends?: BackendGateway,
  ) {
    this.backends = backends ?? new BackendGateway('local', [new LocalBackend(vault)], undefined, 10_000);
  }

  create(p: ParsedParamsOf<typeof CreateSecret>, actor: string): Promise<SecretMetadata> {
    if (p.value !== undefined && p.generate === true) throw invalid('secrets/create', 'generate', 'give either a value or generate: true, not both');
    if (p.value === undefined && p.generate === false) throw invalid('secrets/create', 'value', 'required when generate is false');
    const backend = this.backends.get(p.backend ?? this.backends.defaultBackend);
    return this.serial(async () => {
      if (this.projection.byName(p.name, p.environment)) {
        throw new RpcError(ErrorCode.Duplicate, `a secret named "${p.name}" already exists in environment "${p.environment}"`, {
          name: p.name,
          environment: p.environment,
        });
      }
      const value = p.value ?? this.generated('secrets/create', p.type);
      const secretId = `sec_${randomBytes(8).toString('hex')}`;
      const locator: SecretLocator = { secretId, name: p.name, environment: p.environment };
      const written = await this.backends.call(backend, { idempotent: false, what: `create ${p.name}` }, (signal) =>
        backend.write(locator, { version: 1, value, expectedCurrentRef: undefined, idempotencyKey: idempotencyKeyOf(secretId, 1) }, signal),
      );
      const remote = backend.name !== 'local';
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
            backend: backend.name,
            ...(remote ? { location: written.location, ref: written.ref } : {}),
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
      const value = await this.readValue(secret, version);
      return this.writeVersion(secret, value, actor, SecretEvents.rolledBack, version);
    });
  }

  /** The value, after the audit event recording this read is durable. */
  reveal(id: string, version: number | undefined, actor: string): Promise<{ id: string; version: number; value: string }> {
    return this.serial(async () => {
      const secret = this.mustGet(id);
      const v = version ?? secret.currentVersion;
      this.mustHaveVersion(secret, v);
      const value = await this.readValue(secret, v);
      await this.store.append([
        { type: SecretEvents.revealed, actor, payload: { secretId: id, version: v, audit: this.link(actor, 'revealed', secret, v) } },
      ]);
      return { id, version: v, value };
    });
  }

  delete(id: string, actor: string): Promise<{ ok: true }> {
    return this.serial(async () => {
      const secret = this.mustGet(id);
      const backend = this.backendOf(secret);
      const refs = secret.versions.map((v) => this.refOf(secret, v.version));
      const remove = () =>
        this.backends.call(backend, { idempotent: false, what: `delete ${secret.name}` }, (signal) =>
          backend.delete(this.locatorOf(secret), refs, signal),
        );
      // A remote delete is recoverable (Vault soft delete, AWS recovery window) and may fail: first, so
      // a backend that is down leaves the secret as it was. The local file forgets for good: after the
      // event, and a crash in between leaves entries that start-up prunes (no live secret names them).
      if (backend.name !== 'local') await remove();
      await this.store.append([
        { type: SecretEvents.deleted, actor, payload: { secretId: id, audit: this.link(actor, 'deleted', secret, undefined) } },
      ]);
      if (backend.name === 'local') await remove();
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

  /** Every backend, configured or not, with a health call to each configured one (through its policy). */
  async backendsStatus(): Promise<{ backends: z.infer<typeof SecretsBackendInfo>[] }> {
    const out = await Promise.all(
      this.backends.describe().map(async (d) => {
        if (!d.configured) return d;
        const backend = this.backends.get(d.name);
        try {
          const h = await this.backends.call(backend, { idempotent: true, what: 'health check' }, (signal) => backend.health(signal));
          return { ...d, healthy: h.ok, detail: h.detail };
        } catch (e) {
          return { ...d, healthy: false, detail: e instanceof Error ? e.message : String(e) };
        }
      }),
    );
    return { backends: out };
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
    const backend = this.backendOf(secret);
    const written = await this.backends.call(backend, { idempotent: false, what: `write version ${version} of ${secret.name}` }, (signal) =>
      backend.write(
        this.locatorOf(secret),
        { version, value, expectedCurrentRef: this.refOf(secret, secret.currentVersion), idempotencyKey: idempotencyKeyOf(secret.id, version) },
        signal,
      ),
    );
    const action = type === SecretEvents.rotated ? 'rotated' : 'rolledBack';
    await this.store.append([
      {
        type,
        actor,
        payload: {
          secretId: secret.id,
          version,
          ...(backend.name !== 'local' ? { ref: written.ref } : {}),
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

  private readValue(secret: SecretMetadata, version: number): Promise<string> {
    const backend = this.backendOf(secret);
    return this.backends.call(backend, { idempotent: true, what: `read version ${version} of ${secret.name}` }, (signal) =>
      backend.read(this.locatorOf(secret), this.refOf(secret, version), signal),
    );
  }

  private backendOf(secret: SecretMetadata): Backend {
    return this.backends.get(secret.backend);
  }

  private locatorOf(secret: SecretMetadata): SecretLocator {
    return { secretId: secret.id, name: secret.name, environment: secret.environment, ...(secret.location ? { location: secret.location } : {}) };
  }

  /** The backend's reference of one of our versions (for local, the number itself). */
  private refOf(secret: SecretMetadata, version: number): string {
    return secret.versions.find((v) => v.version === version)?.backendRef ?? String(version);
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
