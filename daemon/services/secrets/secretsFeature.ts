import {
  CreateSecret,
  DeleteSecret,
  GetSecret,
  ListSecrets,
  RevealSecret,
  RollbackSecret,
  RotateMasterKey,
  RotateSecret,
  SecretsAuditRequest,
  VerifySecretsAudit,
} from '../../protocol/secrets';
import type { DaemonFeature } from '../../server/feature';
import { LocalVault } from './localVault';
import { SecretsProjection } from './secretsProjection';
import { SecretsService } from './secretsService';

export interface SecretsFeatureOptions {
  /** Where the master key variables are read (`process.env` in the daemon). */
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
    register({ router, rest, store, clock, config, log }) {
      const vault = LocalVault.open({ dataDir: config.dataDir, env: options.env, now: () => clock.now() });
      const pruned = vault.retainOnly((id, version) => projection.get(id)?.versions.some((v) => v.version === version) ?? false);
      if (pruned > 0) log.info(`secrets: removed ${pruned} vault entries no event refers to`);
      log.info(`secrets: local vault opened (master key from ${vault.keySource})`);
      const secrets = new SecretsService(store, projection, vault, clock);
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
        .on(RotateMasterKey, (_p, ctx) => secrets.rotateMasterKey(ctx.actor));
      rest.get('/api/config/secrets/audit', SecretsAuditRequest, ({ query: q }) => ({
        secretId: q.str('secretId') ?? q.str('secret_id'),
        actor: q.str('actor'),
        limit: q.num('limit'),
      }));
    },
  };
}
