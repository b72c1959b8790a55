import { describe, expect, it } from 'vitest';
import { ErrorCode, PublishEvent, QueryEvents } from '../../../../daemon/protocol';
import { EventsService } from '../../../../daemon/services/events/eventsService';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { MemoryEventLog } from '../support/memoryStore';

function setup() {
  const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
  const store = new MemoryEventLog().open({ clock });
  const service = new EventsService(store, () => ['auth.**', 'daemon.**']);
  const publish = (p: Record<string, unknown>, actor = 'owner') => service.publish(PublishEvent.params.parse(p), actor);
  const query = (p: Record<string, unknown>) => service.query(QueryEvents.params.parse(p));
  return { clock, store, service, publish, query };
}

describe('EventsService.publish', () => {
  it('appends with the caller as actor and answers id, seq, stream and time', async () => {
    const { store, publish } = setup();
    const r = await publish({ type: 'api.request', payload: { path: '/x' }, source: 'svc' }, 'ci-bot');
    expect(r).toMatchObject({ seq: 1, stream: 'api_events', time: '2026-01-01T00:00:00.000Z', duplicate: false });
    expect(store.events[0]).toMatchObject({ actor: 'ci-bot', source: 'svc', priority: 'normal', payload: { path: '/x' } });
  });

  it('stores an event once per client id', async () => {
    const { store, publish } = setup();
    const id = '6f1c1f5e-6a55-4b5e-9d6c-2d6f0f9a1b11';
    const a = await publish({ type: 'x.y', id });
    const b = await publish({ type: 'x.y', id, payload: 'different' });
    expect(b).toEqual({ ...a, duplicate: true });
    expect(store.events).toHaveLength(1);
  });

  it('refuses reserved domain types and unknown streams without appending', async () => {
    const { store, publish } = setup();
    await expect(publish({ type: 'auth.tokenCreated', payload: {} })).rejects.toMatchObject({ code: ErrorCode.Forbidden });
    await expect(publish({ type: 'daemon.x' })).rejects.toMatchObject({ code: ErrorCode.Forbidden });
    await expect(publish({ type: 'api.request', stream: 'nope' })).rejects.toMatchObject({ code: ErrorCode.InvalidParams });
    expect(store.events).toHaveLength(0);
  });
});

describe('EventsService.query', () => {
  it('pages with an opaque cursor in both orders', async () => {
    const { publish, query } = setup();
    for (let i = 0; i < 5; i++) await publish({ type: i % 2 ? 'api.error' : 'api.request' });
    const p1 = await query({ limit: 2 });
    expect(p1.events.map((e) => e.seq)).toEqual([1, 2]);
    const p2 = await query({ limit: 2, cursor: p1.nextCursor });
    expect(p2.events.map((e) => e.seq)).toEqual([3, 4]);
    const p3 = await query({ limit: 2, cursor: p2.nextCursor });
    expect(p3.events.map((e) => e.seq)).toEqual([5]);
    expect(p3.nextCursor).toBeUndefined();
    const d1 = await query({ limit: 3, order: 'desc' });
    expect(d1.events.map((e) => e.seq)).toEqual([5, 4, 3]);
    const d2 = await query({ limit: 3, order: 'desc', cursor: d1.nextCursor });
    expect(d2.events.map((e) => e.seq)).toEqual([2, 1]);
  });

  it('filters by type pattern, stream and time', async () => {
    const { clock, publish, query } = setup();
    await publish({ type: 'api.request' });
    clock.advance(60_000);
    await publish({ type: 'api.error' });
    await publish({ type: 'security.auth' });
    expect((await query({ types: ['api.*'] })).events.map((e) => e.seq)).toEqual([1, 2]);
    expect((await query({ stream: 'security_events' })).events.map((e) => e.seq)).toEqual([3]);
    expect((await query({ from: '2026-01-01T00:00:30Z' })).events.map((e) => e.seq)).toEqual([2, 3]);
    expect((await query({ to: '2026-01-01T00:00:30Z' })).events.map((e) => e.seq)).toEqual([1]);
  });

  it('refuses a forged cursor or one from the other order', async () => {
    const { publish, query } = setup();
    for (let i = 0; i < 3; i++) await publish({ type: 'a.b' });
    await expect(query({ cursor: 'garbage' })).rejects.toMatchObject({ code: ErrorCode.InvalidParams });
    const asc = await query({ limit: 1 });
    await expect(query({ limit: 1, order: 'desc', cursor: asc.nextCursor })).rejects.toMatchObject({ code: ErrorCode.InvalidParams });
  });
});

describe('EventsService.streams', () => {
  it('lists every configured stream with counts', async () => {
    const { service, publish } = setup();
    await publish({ type: 'api.request' });
    const { streams } = service.streams();
    expect(streams.find((s) => s.name === 'api_events')).toMatchObject({ retentionDays: 7, events: 1, lastSeq: 1 });
    expect(streams.find((s) => s.name === 'default')).toMatchObject({ retentionDays: null, events: 0 });
  });
});
