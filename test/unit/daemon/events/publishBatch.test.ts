import { describe, expect, it } from 'vitest';
import { ErrorCode, MAX_PUBLISH_BATCH, PublishEventBatch, RpcError } from '../../../../daemon/protocol';
import { EventsService } from '../../../../daemon/services/events/eventsService';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { MemoryEventLog } from '../support/memoryStore';

function setup() {
  const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
  const store = new MemoryEventLog().open({ clock });
  const service = new EventsService(store, () => ['auth.**', 'daemon.**']);
  const publishBatch = (events: Record<string, unknown>[], actor = 'owner') => service.publishBatch(PublishEventBatch.params.parse({ events }), actor);
  return { store, publishBatch };
}

async function rejection(p: Promise<unknown>): Promise<RpcError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RpcError) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}

describe('events/publishBatch params', () => {
  it('names the index of a bad item', () => {
    const parsed = PublishEventBatch.params.safeParse({ events: [{ type: 'a.b' }, { type: 'a.c' }, { type: 'a.d' }, { type: '9 bad' }] });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path.join('.'))).toEqual(['events.3.type']);
  });

  it('takes 1 to MAX_PUBLISH_BATCH events with the fields and defaults of events/publish', () => {
    expect(PublishEventBatch.params.safeParse({ events: [] }).success).toBe(false);
    const many = Array.from({ length: MAX_PUBLISH_BATCH + 1 }, () => ({ type: 'a.b' }));
    expect(PublishEventBatch.params.safeParse({ events: many }).success).toBe(false);
    expect(PublishEventBatch.params.safeParse({ events: [{ type: 'a.b', id: 'not-a-uuid' }] }).success).toBe(false);
    expect(PublishEventBatch.params.parse({ events: [{ type: 'a.b' }] }).events[0]).toEqual({ type: 'a.b', payload: null, priority: 'normal' });
  });
});

describe('EventsService.publishBatch', () => {
  it('appends the batch in order with consecutive seqs and the caller as actor', async () => {
    const { store, publishBatch } = setup();
    const r = await publishBatch([{ type: 'api.request', payload: { n: 1 } }, { type: 'order.placed', priority: 'high' }, { type: 'api.error' }], 'ci-bot');
    expect(r.results.map((x) => [x.seq, x.stream, x.duplicate])).toEqual([
      [1, 'api_events', false],
      [2, 'default', false],
      [3, 'api_events', false],
    ]);
    expect(store.events.map((e) => [e.type, e.actor, e.priority])).toEqual([
      ['api.request', 'ci-bot', 'normal'],
      ['order.placed', 'ci-bot', 'high'],
      ['api.error', 'ci-bot', 'normal'],
    ]);
  });

  it('answers duplicate for an id repeated in the batch or already stored', async () => {
    const { store, publishBatch } = setup();
    const a = '6f1c1f5e-6a55-4b5e-9d6c-2d6f0f9a1b11';
    const b = '6f1c1f5e-6a55-4b5e-9d6c-2d6f0f9a1b12';
    await publishBatch([{ type: 'x.y', id: a }]);
    const r = await publishBatch([{ type: 'x.y', id: a }, { type: 'x.y', id: b }, { type: 'x.y', id: b }]);
    expect(r.results.map((x) => [x.id, x.seq, x.duplicate])).toEqual([
      [a, 1, true],
      [b, 2, false],
      [b, 2, true],
    ]);
    expect(store.events).toHaveLength(2);
  });

  it('refuses a reserved type or an unknown stream naming the index, and appends nothing', async () => {
    const { store, publishBatch } = setup();
    const reserved = await rejection(publishBatch([{ type: 'api.request' }, { type: 'auth.tokenCreated' }]));
    expect(reserved.code).toBe(ErrorCode.Forbidden);
    expect(reserved.message).toMatch(/^events\.1\.type: Event type "auth\.tokenCreated" is reserved/);
    const stream = await rejection(publishBatch([{ type: 'api.request' }, { type: 'a.b' }, { type: 'a.c', stream: 'nope' }]));
    expect(stream.code).toBe(ErrorCode.InvalidParams);
    expect(stream.message).toBe('Invalid params for events/publishBatch: events.2.stream: unknown stream "nope"');
    expect(stream.data).toMatchObject({ issues: [{ path: 'events.2.stream' }] });
    expect(store.events).toHaveLength(0);
  });
});
