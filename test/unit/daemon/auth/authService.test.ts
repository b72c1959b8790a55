import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../../daemon/protocol';
import { AuthService, newToken } from '../../../../daemon/services/auth/authService';
import { TokenProjection } from '../../../../daemon/services/auth/tokenProjection';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { MemoryEventLog } from '../support/memoryStore';

function setup() {
  const projection = new TokenProjection();
  const store = new MemoryEventLog().open({ clock: new ManualClock(), projections: [projection] });
  const owner = newToken();
  return { projection, store, owner, auth: new AuthService(store, projection, owner) };
}

describe('AuthService', () => {
  it('knows the owner token as admin and nothing else', () => {
    const { auth, owner } = setup();
    expect(owner).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(auth.authenticate(owner)).toEqual({ actor: 'owner', scope: 'admin' });
    expect(auth.authenticate(owner + 'x')).toBeUndefined();
    expect(auth.authenticate('')).toBeUndefined();
  });

  it('mints a scoped token, stores only its hash, and revokes it', async () => {
    const { auth, store } = setup();
    const created = await auth.createToken('ci-bot', 'read', 'owner');
    expect(created).toMatchObject({ name: 'ci-bot', scope: 'read', createdBy: 'owner' });
    expect(auth.authenticate(created.token)).toEqual({ actor: 'ci-bot', scope: 'read' });
    expect(JSON.stringify(store.events)).not.toContain(created.token);
    expect(store.events[0]).toMatchObject({ type: 'auth.tokenCreated', stream: 'daemon_events' });
    expect(auth.list()).toEqual([{ name: 'ci-bot', scope: 'read', createdAt: created.createdAt, createdBy: 'owner' }]);
    await auth.revokeToken('ci-bot', 'owner');
    expect(auth.authenticate(created.token)).toBeUndefined();
    expect(auth.list()).toEqual([]);
  });

  it('refuses a duplicate name (also when created concurrently) and revoking an unknown name', async () => {
    const { auth } = setup();
    const results = await Promise.allSettled([auth.createToken('svc', 'write', 'owner'), auth.createToken('svc', 'read', 'owner')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: ErrorCode.Duplicate } });
    await expect(auth.revokeToken('ghost', 'owner')).rejects.toMatchObject({ code: ErrorCode.NotFound });
  });

  it('survives a snapshot round trip', async () => {
    const { auth, projection } = setup();
    const t = await auth.createToken('svc', 'write', 'owner');
    const restored = new TokenProjection();
    restored.restore(JSON.parse(JSON.stringify(projection.snapshot())));
    const again = new AuthService(new MemoryEventLog().open({ clock: new ManualClock() }), restored, newToken());
    expect(again.authenticate(t.token)).toEqual({ actor: 'svc', scope: 'write' });
  });
});
