import { describe, expect, it } from 'vitest';
import { liveConfig, type DaemonClient, type LiveConfigChange } from '../../../../daemon/client';
import {
  ConfigHistory,
  DeleteConfig,
  GetConfig,
  ListConfig,
  SetConfig,
  type AnyNotificationType,
  type AnyRequestType,
  type NotificationParamsOf,
  type ParamsOf,
  type Scope,
} from '../../../../daemon/protocol';
import type { DidChangeConfig } from '../../../../daemon/protocol';
import { Router } from '../../../../daemon/server/router';
import { didChangeOf } from '../../../../daemon/services/config/configFeature';
import { ConfigProjection } from '../../../../daemon/services/config/configProjection';
import { ConfigService } from '../../../../daemon/services/config/configService';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { MemoryEventLog } from '../support/memoryStore';
import { MemorySensitiveValues } from './memorySensitiveValues';

type ChangeParams = NotificationParamsOf<typeof DidChangeConfig>;

/**
 * The parts of DaemonClient the live getter uses, over the real service and router, with a
 * connection that can be cut: while it is down, notifications are lost, as with a real socket.
 */
class FakeClient {
  connected = true;
  private readonly notificationListeners = new Set<(p: ChangeParams) => void>();
  private readonly stateListeners = new Set<(state: string) => void>();

  constructor(
    private readonly router: Router,
    private readonly scope: Scope,
  ) {}

  request<T extends AnyRequestType>(type: T, params: ParamsOf<T>): Promise<unknown> {
    if (!this.connected) return Promise.reject(new Error('not connected'));
    return this.router.dispatch(type.method, params, { actor: 'svc', scope: this.scope, connectionId: 'ws:1' });
  }

  onNotification(_type: AnyNotificationType, callback: (p: ChangeParams) => void) {
    this.notificationListeners.add(callback);
    return { dispose: () => void this.notificationListeners.delete(callback) };
  }

  onStateChange(callback: (state: string) => void) {
    this.stateListeners.add(callback);
    return { dispose: () => void this.stateListeners.delete(callback) };
  }

  push(p: ChangeParams): void {
    if (this.connected) for (const l of this.notificationListeners) l(p);
  }

  drop(): void {
    this.connected = false;
    for (const l of this.stateListeners) l('reconnecting');
  }

  restore(): void {
    this.connected = true;
    for (const l of this.stateListeners) l('connected');
  }

  get listenerCount(): number {
    return this.notificationListeners.size + this.stateListeners.size;
  }
}

async function setup(scope: Scope = 'read') {
  const projection = new ConfigProjection();
  const store = new MemoryEventLog().open({ clock: new ManualClock(), projections: [projection] });
  const service = new ConfigService(store, projection, new MemorySensitiveValues());
  await service.seedDefaults();
  const router = new Router()
    .on(ListConfig, (p) => service.list(p))
    .on(GetConfig, (p, ctx) => service.get(p, ctx))
    .on(ConfigHistory, (p) => service.history(p));
  const fake = new FakeClient(router, scope);
  store.onAppend((events) => {
    for (const e of events) {
      const change = didChangeOf(e);
      if (change) fake.push(change);
    }
  });
  const write = {
    set: (raw: ParamsOf<typeof SetConfig>) => service.set(SetConfig.params.parse(raw), 'owner'),
    delete: (raw: ParamsOf<typeof DeleteConfig>) => service.delete(DeleteConfig.params.parse(raw), 'owner'),
  };
  return { fake, client: fake as unknown as DaemonClient, write };
}

/** Let the getter's follow-up requests (they resolve on later microtasks) settle. */
const settle = () => new Promise((r) => setImmediate(r));

describe('liveConfig', () => {
  it('loads the environment and applies changes as they are notified', async () => {
    const { client, write } = await setup();
    const cfg = await liveConfig(client, { environment: 'development' });
    expect(cfg.toObject()).toEqual({ debug_mode: true, rate_limit_enabled: false });
    const changes: LiveConfigChange[] = [];
    cfg.onChange((c) => changes.push(c));
    await write.set({ environment: 'development', key: 'debug_mode', value: false });
    await write.set({ environment: 'staging', key: 'debug_mode', value: true });
    await settle();
    expect(cfg.get('debug_mode')).toBe(false);
    expect(cfg.entry('debug_mode')).toMatchObject({ version: 2, updatedBy: 'owner' });
    expect(changes).toEqual([
      { environment: 'development', key: 'debug_mode', version: 2, op: 'set', sensitive: false, value: false, previous: true },
    ]);
  });

  it('ignores a notification older than what it holds', async () => {
    const { fake, client, write } = await setup();
    await write.set({ environment: 'test', key: 'k', value: 'one' });
    await write.set({ environment: 'test', key: 'k', value: 'two' });
    const cfg = await liveConfig(client, { environment: 'test' });
    const changes: LiveConfigChange[] = [];
    cfg.onChange((c) => changes.push(c));
    fake.push({ environment: 'test', key: 'k', version: 1, op: 'set', sensitive: false, value: 'one', seq: 1 });
    await settle();
    expect(cfg.get('k')).toBe('two');
    expect(changes).toEqual([]);
  });

  it('after a reconnect, catches up on sets and deletions it missed', async () => {
    const { fake, client, write } = await setup();
    await write.set({ environment: 'test', key: 'gone', value: 1 });
    await write.set({ environment: 'test', key: 'kept', value: 'a' });
    const cfg = await liveConfig(client, { environment: 'test' });
    const changes: LiveConfigChange[] = [];
    cfg.onChange((c) => changes.push(c));
    fake.drop();
    await write.set({ environment: 'test', key: 'kept', value: 'b' });
    await write.set({ environment: 'test', key: 'added', value: true });
    await write.delete({ environment: 'test', key: 'gone' });
    await settle();
    expect(cfg.get('kept')).toBe('a');
    // The reconnect alone triggers the catch-up fetch.
    fake.restore();
    for (let i = 0; i < 10; i++) await settle();
    expect(cfg.toObject()).toEqual({ added: true, kept: 'b' });
    expect(changes.map((c) => `${c.key} ${c.op}@${c.version}`).sort()).toEqual(['added set@1', 'gone delete@2', 'kept set@2']);
  });

  it('holds sensitive values only with reveal, and reports their changes either way', async () => {
    const { client, write } = await setup('admin');
    await write.set({ environment: 'test', key: 'token', value: 't1', sensitive: true });
    const masked = await liveConfig(client, { environment: 'test' });
    const revealed = await liveConfig(client, { environment: 'test', reveal: true });
    expect(masked.get('token')).toBeUndefined();
    expect(masked.has('token')).toBe(true);
    expect(revealed.get('token')).toBe('t1');
    const seen: LiveConfigChange[] = [];
    masked.onChange((c) => seen.push(c));
    await write.set({ environment: 'test', key: 'token', value: 't2' });
    await settle();
    expect(revealed.get('token')).toBe('t2');
    expect(seen).toEqual([{ environment: 'test', key: 'token', version: 2, op: 'set', sensitive: true, value: undefined, previous: undefined }]);
  });

  it('refuses reveal for a token without admin scope, and dispose lets go of the client', async () => {
    const { fake, client, write } = await setup('read');
    await write.set({ environment: 'test', key: 'token', value: 't1', sensitive: true });
    await expect(liveConfig(client, { environment: 'test', reveal: true })).rejects.toThrow(/reveal/);
    expect(fake.listenerCount).toBe(0);
    const cfg = await liveConfig(client, { environment: 'test' });
    expect(fake.listenerCount).toBe(2);
    cfg.dispose();
    expect(fake.listenerCount).toBe(0);
  });
});
