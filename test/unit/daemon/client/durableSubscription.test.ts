import { describe, expect, it } from 'vitest';
import type { AnyNotificationType, AnyRequestType, NotificationParamsOf, ParamsOf, ResultOf } from '../../../../daemon/protocol';
import { subscribeDurable, type DurableClient } from '../../../../daemon/client/durableSubscription';

class FakeClient implements DurableClient {
  readonly calls: { method: string; params: Record<string, unknown> }[] = [];
  private notify = new Set<(p: unknown) => void>();
  private states = new Set<(s: 'connected' | 'reconnecting') => void>();
  async request<T extends AnyRequestType>(type: T, params: ParamsOf<T>): Promise<ResultOf<T>> {
    this.calls.push({ method: type.method, params: params as Record<string, unknown> });
    return {} as ResultOf<T>;
  }
  onNotification<T extends AnyNotificationType>(_type: T, callback: (params: NotificationParamsOf<T>) => void) {
    const cb = callback as (p: unknown) => void;
    this.notify.add(cb);
    return { dispose: () => void this.notify.delete(cb) };
  }
  onStateChange(callback: (state: 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'stopped') => void) {
    this.states.add(callback);
    return { dispose: () => void this.states.delete(callback) };
  }
  deliver(subscription: string, seq: number, attempt = 1): void {
    const event = { id: `e${seq}`, seq, type: 'order.placed', stream: 'default', time: '2026-01-01T00:00:00.000Z', priority: 'normal', actor: 't', schemaVersion: 1, payload: {} };
    this.notify.forEach((cb) => cb({ subscription, deliveryId: `live:${seq}`, attempt, replay: false, event }));
  }
  state(s: 'connected' | 'reconnecting'): void {
    this.states.forEach((cb) => cb(s));
  }
  methods(): string[] {
    return this.calls.map((c) => c.method);
  }
}

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
};

describe('subscribeDurable', () => {
  it('creates-or-keeps, attaches, acks on success and nacks with the error message on a throw', async () => {
    const c = new FakeClient();
    const seen: number[] = [];
    await subscribeDurable(c, 'orders', { types: ['order.*'] }, (e) => {
      seen.push(e.seq);
      if (e.seq === 2) throw new Error('cannot ship');
    }, { maxAttempts: 2 });
    expect(c.calls.slice(0, 2)).toEqual([
      { method: 'events/createSubscription', params: { name: 'orders', filter: { types: ['order.*'] }, ifExists: 'keep', maxAttempts: 2 } },
      { method: 'events/attach', params: { name: 'orders', takeover: false } },
    ]);
    c.deliver('orders', 1);
    c.deliver('orders', 2);
    c.deliver('other', 3);
    await settle();
    expect(seen).toEqual([1, 2]);
    expect([...c.calls.slice(2)].sort((a, b) => (a.params.seq as number) - (b.params.seq as number))).toEqual([
      { method: 'events/ack', params: { name: 'orders', seq: 1, deliveryId: 'live:1' } },
      { method: 'events/nack', params: { name: 'orders', seq: 2, deliveryId: 'live:2', reason: 'cannot ship' } },
    ]);
  });

  it('re-attaches with takeover after a reconnect, and stops after dispose', async () => {
    const c = new FakeClient();
    const sub = await subscribeDurable(c, 'orders', {}, () => undefined);
    c.state('reconnecting');
    c.state('connected');
    await settle();
    expect(c.calls[2]).toEqual({ method: 'events/attach', params: { name: 'orders', takeover: true } });
    await sub.dispose();
    c.deliver('orders', 1);
    c.state('connected');
    await settle();
    expect(c.methods().slice(3)).toEqual(['events/detach']);
  });
});
