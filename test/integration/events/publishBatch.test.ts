import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ErrorCode, type EventEnvelope } from '../../../daemon/protocol';
import { rpcError, useDaemons, type RpcClient } from '../helpers/daemonProcess';

interface Published {
  id: string;
  seq: number;
  stream: string;
  time: string;
  duplicate: boolean;
}

const batchTypes = async (c: RpcClient): Promise<string[]> =>
  (await c.request<{ events: EventEnvelope[] }>('events/query', { types: ['batch.**'], limit: 1000 })).events.map((e) => `${e.seq}:${e.type}`);

describe('events/publishBatch against the real daemon', () => {
  const start = useDaemons();

  it('appends in order, dedupes, refuses bad items naming the index without appending, serves REST, survives a restart', async () => {
    const d = await start();
    const c = await d.connect();

    const first = await c.request<{ results: Published[] }>('events/publishBatch', {
      events: [{ type: 'batch.one', payload: { n: 1 } }, { type: 'batch.two', stream: 'api_events' }, { type: 'batch.three', priority: 'high' }],
    });
    const seqs = first.results.map((r) => r.seq);
    expect(seqs).toEqual([seqs[0], seqs[0] + 1, seqs[0] + 2]);
    expect(first.results.map((r) => [r.stream, r.duplicate])).toEqual([
      ['default', false],
      ['api_events', false],
      ['default', false],
    ]);
    const stored = (await c.request<{ events: EventEnvelope[] }>('events/query', { types: ['batch.**'] })).events;
    expect(stored.map((e) => [e.id, e.type, e.actor, e.priority])).toEqual([
      [first.results[0].id, 'batch.one', 'owner', 'normal'],
      [first.results[1].id, 'batch.two', 'owner', 'normal'],
      [first.results[2].id, 'batch.three', 'owner', 'high'],
    ]);

    const fresh = randomUUID();
    const dup = await c.request<{ results: Published[] }>('events/publishBatch', {
      events: [{ type: 'batch.again', id: first.results[0].id }, { type: 'batch.four', id: fresh }, { type: 'batch.four', id: fresh }],
    });
    expect(dup.results.map((r) => [r.id, r.seq, r.duplicate])).toEqual([
      [first.results[0].id, first.results[0].seq, true],
      [fresh, seqs[2] + 1, false],
      [fresh, seqs[2] + 1, true],
    ]);
    const before = await batchTypes(c);
    expect(before).toHaveLength(4);

    const bad = await rpcError(c.request('events/publishBatch', { events: [{ type: 'batch.ok' }, { type: 'batch.ok2' }, { type: 'batch.ok3' }, { type: 'no spaces' }] }));
    expect(bad.code).toBe(ErrorCode.InvalidParams);
    expect(bad.message).toContain('events.3.type');
    const stream = await rpcError(c.request('events/publishBatch', { events: [{ type: 'batch.ok' }, { type: 'batch.ok2', stream: 'no_such' }] }));
    expect(stream.message).toContain('events.1.stream: unknown stream "no_such"');
    const reserved = await rpcError(c.request('events/publishBatch', { events: [{ type: 'batch.ok' }, { type: 'auth.tokenRevoked' }] }));
    expect(reserved.code).toBe(ErrorCode.Forbidden);
    expect(reserved.message).toContain('events.1.type');
    expect((await rpcError(c.request('events/publishBatch', { events: [] }))).message).toContain('events');
    expect(await batchTypes(c)).toEqual(before);

    const post = await d.http('/api/events/batch', { method: 'POST', body: JSON.stringify({ events: [{ type: 'batch.rest', payload: { via: 'http' } }] }) });
    expect(post.status).toBe(201);
    const viaRest = (await post.json()) as { results: Published[] };
    expect(viaRest.results).toEqual([expect.objectContaining({ duplicate: false, stream: 'default' })]);
    const restBad = await d.http('/api/events/batch', { method: 'POST', body: JSON.stringify({ events: [{ type: 'batch.x' }, { type: 'daemon.started' }] }) });
    expect(restBad.status).toBe(403);
    const all = await batchTypes(c);
    expect(all).toEqual([...before, `${viaRest.results[0].seq}:batch.rest`]);
    await c.close();

    await d.stop();
    const again = await start({ dataDir: d.dataDir });
    const c2 = await again.connect();
    expect(await batchTypes(c2)).toEqual(all);
    const resent = await c2.request<{ results: Published[] }>('events/publishBatch', { events: [{ type: 'batch.four', id: fresh }] });
    expect(resent.results[0]).toMatchObject({ id: fresh, seq: seqs[2] + 1, duplicate: true });
    await c2.close();
  });
});
