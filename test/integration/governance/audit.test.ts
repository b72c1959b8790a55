import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, type ComplianceReport } from '../../../daemon/protocol';
import { removeTempDirs, spawnDaemon, type DaemonProcess, type RpcClient, rpcError } from '../helpers/daemonProcess';

const FIXTURES = fileURLToPath(new URL('../../fixtures/openapi/', import.meta.url));
const fixture = (name: string) => join(FIXTURES, name);
const tmp = mkdtempSync(join(tmpdir(), 'cf-audit-int-'));

let d: DaemonProcess;
let c: RpcClient;

beforeAll(async () => {
  d = await spawnDaemon();
  c = await d.connect();
});

afterAll(async () => {
  await c?.close();
  await d?.stop();
  removeTempDirs();
  rmSync(tmp, { recursive: true, force: true });
});

type Compliance = { status: string; report: ComplianceReport | null };
type Dashboard = { owasp: { status: string; score: number | null; failingCategories?: string[] } };
const lastSeq = async () => (await c.request<{ eventLog: { lastSeq: number } }>('daemon/status', {})).eventLog.lastSeq;

describe('OWASP audit against the real daemon', () => {
  it('reports notAudited before the first audit, over RPC and REST', async () => {
    expect(await c.request<Compliance>('governance/owaspCompliance', {})).toEqual({ status: 'notAudited', report: null });
    const res = await d.http('/api/governance/owasp-compliance');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'notAudited', report: null });
    expect((await d.http('/api/governance/owasp-compliance', { token: null })).status).toBe(401);
    expect((await c.request<Dashboard>('governance/dashboard', {})).owasp).toMatchObject({ status: 'notAudited', score: null });
  });

  it('refuses bad params with errors naming the field, and records nothing', async () => {
    const before = await lastSeq();
    const neither = await rpcError(c.request('governance/audit', {}));
    expect(neither.code).toBe(ErrorCode.InvalidParams);
    expect(JSON.stringify(neither.data)).toContain('paths');
    expect(JSON.stringify((await rpcError(c.request('governance/audit', { paths: ['spec.yaml'] }))).data)).toContain('absolute');
    const missing = await rpcError(c.request('governance/audit', { paths: [join(tmp, 'missing.yaml')] }));
    expect(missing.code).toBe(ErrorCode.InvalidParams);
    expect(missing.message).toContain('does not exist');
    expect((await rpcError(c.request('governance/audit', { paths: [tmp] }))).message).toContain('not a regular file');
    expect((await rpcError(c.request('governance/audit', { paths: [fixture('petstore31.yaml')], glob: '*.yaml' }))).message).toContain('glob');
    expect(await lastSeq()).toBe(before);
  });

  it('audits files of every format: findings with category, severity, position, pointer and fixes', async () => {
    const files = ['insecure30.yaml', 'petstore31.yaml', 'swagger2.json', 'twoFile/api.yaml'].map(fixture);
    const report = await c.request<ComplianceReport>('governance/audit', { paths: files });
    expect(report.documents.map((x) => [x.file, x.format])).toEqual([
      [files[0], 'openapi-3.0'],
      [files[1], 'openapi-3.1'],
      [files[2], 'swagger-2.0'],
      [files[3], 'openapi-3.0'],
    ]);
    expect(report.documents[1]!.score).toBe(100);
    expect(report.score).toBeGreaterThan(0);
    expect(report.score).toBeLessThan(100);
    const failing = report.categories.filter((x) => x.status === 'fail').map((x) => x.category);
    for (const cat of ['API1', 'API2', 'API4', 'API6', 'API8', 'API9', 'API10']) expect(failing).toContain(cat);
    const http = report.findings.find((f) => f.rule === 'owasp:api8:2023-no-server-http')!;
    expect(http).toMatchObject({ category: 'API8', severity: 'error', file: files[0], pointer: '/servers/0/url', range: { start: { line: 5, character: 9 } } });
    expect(http.fix).toMatchObject({ kind: 'replaceValue', value: 'https://shop.example.com/v1' });
    expect(report.findings.some((f) => f.file === fixture('twoFile/schemas.yaml'))).toBe(true);
    expect(report.findingsTruncated).toBe(false);
    expect(report.scoreFormula).toContain('100 ×');
  });

  it('audits a workspace folder, keeps serving after invalid YAML, and keeps a history', async () => {
    const byRoot = await c.request<ComplianceReport>('governance/audit', { root: FIXTURES });
    expect(byRoot.documents.map((x) => x.file).sort()).toEqual(['insecure30.yaml', 'petstore31.yaml', 'swagger2.json', 'twoFile/api.yaml'].map(fixture).sort());
    const broken = join(tmp, 'broken.yaml');
    writeFileSync(broken, 'openapi: 3.0.3\ninfo: [unclosed\n');
    const bad = await c.request<ComplianceReport>('governance/audit', { paths: [broken] });
    expect(bad.findings.some((f) => f.rule === 'parser' && f.category === 'structure')).toBe(true);
    expect(await c.request('daemon/status', {})).toBeTruthy();

    const { entries } = await c.request<{ entries: { auditId: string; score: number }[] }>('governance/auditHistory', {});
    expect(entries.map((e) => e.auditId)).toEqual([bad.auditId, byRoot.auditId, expect.any(String)]);
    const onlyPetstore = await c.request<{ entries: unknown[] }>('governance/auditHistory', { file: fixture('petstore31.yaml'), limit: 1 });
    expect(onlyPetstore.entries).toHaveLength(1);
    expect((await rpcError(c.request('governance/auditHistory', { limit: 0 }))).code).toBe(ErrorCode.InvalidParams);
  });

  it('serves the latest report over REST and the dashboard, and both survive a restart', async () => {
    const good = await c.request<ComplianceReport>('governance/audit', { paths: [fixture('petstore31.yaml')] });
    const body = (await (await d.http('/api/governance/owasp-compliance')).json()) as Compliance;
    expect(body.status).toBe('audited');
    expect(body.report).toMatchObject({ auditId: good.auditId, score: 100, findingCount: 0 });
    expect((await c.request<Dashboard>('governance/dashboard', {})).owasp).toMatchObject({ status: 'audited', score: 100, failingCategories: [] });

    await c.close();
    await d.stop();
    d = await spawnDaemon({ dataDir: d.dataDir });
    c = await d.connect();
    const after = (await (await d.http('/api/governance/owasp-compliance')).json()) as Compliance;
    expect(after.report?.auditId).toBe(good.auditId);
    const { entries } = await c.request<{ entries: unknown[] }>('governance/auditHistory', {});
    expect(entries).toHaveLength(4);
    expect((await (await d.http('/api/governance/dashboard')).json()) as Dashboard).toMatchObject({ owasp: { status: 'audited', score: 100 } });
  });
});
