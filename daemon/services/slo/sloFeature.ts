import {
  CreateSlo,
  DeleteSlo,
  DidAlertSlo,
  DidChangeSlo,
  GetSlo,
  ListSloAlerts,
  ListSlos,
  RecordSample,
  RecordSampleBatch,
  SloSeries,
  UpdateSlo,
} from '../../protocol';
import type { DaemonFeature } from '../../server/feature';
import { SloProjection } from './sloProjection';
import { SloService } from './sloService';

/** SLOs and error budgets: `slo/*` over RPC, the dashboard, burn-rate and samples routes over REST. */
export function sloFeature(): DaemonFeature {
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
        .on(RecordSampleBatch, ({ samples }, ctx) => slos.recordBatch(samples, ctx.actor))
        .on(SloSeries, (p) => slos.series(p))
        .on(ListSloAlerts, ({ id, includeResolved }) => ({ alerts: slos.alerts(id, includeResolved) }));
      rest
        .get('/api/slo/dashboard', ListSlos, () => ({}))
        .get('/api/slo/burn-rate/{slo_id}', GetSlo, ({ path }) => ({ id: path.slo_id }))
        .post('/api/slo/samples', RecordSampleBatch);
    },
    async start() {
      await service?.seedDefaults();
      service?.start();
    },
    async close() {
      await service?.close();
    },
  };
}
