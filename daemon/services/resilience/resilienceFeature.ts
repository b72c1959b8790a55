import {
  ConfigurePolicy,
  DidChangeChaos,
  DidChangeResilience,
  ErrorCode,
  ListChaos,
  ListPolicies,
  ChaosEventType,
  ReportStats,
  ResilienceEventType,
  ResetBreaker,
  RpcError,
  StartChaos,
  StopChaos,
  type DependencyStats,
  type ReportedPolicy,
} from '../../protocol';
import type { DaemonFeature } from '../../server/feature';
import { ChaosProjection } from '../chaos/chaosProjection';
import { ChaosService } from '../chaos/chaosService';
import { ChangeThrottle } from './changeThrottle';
import { PolicyConfigProjection, mergeOverrides } from './configProjection';
import type { DependencyPolicies } from './policies';

/** `resilience/didChange` at most this often per dependency, ms. */
export const CHANGE_NOTIFY_INTERVAL_MS = 1_000;

export interface ResilienceFeatureOptions {
  /** Which calls a chaos fault hits; default Math.random. */
  random?: () => number;
}

/**
 * Resilience beyond the policies themselves (which `app.ts` builds for every feature): per-dependency
 * configuration (`resilience/configure`, persisted), breaker reset, stats reported by client
 * processes, throttled `resilience/didChange`, and chaos experiments (`chaos/*`), with the seed's
 * gateway REST routes. `resilience/policies` itself is served by `registerResilience`.
 */
export function resilienceFeature(options: ResilienceFeatureOptions = {}): DaemonFeature {
  const configProjection = new PolicyConfigProjection();
  const chaosProjection = new ChaosProjection();
  let chaos: ChaosService | undefined;
  let throttle: ChangeThrottle | undefined;
  let policiesRef: DependencyPolicies | undefined;
  return {
    name: 'resilience',
    projections: [configProjection, chaosProjection],
    // `resilience.**` (chaos events included) is reserved for the daemon by app.ts already.
    reservedEventTypes: [],
    register({ router, rest, store, clock, server, scheduler, policies, log }) {
      policiesRef = policies;
      for (const [dependency, overrides] of configProjection.all()) {
        try {
          policies.configure(dependency, overrides);
        } catch (e) {
          log.error(`resilience: stored configuration of ${dependency} no longer applies: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      const service = new ChaosService({
        store,
        projection: chaosProjection,
        policies,
        scheduler,
        clock,
        ...(options.random ? { random: options.random } : {}),
        log: (level, message) => log[level](message),
      });
      chaos = service;
      service.register();

      const reportedByKey = new Map<string, ReportedPolicy>();
      const changes = new ChangeThrottle(clock, CHANGE_NOTIFY_INTERVAL_MS, (key) => {
        if (key.startsWith('reported\u0000')) {
          const reported = reportedByKey.get(key);
          reportedByKey.delete(key);
          if (reported) server.notifyAll(DidChangeResilience, { dependency: reported.serviceId, reported });
          return;
        }
        const policy = policies.stats(key)[0];
        if (policy) server.notifyAll(DidChangeResilience, { dependency: key, policy });
      });
      throttle = changes;
      policies.setObserver((dependency, event) => {
        service.observe(dependency, event);
        changes.touch(dependency);
      });

      const known = (dependency: string): void => {
        if (!policies.isKnown(dependency)) {
          throw new RpcError(ErrorCode.NotFound, `unknown dependency "${dependency}": resilience/policies lists the daemon's dependencies`, {
            kind: 'dependency',
            id: dependency,
            known: policies.names(),
          });
        }
      };
      const statsOf = (dependency: string): DependencyStats => {
        const s = policies.stats(dependency)[0];
        if (!s) throw new RpcError(ErrorCode.InternalError, `no policy for ${dependency}`);
        return s;
      };

      router
        .on(ConfigurePolicy, async ({ dependency, config, reset }, ctx) => {
          known(dependency);
          const overrides = mergeOverrides(reset ? {} : (configProjection.get(dependency) ?? {}), config);
          // Refuses an invalid result before anything is recorded.
          policies.validate(overrides);
          await store.append([
            { type: ResilienceEventType.PolicyConfigured, actor: ctx.actor, payload: { dependency, overrides } },
          ]);
          policies.configure(dependency, overrides);
          return { policy: statsOf(dependency) };
        })
        .on(ResetBreaker, async ({ dependency, reason }, ctx) => {
          known(dependency);
          const changed = policies.resetBreaker(dependency, reason ?? `reset by ${ctx.actor}`);
          // The transition event is durable before the answer.
          await policies.flush();
          return { changed, policy: statsOf(dependency) };
        })
        .on(ReportStats, ({ clientId, policies: reports }, ctx) => {
          const stored = policies.reported.report(ctx.actor, clientId, reports);
          for (const r of stored) {
            const key = `reported\u0000${r.clientId}\u0000${r.serviceId}`;
            reportedByKey.set(key, r);
            changes.touch(key);
          }
          return { accepted: stored.length };
        })
        .on(StartChaos, async (p, ctx) => ({ experiment: await service.start(p, ctx.actor) }))
        .on(StopChaos, async ({ id }, ctx) => ({ experiment: await service.stop(id, ctx.actor) }))
        .on(ListChaos, (p) => ({ experiments: service.list(p) }));

      rest
        .get('/api/gateway/chaos/experiments', ListChaos, ({ query }) => ({
          state: query.str('state'),
          dependency: query.str('dependency') ?? query.str('service'),
          limit: query.num('limit'),
        }))
        .post('/api/gateway/chaos/inject', StartChaos, { status: 201 })
        .get('/api/gateway/circuit-breaker/status', ListPolicies, ({ query }) => ({
          dependency: query.str('dependency') ?? query.str('service'),
        }))
        .post('/api/gateway/circuit-breaker/{service}/reset', ResetBreaker, {
          toParams: ({ path, body }) => ({
            ...(typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}),
            dependency: path.service,
          }),
        });

      store.onAppend((events) => {
        for (const e of events) {
          if (e.type !== ChaosEventType.ExperimentStarted && e.type !== ChaosEventType.ExperimentFinished) continue;
          const id = (e.payload as { id?: unknown } | null)?.id;
          const experiment = typeof id === 'string' ? service.get(id) : undefined;
          if (experiment) {
            server.notifyAll(DidChangeChaos, {
              change: e.type === ChaosEventType.ExperimentStarted ? 'started' : 'finished',
              experiment,
            });
          }
        }
      });
    },
    async start() {
      await chaos?.resume();
    },
    async close() {
      policiesRef?.setObserver(undefined);
      throttle?.close();
      await chaos?.close();
    },
  };
}
