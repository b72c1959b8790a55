import { DAEMON_VERSION, type DaemonConfig } from './config';
import { DidShutdown, type NotificationParamsOf } from './protocol';
import type { DaemonFeature, FeatureContext } from './server/feature';
import type { Logger } from './server/logger';
import { MetricsRegistry, ServerMetrics } from './server/metrics';
import { RestRoutes } from './server/rest';
import { Router } from './server/router';
import { DaemonServer } from './server/server';
import { authFeature } from './services/auth/authFeature';
import { newToken } from './services/auth/authService';
import { configFeature } from './services/config/configFeature';
import { daemonInfoFeature } from './services/daemonInfo/daemonInfoFeature';
import { eventsFeature } from './services/events/eventsFeature';
import { governanceFeature } from './services/governance/governanceFeature';
import { MasterKeyShare } from './services/secrets/masterKeyShare';
import { secretsFeature } from './services/secrets/secretsFeature';
import { sloFeature } from './services/slo/sloFeature';
import { incidentsFeature } from './services/incidents/incidentsFeature';
import { drFeature } from './services/dr/drFeature';
import { brokersFeature } from './services/brokers/brokersFeature';
import { DependencyPolicies } from './services/resilience/policies';
import { registerResilience } from './services/resilience/register';
import { resilienceFeature } from './services/resilience/resilienceFeature';
import { SchedulerProjection } from './services/scheduler/projection';
import { registerScheduler } from './services/scheduler/register';
import { Scheduler } from './services/scheduler/scheduler';
import { systemClock, type Clock } from './services/shared/clock';
import { openStore, type FileEventStore } from './store';
import { DEFAULT_STREAMS } from './store/streams';
import type { EventStore } from './store/types';

export interface StartOptions {
  log: Logger;
  clock?: Clock;
  /** Owner token (scope admin); a fresh random one when absent. */
  ownerToken?: string;
  /**
   * Environment the services read their settings from (master key, backends): the process
   * environment with `.env` merged underneath. Default: `process.env`.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** Features beyond the core ones (auth, daemon, events). */
  features?: DaemonFeature[];
  /**
   * Called when something asks the daemon to stop (`daemon/shutdown`). Default: `stop(reason)`.
   * `main` uses it to stop and then exit the process.
   */
  onShutdownRequested?: (reason: string) => void;
}

export interface RunningDaemon {
  readonly host: string;
  /** The bound port (the real one when the config said 0). */
  readonly port: number;
  readonly ownerToken: string;
  /** Epoch ms. */
  readonly startedAt: number;
  readonly server: DaemonServer;
  readonly store: EventStore;
  /** Every REST route the features registered (the README lists each; a test checks it). */
  readonly rest: RestRoutes;
  /**
   * Graceful stop: refuse new connections and commands, tell clients `daemon/didShutdown`, let
   * in-flight calls finish (their writes are durable once answered), close connections, features
   * and the store. Safe to call twice.
   */
  stop(reason: string): Promise<void>;
}

/** How long a graceful stop waits for in-flight calls, ms. */
const DRAIN_TIMEOUT_MS = 10_000;

/**
 * The daemon's features, each wired with one line. Later services add theirs here, e.g.
 * `sloFeature()`; a feature declares its projections (restored by the store) and reserved event
 * types, and registers handlers and REST routes (see `DaemonFeature`).
 */
function coreFeatures(
  ownerToken: string,
  startedAt: number,
  problems: () => string[],
  reserved: () => readonly string[],
  env: Readonly<Record<string, string | undefined>>,
) {
  const auth = authFeature(ownerToken);
  const slo = sloFeature();
  // Config's sensitive values are encrypted under the vault's master key and move with its rotations.
  const masterKey = new MasterKeyShare();
  const features: DaemonFeature[] = [
    auth,
    daemonInfoFeature({ daemonVersion: DAEMON_VERSION, startedAt, problems }),
    eventsFeature(reserved, () => features),
    // Client impact of breaking changes: who called the affected operations, from the SLO samples
    // (requests that carried no client id are counted as "(unidentified)").
    governanceFeature({ env, routeUsage: (ops, sinceDays) => slo.routeUsage(ops, sinceDays).map((u) => ({ ...u, client: u.client ?? '(unidentified)' })) }),
    secretsFeature({ env, masterKey }),
    configFeature({ masterKey }),
    incidentsFeature({ env, sloBudget: (p) => slo.budgetConsumed(p) }),
    drFeature({ env }),
    resilienceFeature(),
    brokersFeature({ env, shares: () => features.flatMap((f) => (f.team ? [f.team] : [])) }),
    slo,
  ];
  return { auth, features };
}

/** Open the store with every feature's projections, build the router, start the server. */
export async function startDaemon(config: DaemonConfig, options: StartOptions): Promise<RunningDaemon> {
  const { log } = options;
  const clock = options.clock ?? systemClock;
  const startedAt = clock.now();
  const ownerToken = options.ownerToken ?? newToken();
  const healthChecks: (() => string[])[] = [];
  const problems = () => healthChecks.flatMap((check) => check());
  let features: DaemonFeature[] = [];
  /** Event types of the shared machinery (scheduler, dependency policies) are the daemon's too. */
  const platformTypes = ['scheduler.**', 'resilience.**'];
  const reserved = () => [...platformTypes, ...features.flatMap((f) => f.reservedEventTypes)];
  const core = coreFeatures(ownerToken, startedAt, problems, reserved, options.env ?? process.env);
  features = [...core.features, ...(options.features ?? [])];

  const storeLog = (level: 'info' | 'warn' | 'error', message: string) => log[level](message);
  const schedulerProjection = new SchedulerProjection();
  const store = await openStore({
    dataDir: config.dataDir,
    clock,
    streams: DEFAULT_STREAMS,
    groupCommit: config.groupCommit,
    fsync: config.fsync,
    snapshotEvery: config.snapshotEvery,
    log: storeLog,
    projections: [schedulerProjection, ...features.flatMap((f) => [...f.projections])],
  });
  healthChecks.push(storeHealth(store));
  const scheduler = new Scheduler({ store, clock, projection: schedulerProjection, log: storeLog });
  const policies = new DependencyPolicies({ store, clock, log: storeLog });

  let server: DaemonServer | undefined;
  try {
    const router = new Router();
    const rest = new RestRoutes();
    const registry = new MetricsRegistry();
    const metrics = new ServerMetrics(registry);
    server = new DaemonServer({
      host: config.host,
      port: config.port,
      maxMessageBytes: config.maxMessageBytes,
      heartbeatMs: config.heartbeatMs,
      maxSendBufferBytes: config.maxSendBufferBytes,
      rateLimit: config.rateLimit,
      validateResults: config.validateResults,
      router,
      rest,
      auth: { authenticate: (token) => core.auth.service().authenticate(token) },
      metrics,
      log,
      clock,
    });
    const srv = server;
    addStoreMetrics(registry, store, () => srv.connectionCount, startedAt, clock);

    let stopping: Promise<void> | undefined;
    const stop = (reason: string): Promise<void> => {
      stopping ??= (async () => {
        log.info(`stopping: ${reason}`);
        srv.beginShutdown();
        // Every connection, initialized or not: all of them are about to be closed.
        const params: NotificationParamsOf<typeof DidShutdown> = { reason };
        srv.broadcast(JSON.stringify({ jsonrpc: '2.0', method: DidShutdown.method, params }));
        const drained = await Promise.race([
          srv.dispatcher.idle().then(() => true),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), DRAIN_TIMEOUT_MS).unref()),
        ]);
        if (!drained) log.warn(`stopping with ${srv.dispatcher.pending} calls still running after ${DRAIN_TIMEOUT_MS} ms`);
        await srv.close(reason);
        await scheduler.stop();
        for (const f of [...features].reverse()) {
          try {
            await f.close?.();
          } catch (e) {
            log.error(`closing feature ${f.name} failed: ${(e as Error).message}`);
          }
        }
        await policies.close();
        await policies.flush();
        await store.close();
        log.info('stopped');
      })();
      return stopping;
    };

    const ctx: FeatureContext = {
      router,
      rest,
      store,
      clock,
      log,
      server: srv,
      metrics: registry,
      config,
      requestShutdown: (reason) => {
        if (options.onShutdownRequested) options.onShutdownRequested(reason);
        else void stop(reason);
      },
      addHealthCheck: (check) => healthChecks.push(check),
      scheduler,
      policies,
    };
    registerScheduler(router, scheduler);
    registerResilience(router, policies);
    for (const f of features) await f.register(ctx);
    scheduler.start();
    for (const f of features) await f.start?.();

    const port = await srv.listen();
    return { host: config.host, port, ownerToken, startedAt, server: srv, store, rest, stop };
  } catch (e) {
    await server?.close();
    await scheduler.stop();
    await policies.close();
    await store.close();
    throw e;
  }
}

/** Degraded while projections have thrown or the store raised a corruption alert since start. */
function storeHealth(store: FileEventStore): () => string[] {
  const alerts: string[] = [];
  store.onAppend((events) => {
    for (const e of events) {
      if (e.type === 'system.alert' && e.source === 'store' && e.actor === 'daemon' && alerts.length < 20) {
        const p = e.payload as { file?: unknown; offset?: unknown; reason?: unknown };
        alerts.push(`event log: corrupt record in ${String(p.file)} at offset ${String(p.offset)} (${String(p.reason)})`);
      }
    }
  });
  return () => {
    const errors = store.diagnostics().projectionErrors;
    return errors > 0 ? [...alerts, `${errors} projection update(s) failed; see the daemon log`] : [...alerts];
  };
}

function addStoreMetrics(registry: MetricsRegistry, store: EventStore, connections: () => number, startedAt: number, clock: Clock): void {
  registry.gauge('cogniforge_event_log_bytes', 'Bytes of all event-log segments on disk.', () => [{ value: store.stats().bytes }]);
  registry.gauge('cogniforge_event_log_events', 'Events stored in the log.', () => [{ value: store.stats().events }]);
  registry.gauge('cogniforge_event_log_segments', 'Event-log segment files.', () => [{ value: store.stats().segments }]);
  registry.gauge('cogniforge_event_log_last_seq', 'Sequence number of the newest event.', () => [{ value: store.lastSeq }]);
  registry.gauge('cogniforge_stream_events', 'Events stored per stream.', () =>
    store.stats().streams.map((s) => ({ labels: { stream: s.name }, value: s.events })),
  );
  registry.gauge('cogniforge_stream_bytes', 'Bytes stored per stream.', () =>
    store.stats().streams.map((s) => ({ labels: { stream: s.name }, value: s.bytes })),
  );
  registry.gauge('cogniforge_connections', 'Open WebSocket connections.', () => [{ value: connections() }]);
  registry.gauge('cogniforge_uptime_seconds', 'Seconds since the daemon started.', () => [{ value: (clock.now() - startedAt) / 1000 }]);
  registry.gauge('process_resident_memory_bytes', 'Resident memory of the daemon process, bytes.', () => [{ value: process.memoryUsage.rss() }]);
}
