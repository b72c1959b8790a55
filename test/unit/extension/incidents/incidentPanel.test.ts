import { describe, expect, it } from 'vitest';
import { ErrorCode, RpcError, type Incident } from '../../../../daemon/protocol';
import type { HostToIncident } from '../../../../webview/protocol/incident';
import { IncidentPanelController } from '../../../../extension/features/incidents/incidentPanel';

const incident = (over: Partial<Incident> = {}): Incident => ({
  id: '0190f0e0-0000-7000-8000-000000000001',
  number: 'INC-1',
  title: 'Checkout 502',
  severity: 'SEV3',
  status: 'detected',
  services: [],
  detectedAt: '2026-01-01T00:00:00.000Z',
  description: '',
  detectedBy: { kind: 'person', name: 'alice' },
  roles: {},
  linkedSlos: [],
  hasReview: false,
  timeline: [],
  ...over,
});

function setup(initial: string | undefined, answer: (method: string, params: Record<string, unknown>) => unknown) {
  const posted: HostToIncident[] = [];
  const calls: [string, Record<string, unknown>][] = [];
  const commands: [string, string][] = [];
  let disposed = false;
  const channel = { visible: true, post: (m: HostToIncident) => (posted.push(m), true) };
  const session = {
    request: async (type: { method: string }, params: Record<string, unknown>) => {
      calls.push([type.method, params]);
      return answer(type.method, params);
    },
  };
  const controller = new IncidentPanelController(
    channel,
    {
      session: session as never,
      runCommand: (c, id) => commands.push([c, id]),
      log: () => undefined,
      onDispose: () => {
        disposed = true;
      },
    },
    initial,
  );
  const settle = () => new Promise((r) => setTimeout(r, 0));
  return { controller, posted, calls, commands, settle, channel, isDisposed: () => disposed };
}

describe('IncidentPanelController', () => {
  it('loads the incident it was opened with when the webview is ready', async () => {
    const t = setup('INC-1', () => incident());
    t.controller.onReady();
    await t.settle();
    expect(t.calls).toEqual([['incidents/get', { id: 'INC-1' }]]);
    expect(t.posted).toHaveLength(1);
    expect(t.posted[0]).toMatchObject({ type: 'incident', incident: { number: 'INC-1' }, review: null });
  });

  it('fetches the review only when there is one', async () => {
    const t = setup('INC-1', (method) => (method === 'incidents/get' ? incident({ hasReview: true }) : { whatHappened: 'x' }));
    t.controller.onReady();
    await t.settle();
    expect(t.calls.map(([m]) => m)).toEqual(['incidents/get', 'reviews/get']);
    expect(t.posted[0]).toMatchObject({ review: { whatHappened: 'x' } });
  });

  it('takes the incident a restored webview names, but not over one the user just picked', async () => {
    const restored = setup(undefined, () => incident());
    restored.controller.onMessage({ type: 'select', id: 'INC-7' });
    await restored.settle();
    expect(restored.calls).toEqual([['incidents/get', { id: 'INC-7' }]]);

    const picked = setup('INC-1', () => incident());
    picked.controller.onMessage({ type: 'select', id: 'INC-7' });
    await picked.settle();
    expect(picked.calls).toEqual([]);
  });

  it('reloads when the daemon says its incident changed (by id or number), not for others', async () => {
    const t = setup('INC-1', () => incident());
    t.controller.onReady();
    await t.settle();
    t.controller.incidentChanged('0190f0e0-0000-7000-8000-000000000009', 'INC-9');
    await t.settle();
    expect(t.calls).toHaveLength(1);
    t.controller.incidentChanged('0190f0e0-0000-7000-8000-000000000001', 'INC-1');
    await t.settle();
    expect(t.calls).toHaveLength(2);
  });

  it('runs the fixed commands on the incident it shows', async () => {
    const t = setup('INC-1', () => incident());
    t.controller.onReady();
    await t.settle();
    t.controller.onMessage({ type: 'runCommand', command: 'acknowledge' });
    expect(t.commands).toEqual([['acknowledge', '0190f0e0-0000-7000-8000-000000000001']]);
  });

  it('shows the daemon error instead of a spinner', async () => {
    const t = setup('INC-404', () => {
      throw new RpcError(ErrorCode.NotFound, 'no incident INC-404');
    });
    t.controller.onReady();
    await t.settle();
    expect(t.posted).toEqual([{ type: 'error', message: 'Could not load INC-404: no incident INC-404' }]);
  });

  it('does not fetch for a hidden panel, and tells its owner when disposed', async () => {
    const t = setup('INC-1', () => incident());
    t.channel.visible = false;
    t.controller.onReady();
    await t.settle();
    expect(t.calls).toEqual([]);
    t.controller.dispose();
    expect(t.isDisposed()).toBe(true);
  });
});
