import { afterAll, describe, expect, it } from 'vitest';
import type { ComparisonReport } from '../../../daemon/protocol';
import { removeTempDirs, spawnDaemon, type DaemonProcess } from '../helpers/daemonProcess';

// The wiring in daemon/app.ts: a breaking change's client impact comes from the request samples the
// SLO service counted per route and client, with OpenAPI `{id}` matching a recorded `:id` route.
const spec = (withDelete: boolean) =>
  JSON.stringify({
    openapi: '3.0.3',
    info: { title: 'Shop', version: withDelete ? '1' : '2' },
    paths: {
      '/pets': { get: { responses: { '200': { description: 'ok' } } } },
      ...(withDelete ? { '/pets/{petId}': { delete: { responses: { '204': { description: 'gone' } } } } } : {}),
    },
  });

describe('breaking-change client impact from recorded traffic', () => {
  let d: DaemonProcess | undefined;
  afterAll(async () => {
    await d?.stop();
    removeTempDirs();
  });

  it('names the clients that called the removed operation, and only them', async () => {
    d = await spawnDaemon();
    const c = await d.connect();
    const now = new Date().toISOString();
    const sample = (method: string, route: string, client?: string) => ({ service: 'shop', method, route, status: 204, durationMs: 5, timestamp: now, ...(client ? { client } : {}) });
    await c.request('slo/recordBatch', {
      samples: [
        sample('DELETE', '/pets/:id', 'billing-service'),
        sample('DELETE', '/pets/:id', 'billing-service'),
        sample('DELETE', '/pets/:id', 'admin-ui'),
        sample('DELETE', '/pets/:id'),
        sample('GET', '/pets', 'storefront'),
      ],
    });
    const report = await c.request<ComparisonReport>('governance/compare', { base: { name: 'v1.json', content: spec(true) }, head: { name: 'v2.json', content: spec(false) } });
    expect(report.breaking).toBe(true);
    const removed = report.changes.find((ch) => ch.rule === 'operation-removed' || ch.rule === 'path-removed');
    expect(removed, JSON.stringify(report.changes)).toBeDefined();
    const byClient = Object.fromEntries(report.impact.clients.map((x) => [x.client, x.requests]));
    expect(byClient).toEqual({ 'billing-service': 2, 'admin-ui': 1, '(unidentified)': 1 });
    expect(removed!.clients?.map((x) => x.client).sort()).toEqual(['(unidentified)', 'admin-ui', 'billing-service']);
  });
});
