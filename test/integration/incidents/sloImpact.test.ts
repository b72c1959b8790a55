import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../daemon/protocol';
import type { Incident } from '../../../daemon/protocol/incidents';
import { rpcError, useDaemons } from '../helpers/daemonProcess';

const spawn = useDaemons();

interface Impact {
  incidentId: string;
  number: string;
  from: string;
  to: string;
  ongoing: boolean;
  slos: { sloId: string; impact: { totalEvents: number; badEvents: number; budgetEvents: number; consumedRatio: number | null } | null; note?: string }[];
}

const sample = (status: number) => ({ service: 'checkout', method: 'POST', route: '/orders', status, durationMs: 20 });

describe('incidents/sloImpact on a real daemon', () => {
  it('counts the budget each linked SLO lost during the incident, open and after resolution', async () => {
    const d = await spawn();
    const c = await d.connect();
    await c.request('slo/create', {
      id: 'checkout_avail',
      name: 'Checkout availability',
      sli: { kind: 'availability' },
      objective: 0.99,
      windowDays: 7,
      filter: { service: 'checkout' },
    });
    const inc = await c.request<Incident>('incidents/create', {
      title: 'Checkout 5xx',
      severity: 'SEV3',
      detectedBy: { kind: 'slo', name: 'checkout_avail' },
      services: ['checkout'],
      linkedSlos: ['checkout_avail', 'gone_slo'],
    });

    // 200 requests during the incident, 30 of them 503: budget = 1 % of 200 = 2 events, so 15× of it.
    const samples = [...Array.from({ length: 170 }, () => sample(200)), ...Array.from({ length: 30 }, () => sample(503))];
    await c.request('slo/recordBatch', { samples });

    const open = await c.request<Impact>('incidents/sloImpact', { id: inc.number });
    expect(open).toMatchObject({ incidentId: inc.id, number: inc.number, ongoing: true });
    expect(Date.parse(open.from)).toBeLessThanOrEqual(Date.parse(inc.detectedAt));
    const [avail, gone] = open.slos;
    expect(avail).toMatchObject({ sloId: 'checkout_avail', impact: { totalEvents: 200, badEvents: 30, budgetEvents: 2, consumedRatio: 15 } });
    expect(gone).toEqual({ sloId: 'gone_slo', impact: null, note: 'SLO gone_slo no longer exists' });

    // Resolved: the window ends at the resolution, so later traffic is not charged to it.
    await c.request('incidents/transition', { id: inc.id, to: 'resolved', resolution: 'rolled back' });
    const resolved = await c.request<Impact>('incidents/sloImpact', { id: inc.id });
    expect(resolved.ongoing).toBe(false);
    expect(resolved.slos[0]!.impact).toMatchObject({ badEvents: 30 });

    expect((await rpcError(c.request('incidents/sloImpact', { id: 'INC-99' }))).code).toBe(ErrorCode.NotFound);
    const bad = await rpcError(c.request('incidents/sloImpact', { id: 'nope' }));
    expect(bad.code).toBe(ErrorCode.InvalidParams);
    expect(bad.message).toContain('id');
  });
});
