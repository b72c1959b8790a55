import { ErrorCode, RpcError } from '../../protocol';
import {
  CreateSecret,
  DeleteSecret,
  DeleteSecretVersion,
  DestroySecretVersion,
  DueForRotation,
  GetSecret,
  RestorePreviousSecret,
  RotateManySecrets,
  SecretHistory,
  SetSecretHook,
  UndeleteSecretVersion,
  UpdateSecret,
  ListSecrets,
  ListSecretsBackends,
  RevealSecret,
  RollbackSecret,
  RotateMasterKey,
  RotateSecret,
  SecretsAuditRequest,
  VerifySecretsAudit,
} from '../../protocol/secrets';
import type { DaemonFeature } from '../../server/feature';
import { BackendGateway } from './backends/backendGateway';
import { LocalBackend } from './backends/localBackend';
import { parseBackendSettings } from './backends/settings';
import { LocalVault } from './localVault';
import type { MasterKeyShare } from './masterKeyShare';
import { SecretEvents, SecretsProjection } from './secretsProjection';
import { teamModeRequested } from '../team/settings';
import { RotationHookRunner } from './rotationHooks';
import { RotationScheduler } from './rotationScheduler';
import { DEFAULT_GRACE_HOURS, SecretsService } from './secretsService';

/** Refusals that are audited: the caller reached a secret and was told no (or its backend did not answer). */
const AUDITED_REFUSALS = new Set<number>([
  ErrorCode.Forbidden,
  ErrorCode.Conflict,
  ErrorCode.NotFound,
  ErrorCode.FailedPrecondition,
  ErrorCode.Duplicate,
  ErrorCode.BackendUnavailable,
  ErrorCode.Timeout,
]);

/** `SECRETS_ROTATION_GRACE_HOURS`: hours a replaced version stays `previous`. */
export function parseGraceHours(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env.SECRETS_ROTATION_GRACE_HOURS;
  if (raw === undefined || raw.trim() === '') return DEFAULT_GRACE_HOURS;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 8760) {
    throw new Error(`SECRETS_ROTATION_GRACE_HOURS must be a number of hours from 0 to 8760 (got "${raw}")`);
  }
  return n;
}

/** Secret events that never leave their daemon in team mode. */
const TEAM_LOCAL_TYPES = new Set<string>([SecretEvents.revealed, SecretEvents.denied, SecretEvents.hookSet, SecretEvents.hookRan]);

export interface SecretsFeatureOptions {
  /** Where the master key and backend variables are read (`process.env` with `.env` under it, in the daemon). */
  env: Readonly<Record<string, string | undefined>>;
  /** Lends the vault's master key to other features (config's sensitive values); they re-encrypt on rotation. */
  masterKey?: MasterKeyShare;
}

/**
 * `secrets/*` over RPC and `GET /api/config/secrets/audit`. Start-up opens the local vault: a bad or
 * wrong master key stops the daemon with a message naming the variable or file, never the key.
 */
export function secretsFeature(options: SecretsFeatureOptions): DaemonFeature {
  const projection = new SecretsProjection(teamModeRequested(options.env));
  /** Shared secrets created by teammates whose creation this daemon accepted but may not have applied yet. */
  const acceptedShared = new Set<string>();
  let secrets: SecretsService | undefined;
  let rotationScheduler: RotationScheduler | undefined;
  let detachObserver: (() => void) | undefined;
  return {
    name: 'secrets',
    projections: [projection],
    reservedEventTypes: ['secret.**'],
    // Team mode: metadata of Vault and AWS secrets (teammates read the values from the same backend).
    // Local-vault secrets, reveals and refusals (each daemon audits its own), and rotation hooks
    // (commands and webhooks of one machine) stay on the daemon they happened on.
    team: {
      streams: ['config_events'],
      accepts: (e) => {
        if (!e.type.startsWith('secret.') || TEAM_LOCAL_TYPES.has(e.type)) return false;
        const p = e.payload as { secretId?: unknown; backend?: unknown } | null;
        const id = typeof p?.secretId === 'string' ? p.secretId : undefined;
        if (id === undefined) return false;
        if (e.type === SecretEvents.created) {
          if (p?.backend === 'local') return false;
          acceptedShared.add(id);
          return true;
        }
        const known = projection.get(id);
        return acceptedShared.has(id) || (known !== undefined && known.backend !== 'local');
      },
    },
    register({ router, rest, store, clock, config, log, policies, scheduler }) {
      const settings = parseBackendSettings(options.env);
      const graceHours = parseGraceHours(options.env);
      const vault = LocalVault.open({ dataDir: config.dataDir, env: options.env, now: () => clock.now(), keyShare: options.masterKey });
      const pruned = vault.retainOnly((id, version) => projection.get(id)?.versions.some((v) => v.version === version) ?? false);
      if (pruned > 0) log.info(`secrets: removed ${pruned} vault entries no event refers to`);
      log.info(`secrets: local vault opened (master key from ${vault.keySource})`);
      if (settings.aws && process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED === undefined) {
        // The AWS SDK prints a ten-line process warning on Node < 22; the daemon's log is one line per
        // entry, so it says the same once, in its own format, and switches the SDK's off.
        process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
        const major = Number(process.versions.node.split('.')[0]);
        if (major < 22) log.warn(`secrets: AWS SDK releases after January 2027 need Node >= 22 (running ${process.version}); the pinned ~3.1164 works on Node 20`);
      }
      const backends = BackendGateway.fromSettings(settings, new LocalBackend(vault), policies);
      const configured = backends
        .describe()
        .filter((b) => b.configured)
        .map((b) => `${b.name} (${b.address})`);
      log.info(`secrets: backends ${configured.join(', ')}; new secrets go to ${settings.defaultBackend}`);
      const hookLog = (level: 'info' | 'warn', message: string) => (level === 'warn' ? log.warn(message) : log.info(message));
      // The scheduler needs the service and the service reports to the scheduler: a late-bound slot.
      const rotations: { current?: RotationScheduler } = {};
      secrets = new SecretsService(store, projection, vault, clock, backends, {
        graceHours,
        hooks: new RotationHookRunner({ clock, policies, baseEnv: process.env }),
        onDeadlinesChanged: () => void rotations.current?.reconcile(),
        log: hookLog,
      });
      const service = secrets;
      rotationScheduler = rotations.current = new RotationScheduler(scheduler, service, clock, { log: hookLog });
      rotationScheduler.register();
      log.info(`secrets: replaced versions stay previous for ${graceHours} h unless a secret's policy says otherwise`);

      /** Run a command; a refusal that names a secret lands in the audit chain before the error is answered. */
      const audited = async <T>(method: string, actor: string, target: { secretId?: string; version?: number }, fn: () => Promise<T>): Promise<T> => {
        try {
          return await fn();
        } catch (e) {
          if (e instanceof RpcError && AUDITED_REFUSALS.has(e.code)) await service.recordDenied(method, actor, e, target);
          throw e;
        }
      };
      // Scope refusals happen in the router before any handler: heard here, naming the secret when
      // the raw params hold the id of one we have.
      detachObserver = router.observeCommands((call) => (outcome) => {
        if (!call.method.startsWith('secrets/') || outcome.ok) return;
        const e = outcome.error;
        if (e instanceof RpcError && e.code === ErrorCode.Forbidden) {
          // The params are unvalidated here: name the secret only when the id is one we hold.
          const raw = typeof call.params === 'object' && call.params !== null ? (call.params as Record<string, unknown>) : {};
          const secretId = typeof raw.id === 'string' && service.has(raw.id) ? raw.id : undefined;
          const version = typeof raw.version === 'number' && Number.isInteger(raw.version) && raw.version > 0 ? raw.version : undefined;
          // Returned, so the router answers once the refusal is in the audit.
          return service
            .recordDenied(call.method, call.actor, e, { ...(secretId ? { secretId } : {}), ...(secretId && version !== undefined ? { version } : {}) })
            .catch((err: unknown) => log.warn(`secrets: could not audit a refusal: ${String(err)}`));
        }
        return undefined;
      });

      router
        .on(CreateSecret, (p, ctx) => audited(CreateSecret.method, ctx.actor, {}, () => service.create(p, ctx.actor)))
        .on(ListSecrets, (p) => ({ secrets: service.list(p) }))
        .on(GetSecret, ({ id }) => service.get(id))
        .on(UpdateSecret, (p, ctx) => audited(UpdateSecret.method, ctx.actor, { secretId: p.id }, () => service.update(p, ctx.actor)))
        .on(SetSecretHook, (p, ctx) => audited(SetSecretHook.method, ctx.actor, { secretId: p.id }, () => service.setHook(p.id, p.hook, ctx.actor)))
        .on(RotateSecret, (p, ctx) => audited(RotateSecret.method, ctx.actor, { secretId: p.id }, () => service.rotate(p, ctx.actor)))
        .on(RotateManySecrets, (p, ctx) => audited(RotateManySecrets.method, ctx.actor, {}, () => service.rotateMany(p, ctx.actor)))
        .on(DueForRotation, ({ withinHours, environment }) => service.dueForRotation(withinHours, environment))
        .on(RollbackSecret, ({ id, version }, ctx) =>
          audited(RollbackSecret.method, ctx.actor, { secretId: id, version }, () => service.rollback(id, version, ctx.actor)),
        )
        .on(RestorePreviousSecret, ({ id }, ctx) => audited(RestorePreviousSecret.method, ctx.actor, { secretId: id }, () => service.restorePrevious(id, ctx.actor)))
        .on(DeleteSecretVersion, ({ id, version }, ctx) =>
          audited(DeleteSecretVersion.method, ctx.actor, { secretId: id, version }, () => service.versionAction(id, version, 'delete', ctx.actor)),
        )
        .on(UndeleteSecretVersion, ({ id, version }, ctx) =>
          audited(UndeleteSecretVersion.method, ctx.actor, { secretId: id, version }, () => service.versionAction(id, version, 'undelete', ctx.actor)),
        )
        .on(DestroySecretVersion, ({ id, version }, ctx) =>
          audited(DestroySecretVersion.method, ctx.actor, { secretId: id, version }, () => service.versionAction(id, version, 'destroy', ctx.actor)),
        )
        .on(RevealSecret, ({ id, version }, ctx) =>
          audited(RevealSecret.method, ctx.actor, { secretId: id, ...(version !== undefined ? { version } : {}) }, () => service.reveal(id, version, ctx.actor)),
        )
        .on(DeleteSecret, ({ id }, ctx) => audited(DeleteSecret.method, ctx.actor, { secretId: id }, () => service.delete(id, ctx.actor)))
        .on(SecretHistory, ({ id, limit }) => service.history(id, limit))
        .on(SecretsAuditRequest, (p) => ({ entries: service.audit(p) }))
        .on(VerifySecretsAudit, () => service.verifyAudit())
        .on(RotateMasterKey, (_p, ctx) => service.rotateMasterKey(ctx.actor))
        .on(ListSecretsBackends, () => service.backendsStatus());
      rest.get('/api/config/secrets/audit', SecretsAuditRequest, ({ query: q }) => ({
        secretId: q.str('secretId') ?? q.str('secret_id'),
        actor: q.str('actor'),
        limit: q.num('limit'),
      }));
    },
    async start() {
      // Timers are durable, but a crash between a change and its reschedule, or deadlines moved by
      // events replayed at start-up, are caught here.
      await rotationScheduler?.reconcile();
    },
    async close() {
      detachObserver?.();
      // Hook results still running are recorded if they finish soon; a slow hook does not hold the shutdown.
      if (secrets) await Promise.race([secrets.hooksIdle(), new Promise((r) => setTimeout(r, 5000).unref())]);
    },
  };
}
