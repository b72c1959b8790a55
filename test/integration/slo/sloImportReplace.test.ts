import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ErrorCode } from '../../../daemon/protocol';
import { rpcError, useDaemons } from '../helpers/daemonProcess';

const start = useDaemons();

interface Definition {
  id: string;
  objective: number;
  createdAt: string;
  aliases: string[];
}

describe('slo/import with mode replace against a real daemon', () => {
  it('redefines an existing SLO and creates a new one in one call, refuses the same YAML in create mode, and keeps it across a restart', async () => {
    const d = await start();
    const c = await d.connect();
    const before = await c.request<{ slo: Definition }>('slo/get', { id: 'slo_avail_30d' });
    const { yaml } = await c.request<{ yaml: string }>('slo/export', { ids: ['slo_avail_30d'] });
    const doc = parse(yaml) as { metadata: { name: string; annotations: Record<string, string> }; spec: { objectives: { target: number }[] } };
    doc.spec.objectives[0]!.target = 0.99;
    const changed = stringify(doc);
    doc.metadata.name = 'extra-avail';
    doc.metadata.annotations = { 'cogniforge.dev/id': 'extra_avail' };
    const extra = stringify(doc);
    const stream = `${changed}---\n${extra}`;

    const refused = await rpcError(c.request('slo/import', { yaml: stream }));
    expect(refused.code).toBe(ErrorCode.Duplicate);
    const result = await c.request<{ slos: Definition[]; replaced: string[] }>('slo/import', { yaml: stream, mode: 'replace' });
    expect(result.replaced).toEqual(['slo_avail_30d']);
    expect(result.slos.map((s) => s.id)).toEqual(['slo_avail_30d', 'extra_avail']);
    const after = await c.request<{ slo: Definition }>('slo/get', { id: 'availability_30d' });
    expect(after.slo).toMatchObject({ id: 'slo_avail_30d', objective: 0.99, createdAt: before.slo.createdAt, aliases: before.slo.aliases });

    await c.close();
    await d.stop();
    const again = await start({ dataDir: d.dataDir });
    const c2 = await again.connect();
    expect((await c2.request<{ slo: Definition }>('slo/get', { id: 'slo_avail_30d' })).slo.objective).toBe(0.99);
    expect((await c2.request<{ slos: unknown[] }>('slo/list', {})).slos).toHaveLength(4);
    await c2.close();
  });
});
