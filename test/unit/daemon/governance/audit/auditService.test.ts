import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode, RpcError } from '../../../../../daemon/protocol';
import { AuditEvent, AuditProjection } from '../../../../../daemon/services/governance/audit/auditProjection';
import { AuditService, EVENT_FINDINGS_CAP } from '../../../../../daemon/services/governance/audit/auditService';
import { AuditEngine } from '../../../../../daemon/services/governance/audit/engine';
import { ManualClock } from '../../../../../daemon/services/shared/clock';
import { MemoryEventLog } from '../../support/memoryStore';

const FIXTURES = fileURLToPath(new URL('../../../../fixtures/openapi/', import.meta.url));
const NOW = Date.parse('2026-11-27T12:00:00Z');
const engine = new AuditEngine(64 * 1024);
const tmp = mkdtempSync(join(tmpdir(), 'cf-auditsvc-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function open(log = new MemoryEventLog(), clock = new ManualClock(NOW)) {
  const projection = new AuditProjection();
  const store = log.open({ clock, projections: [projection] });
  return { log, clock, store, projection, service: new AuditService(store, projection, clock, () => Promise.resolve(engine)) };
}

async function rpcError(p: Promise<unknown>): Promise<RpcError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(RpcError);
  return e as RpcError;
}

describe('AuditService', () => {
  it('audits files, records one governance.auditCompleted event and keeps a score history', async () => {
    const { service, store, clock, log } = open();
    expect(service.dashboardSummary()).toMatchObject({ status: 'notAudited', score: null });
    const first = await service.audit({ paths: [join(FIXTURES, 'insecure30.yaml')] }, 'tester');
    expect(first.score).toBeLessThan(100);
    expect(first.score).toBeGreaterThan(0);
    clock.advance(60_000);
    const second = await service.audit({ paths: [join(FIXTURES, 'petstore31.yaml')] }, 'tester');
    expect(second.score).toBe(100);
    const events = await store.query({ types: [AuditEvent.Completed] }, { limit: 10, order: 'asc' });
    expect(events.map((e) => e.actor)).toEqual(['tester', 'tester']);
    expect(service.history(undefined, 10).map((h) => h.score)).toEqual([100, first.score]);
    expect(service.history(join(FIXTURES, 'insecure30.yaml'), 10).map((h) => h.auditId)).toEqual([first.auditId]);
    expect(service.dashboardSummary()).toMatchObject({ status: 'audited', score: 100, failingCategories: [] });

    const reopened = open(log);
    expect(reopened.projection.latest?.auditId).toBe(second.auditId);
    expect(reopened.service.history(undefined, 10)).toHaveLength(2);
  });

  it('caps the findings the event stores and says so, keeping exact counts', async () => {
    const { service, store } = open();
    const ops = Array.from({ length: 40 }, (_, i) => `  /r${i}:\n    get:\n      responses:\n        '200':\n          description: ok\n`).join('');
    const file = join(tmp, 'many.yaml');
    writeFileSync(file, `openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n${ops}`);
    const report = await service.audit({ paths: [file] }, 'tester');
    expect(report.findingCount).toBeGreaterThan(EVENT_FINDINGS_CAP);
    expect(report.findings).toHaveLength(report.findingCount);
    const [event] = await store.query({ types: [AuditEvent.Completed] }, { limit: 1, order: 'desc' });
    const stored = (event!.payload as { report: typeof report }).report;
    expect(stored.findings).toHaveLength(EVENT_FINDINGS_CAP);
    expect(stored.findingsTruncated).toBe(true);
    expect(stored.findingCount).toBe(report.findingCount);
  });

  it('audits the specs under a root folder', async () => {
    const { service } = open();
    const report = await service.audit({ root: join(FIXTURES, 'twoFile') }, 'tester');
    expect(report.root).toBe(join(FIXTURES, 'twoFile'));
    expect(report.documents.map((d) => d.file)).toEqual([join(FIXTURES, 'twoFile', 'api.yaml')]);
  });

  it('refuses bad paths with an error naming the field and file, and records nothing', async () => {
    const { service, store } = open();
    const missing = await rpcError(service.audit({ paths: [join(tmp, 'nope.yaml')] }, 'tester'));
    expect(missing.code).toBe(ErrorCode.InvalidParams);
    expect(missing.message).toContain('paths[0]');
    expect(missing.message).toContain('does not exist');
    expect((await rpcError(service.audit({ paths: [tmp] }, 'tester'))).message).toContain('not a regular file');
    const big = join(tmp, 'big.yaml');
    writeFileSync(big, `openapi: 3.0.3\n#${'x'.repeat(70 * 1024)}\n`);
    expect((await rpcError(service.audit({ paths: [big] }, 'tester'))).message).toContain('limit');
    expect((await rpcError(service.audit({ paths: ['relative.yaml'] }, 'tester'))).message).toContain('absolute');
    const empty = mkdtempSync(join(tmp, 'empty-'));
    expect((await rpcError(service.audit({ root: empty }, 'tester'))).code).toBe(ErrorCode.NotFound);
    expect((await rpcError(service.audit({ root: join(tmp, 'nowhere') }, 'tester'))).message).toContain('root');
    expect(store.lastSeq).toBe(0);
  });
});
