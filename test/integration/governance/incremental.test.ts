import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComplianceReport } from '../../../daemon/protocol';
import { removeTempDirs, spawnDaemon, type DaemonProcess, type RpcClient } from '../helpers/daemonProcess';

const ws = mkdtempSync(join(tmpdir(), 'cf-incr-int-'));
const spec = (title: string, schemaRef: string) =>
  `openapi: 3.0.3\ninfo: {title: ${title}, version: '1.0'}\nservers: [{url: 'https://api.example.com'}]\npaths:\n  /items:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: '${schemaRef}'}\n`;

let d: DaemonProcess;
let c: RpcClient;

beforeAll(async () => {
  mkdirSync(join(ws, 'schemas'));
  writeFileSync(join(ws, 'schemas', 'item.yaml'), 'Item:\n  type: object\n  properties:\n    name: {type: string, maxLength: 32}\n');
  writeFileSync(join(ws, 'orders.yaml'), spec('orders', './schemas/item.yaml#/Item'));
  writeFileSync(join(ws, 'stock.yaml'), spec('stock', './schemas/item.yaml#/Item'));
  writeFileSync(join(ws, 'users.yaml'), spec('users', '#/components/schemas/User') + 'components:\n  schemas:\n    User: {type: object}\n');
  d = await spawnDaemon();
  c = await d.connect();
});

afterAll(async () => {
  await c?.close();
  await d?.stop();
  removeTempDirs();
  rmSync(ws, { recursive: true, force: true });
});

const audit = () => c.request<ComplianceReport>('governance/audit', { root: ws });
const rel = (files: string[]) => files.map((f) => f.slice(ws.length + 1)).sort();
/** The parts of a report that must not depend on what was reused. */
const outcome = (r: ComplianceReport) => ({ score: r.score, documents: r.documents, findings: r.findings, bySeverity: r.bySeverity });

describe('incremental re-audit through the real daemon', () => {
  it('audits only what changed and what $refs it, with the outcome of a full audit after a restart', async () => {
    const first = await audit();
    expect(rel(first.incremental!.audited)).toEqual(['orders.yaml', 'stock.yaml', 'users.yaml']);
    expect(first.incremental!.reused).toBe(0);

    const again = await audit();
    expect(again.incremental).toEqual({ audited: [], reused: 3 });
    expect(outcome(again)).toEqual(outcome(first));

    // A change in the shared schema file: the two specs that $ref it are audited again, users.yaml is not.
    const item = join(ws, 'schemas', 'item.yaml');
    writeFileSync(item, readFileSync(item, 'utf8').replace('{type: string, maxLength: 32}', '{type: string}'));
    const changed = await audit();
    expect(rel(changed.incremental!.audited)).toEqual(['orders.yaml', 'stock.yaml']);
    expect(changed.incremental!.reused).toBe(1);
    expect(changed.findings.some((f) => f.file === item && f.rule === 'owasp:api4:2023-string-limit')).toBe(true);

    // A restarted daemon keeps its history but has no reusable audits: it audits everything, to the same outcome.
    await c.close();
    await d.stop();
    d = await spawnDaemon({ dataDir: d.dataDir });
    c = await d.connect();
    const history = await c.request<{ entries: { auditId: string }[] }>('governance/auditHistory', {});
    expect(history.entries.map((e) => e.auditId)).toEqual([changed.auditId, again.auditId, first.auditId]);
    const full = await audit();
    expect(rel(full.incremental!.audited)).toEqual(['orders.yaml', 'stock.yaml', 'users.yaml']);
    expect(outcome(full)).toEqual(outcome(changed));
  });
});
