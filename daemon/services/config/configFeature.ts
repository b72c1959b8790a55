import {
  ConfigHistory,
  CreateConfigEnvironment,
  DeleteConfig,
  DiffConfig,
  DidChangeConfig,
  ExportDotenv,
  GetConfig,
  ImportDotenv,
  ListConfig,
  ListConfigEnvironments,
  PromoteConfig,
  RollbackConfig,
  SetConfig,
  type NotificationParamsOf,
} from '../../protocol';
import type { DaemonFeature } from '../../server/feature';
import type { EventRecord } from '../../store/types';
import { ConfigEvent, ConfigProjection, EntryDeletedPayload, EntrySetPayload } from './configProjection';
import { ConfigService } from './configService';
import { FileSensitiveValues, type SensitiveKeyRing } from './sensitiveValues';

/** The `config/didChange` params of a stored event, or undefined for other events. Sensitive values stay out. */
export function didChangeOf(e: EventRecord): NotificationParamsOf<typeof DidChangeConfig> | undefined {
  if (e.type === ConfigEvent.EntrySet) {
    const p = EntrySetPayload.safeParse(e.payload);
    if (!p.success) return undefined;
    const { environment, key, version, sensitive, value } = p.data;
    return { environment, key, version, op: 'set', sensitive, ...(sensitive ? {} : { value }), seq: e.seq };
  }
  if (e.type === ConfigEvent.EntryDeleted) {
    const p = EntryDeletedPayload.safeParse(e.payload);
    if (!p.success) return undefined;
    const { environment, key, version, sensitive } = p.data;
    return { environment, key, version, op: 'delete', sensitive, seq: e.seq };
  }
  return undefined;
}

export interface ConfigFeatureOptions {
  /** The local vault's master key (the secrets feature fills it, so it registers first). */
  masterKey: SensitiveKeyRing;
}

/**
 * `config/*` over RPC and `/api/config/environments...` over REST: environments, versioned entries,
 * history, diff, rollback, promotion, `.env` import/export, and `config/didChange` to every client.
 * Values of sensitive entries stay out of the event log: they live in `<data-dir>/config/sensitive.json`,
 * each one a Fernet token under the local vault's master key.
 */
export function configFeature(options: ConfigFeatureOptions): DaemonFeature {
  const projection = new ConfigProjection();
  let service: ConfigService | undefined;
  let sensitiveStore: FileSensitiveValues | undefined;
  return {
    name: 'config',
    projections: [projection],
    reservedEventTypes: ['config.**'],
    async register({ router, rest, store, server, clock, config: daemonConfig, log }) {
      const sensitiveValues = await FileSensitiveValues.open(daemonConfig.dataDir, { keys: options.masterKey, now: () => clock.now() });
      sensitiveStore = sensitiveValues;
      const { migrated, reencrypted } = sensitiveValues.opened;
      if (migrated > 0) log.info(`config: encrypted ${migrated} sensitive values found in clear in ${sensitiveValues.file}`);
      if (reencrypted > 0) log.info(`config: moved ${reencrypted} sensitive value tokens to the current master key`);
      const pruned = await sensitiveValues.retainOnly((ref) =>
        projection.versions(ref.environment, ref.key).some((v) => v.version === ref.version && v.op === 'set' && v.sensitive),
      );
      if (pruned > 0) log.info(`config: removed ${pruned} sensitive values no event refers to`);
      const config = new ConfigService(store, projection, sensitiveValues);
      service = config;
      router
        .on(ListConfigEnvironments, ({ includeEntries }) => ({ environments: config.listEnvironments(includeEntries) }))
        .on(CreateConfigEnvironment, (p, ctx) => config.createEnvironment(p, ctx.actor))
        .on(SetConfig, (p, ctx) => config.set(p, ctx.actor))
        .on(DeleteConfig, (p, ctx) => config.delete(p, ctx.actor))
        .on(GetConfig, (p, ctx) => config.get(p, ctx))
        .on(ListConfig, (p) => config.list(p))
        .on(ConfigHistory, (p) => config.history(p))
        .on(DiffConfig, (p) => config.diff(p))
        .on(RollbackConfig, (p, ctx) => config.rollback(p, ctx.actor))
        .on(PromoteConfig, (p, ctx) => config.promote(p, ctx.actor))
        .on(ImportDotenv, (p, ctx) => config.importDotenv(p, ctx.actor))
        .on(ExportDotenv, (p, ctx) => config.exportDotenv(p, ctx));
      const env = '/api/config/environments/{environment}';
      rest
        .get('/api/config/environments', ListConfigEnvironments, ({ query }) => ({ includeEntries: query.bool('includeEntries') ?? true }))
        .post('/api/config/environments', CreateConfigEnvironment, { status: 201 })
        .get(env, ListConfig, ({ path, query }) => ({ environment: path.environment, prefix: query.str('prefix') }))
        .get(`${env}/history`, ConfigHistory, ({ path, query }) => ({
          environment: path.environment,
          limit: query.num('limit'),
          cursor: query.str('cursor'),
        }))
        .get(`${env}/entries/{key}`, GetConfig, ({ path, query }) => ({
          environment: path.environment,
          key: path.key,
          version: query.num('version'),
          reveal: query.bool('reveal'),
        }))
        .put(`${env}/entries/{key}`, SetConfig)
        .delete(`${env}/entries/{key}`, DeleteConfig, ({ path, query }) => ({
          environment: path.environment,
          key: path.key,
          expectedVersion: query.num('expectedVersion'),
        }))
        .get(`${env}/entries/{key}/history`, ConfigHistory, ({ path, query }) => ({
          environment: path.environment,
          key: path.key,
          limit: query.num('limit'),
          cursor: query.str('cursor'),
        }))
        .post(`${env}/entries/{key}/rollback`, RollbackConfig)
        .get(`${env}/dotenv`, ExportDotenv, ({ path, query }) => ({
          environment: path.environment,
          includeSensitive: query.bool('includeSensitive'),
        }))
        .post(`${env}/dotenv`, ImportDotenv)
        .post('/api/config/diff', DiffConfig)
        .post('/api/config/promote', PromoteConfig);
      // From the log, not from the handlers: a change made by another daemon sharing the log notifies too.
      store.onAppend((events) => {
        for (const e of events) {
          const change = didChangeOf(e);
          if (change) server.notifyAll(DidChangeConfig, change);
        }
      });
    },
    async start() {
      await service?.seedDefaults();
    },
    close() {
      sensitiveStore?.close();
    },
  };
}
