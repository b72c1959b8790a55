import {
  CreateSlo,
  DeleteSlo,
  BudgetConsumed,
  DidAlertSlo,
  DidChangeSlo,
  DidNoticeSlo,
  ExportSlos,
  Gate,
  ImportSlos,
  GetSlo,
  ListSloAlerts,
  ListSlos,
  RecordSample,
  RecordSampleBatch,
  RouteUsage,
  SloSeries,
  UpdateSlo,
} from '../../protocol';
import type { BudgetConsumedResult } from '../../protocol/slo';
import type { DaemonFeature } from '../../server/feature';
import { SloProjection } from './sloProjection';
import { SloService } from './sloService';

/** What other features may ask the SLO feature in-process. */
export interface SloFeature extends DaemonFeature {
  /** `slo/budgetConsumed` without RPC (the incidents feature: error budget an incident consumed). Throws before `register`. */
  budgetConsumed(params: { sloIds?: string[]; from: string; to: string }): BudgetConsumedResult;
  /**
   * Who called each API operation over the last `sinceDays` UTC days (1..93, today included), from the
   * recorded samples: one row per operation and client (null: requests without a client id; `other`:
   * clients past the per-route cap). `path` is matched against recorded route templates with
   * `{id}` and `:id` parameters as equal; an operation nobody called has no row. Throws before `register`,
   * and an RpcError (InvalidParams) for a bad `sinceDays`.
   */
  routeUsage(ops: readonly OperationRef[], sinceDays: number): OperationUsage[];
}

/** An API operation: HTTP method (any case) and path template (`/orders/{id}` or `/orders/:id`). */
export interface OperationRef {
  method: string;
  path: string;
}

export interface OperationUsage {
  /** As given in the OperationRef. */
  method: string;
  path: string;
  /** Client id; null for requests without one. */
  client: string | null;
  requests: number;
  /** Newest request (ISO-8601). */
  lastSeen: string;
}

/** SLOs and error budgets: `slo/*` over RPC, the dashboard, burn-rate, samples and gate routes over REST. */
export function sloFeature(): SloFeature {
  const projection = new SloProjection();
  let service: SloService | undefined;
  return {
    name: 'slo',
    projections: [projection],
    reservedEventTypes: ['slo.**'],
    register({ router, rest, store, clock, server, log }) {
      const slos = new SloService(
        store,
        projection,
        clock,
        {
          changed: (sloId, change) => server.notifyAll(DidChangeSlo, { sloId, change }),
          alerted: (state, alert) => server.notifyAll(DidAlertSlo, { state, alert }),
          noticed: (notice) => server.notifyAll(DidNoticeSlo, { notice }),
        },
        (m) => log.error(m),
      );
      service = slos;
      router
        .on(ListSlos, () => ({ slos: slos.list() }))
        .on(GetSlo, ({ id }) => slos.get(id))
        .on(CreateSlo, (spec, ctx) => slos.create(spec, ctx.actor))
        .on(UpdateSlo, (p, ctx) => slos.update(p, ctx.actor))
        .on(DeleteSlo, ({ id }, ctx) => slos.delete(id, ctx.actor))
        .on(RecordSample, (sample, ctx) => slos.record(sample, ctx.actor))
        .on(RecordSampleBatch, ({ samples, batchId }, ctx) => slos.recordBatch(samples, ctx.actor, batchId))
        .on(SloSeries, (p) => slos.series(p))
        .on(ListSloAlerts, ({ id, includeResolved }) => ({ alerts: slos.alerts(id, includeResolved) }))
        .on(BudgetConsumed, (p) => slos.budgetConsumed(p))
        .on(Gate, (p) => slos.gate(p))
        .on(ImportSlos, ({ yaml, dryRun, mode }, ctx) => slos.importOpenSlo(yaml, dryRun, ctx.actor, mode))
        .on(ExportSlos, ({ ids }) => ({ yaml: slos.exportOpenSlo(ids) }))
        .on(RouteUsage, (p) => ({ rows: slos.routeUsage(p) }));
      rest
        .get('/api/slo/dashboard', ListSlos, () => ({}))
        .get('/api/slo/burn-rate/{slo_id}', GetSlo, ({ path }) => ({ id: path.slo_id }))
        .post('/api/slo/samples', RecordSampleBatch)
        .get('/api/slo/gate', Gate, ({ query }) => ({
          sloIds: query.list('slo'),
          minRemainingBudget: query.num('min_budget'),
          denyOnPage: query.bool('deny_on_page'),
        }));
    },
    async start() {
      await service?.seedDefaults();
      service?.start();
    },
    async close() {
      await service?.close();
    },
    budgetConsumed(params) {
      if (!service) throw new Error('the slo feature is not registered yet');
      return service.budgetConsumed(params);
    },
    routeUsage(ops, sinceDays) {
      if (!service) throw new Error('the slo feature is not registered yet');
      return service.operationUsage(ops, sinceDays);
    },
  };
}
