import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_SPEC_GLOB, discoverSpecs, globToRegExp, looksLikeSpec } from '../../../../../daemon/services/governance/audit/discovery';

const root = mkdtempSync(join(tmpdir(), 'cf-discover-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function put(rel: string, text: string) {
  const file = join(root, rel);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
  return file;
}

describe('globToRegExp', () => {
  it('handles **, *, ? and {a,b}', () => {
    const re = globToRegExp(DEFAULT_SPEC_GLOB);
    expect(re.test('api.yaml')).toBe(true);
    expect(re.test('a/b/c/api.json')).toBe(true);
    expect(re.test('a/b/api.txt')).toBe(false);
    expect(globToRegExp('specs/*.yaml').test('specs/a.yaml')).toBe(true);
    expect(globToRegExp('specs/*.yaml').test('specs/x/a.yaml')).toBe(false);
    expect(globToRegExp('v?/*.json').test('v2/a.json')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });
});

describe('discoverSpecs', () => {
  const spec = put('api/openapi.yaml', 'openapi: 3.0.3\ninfo: {title: t, version: "1"}\npaths: {}\n');
  const json = put('legacy/swagger.json', '{\n  "swagger": "2.0",\n  "info": {}\n}\n');
  put('api/schemas.yaml', 'Pet:\n  type: object\n');
  put('node_modules/pkg/openapi.yaml', 'openapi: 3.0.3\n');
  put('.hidden/openapi.yaml', 'openapi: 3.0.3\n');
  put('docker-compose.yml', 'services: {}\n');

  it('finds OpenAPI and Swagger documents, skipping node_modules, dot folders and other YAML/JSON', async () => {
    expect(looksLikeSpec('# comment\nopenapi: 3.1.0\n')).toBe(true);
    expect(looksLikeSpec('{"openapi":"3.1.0"}')).toBe(true);
    expect(looksLikeSpec('name: x\n')).toBe(false);
    const found = await discoverSpecs(root);
    expect(found.files).toEqual([spec, json]);
    expect(found.skipped).toEqual([]);
  });

  it('narrows with a glob and lists files over the size limit as skipped', async () => {
    expect((await discoverSpecs(root, 'legacy/**/*.json')).files).toEqual([json]);
    const found = await discoverSpecs(root, DEFAULT_SPEC_GLOB, 20);
    expect(found.files).toEqual([]);
    expect(found.skipped.map((s) => s.file)).toEqual([spec, json]);
    expect(found.skipped[0]!.reason).toContain('limit');
  });
});
