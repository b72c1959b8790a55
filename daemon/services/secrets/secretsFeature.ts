import {
  CreateSecret,
  DeleteSecret,
  GetSecret,
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
import { SecretsProjection } from './secretsProjection';
import { SecretsService } from './secretsService';

export interface SecretsFeatureOptions {
  /** Where the master key and backend variables are read (`process.env` with `.env` under it, in the daemon). */
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * `secrets/*` over RPC and `GET /api/config/secrets/audit`. Start-up opens the local vault: a bad or
 * wrong master key stops the daemon with a message naming the variable or file, never the key.
 */
export function secretsFeature(options: SecretsFeatureOptions): DaemonFeature {
  const projection = new SecretsProjection();
  return {
    name: 'secrets',
    projections: [projection],
    reservedEventTypes: ['secret.**'],
    register({ router, rest, store, clock, config, log, policies }) {
      const settings = parseBackendSettings(options.env);
      const vault = LocalVault.open({ dataDir: config.dataDir, env: options.env, now: () => clock.now() });
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
      const secrets = new SecretsService(store, projection, vault, clock, backends);
      router
        .on(CreateSecret, (p, ctx) => secrets.create(p, ctx.actor))
        .on(ListSecrets, (p) => ({ secrets: secrets.list(p) }))
        .on(GetSecret, ({ id }) => secrets.get(id))
        .on(RotateSecret, (p, ctx) => secrets.rotate(p, ctx.actor))
        .on(RollbackSecret, ({ id, version }, ctx) => secrets.rollback(id, version, ctx.actor))
        .on(RevealSecret, ({ id, version }, ctx) => secrets.reveal(id, version, ctx.actor))
        .on(DeleteSecret, ({ id }, ctx) => secrets.delete(id, ctx.actor))
        .on(SecretsAuditRequest, (p) => ({ entries: secrets.audit(p) }))
        .on(VerifySecretsAudit, () => secrets.verifyAudit())
        .on(RotateMasterKey, (_p, ctx) => secrets.rotateMasterKey(ctx.actor))
        .on(ListSecretsBackends, () => secrets.backendsStatus());
      rest.get('/api/config/secrets/audit', SecretsAuditRequest, ({ query: q }) => ({
        secretId: q.str('secretId') ?? q.str('secret_id'),
        actor: q.str('actor'),
        limit: q.num('limit'),
      }));
    },
  };
}
