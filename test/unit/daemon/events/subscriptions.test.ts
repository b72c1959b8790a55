import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../../daemon/protocol';
import { SubscriptionManager, type SubscriberChannel } from '../../../../daemon/services/events/subscriptions';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { MemoryEventLog } from '../support/memoryStore';

class FakeChannel implements SubscriberChannel {
  readonly open = new Set<string>(['ws:1', 'ws:2']);
  readonly frames = new Map<string, string[]>();
  private readonly closeListeners = new Set<(id: string) => void>();

  hasConnection(id: string): boolean {
    return this.open.has(id);
  }
  send(id: string, frame: string): boolean {
    if (!this.open.has(id)) return false;
    this.frames.set(id, [...(this.frames.get(id) ?? []), frame]);
    return true;
  }
  async sendPaced(id: string, frame: string): Promise<boolean> {
    return this.send(id, frame);
  }
  onConnectionClosed(listener: (id: string) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }
  closeConnection(id: string): void {
    this.open.delete(id);
    this.closeListeners.forEach((l) => l(id));
  }
  /** Seqs delivered to a connection, per subscription. */
  seqs(id: string, subscriptionId?: string): number[] {
    return (this.frames.get(id) ?? [])
      .map((f) => JSON.parse(f) as { method: string; params: { subscriptionId: string; event: { seq: number } } })
      .filter((f) => f.method === 'events/didAppend' && (!subscriptionId || f.params.subscriptionId === subscriptionId))
      .map((f) => f.params.event.seq);
  }
}

const flush = () => new Promise<void>((r) => setTimeout(r, 0));

async function setup() {
  const store = new MemoryEventLog().open({ clock: new ManualClock() });
  const channel = new FakeChannel();
  const errors: string[] = [];
  const subs = new SubscriptionManager(store, channel, (m) => errors.push(m), 3);
  const publish = (type: string, priority: 'low' | 'normal' | 'high' | 'critical' = 'normal') =>
    store.append([{ type, actor: 't', priority, payload: { type } }]);
  return { store, channel, subs, publish, errors };
}

describe('SubscriptionManager', () => {
  it('sends nothing before start, then live events matching the filter', async () => {
    const { channel, subs, publish } = await setup();
    const s = subs.subscribe('ws:1', { types: ['api.*'], minPriority: 'high' }, undefined);
    expect(s.headSeq).toBe(0);
    await publish('api.request', 'critical');
    expect(channel.seqs('ws:1')).toEqual([]);
    s.start();
    await flush();
    await publish('api.request', 'low');
    await publish('system.health', 'critical');
    await publish('api.error', 'high');
    expect(channel.seqs('ws:1', s.subscriptionId)).toEqual([1, 4]);
  });

  it('filters by stream', async () => {
    const { channel, subs, publish } = await setup();
    const s = subs.subscribe('ws:1', { streams: ['security_events'] }, undefined);
    s.start();
    await flush();
    await publish('api.request');
    await publish('security.auth');
    expect(channel.seqs('ws:1')).toEqual([2]);
  });

  it('catches up from afterSeq and switches to live with no gap and no duplicate', async () => {
    const { store, channel, subs, publish } = await setup();
    for (let i = 0; i < 5; i++) await publish('api.request');
    // Appends land while the catch-up is reading the log.
    let extra = 0;
    store.onRead = async () => {
      if (extra < 4) {
        extra++;
        await publish('api.request');
      }
    };
    const s = subs.subscribe('ws:1', {}, 2);
    expect(s.headSeq).toBe(5);
    s.start();
    for (let i = 0; i < 20; i++) await flush();
    store.onRead = undefined;
    await publish('api.request');
    await publish('api.request');
    expect(channel.seqs('ws:1')).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('refuses afterSeq beyond the end of the log and HTTP callers', async () => {
    const { subs } = await setup();
    expect(() => subs.subscribe('ws:1', {}, 5)).toThrowError(expect.objectContaining({ code: ErrorCode.FailedPrecondition }));
    expect(() => subs.subscribe('http', {}, undefined)).toThrowError(expect.objectContaining({ code: ErrorCode.FailedPrecondition }));
  });

  it('unsubscribes only the owner connection and drops subscriptions with their connection', async () => {
    const { channel, subs, publish } = await setup();
    const a = subs.subscribe('ws:1', {}, undefined);
    const b = subs.subscribe('ws:2', {}, undefined);
    a.start();
    b.start();
    await flush();
    expect(() => subs.unsubscribe('ws:2', a.subscriptionId)).toThrowError(expect.objectContaining({ code: ErrorCode.NotFound }));
    subs.unsubscribe('ws:1', a.subscriptionId);
    await publish('api.request');
    expect(channel.seqs('ws:1')).toEqual([]);
    expect(channel.seqs('ws:2')).toEqual([1]);
    channel.closeConnection('ws:2');
    expect(subs.size).toBe(0);
  });

  it('limits subscriptions per connection', async () => {
    const { subs } = await setup();
    for (let i = 0; i < 3; i++) subs.subscribe('ws:1', {}, undefined);
    expect(() => subs.subscribe('ws:1', {}, undefined)).toThrowError(expect.objectContaining({ code: ErrorCode.FailedPrecondition }));
    expect(() => subs.subscribe('ws:2', {}, undefined)).not.toThrow();
  });

  it('does not register a subscription for a connection that already closed', async () => {
    const { channel, subs } = await setup();
    channel.closeConnection('ws:1');
    subs.subscribe('ws:1', {}, undefined).start();
    expect(subs.size).toBe(0);
  });
});
