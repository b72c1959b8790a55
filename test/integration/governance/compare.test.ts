import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, type ComparisonReport } from '../../../daemon/protocol';
import { makeTempDir, removeTempDirs, rpcError, spawnDaemon, type DaemonProcess, type RpcClient } from '../helpers/daemonProcess';

const PET_V1 = 'type: object\nrequired: [id, name]\nproperties:\n  id: {type: integer}\n  name: {type: string}\n  status: {type: string, enum: [available, sold]}\n';
const PET_V2 = 'type: object\nrequired: [id]\nproperties:\n  id: {type: integer}\n  status: {type: string, enum: [available, sold, pending]}\n';
const spec = (extraOps: string) =>
  [
    'openapi: 3.0.3',
    'info: {title: Shop, version: "1"}',
    'paths:',
    '  /pets:',
    '    get:',
    '      operationId: listPets',
    '      responses:',
    '        "200":',
    '          description: ok',
    '          content:',
    '            application/json:',
    '              schema: {type: array, items: {$ref: "./schemas/pet.yaml"}}',
    extraOps,
    '',
  ].join('\n');
const V1 = spec('  /pets/{id}:\n    delete:\n      responses:\n        "204": {description: gone}');
const V2 = spec('');

let d: DaemonProcess;
let c: RpcClient;
let receiver: Server;
const received: { path: string; body: Record<string, unknown> }[] = [];
let workspace: string;
let specPath: string;

const git = (...args: string[]) => execFileSync('git', args, { cwd: workspace, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' } });

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += String(chunk);
  return body;
}

beforeAll(async () => {
  workspace = makeTempDir('cf-compare-ws-');
  mkdirSync(join(workspace, 'api', 'schemas'), { recursive: true });
  specPath = join(workspace, 'api', 'shop.yaml');
  writeFileSync(specPath, V1);
  writeFileSync(join(workspace, 'api', 'schemas', 'pet.yaml'), PET_V1);
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'v1');
  git('tag', 'v1.0.0');
  writeFileSync(specPath, V2);
  writeFileSync(join(workspace, 'api', 'schemas', 'pet.yaml'), PET_V2);

  receiver = createServer((req, res) => {
    void readBody(req).then((body) => {
      received.push({ path: req.url ?? '', body: JSON.parse(body) as Record<string, unknown> });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const port = (receiver.address() as AddressInfo).port;
  d = await spawnDaemon({ env: { COGNIFORGE_OUTBOUND_HOSTS: `127.0.0.1:${port}` } });
  c = await d.connect();
});

afterAll(async () => {
  await c?.close();
  await d?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
  removeTempDirs();
});

const oldFile = () => join(workspace, 'api', 'old.yaml');
const hookUrl = () => `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/api-changes`;

describe('governance/compare against the real daemon', () => {
  let report: ComparisonReport;

  it('configures a webhook channel (persisted as an event)', async () => {
    expect(await c.request('governance/setNotificationChannels', { channels: [{ kind: 'webhook', url: hookUrl() }] })).toEqual({ channels: [{ kind: 'webhook', url: hookUrl() }] });
    expect(await c.request('governance/notificationChannels', {})).toEqual({ channels: [{ kind: 'webhook', url: hookUrl() }] });
  });

  it('compares the working tree with a git tag, $refs read from the same revision', async () => {
    report = await c.request<ComparisonReport>('governance/compare', { base: { revision: 'v1.0.0' }, head: { path: specPath } });
    expect(report.base).toMatchObject({ name: 'v1.0.0:api/shop.yaml', revision: 'v1.0.0', format: 'openapi-3.0' });
    expect(report.base.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(report.head).toMatchObject({ name: specPath, file: specPath });
    expect(report.changes.map((c) => [c.severity, c.rule])).toEqual([
      ['breaking', 'response-property-removed'],
      ['breaking', 'path-removed'],
      ['warning', 'response-enum-value-added'],
    ]);
    expect(report).toMatchObject({ breaking: true, summary: { breaking: 2, warning: 1, info: 0 }, document: specPath });
    const removedProp = report.changes.find((x) => x.rule === 'response-property-removed')!;
    expect(removedProp).toMatchObject({ method: 'get', path: '/pets', location: { file: join(workspace, 'api', 'schemas', 'pet.yaml'), pointer: '' } });
    expect(removedProp.baseLocation).toMatchObject({ pointer: '/properties/name', range: { start: { line: 4 } } });
  });

  it('notifies connected clients, logs the event and posts to the webhook', async () => {
    const [n] = await c.waitForNotifications(1, (x) => x.method === 'governance/didDetectBreakingChange');
    expect(n!.params).toMatchObject({ reportId: report.reportId, breakingCount: 2, document: specPath, affectedClients: [] });
    const events = await c.request<{ events: { type: string; payload: { reportId: string } }[] }>('events/query', { types: ['governance.breakingChangeDetected'] });
    expect(events.events.map((e) => e.payload.reportId)).toEqual([report.reportId]);
    for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(received).toEqual([
      {
        path: '/hooks/api-changes',
        body: expect.objectContaining({ type: 'governance.breakingChange', reportId: report.reportId, breakingCount: 2, base: 'v1.0.0:api/shop.yaml' }),
      },
    ]);
    // The delivery outcome lands in the log too.
    for (let i = 0; i < 100; i++) {
      const delivered = await c.request<{ events: unknown[] }>('events/query', { types: ['governance.breakingChangeDelivered'] });
      if (delivered.events.length > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const delivered = await c.request<{ events: { payload: Record<string, unknown> }[] }>('events/query', { types: ['governance.breakingChangeDelivered'] });
    expect(delivered.events[0]!.payload).toMatchObject({ reportId: report.reportId, outcome: 'delivered', status: 204, host: expect.stringMatching(/^127\.0\.0\.1:/) });
  });

  it('compares two files and inline content; a clean comparison sends nothing', async () => {
    const oldFile = join(workspace, 'api', 'old.yaml');
    writeFileSync(oldFile, V2);
    const clean = await c.request<ComparisonReport>('governance/compare', { base: { path: oldFile }, head: { path: oldFile } });
    expect(clean).toMatchObject({ breaking: false, changeCount: 0 });
    const inline = await c.request<ComparisonReport>('governance/compare', {
      base: { name: 'v1.json', content: JSON.stringify({ swagger: '2.0', info: { title: 't', version: '1' }, paths: { '/a': { get: { responses: { '200': { description: 'ok' } } } } } }) },
      head: { name: 'v2.json', content: JSON.stringify({ swagger: '2.0', info: { title: 't', version: '2' }, paths: {} }) },
    });
    expect(inline.changes.map((x) => x.rule)).toEqual(['path-removed']);
    for (let i = 0; i < 100 && received.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(received.map((r) => r.body.reportId)).toEqual([report.reportId, inline.reportId]);
  });

  it('keeps the latest report per document (governance/compareReports)', async () => {
    const all = await c.request<{ reports: ComparisonReport[] }>('governance/compareReports', {});
    expect(all.reports.map((r) => r.document)).toEqual(['v2.json', oldFile(), specPath]);
    const one = await c.request<{ reports: ComparisonReport[] }>('governance/compareReports', { document: specPath });
    expect(one.reports.map((r) => r.reportId)).toEqual([report.reportId]);
  });

  it('answers clear errors for an unknown revision, a file not in the revision and bad params', async () => {
    const unknown = await rpcError(c.request('governance/compare', { base: { revision: 'v9.9.9' }, head: { path: specPath } }));
    expect(unknown.code).toBe(ErrorCode.NotFound);
    expect(unknown.message).toContain('Unknown revision "v9.9.9"');
    const newFile = join(workspace, 'api', 'new.yaml');
    writeFileSync(newFile, V2);
    const missing = await rpcError(c.request('governance/compare', { base: { revision: 'v1.0.0' }, head: { path: newFile } }));
    expect(missing.code).toBe(ErrorCode.NotFound);
    expect(missing.message).toContain('api/new.yaml is not in revision "v1.0.0"');
    const option = await rpcError(c.request('governance/compare', { base: { revision: '--output=/tmp/x' }, head: { path: specPath } }));
    expect(option.code).toBe(ErrorCode.InvalidParams);
    expect(JSON.stringify(option.data)).toContain('revision');
    const noName = await rpcError(c.request('governance/compare', { base: { content: 'openapi: 3.0.0' }, head: { path: specPath } }));
    expect(noName.code).toBe(ErrorCode.InvalidParams);
    expect(JSON.stringify(noName.data)).toContain('name');
    const notSpec = await rpcError(c.request('governance/compare', { base: { name: 'x.yaml', content: 'hello: world' }, head: { path: specPath } }));
    expect(notSpec.message).toMatch(/^base: x\.yaml: is not an OpenAPI/);
    // The daemon keeps serving.
    expect(await c.request('governance/notificationChannels', {})).toMatchObject({ channels: [{ kind: 'webhook' }] });
  });

  it('deprecation policies: CRUD, headersFor a path, and an allowed removal', async () => {
    const created = await c.request<{ id: string }>('governance/createDeprecationPolicy', {
      id: 'pets-by-id',
      pattern: '/pets/*',
      replacement: '/v2/pets/{id}',
      migrationSteps: ['Switch to /v2/pets/{id}', 'Drop the old client'],
      deprecatedAt: '2025-01-01T00:00:00.000Z',
      sunsetAt: '2025-06-01T00:00:00.000Z',
      link: 'https://example.com/migrate',
    });
    expect(created.id).toBe('pets-by-id');
    expect(await c.request('governance/deprecationPolicies', { path: '/pets/{id}' })).toMatchObject({ policies: [{ id: 'pets-by-id', migrationSteps: ['Switch to /v2/pets/{id}', 'Drop the old client'] }] });
    expect(await c.request('governance/headersFor', { path: '/pets/17' })).toEqual({
      headers: { Deprecation: '@1735689600', Sunset: 'Sun, 01 Jun 2025 00:00:00 GMT', Link: '<https://example.com/migrate>; rel="deprecation"; type="text/html"' },
      policy: expect.objectContaining({ id: 'pets-by-id' }),
    });
    expect(await c.request('governance/headersFor', { version: 'v2', path: '/orders' })).toEqual({ version: 'v2', status: 'active', headers: {} });
    const bad = await rpcError(c.request('governance/headersFor', {}));
    expect(bad.code).toBe(ErrorCode.InvalidParams);

    const again = await c.request<ComparisonReport>('governance/compare', { base: { revision: 'v1.0.0' }, head: { path: specPath } });
    expect(again.changes.find((x) => x.method === 'delete')).toMatchObject({ rule: 'deprecated-operation-removed', severity: 'info', allowedBy: 'policy:pets-by-id' });
    expect(again.summary.breaking).toBe(1);

    expect(await c.request('governance/updateDeprecationPolicy', { id: 'pets-by-id', replacement: '/v3/pets/{id}' })).toMatchObject({ replacement: '/v3/pets/{id}' });
    const twin = await rpcError(c.request('governance/createDeprecationPolicy', { pattern: '/pets/*', migrationSteps: [] }));
    expect(twin.code).toBe(ErrorCode.Duplicate);
    await c.request('governance/createDeprecationPolicy', { id: 'temp', pattern: '/tmp*' });
    expect(await c.request('governance/deleteDeprecationPolicy', { id: 'temp' })).toEqual({ ok: true });
    expect((await rpcError(c.request('governance/deleteDeprecationPolicy', { id: 'temp' }))).code).toBe(ErrorCode.NotFound);
  });

  it('keeps reports, channels and policies across a restart', async () => {
    const before = await c.request<{ reports: ComparisonReport[] }>('governance/compareReports', {});
    await c.close();
    await d.stop();
    d = await spawnDaemon({ dataDir: d.dataDir });
    c = await d.connect();
    expect(await c.request('governance/compareReports', {})).toEqual(before);
    expect(await c.request('governance/notificationChannels', {})).toEqual({ channels: [{ kind: 'webhook', url: hookUrl() }] });
    expect(await c.request('governance/deprecationPolicies', {})).toMatchObject({ policies: [{ id: 'pets-by-id', replacement: '/v3/pets/{id}' }] });
  });
});
