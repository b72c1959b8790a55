import type { DaemonConfig } from '../config';
import type { DependencyPolicies } from '../services/resilience/policies';
import type { Scheduler } from '../services/scheduler/scheduler';
import type { Clock } from '../services/shared/clock';
import type { EventRecord, EventStore, Projection } from '../store/types';
import type { Logger } from './logger';
import type { MetricsRegistry } from './metrics';
import type { RestRoutes } from './rest';
import type { Router } from './router';
import type { DaemonServer } from './server';

/** What a feature shares with teammates' daemons in team mode. */
export interface TeamShare {
  /** Streams (so Kafka topics) the feature's shared events live in. */
  readonly streams: readonly string[];
  /**
   * Whether a teammate's event is applied here. Called in topic order before the event is
   * appended, so a rule may remember what it accepted (a secret created on a shared backend).
   */
  accepts(event: EventRecord): boolean;
}

/** What a feature gets once the store is open and before the server listens. */
export interface FeatureContext {
  readonly router: Router;
  readonly rest: RestRoutes;
  readonly store: EventStore;
  readonly clock: Clock;
  readonly log: Logger;
  /** For notifications to connections and to learn when a connection closes. */
  readonly server: DaemonServer;
  readonly metrics: MetricsRegistry;
  readonly config: DaemonConfig;
  /** Ask the daemon to stop gracefully (what SIGTERM does). */
  readonly requestShutdown: (reason: string) => void;
  /** Add a health check: it answers the problems that make the daemon `degraded` (empty when fine). */
  readonly addHealthCheck: (check: () => string[]) => void;
  /** Durable timers: `scheduler.register(kind, handler)` in `register`; it starts after every feature registered. */
  readonly scheduler: Scheduler;
  /** Named dependency policies (bulkhead, timeout, retry, breaker) for every outbound call. */
  readonly policies: DependencyPolicies;
}

/**
 * One domain of the daemon, wired in `daemon/app.ts` with one line. A feature is created before the
 * store opens (its projections are restored and replayed by `openStore`), then `register` adds its
 * RPC handlers and REST routes. Pattern for later services:
 *
 * ```ts
 * export function sloFeature(): DaemonFeature {
 *   const projection = new SloProjection();
 *   return {
 *     name: 'slo',
 *     projections: [projection],
 *     reservedEventTypes: ['slo.**'],
 *     register({ router, rest, store, clock }) {
 *       const slos = new SloService(store, projection, clock);
 *       router.on(GetSlo, ({ id }, ctx) => slos.status(id));
 *       rest.get('/api/slo/burn-rate/{slo_id}', GetBurnRate, ({ path }) => ({ id: path.slo_id }));
 *     },
 *   };
 * }
 * ```
 */
export interface DaemonFeature {
  readonly name: string;
  /** Read models of this feature; passed to `openStore`. */
  readonly projections: readonly Projection[];
  /**
   * Event type patterns only this feature appends (`auth.**`). `events/publish` refuses them, so no
   * client can forge a domain event that a projection would trust.
   */
  readonly reservedEventTypes: readonly string[];
  /**
   * Team mode (`COGNIFORGE_TEAM=on` with Kafka): which of this feature's events teammates' daemons
   * apply. Features without it stay per daemon.
   */
  readonly team?: TeamShare;
  register(ctx: FeatureContext): void | Promise<void>;
  /** Called once every feature registered and the scheduler started, before the server listens. */
  start?(): void | Promise<void>;
  /** Stop timers and release resources; called before the store closes. */
  close?(): void | Promise<void>;
}
