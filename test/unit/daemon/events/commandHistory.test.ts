import { describe, expect, it } from 'vitest';
import { ErrorCode, RpcError } from '../../../../daemon/protocol';
import { Router } from '../../../../daemon/server/router';
import { CommandHistory } from '../../../../daemon/services/events/commandHistory';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import type { EventRecord } from '../../../../daemon/store/types';

const ev = (seq: number, actor: string) => ({ seq, actor }) as EventRecord;

describe('CommandHistory', () => {
  it('records outcome, duration and the events its actor appended while it ran', () => {
    const clock = new ManualClock();
    const h = new CommandHistory(clock);
    const done = h.begin({ method: 'incidents/create', actor: 'alice' });
    h.appended([ev(1, 'alice'), ev(2, 'bob')]);
    clock.advance(25);
    done({ ok: true });
    const failed = h.begin({ method: 'incidents/resolve', actor: 'alice' });
    failed({ ok: false, error: new RpcError(ErrorCode.InvalidTransition, 'no') });
    h.appended([ev(3, 'alice')]);
    const { commands } = h.list({ limit: 10 });
    expect(commands).toEqual([
      expect.objectContaining({ method: 'incidents/resolve', outcome: 'error', errorCode: 'InvalidTransition', eventSeqs: [] }),
      expect.objectContaining({ method: 'incidents/create', outcome: 'ok', durationMs: 25, eventSeqs: [1], eventsExact: true }),
    ]);
  });

  it('flags overlapping commands of one actor as inexact, skips acks, filters and pages', () => {
    const h = new CommandHistory(new ManualClock(), 3);
    const a = h.begin({ method: 'x/a', actor: 'alice' });
    const b = h.begin({ method: 'x/b', actor: 'alice' });
    h.appended([ev(1, 'alice')]);
    a({ ok: true });
    b({ ok: true });
    h.begin({ method: 'events/ack', actor: 'alice' })({ ok: true });
    expect(h.list({ limit: 10 }).commands.every((c) => !c.eventsExact && c.eventSeqs[0] === 1)).toBe(true);
    for (const m of ['x/c', 'x/d']) h.begin({ method: m, actor: 'bob' })({ ok: true });
    const all = h.list({ limit: 10 }).commands;
    expect(all.map((c) => c.method)).toEqual(['x/d', 'x/c', 'x/b']);
    const page = h.list({ limit: 1, actor: 'bob' });
    expect(page).toMatchObject({ more: true, commands: [{ method: 'x/d' }] });
    expect(h.list({ limit: 5, actor: 'bob', beforeId: page.commands[0].id }).commands.map((c) => c.method)).toEqual(['x/c']);
  });

  it('hears commands through the router, including ones refused by validation', async () => {
    const { defineRequest } = await import('../../../../daemon/protocol');
    const z = await import('zod');
    const Cmd = defineRequest('test/cmd', z.object({ n: z.number() }), z.object({ n: z.number() }), { kind: 'command', doc: 'test' });
    const Qry = defineRequest('test/qry', z.object({}), z.object({}), { kind: 'query', doc: 'test' });
    const router = new Router().on(Cmd, ({ n }) => ({ n })).on(Qry, () => ({}));
    const h = new CommandHistory(new ManualClock());
    router.observeCommands((call) => h.begin(call));
    const ctx = { actor: 'owner', scope: 'admin' as const, connectionId: 'ws:1' };
    await router.dispatch('test/cmd', { n: 1 }, ctx);
    await expect(router.dispatch('test/cmd', { n: 'x' }, ctx)).rejects.toMatchObject({ code: ErrorCode.InvalidParams });
    await router.dispatch('test/qry', {}, ctx);
    expect(h.list({ limit: 10 }).commands.map((c) => [c.method, c.outcome, c.errorCode])).toEqual([
      ['test/cmd', 'error', 'InvalidParams'],
      ['test/cmd', 'ok', undefined],
    ]);
  });
});
