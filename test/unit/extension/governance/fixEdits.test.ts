import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { FixDescriptor } from '../../../../daemon/protocol';
import { computeFixEdit, looksLikeSpec, specLanguageOf, type SpecLanguage, type TextEdit } from '../../../../extension/features/governance/fixEdits';

const fixture = (name: string): string => readFileSync(join(__dirname, '../../../fixtures/openapi', name), 'utf8');

function apply(text: string, edit: TextEdit | undefined): string {
  if (!edit) throw new Error('no edit computed');
  return text.slice(0, edit.offset) + edit.newText + text.slice(edit.offset + edit.length);
}

/** The parsed document with the fix applied the way the daemon means it, for comparison. */
function expected(text: string, fix: FixDescriptor): unknown {
  type Tree = Record<string, unknown>;
  const data = parse(text) as Tree;
  const step = (o: Tree, s: string): Tree => o[s] as Tree;
  const segs = fix.pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (fix.kind === 'replaceValue') {
    const parent = segs.slice(0, -1).reduce(step, data);
    parent[segs.at(-1)!] = fix.value;
  } else {
    const target = segs.reduce(step, data);
    target[fix.key] = fix.value;
  }
  return data;
}

function check(text: string, language: SpecLanguage, fix: FixDescriptor): string {
  const after = apply(text, computeFixEdit(text, language, fix));
  expect(parse(after)).toEqual(expected(text, fix));
  return after;
}

const TOO_MANY = {
  description: 'Too Many Requests',
  headers: { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 86400 } } },
  content: { 'application/problem+json': { schema: { type: 'object', additionalProperties: false, properties: { title: { type: 'string', maxLength: 256 } } } } },
};

describe('computeFixEdit on YAML', () => {
  const yaml = fixture('insecure30.yaml');

  it('switches a server to https, touching only the URL', () => {
    const fix: FixDescriptor = { kind: 'replaceValue', title: 'Switch to https', pointer: '/servers/0/url', value: 'https://shop.example.com/v1' };
    const after = check(yaml, 'yaml', fix);
    expect(after.replace('https://shop', 'http://shop')).toBe(yaml);
  });

  it('adds maxItems to a nested array schema at its indentation', () => {
    const fix: FixDescriptor = {
      kind: 'setProperty',
      title: 'Add maxItems: 100',
      pointer: '/paths/~1checkout/post/requestBody/content/application~1json/schema/properties/items',
      key: 'maxItems',
      value: 100,
    };
    const after = check(yaml, 'yaml', fix);
    expect(after).toContain('                  items:\n                    type: string\n                  maxItems: 100\n');
  });

  it('adds a whole 429 response object as block YAML with a quoted numeric key', () => {
    const fix: FixDescriptor = { kind: 'setProperty', title: 'Add a 429', pointer: '/paths/~1checkout/post/responses', key: '429', value: TOO_MANY };
    check(yaml, 'yaml', fix);
  });

  it('replaces a value inside a sequence item mapping and a quoted callback key', () => {
    check(yaml, 'yaml', { kind: 'setProperty', title: 'x', pointer: '/paths/~1users~1{id}/get/parameters/0/schema', key: 'format', value: 'int64' });
    check(yaml, 'yaml', {
      kind: 'setProperty',
      title: 'Require basicAuth',
      pointer: '/paths/~1users~1{id}/get',
      key: 'security',
      value: [{ basicAuth: [] }],
    });
  });

  it('offers no edit when the key exists, the pointer is missing, or the target is flow style', () => {
    expect(computeFixEdit(yaml, 'yaml', { kind: 'setProperty', title: 'x', pointer: '/info', key: 'title', value: 'y' })).toBeUndefined();
    expect(computeFixEdit(yaml, 'yaml', { kind: 'replaceValue', title: 'x', pointer: '/servers/3/url', value: 'y' })).toBeUndefined();
    expect(computeFixEdit('openapi: 3.0.3\ninfo: {title: a}\n', 'yaml', { kind: 'setProperty', title: 'x', pointer: '/info', key: 'v', value: 1 })).toBeUndefined();
  });

  it('keeps CRLF line endings', () => {
    const crlf = yaml.replace(/\n/g, '\r\n');
    const edit = computeFixEdit(crlf, 'yaml', { kind: 'setProperty', title: 'x', pointer: '/components/schemas/User', key: 'additionalProperties', value: false });
    expect(edit?.newText).toBe('\r\n      additionalProperties: false');
  });
});

describe('computeFixEdit on JSON', () => {
  const json = fixture('swagger2.json');

  it('replaces a scheme inside an inline array', () => {
    const after = check(json, 'json', { kind: 'replaceValue', title: 'Use https', pointer: '/schemes/0', value: 'https' });
    expect(after).toContain('"schemes": ["https"],');
  });

  it('adds a property to a single-line object, inline', () => {
    const after = check(json, 'json', {
      kind: 'setProperty',
      title: 'Add maxItems',
      pointer: '/paths/~1accounts~1{accountId}/get/responses/200/schema',
      key: 'maxItems',
      value: 100,
    });
    expect(after).toContain('"items": { "type": "string" }, "maxItems": 100 }');
  });

  it('adds a nested object to a multi-line object at the property indentation', () => {
    const after = check(json, 'json', { kind: 'setProperty', title: 'Add a 429', pointer: '/paths/~1password-reset/post', key: 'x-ratelimit', value: { limit: 5 } });
    expect(after).toContain('"responses": { "204": { "description": "Sent" } },\n        "x-ratelimit": {\n          "limit": 5\n        }\n');
  });

  it('offers no edit for invalid JSON', () => {
    expect(computeFixEdit('{"openapi": ', 'json', { kind: 'replaceValue', title: 'x', pointer: '/openapi', value: '3' })).toBeUndefined();
  });
});

describe('spec detection', () => {
  it('tells specs from other YAML and JSON by a top-level openapi/swagger key', () => {
    expect(looksLikeSpec(fixture('insecure30.yaml'), 'yaml')).toBe(true);
    expect(looksLikeSpec(fixture('swagger2.json'), 'json')).toBe(true);
    expect(looksLikeSpec('name: ci\non: push\n', 'yaml')).toBe(false);
    expect(specLanguageOf('plaintext', '/a/b.yml')).toBe('yaml');
    expect(specLanguageOf('json', '/a/b')).toBe('json');
    expect(specLanguageOf('markdown', '/a/b.md')).toBeUndefined();
  });
});
