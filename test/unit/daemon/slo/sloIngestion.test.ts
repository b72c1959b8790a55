import { describe, expect, it } from 'vitest';
import { SloEventType, SloSpec, type SloSample } from '../../../../daemon/protocol/slo';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { SloProjection } from '../../../../daemon/services/slo/sloProjection';
import { SAMPLES_NOTIFY_MS, SloService } from '../../../../daemon/services/slo/sloService';
import { MemoryEventLog } from '../support/memoryStore';

const T0 = Date.parse('2026-03-01T12:00:00Z');

function setup(log = new MemoryEventLog(), clock = new ManualClock(T0)) {
  const projection = new SloProjection();
  const store = log.open({ clock, projections: [projection] });
  const changes: string[] = [];
  const service = new SloService(store, projection, clock, { changed: (id, change) => changes.push(`${id}:${change}`), alerted: () => undefined });
  return { log, clock, projection, store, service, changes };
}

const spec = (id: string, extra: Record<string, unknown> = {}) =>
  SloSpec.parse({ id, name: id, sli: { kind: 'availability' }, objective: 0.99, filter: { service: id }, ...extra });
const sample = (service: string, status = 200, extra: Partial<SloSample> = {}): SloSample => ({ service, method: 'GET', route: '/orders/1', status, durationMs: 12, ...extra });
const total = (env: ReturnType<typeof setup>, id: string) => env.service.get(id).budget.totalEvents;

describe('SloService: idempotent batches', () => {
  it('records a batchId once, answers repeats with the first counts, and keeps the key across a restart', async () => {
    const env = setup();
    await env.service.create(spec('aa'), 'owner');
    const batch = [sample('aa'), sample('aa', 503), sample('bb')];
    expect(await env.service.recordBatch(batch, 'svc', 'k1')).toEqual({ accepted: 3, aggregates: 1, duplicate: false });
    expect(await env.service.recordBatch([sample('aa')], 'svc', 'k1')).toEqual({ accepted: 3, aggregates: 1, duplicate: true });
    expect(env.log.ofType(SloEventType.BatchRecorded)).toHaveLength(1);
    expect(env.service.get('aa').budget).toMatchObject({ totalEvents: 2, badEvents: 1 });
    // The key is per token: another sender's k1 is its own batch.
    expect(await env.service.recordBatch([sample('aa')], 'other', 'k1')).toMatchObject({ accepted: 1, duplicate: false });
    expect(total(env, 'aa')).toBe(3);

    await env.store.snapshot();
    await env.service.close();
    const again = setup(env.log, env.clock);
    expect(total(again, 'aa')).toBe(3);
    expect(await again.service.recordBatch(batch, 'svc', 'k1')).toMatchObject({ duplicate: true });
    expect(total(again, 'aa')).toBe(3);
  });

  it('reads histograms stored as [bucket, count] pairs by earlier versions', async () => {
    const env = setup();
    await env.service.create(spec('lat', { sli: { kind: 'latency', thresholdMs: 100 } }), 'owner');
    await env.store.append([
      { type: SloEventType.SamplesAggregated, actor: 'svc', payload: { sloId: 'lat', minute: '2026-03-01T12:00:00.000Z', good: 2, total: 3, latency: [[40, 2], [90, 1]] } },
    ]);
    const hour = env.service.get('lat').burnRates.find((b) => b.window === '1h')!;
    expect(hour).toMatchObject({ totalEvents: 3, badEvents: 1, latency: { samples: 3 } });
  });
});

describe('SloService: slo/didChange samples notices', () => {
  it(`sends at most one per SLO per ${SAMPLES_NOTIFY_MS} ms, the first at once and the rest folded into one at the interval’s end`, async () => {
    const env = setup();
    await env.service.create(spec('aa'), 'owner');
    await env.service.create(spec('bb'), 'owner');
    env.changes.length = 0;
    await env.service.recordBatch([sample('aa'), sample('bb')], 'svc');
    expect(env.changes).toEqual(['aa:samples', 'bb:samples']);
    for (let i = 0; i < 5; i++) {
      env.clock.advance(100);
      await env.service.recordBatch([sample('aa')], 'svc');
    }
    expect(env.changes).toEqual(['aa:samples', 'bb:samples']);
    env.clock.advance(SAMPLES_NOTIFY_MS - 500);
    expect(env.changes).toEqual(['aa:samples', 'bb:samples', 'aa:samples']);
    // Quiet for a whole interval: the next one goes out at once again.
    env.clock.advance(SAMPLES_NOTIFY_MS);
    await env.service.recordBatch([sample('bb')], 'svc');
    expect(env.changes).toEqual(['aa:samples', 'bb:samples', 'aa:samples', 'bb:samples']);
    // Other changes are never held back; a deleted SLO's folded notice is dropped.
    await env.service.recordBatch([sample('bb')], 'svc');
    await env.service.delete('bb', 'owner');
    env.clock.advance(SAMPLES_NOTIFY_MS);
    expect(env.changes.slice(4)).toEqual(['bb:deleted']);
    await env.service.close();
  });
});
