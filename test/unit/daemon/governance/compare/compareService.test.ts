import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode, RpcError, type BreakingChangeChannel, type ComparisonReport } from '../../../../../daemon/protocol';
import { CompareEvent, CompareProjection } from '../../../../../daemon/services/governance/compare/compareProjection';
import { CompareService, type RouteUsageLookup } from '../../../../../daemon/services/governance/compare/compareService';
import { SEED_VERSIONS } from '../../../../../daemon/services/governance/seed';
import { ManualClock } from '../../../../../daemon/services/shared/clock';
import { MemoryEventLog } from '../../support/memoryStore';

const NOW = Date.parse('2026-11-27T12:00:00Z');
const dir = mkdtempSync(join(tmpdir(), 'cf-compare-svc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec = (paths: Record<string, unknown>) => JSON.stringify({ openapi: '3.0.3', info: { title: 'Shop', version: '1' }, paths });
const op = { responses: { '200': { description: 'ok' } } };
const BASE = spec({ '/pets': { get: op, post: op }, '/v1/orders': { get: op }, '/orders': { get: op } });
const HEAD = spec({ '/pets': { get: { ...op, parameters: [{ name: 'limit', in: 'query', schema: { type: 'integer' } }] } }, '/orders': { get: op } });

function open(routeUsage: RouteUsageLookup = () => [], log = new MemoryEventLog()) {
  const clock = new ManualClock(NOW);
  const projection = new CompareProjection();
  const store = log.open({ clock, projections: [projection] });
  const notices: unknown[] = [];
  const sent: { channel: BreakingChangeChannel; report: ComparisonReport }[] = [];
  const lookups: Parameters<RouteUsageLookup>[] = [];
  const service = new CompareService({
    store,
    projection,
    clock,
    versions: () => SEED_VERSIONS,
    routeUsage: (ops, days) => {
      lookups.push([ops, days]);
      return routeUsage(ops, days);
    },
    notify: (p) => notices.push(p),
    notifier: { send: (channel, report) => (sent.push({ channel, report }), Promise.resolve({ outcome: 'delivered' as const, status: 204 })) },
    warn: () => undefined,
  });
  return { log, service, notices, sent, lookups, projection };
}

const inline = (name: string, content: string) => ({ name, content });

describe('CompareService', () => {
  it('classifies, attaches client impact from the injected lookup, records and notifies', async () => {
    const usage: RouteUsageLookup = (ops) =>
      ops.flatMap((o) => (o.path === '/pets' ? [{ method: 'POST', path: '/pets', client: 'mobile-app', requests: 42, lastSeen: '2026-11-26T10:00:00.000Z' }, { method: 'post', path: '/pets', client: 'partner-x', requests: 3, lastSeen: '2026-11-20T10:00:00.000Z' }] : []));
    const { service, notices, log, lookups, sent } = open(usage);
    await service.setChannels([{ kind: 'webhook', url: 'http://127.0.0.1:9/hook' }], 'owner');
    const report = await service.compare({ base: inline('shop-v1.json', BASE), head: inline('shop.json', HEAD), impactDays: 14 }, 'owner');

    // /v1/orders: the seed's v1 is deprecated with its sunset (2026-04-12) passed, so removing it is allowed.
    expect(report.changes.map((c) => [c.rule, c.method, c.path])).toEqual([
      ['operation-removed', 'post', '/pets'],
      ['optional-parameter-added', 'get', '/pets'],
      ['deprecated-operation-removed', 'get', '/v1/orders'],
    ]);
    expect(report.changes[2]!.allowedBy).toBe('version:v1');
    expect(report).toMatchObject({ breaking: true, summary: { breaking: 1, warning: 0, info: 2 }, document: 'shop.json', base: { name: 'shop-v1.json', format: 'openapi-3.0' } });
    expect(lookups).toEqual([[[{ method: 'post', path: '/pets' }], 14]]);
    expect(report.changes[0]!.clients).toEqual([
      { client: 'mobile-app', requests: 42, lastSeen: '2026-11-26T10:00:00.000Z' },
      { client: 'partner-x', requests: 3, lastSeen: '2026-11-20T10:00:00.000Z' },
    ]);
    expect(report.impact).toEqual({ sinceDays: 14, clients: [{ client: 'mobile-app', requests: 42, operations: 1 }, { client: 'partner-x', requests: 3, operations: 1 }] });

    expect(notices).toEqual([expect.objectContaining({ reportId: report.reportId, breakingCount: 1, affectedClients: ['mobile-app', 'partner-x'] })]);
    expect(log.ofType(CompareEvent.Completed, CompareEvent.BreakingChangeDetected).map((e) => e.type)).toEqual([CompareEvent.Completed, CompareEvent.BreakingChangeDetected]);
    await service.idle();
    expect(sent.map((s) => s.channel)).toEqual([{ kind: 'webhook', url: 'http://127.0.0.1:9/hook' }]);
    expect(log.ofType(CompareEvent.BreakingChangeDelivered)[0]!.payload).toMatchObject({ reportId: report.reportId, outcome: 'delivered', channel: 'webhook' });
    expect(service.reports('shop.json', 10)[0]!.reportId).toBe(report.reportId);
  });

  it('a comparison without breaking changes neither notifies nor asks for client impact', async () => {
    const { service, notices, lookups, log } = open();
    const report = await service.compare({ base: inline('a.json', HEAD), head: inline('a.json', HEAD), impactDays: 30 }, 'owner');
    expect(report).toMatchObject({ breaking: false, changeCount: 0, impact: { clients: [] } });
    expect(notices).toEqual([]);
    expect(lookups).toEqual([]);
    expect(log.ofType(CompareEvent.BreakingChangeDetected)).toEqual([]);
  });

  it('keeps the latest report per document and survives a restart', async () => {
    const { service, log } = open();
    await service.compare({ base: inline('a.json', BASE), head: inline('a.json', HEAD), impactDays: 30 }, 'owner');
    await service.compare({ base: inline('a.json', HEAD), head: inline('a.json', HEAD), impactDays: 30 }, 'owner');
    await service.compare({ base: inline('b.json', BASE), head: inline('b.json', HEAD), impactDays: 30 }, 'owner');
    expect(service.reports(undefined, 10).map((r) => r.document)).toEqual(['b.json', 'a.json']);
    const again = open(() => [], log);
    expect(again.service.reports('a.json', 10)).toEqual(service.reports('a.json', 10));
    expect(again.service.reports('a.json', 10)[0]).toMatchObject({ changeCount: 0, changesCap: 200 });
  });

  it('reads files from disk and names the field of a bad one', async () => {
    const file = join(dir, 'shop.json');
    writeFileSync(file, HEAD);
    const { service } = open();
    await expect(service.compare({ base: { path: join(dir, 'none.json') }, head: { path: file }, impactDays: 30 }, 'o')).rejects.toThrow(/base\.path: .*none\.json: does not exist/);
    writeFileSync(join(dir, 'broken.yaml'), 'openapi: 3.0.0\npaths: [\n');
    const e = await service.compare({ base: { path: join(dir, 'broken.yaml') }, head: { path: file }, impactDays: 30 }, 'o').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RpcError);
    expect((e as RpcError).code).toBe(ErrorCode.InvalidParams);
    expect((e as RpcError).message).toMatch(/^base: .*broken\.yaml: invalid YAML at line \d+/);
  });

  it('deprecation policies: CRUD, allowed removal once the sunset passed, headers for a path', async () => {
    const { service } = open();
    const pol = await service.createPolicy({ id: 'dep-pets', pattern: '/pets*', methods: ['post'], replacement: '/v2/pets', migrationSteps: ['Send POST /v2/pets'], deprecatedAt: '2026-01-01T00:00:00.000Z', sunsetAt: '2026-06-01T00:00:00.000Z', link: 'https://example.com/migrate' }, 'o');
    expect(pol).toMatchObject({ id: 'dep-pets', createdAt: '2026-11-27T12:00:00.000Z' });
    // Without deprecatedAt the policy starts now, after this sunset date: refused.
    await expect(service.createPolicy({ pattern: '/old*', sunsetAt: '2026-06-01T00:00:00.000Z', migrationSteps: [] }, 'o')).rejects.toThrow(/sunsetAt: must be after deprecatedAt/);
    await expect(service.createPolicy({ pattern: '/pets*', methods: ['post'], migrationSteps: [] }, 'o')).rejects.toMatchObject({ code: ErrorCode.Duplicate });
    await expect(service.updatePolicy({ id: 'dep-pets', sunsetAt: '2025-01-01T00:00:00.000Z' }, 'o')).rejects.toThrow(/sunsetAt: must be after deprecatedAt/);

    const report = await service.compare({ base: inline('a.json', BASE), head: inline('a.json', HEAD), impactDays: 30 }, 'o');
    expect(report.changes.find((c) => c.method === 'post')).toMatchObject({ rule: 'deprecated-operation-removed', allowedBy: 'policy:dep-pets' });
    expect(report.breaking).toBe(false);

    expect(service.policies('/pets/{id}').map((p) => p.id)).toEqual(['dep-pets']);
    expect(service.policies('/orders')).toEqual([]);
    const headers = service.headersFor({ path: '/pets', method: 'post' }, undefined);
    expect(headers).toMatchObject({
      headers: { Deprecation: `@${Date.parse('2026-01-01T00:00:00Z') / 1000}`, Sunset: 'Mon, 01 Jun 2026 00:00:00 GMT', Link: '<https://example.com/migrate>; rel="deprecation"; type="text/html"' },
      policy: { id: 'dep-pets' },
    });
    expect(service.headersFor({ path: '/pets', method: 'get' }, undefined)).toEqual({ headers: {} });
    const merged = service.headersFor({ path: '/pets', method: 'post', version: 'v1' }, { version: 'v1', status: 'deprecated', headers: { Deprecation: '@1', Link: '<https://example.com/v1>; rel="sunset"' } });
    expect(merged.headers.Link).toBe('<https://example.com/v1>; rel="sunset", <https://example.com/migrate>; rel="deprecation"; type="text/html"');
    expect(merged).toMatchObject({ version: 'v1', status: 'deprecated' });

    await service.deletePolicy('dep-pets', 'o');
    await expect(service.deletePolicy('dep-pets', 'o')).rejects.toMatchObject({ code: ErrorCode.NotFound });
  });

  it('a lookup that throws leaves the report without impact instead of failing it', async () => {
    const { service } = open(() => {
      throw new Error('slo store unavailable');
    });
    const report = await service.compare({ base: inline('a.json', BASE), head: inline('a.json', HEAD), impactDays: 30 }, 'o');
    expect(report.breaking).toBe(true);
    expect(report.impact.clients).toEqual([]);
  });
});
