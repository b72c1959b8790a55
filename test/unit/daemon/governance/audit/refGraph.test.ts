import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditEngine, CIRCULAR_REF_RULE } from '../../../../../daemon/services/governance/audit/engine';
import { contentState, parseSpecText, refTarget, scanRefs } from '../../../../../daemon/services/governance/audit/refGraph';

const tmp = mkdtempSync(join(tmpdir(), 'cf-refs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = join(tmp, name);
  writeFileSync(file, text);
  return file;
}

async function scan(name: string, text: string) {
  const file = write(name, text);
  return { file, result: await scanRefs(file, text, parseSpecText(file, text)) };
}

describe('refTarget', () => {
  it('resolves relative, absolute and local refs, decodes the fragment, and skips remote ones', () => {
    expect(refTarget('/w/api/a.yaml', './s.yaml#/Pet')).toEqual({ file: '/w/api/s.yaml', pointer: '/Pet' });
    expect(refTarget('/w/api/a.yaml', '../common/s.yaml')).toEqual({ file: '/w/common/s.yaml', pointer: '' });
    expect(refTarget('/w/api/a.yaml', '#/paths/~1pets%20all')).toEqual({ file: '/w/api/a.yaml', pointer: '/paths/~1pets all' });
    expect(refTarget('/w/api/a.yaml', 'https://example.com/s.yaml#/A')).toBeUndefined();
  });
});

describe('scanRefs', () => {
  it('lists every file reached transitively with its state, including missing ones', async () => {
    const s2 = write('s2.yaml', 'B: {type: string}\n');
    const s1 = write('s1.yaml', "A: {$ref: './s2.yaml#/B'}\nM: {$ref: './gone.yaml#/X'}\n");
    const { result } = await scan('root.yaml', "openapi: 3.1.0\ncomponents:\n  schemas:\n    A: {$ref: './s1.yaml#/A'}\n");
    expect(result.dependencies).toEqual({
      [s1]: contentState("A: {$ref: './s2.yaml#/B'}\nM: {$ref: './gone.yaml#/X'}\n"),
      [s2]: contentState('B: {type: string}\n'),
      [join(tmp, 'gone.yaml')]: 'missing',
    });
    expect(result.cycles).toEqual([]);
  });

  it('finds alias cycles within a file and across files, once each, but not recursive schemas', async () => {
    write('x.yaml', "X: {$ref: './y.yaml#/Y'}\n");
    write('y.yaml', "Y: {$ref: './x.yaml#/X'}\n");
    const { file, result } = await scan(
      'cyc.yaml',
      [
        'openapi: 3.1.0',
        'components:',
        '  schemas:',
        "    A: {$ref: '#/components/schemas/B'}",
        "    B: {$ref: '#/components/schemas/A'}",
        "    Self: {$ref: '#/components/schemas/Self'}",
        "    Into: {$ref: '#/components/schemas/A'}",
        "    Far: {$ref: './x.yaml#/X'}",
        "    Tree: {type: object, properties: {child: {$ref: '#/components/schemas/Tree'}}}",
        '',
      ].join('\n'),
    );
    expect(result.cycles.map((c) => [c.file.slice(tmp.length + 1), c.path.join('.'), c.chain.length])).toEqual([
      ['cyc.yaml', 'components.schemas.A.$ref', 3],
      ['cyc.yaml', 'components.schemas.Self.$ref', 2],
      ['x.yaml', 'X.$ref', 3],
    ]);
    expect(result.cycles[0]!.chain.map((m) => m.file)).toEqual([file, file, file]);
  });
});

describe('AuditEngine on $ref cycles', () => {
  it('reports a circular $ref as a structure error at the $ref, naming the chain', async () => {
    const engine = new AuditEngine(64 * 1024);
    const text = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    A: {$ref: '#/components/schemas/B'}\n    B: {$ref: '#/components/schemas/A'}\n";
    const file = write('loop.yaml', text);
    const audit = await engine.audit(file, text);
    const cycle = audit.findings.filter((f) => f.rule === CIRCULAR_REF_RULE);
    expect(cycle).toHaveLength(1);
    expect(cycle[0]).toMatchObject({ category: 'structure', severity: 'error', file, pointer: '/components/schemas/A/$ref' });
    expect(cycle[0]!.message).toContain('#/components/schemas/A → #/components/schemas/B → #/components/schemas/A');
    expect(cycle[0]!.range.start.line).toBe(5);
    expect(cycle[0]!.suggestedFix).toContain('real definition');
  });
});
