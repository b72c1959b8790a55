import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../daemon/protocol';
import { rpcError, useDaemons } from '../helpers/daemonProcess';

const start = useDaemons();

const sample = (status: number) => ({ service: 'api', method: 'GET', route: '/api/orders/1', status, durationMs: 20 });
const totalOf = async (c: { request<T>(m: string, p: unknown): Promise<T> }) =>
  (await c.request<{ budget: { totalEvents: number } }>('slo/get', { id: 'slo_avail_30d' })).budget.totalEvents;

describe('slo/recordBatch with a batchId', () => {
  it('counts a batch once however often it is resent, across a restart', async () => {
    const d = await start();
    const c = await d.connect();
    const batch = Array.from({ length: 100 }, (_, i) => sample(i < 1 ? 503 : 200));
    expect(await c.request('slo/recordBatch', { samples: batch, batchId: 'b-1' })).toEqual({ accepted: 100, aggregates: 3, duplicate: false });
    // The answer was lost, say: the client resends, twice at once.
    const again = await Promise.all([c.request('slo/recordBatch', { samples: batch, batchId: 'b-1' }), c.request('slo/recordBatch', { samples: batch, batchId: 'b-1' })]);
    expect(again).toEqual([
      { accepted: 100, aggregates: 3, duplicate: true },
      { accepted: 100, aggregates: 3, duplicate: true },
    ]);
    expect(await totalOf(c)).toBe(100);
    // REST takes the same key.
    const posted = await d.http('/api/slo/samples', { method: 'POST', body: JSON.stringify({ samples: batch.slice(0, 10), batchId: 'b-2' }) });
    expect(posted.status).toBe(200);
    expect(await totalOf(c)).toBe(110);
    // A bad key changes nothing.
    const bad = await rpcError(c.request('slo/recordBatch', { samples: batch, batchId: '' }));
    expect(bad.code).toBe(ErrorCode.InvalidParams);
    expect(JSON.stringify(bad.data)).toContain('batchId');
    await c.close();
    await d.stop();

    const d2 = await start({ dataDir: d.dataDir });
    const c2 = await d2.connect();
    expect(await totalOf(c2)).toBe(110);
    expect(await c2.request('slo/recordBatch', { samples: batch, batchId: 'b-1' })).toEqual({ accepted: 100, aggregates: 3, duplicate: true });
    expect(await c2.request('slo/recordBatch', { samples: batch, batchId: 'b-3' })).toEqual({ accepted: 100, aggregates: 3, duplicate: false });
    expect(await totalOf(c2)).toBe(210);
    const status = await c2.request<{ budget: { badEvents: number } }>('slo/get', { id: 'slo_avail_30d' });
    expect(status.budget.badEvents).toBe(3);
  });
});
