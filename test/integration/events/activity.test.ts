import { describe, expect, it } from 'vitest';
import type { ActivityBucket } from '../../../daemon/protocol';
import { rpcError, useDaemons } from '../helpers/daemonProcess';

const total = (buckets: ActivityBucket[], stream: string): number => buckets.reduce((n, b) => n + (b.counts[stream] ?? 0), 0);

describe('events/activity against the real daemon', () => {
  const start = useDaemons();

  it('counts appended events per stream, refuses bad input, and keeps the counts across a restart', async () => {
    const d = await start();
    const c = await d.connect();
    for (let i = 0; i < 3; i++) await c.request('events/publish', { type: 'api.request', payload: { i } });
    await c.request('events/publish', { type: 'order.placed', payload: {} });

    const all = await c.request<{ bucketMinutes: number; buckets: ActivityBucket[] }>('events/activity', { minutes: 10, bucketMinutes: 5 });
    expect(all.bucketMinutes).toBe(5);
    expect(all.buckets.length).toBeGreaterThanOrEqual(2);
    expect(total(all.buckets, 'api_events')).toBe(3);
    expect(total(all.buckets, 'default')).toBe(1);
    const only = await c.request<{ buckets: ActivityBucket[] }>('events/activity', { streams: ['default'] });
    expect(only.buckets).toHaveLength(60);
    expect(total(only.buckets, 'api_events')).toBe(0);
    expect(total(only.buckets, 'default')).toBe(1);

    expect((await rpcError(c.request('events/activity', { streams: ['no_such'] }))).message).toContain('streams: unknown stream "no_such"');
    expect((await rpcError(c.request('events/activity', { minutes: 5000 }))).message).toContain('minutes');
    await c.close();

    await d.stop();
    const again = await start({ dataDir: d.dataDir });
    const c2 = await again.connect();
    const after = await c2.request<{ buckets: ActivityBucket[] }>('events/activity', { minutes: 30 });
    expect(total(after.buckets, 'api_events')).toBe(3);
    expect(total(after.buckets, 'default')).toBe(1);
    await c2.close();
  });
});
