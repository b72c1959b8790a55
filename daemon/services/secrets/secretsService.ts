import { randomBytes } from 'node:crypto';
import { ErrorCode, RpcError } from '../../protocol';
import type {
  SecretAuditEntry,
  CreateSecret,
  RotateManySecrets,
  RotateSecret,
  SecretMetadata,
  SecretRotationHook,
  SecretType,
  SecretsAuditRequest,
  UpdateSecret,
} from '../../protocol/secrets';
import type { DueSecret, SecretHistoryEntry } from '../../protocol/secrets';
import type { SecretsBackendInfo } from '../../protocol/secrets';
import type * as z from 'zod';
import type { ParsedParamsOf } from '../../protocol/define';
import type { Clock } from '../shared/clock';
import type { EventStore } from '../../store/types';
import { GENESIS_HASH, auditHash, verifyAuditChain, type ChainVerdict } from './auditChain';
import { AwsSecretsManagerBackend } from './backends/awsSecretsManager';
import { BackendGateway } from './backends/backendGateway';
import { LocalBackend } from './backends/localBackend';
import type { SecretBackend as Backend, SecretLocator } from './backends/secretBackend';
import { VaultError, type LocalVault } from './localVault';
import type { RotationHookRunner } from './rotationHooks';
import type { SecretsProjection } from './secretsProjection';
import {
  AuditLink,
  SecretCreatedPayload,
  SecretDeniedPayload,
  SecretEvents,
  auditActionOf,
  auditEntryOf,
  auditFieldsOf,
  deniedEntryOf,
  deniedFieldsOf,
} from './secretsProjection';
import { generateSecretValue } from './valueGenerator';

const HOUR_MS = 3_600_000;

/** Grace period of a replaced version when neither the secret nor the daemon sets one, hours. */
export const DEFAULT_GRACE_HOURS = 24;

export interface SecretsServiceOptions {
  /** Grace period for secrets whose policy sets none, hours (`SECRETS_ROTATION_GRACE_HOURS`). */
  graceHours?: number;
  /** Runs rotation hooks; without it hooks are stored but not run. */
  hooks?: RotationHookRunner;
  /** Secrets per chunk of a bulk rotation (one vault write, one append); default 25. */
  chunkSize?: number;
  /** Told after every change that can move a rotation or grace deadline. */
  onDeadlinesChanged?: () => void;
  /** Where hook failures are reported (never with a value). */
  log?: (level: 'info' | 'warn', message: string) => void;
}

/** Hooks run at most this many at a time (a bulk rotation must not fork a thousand processes). */
const HOOK_CONCURRENCY = 4;

type HistoryEntry = z.infer<typeof SecretHistoryEntry>;
type DueSecretInfo = z.infer<typeof DueSecret>;
type RotateManyParams = ParsedParamsOf<typeof RotateManySecrets>;
type RotateManyOutcome = { id: string; ok: boolean; version?: number; error?: { code: number; message: string } };
type Link = { at: string; prevHash: string; hash: string };

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
  /** Secrets a rotation holds (queued or running): a second rotation of one of them gets Conflict. */
  private readonly rotating = new Set<string>();
  private readonly hookQueue: (() => Promise<void>)[] = [];
  private hooksRunning = 0;
  private hooksDrained: (() => void)[] = [];
  private readonly graceHours: number;
  private readonly chunkSize: number;

  constructor(
    private readonly store: EventStore,
    private readonly projection: SecretsProjection,
    private readonly vault: LocalVault,
    private readonly clock: Clock,
    backends?: BackendGateway,
    private readonly options: SecretsServiceOptions = {},
  ) {
    this.backends = backends ?? new BackendGateway('local', [new LocalBackend(vault)], undefined, 10_000);
    this.graceHours = options.graceHours ?? DEFAULT_GRACE_HOURS;
    this.chunkSize = options.chunkSize ?? 25;
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
      this.deadlinesChanged();
      return this.mustGet(secretId);
    });
  }

  update(p: ParsedParamsOf<typeof UpdateSecret>, actor: string): Promise<SecretMetadata> {
    return this.serial(async () => {
      const secret = this.mustGet(p.id);
      await this.store.append([
        {
          type: SecretEvents.updated,
          actor,
          payload: { secretId: secret.id, ...(p.rotation ? { rotation: p.rotation } : {}), ...(p.tags ? { tags: p.tags } : {}) },
        },
      ]);
      this.deadlinesChanged();
      return this.mustGet(secret.id);
    });
  }

  setHook(id: string, hook: SecretRotationHook | null, actor: string): Promise<SecretMetadata> {
    return this.serial(async () => {
      const secret = this.mustGet(id);
      await this.store.append([{ type: SecretEvents.hookSet, actor, payload: { secretId: secret.id, hook } }]);
      return this.mustGet(secret.id);
    });
  }

  /** Newest first. */
  history(id: string, limit: number): { entries: HistoryEntry[] } {
    this.mustGet(id);
    return { entries: this.projection.historyOf(id).slice(-limit).reverse() };
  }

  /** Secrets whose `nextRotation` is at most `withinHours` away (the scheduler rotates those with 0). */
  dueForRotation(withinHours: number, environment?: string): { asOf: string; secrets: DueSecretInfo[] } {
    const now = this.clock.now();
    const horizon = now + withinHours * HOUR_MS;
    const secrets = this.projection
      .all()
      .filter((s) => s.nextRotation !== undefined && Date.parse(s.nextRotation) <= horizon && (!environment || s.environment === environment))
      .map((s) => ({
        id: s.id,
        name: s.name,
        environment: s.environment,
        backend: s.backend,
        nextRotation: s.nextRotation!,
        overdueMs: now - Date.parse(s.nextRotation!),
      }))
      .sort((a, b) => b.overdueMs - a.overdueMs);
    return { asOf: new Date(now).toISOString(), secrets };
  }

  /** The earliest `nextRotation` of any secret (epoch ms), for the rotation timer. */
  nextRotationDue(): number | undefined {
    let min: number | undefined;
    for (const s of this.projection.all()) {
      if (s.nextRotation === undefined || s.origin !== undefined) continue;
      const t = Date.parse(s.nextRotation);
      if (min === undefined || t < min) min = t;
    }
    return min;
  }

  /** The earliest end of a grace period (epoch ms), for the deprecation timer. */
  nextGraceEnd(): number | undefined {
    let min: number | undefined;
    for (const s of this.projection.all()) {
      if (s.origin !== undefined) continue;
      for (const v of s.versions) {
        if (v.state !== 'previous' || v.graceUntil === undefined) continue;
        const t = Date.parse(v.graceUntil);
        if (min === undefined || t < min) min = t;
      }
    }
    return min;
  }

  /** Deprecate every `previous` version whose grace period has ended. Answers how many. */
  deprecateExpired(actor = 'scheduler'): Promise<number> {
    return this.serial(async () => {
      const now = this.clock.now();
      const events = [];
      for (const s of this.projection.all()) {
        // Team mode: the daemon a shared secret was created on runs its deadlines (nobody does them twice).
        if (s.origin !== undefined) continue;
        for (const v of s.versions) {
          if (v.state === 'previous' && v.graceUntil !== undefined && Date.parse(v.graceUntil) <= now) {
            events.push({ type: SecretEvents.versionDeprecated, actor, payload: { secretId: s.id, version: v.version } });
          }
        }
      }
      if (events.length > 0) await this.store.append(events);
      this.deadlinesChanged();
      return events.length;
    });
  }

  /** Rotate every secret due now, once each however many periods were missed. */
  rotateDue(actor = 'scheduler'): Promise<{ rotated: number; failed: number; results: RotateManyOutcome[] }> {
    // Team mode: a teammate's shared secret is rotated on schedule by the daemon it was created on.
    const ids = this.dueForRotation(0).secrets.filter((s) => this.projection.get(s.id)?.origin === undefined).map((s) => s.id);
    return this.rotateIds(ids, actor);
  }

  rotateMany(p: RotateManyParams, actor: string): Promise<{ rotated: number; failed: number; results: RotateManyOutcome[] }> {
    if (p.due) return this.rotateDue(actor);
    if (p.ids) {
      for (const id of p.ids) this.mustGet(id);
      return this.rotateIds([...new Set(p.ids)], actor);
    }
    const f = p.filter ?? {};
    const ids = this.projection
      .all()
      .filter((s) => (!f.environment || s.environment === f.environment) && (!f.type || s.type === f.type) && (!f.backend || s.backend === f.backend))
      .map((s) => s.id);
    return this.rotateIds(ids, actor);
  }

  /**
   * Bulk rotation in chunks: each chunk is one serial step (one vault file write, one append), and
   * the event loop gets a turn between chunks, so other calls (and other secrets commands) run in
   * between instead of waiting for the whole batch.
   */
  private async rotateIds(ids: readonly string[], actor: string): Promise<{ rotated: number; failed: number; results: RotateManyOutcome[] }> {
    const results: RotateManyOutcome[] = [];
    const mine: string[] = [];
    for (const id of ids) {
      if (this.rotating.has(id)) results.push({ id, ok: false, error: this.inFlightConflict(id).toJSON() });
      else {
        this.rotating.add(id);
        mine.push(id);
      }
    }
    try {
      for (let i = 0; i < mine.length; i += this.chunkSize) {
        const chunk = mine.slice(i, i + this.chunkSize);
        results.push(...(await this.serial(() => this.rotateChunk(chunk, actor))));
        for (const id of chunk) this.rotating.delete(id);
        await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      for (const id of mine) this.rotating.delete(id);
    }
    if (mine.length > 0) this.deadlinesChanged();
    const rotated = results.filter((r) => r.ok).length;
    return { rotated, failed: results.length - rotated, results };
  }

  private async rotateChunk(ids: readonly string[], actor: string): Promise<RotateManyOutcome[]> {
    const out: RotateManyOutcome[] = [];
    const local: { secret: SecretMetadata; version: number; value: string }[] = [];
    const remote: { secret: SecretMetadata; version: number; value: string; ref: string }[] = [];
    for (const id of ids) {
      const secret = this.projection.get(id);
      if (!secret) {
        out.push({ id, ok: false, error: { code: ErrorCode.NotFound, message: `no secret with id ${id}` } });
        continue;
      }
      const value = generateSecretValue(secret.type);
      if (value === undefined) {
        out.push({ id, ok: false, error: { code: ErrorCode.FailedPrecondition, message: `a ${secret.type} cannot be generated; rotate it with a value` } });
        continue;
      }
      const version = nextVersionOf(secret);
      if (secret.backend === 'local') {
        local.push({ secret, version, value });
        continue;
      }
      try {
        const written = await this.writeToBackend(secret, version, value);
        remote.push({ secret, version, value, ref: written.ref });
      } catch (e) {
        out.push({ id, ok: false, error: errorOf(e) });
      }
    }
    if (local.length > 0) {
      const backend = this.backends.get('local');
      if (backend instanceof LocalBackend) await backend.writeMany(local.map((w) => ({ secretId: w.secret.id, version: w.version, value: w.value })));
      else for (const w of local) await this.writeToBackend(w.secret, w.version, w.value);
    }
    const written = [...local.map((w) => ({ ...w, ref: undefined as string | undefined })), ...remote];
    if (written.length === 0) return out;
    let head = this.projection.auditHead ?? GENESIS_HASH;
    const graceUntil = (s: SecretMetadata) => this.graceUntilFor(s);
    const events = written.map((w) => {
      const audit = this.link(actor, 'rotated', w.secret, w.version, head);
      head = audit.hash;
      return {
        type: SecretEvents.rotated,
        actor,
        payload: { secretId: w.secret.id, version: w.version, ...(w.ref !== undefined ? { ref: w.ref } : {}), graceUntil: graceUntil(w.secret), audit },
      };
    });
    await this.store.append(events);
    for (const w of written) {
      out.push({ id: w.secret.id, ok: true, version: w.version });
      this.runHook(w.secret.id, w.version, w.value);
    }
    return out;
  }

  /** Record a refused or failed call in the audit chain (and the secret's history when it names one). */
  recordDenied(
    attempted: string,
    actor: string,
    error: RpcError,
    target: { secretId?: string; version?: number } = {},
  ): Promise<void> {
    const outcome = error.code === ErrorCode.BackendUnavailable || error.code === ErrorCode.Timeout ? 'failed' : 'denied';
    return this.serial(async () => {
      const secret = target.secretId !== undefined ? this.projection.get(target.secretId) : undefined;
      const d = {
        ...(target.secretId !== undefined ? { secretId: target.secretId } : {}),
        ...(secret ? { secretName: secret.name, environment: secret.environment } : {}),
        ...(target.version !== undefined ? { version: target.version } : {}),
        outcome,
        attempted,
        reason: error.message.slice(0, 500),
      } as const;
      const at = new Date(this.clock.now()).toISOString();
      const prevHash = this.projection.auditHead ?? GENESIS_HASH;
      const hash = auditHash(deniedFieldsOf(actor, d, at, prevHash));
      await this.store.append([{ type: SecretEvents.denied, actor, payload: SecretDeniedPayload.parse({ ...d, audit: { at, prevHash, hash } }) }]);
    });
  }

  /** Resolves once every queued and running hook has finished and its result is recorded. */
  hooksIdle(): Promise<void> {
    if (this.hooksRunning === 0 && this.hookQueue.length === 0) return Promise.resolve();
    return new Promise((r) => this.hooksDrained.push(r));
  }

  private runHook(secretId: string, version: number, value: string): void {
    const secret = this.projection.get(secretId);
    const hook = secret?.hook;
    const runner = this.options.hooks;
    if (!secret || !hook || !runner) return;
    const delivery = { secret: { id: secret.id, name: secret.name, environment: secret.environment, type: secret.type }, version, value };
    this.hookQueue.push(async () => {
      const run = await runner.run(hook, delivery);
      if (!run.ok) this.options.log?.('warn', `secrets: rotation hook of ${secret.name} (${secret.environment}) version ${version} failed: ${run.error ?? ''}`);
      await this.store.append([{ type: SecretEvents.hookRan, actor: 'system', payload: { secretId, run } }]);
    });
    this.pumpHooks();
  }

  private pumpHooks(): void {
    while (this.hooksRunning < HOOK_CONCURRENCY && this.hookQueue.length > 0) {
      const job = this.hookQueue.shift()!;
      this.hooksRunning++;
      void job()
        .catch((e: unknown) => this.options.log?.('warn', `secrets: could not record a rotation hook result: ${e instanceof Error ? e.message : String(e)}`))
        .finally(() => {
          this.hooksRunning--;
          this.pumpHooks();
          if (this.hooksRunning === 0 && this.hookQueue.length === 0) {
            for (const r of this.hooksDrained.splice(0)) r();
          }
        });
    }
  }

  private graceUntilFor(secret: SecretMetadata): string {
    const hours = secret.rotation.graceHours ?? this.graceHours;
    return new Date(this.clock.now() + hours * HOUR_MS).toISOString();
  }

  private inFlightConflict(id: string): RpcError {
    const name = this.projection.get(id)?.name ?? id;
    return new RpcError(ErrorCode.Conflict, `secret ${name} is being rotated by another call; try again when it finishes`, { id, reason: 'rotationInProgress' });
  }

  private deadlinesChanged(): void {
    this.options.onDeadlinesChanged?.();
  }

  list(filter: { environment?: string; type?: SecretType }): SecretMetadata[] {
    return this.projection.all().filter((s) => (!filter.environment || s.environment === filter.environment) && (!filter.type || s.type === filter.type));
  }

/** Whether a secret with this id exists (for naming it in a refusal read from raw params). */
  has(id: string): boolean {
    return this.projection.get(id) !== undefined;
  }

    get(id: string): SecretMetadata {
    return this.mustGet(id);
  }

  async rotate(p: ParsedParamsOf<typeof RotateSecret>, actor: string): Promise<SecretMetadata> {
    this.mustGet(p.id);
    if (this.rotating.has(p.id)) throw this.inFlightConflict(p.id);
    this.rotating.add(p.id);
    try {
      return await this.rotateHeld(p, actor);
    } finally {
      this.rotating.delete(p.id);
    }
  }

  private rotateHeld(p: ParsedParamsOf<typeof RotateSecret>, actor: string): Promise<SecretMetadata> {
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
      this.mustBeReadable(secret, version);
      const value = await this.readValue(secret, version);
      return this.writeVersion(secret, value, actor, SecretEvents.rolledBack, version);
    });
  }

  /**
   * Undo the last rotation. AWS moves AWSCURRENT back to the AWSPREVIOUS version and the local vault
   * moves its pointer (no new version either way); Vault has no "current" pointer to move, so it gets
   * Vault's rollback: the previous data written as a new version.
   */
  restorePrevious(id: string, actor: string): Promise<SecretMetadata> {
    return this.serial(async () => {
      const secret = this.mustGet(id);
      const previous = secret.versions.filter((v) => v.state === 'previous').at(-1);
      if (!previous) {
        throw new RpcError(ErrorCode.FailedPrecondition, `secret ${secret.name} has no previous version to restore (its grace period may be over: roll back instead)`, {
          id,
          versions: secret.versions.map((v) => ({ version: v.version, state: v.state })),
        });
      }
      this.mustBeReadable(secret, previous.version);
      if (secret.backend === 'hashicorp') {
        const value = await this.readValue(secret, previous.version);
        return this.writeVersion(secret, value, actor, SecretEvents.rolledBack, previous.version);
      }
      if (secret.backend === 'aws') {
        const backend = this.backendOf(secret);
        if (!(backend instanceof AwsSecretsManagerBackend)) throw new RpcError(ErrorCode.InternalError, 'aws backend misconfigured');
        const moved = await this.backends.call(backend, { idempotent: false, what: `restore the previous version of ${secret.name}` }, (signal) =>
          backend.restorePrevious(this.locatorOf(secret), signal),
        );
        if (moved !== previous.backendRef) {
          throw new RpcError(ErrorCode.Conflict, `AWSPREVIOUS of ${secret.name} was ${moved}, not version ${previous.version} (${previous.backendRef ?? '?'}): changed outside CogniForge`, { id });
        }
      }
      await this.store.append([
        {
          type: SecretEvents.restored,
          actor,
          payload: {
            secretId: id,
            version: previous.version,
            fromVersion: secret.currentVersion,
            graceUntil: this.graceUntilFor(secret),
            audit: this.link(actor, 'restored', secret, previous.version),
          },
        },
      ]);
      this.deadlinesChanged();
      return this.mustGet(id);
    });
  }

  /** Soft delete, undelete or destroy one non-current version, in the backend first. */
  versionAction(id: string, version: number, action: 'delete' | 'undelete' | 'destroy', actor: string): Promise<SecretMetadata> {
    return this.serial(async () => {
      const secret = this.mustGet(id);
      this.mustHaveVersion(secret, version);
      const v = secret.versions.find((x) => x.version === version)!;
      if (v.destroyed) throw new RpcError(ErrorCode.FailedPrecondition, `version ${version} of ${secret.name} is destroyed`, { id, version });
      if (action !== 'undelete' && version === secret.currentVersion) {
        throw new RpcError(ErrorCode.FailedPrecondition, `version ${version} of ${secret.name} is current: rotate or roll back first`, { id, version });
      }
      if (action === 'delete' && v.deleted) throw new RpcError(ErrorCode.FailedPrecondition, `version ${version} of ${secret.name} is already deleted`, { id, version });
      if (action === 'undelete' && !v.deleted) throw new RpcError(ErrorCode.FailedPrecondition, `version ${version} of ${secret.name} is not deleted`, { id, version });
      if (secret.backend === 'aws') {
        throw new RpcError(
          ErrorCode.FailedPrecondition,
          `AWS Secrets Manager cannot ${action} a single version of ${secret.name}: it keeps versions by staging label (use secrets/restorePrevious, or delete the secret)`,
          { id, version, backend: 'aws' },
        );
      }
      if (secret.backend === 'hashicorp') {
        const backend = this.backendOf(secret);
        const ref = [this.refOf(secret, version)];
        await this.backends.call(backend, { idempotent: true, what: `${action} version ${version} of ${secret.name}` }, (signal) =>
          action === 'delete' ? backend.delete(this.locatorOf(secret), ref, signal) : action === 'undelete' ? backend.restore(this.locatorOf(secret), ref, signal) : backend.destroy(this.locatorOf(secret), ref, signal),
        );
      }
      const type = action === 'delete' ? SecretEvents.versionDeleted : action === 'undelete' ? SecretEvents.versionUndeleted : SecretEvents.versionDestroyed;
      const auditAction = action === 'delete' ? 'versionDeleted' : action === 'undelete' ? 'versionUndeleted' : 'versionDestroyed';
      await this.store.append([{ type, actor, payload: { secretId: id, version, audit: this.link(actor, auditAction, secret, version) } }]);
      // The local file forgets a destroyed version after the event: a crash in between leaves an entry
      // that nothing can read (the projection says destroyed), erased by the next destroy or delete.
      if (action === 'destroy' && secret.backend === 'local') this.vault.removeVersion(id, version);
      return this.mustGet(id);
    });
  }

  /** The value, after the audit event recording this read is durable. */
  reveal(id: string, version: number | undefined, actor: string): Promise<{ id: string; version: number; value: string }> {
    return this.serial(async () => {
      const secret = this.mustGet(id);
      const v = version ?? secret.currentVersion;
      this.mustHaveVersion(secret, v);
      this.mustBeReadable(secret, v);
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
      this.deadlinesChanged();
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
        if (ev.type === SecretEvents.denied) {
          const denied = SecretDeniedPayload.safeParse(ev.payload);
          if (!denied.success) return { ok: false, entries: entries.length + 1, brokenAtSeq: ev.seq, reason: 'a refusal entry is malformed' };
          entries.push(deniedEntryOf(ev.seq, ev.actor, denied.data));
          continue;
        }
        const link = AuditLink.safeParse(payload?.audit);
        if (ev.type === SecretEvents.created) {
          const created = SecretCreatedPayload.safeParse(ev.payload);
          if (created.success) names.set(created.data.secretId, { id: created.data.secretId, name: created.data.name, environment: created.data.environment });
        }
        // Team mode: a teammate's change belongs to its own daemon's chain, not to this one.
        if (ev.origin !== undefined) continue;
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
    const version = nextVersionOf(secret);
    const backend = this.backendOf(secret);
    const written = await this.writeToBackend(secret, version, value);
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
          graceUntil: this.graceUntilFor(secret),
          audit: this.link(actor, action, secret, version),
        },
      },
    ]);
    this.deadlinesChanged();
    this.runHook(secret.id, version, value);
    return this.mustGet(secret.id);
  }

  private writeToBackend(secret: SecretMetadata, version: number, value: string) {
    const backend = this.backendOf(secret);
    return this.backends.call(backend, { idempotent: false, what: `write version ${version} of ${secret.name}` }, (signal) =>
      backend.write(
        this.locatorOf(secret),
        { version, value, expectedCurrentRef: this.refOf(secret, secret.currentVersion), idempotencyKey: idempotencyKeyOf(secret.id, version) },
        signal,
      ),
    );
  }

  /** The next link of the audit chain; valid because commands run one at a time. */
  private link(
    actor: string,
    action: SecretAuditEntry['action'],
    secret: Pick<SecretMetadata, 'id' | 'name' | 'environment'>,
    version: number | undefined,
    prevHash: string = this.projection.auditHead ?? GENESIS_HASH,
  ): Link {
    const at = new Date(this.clock.now()).toISOString();
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

  private mustBeReadable(secret: SecretMetadata, version: number): void {
    const v = secret.versions.find((x) => x.version === version);
    if (v?.destroyed || v?.deleted) {
      throw new RpcError(ErrorCode.FailedPrecondition, `version ${version} of ${secret.name} is ${v.destroyed ? 'destroyed' : 'deleted (secrets/undeleteVersion restores it)'}`, {
        id: secret.id,
        version,
      });
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function nextVersionOf(secret: SecretMetadata): number {
  return Math.max(...secret.versions.map((v) => v.version)) + 1;
}

function errorOf(e: unknown): { code: number; message: string } {
  if (e instanceof RpcError) return { code: e.code, message: e.message };
  return { code: ErrorCode.InternalError, message: e instanceof Error ? e.message : String(e) };
}
