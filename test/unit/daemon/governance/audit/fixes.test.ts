import { describe, expect, it } from 'vitest';
import type { AuditFinding } from '../../../../../daemon/protocol';
import { fixFor } from '../../../../../daemon/services/governance/audit/fixes';
import { toPointer, valueAt } from '../../../../../daemon/services/governance/audit/sourceDocuments';

const finding = (rule: string, pointer: string): AuditFinding => ({
  rule,
  category: 'API4',
  severity: 'warn',
  message: 'm',
  file: '/x/a.yaml',
  range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
  pointer,
  suggestedFix: '',
});

describe('JSON pointers', () => {
  it('escapes ~ and / (RFC 6901) and reads values back', () => {
    const pointer = toPointer(['paths', '/a/{id}', 'get', 'x~y', 0]);
    expect(pointer).toBe('/paths/~1a~1{id}/get/x~0y/0');
    expect(valueAt({ paths: { '/a/{id}': { get: { 'x~y': ['v'] } } } }, pointer)).toBe('v');
    expect(valueAt({ a: 1 }, '/b/c')).toBeUndefined();
  });
});

describe('fixFor', () => {
  const doc = {
    components: { securitySchemes: { oauth: { type: 'oauth2' } } },
    paths: { '/a': { get: { responses: { '200': { description: 'ok' }, '429': { description: 'slow' } } }, post: { responses: {} } } },
  };

  it('adds a body to an existing 429 instead of a second 429', () => {
    const fix = fixFor(finding('owasp:api4:2023-rate-limit-responses-429', '/paths/~1a/get/responses'), doc, 'openapi-3.0');
    expect(fix.descriptor).toMatchObject({ kind: 'setProperty', pointer: '/paths/~1a/get/responses/429', key: 'content' });
  });

  it('adds a 401 response and a security requirement naming a defined scheme', () => {
    expect(fixFor(finding('owasp:api8:2023-define-error-responses-401', '/paths/~1a/post/responses'), doc, 'openapi-3.0').descriptor).toMatchObject({
      pointer: '/paths/~1a/post/responses',
      key: '401',
      value: { description: 'Unauthorized' },
    });
    expect(fixFor(finding('owasp:api2:2023-write-restricted', '/paths/~1a/post'), doc, 'openapi-3.0').descriptor).toMatchObject({
      key: 'security',
      value: [{ oauth: [] }],
    });
  });

  it('offers no mechanical fix where none is safe, but always advice', () => {
    const noSchemes = fixFor(finding('owasp:api2:2023-write-restricted', '/paths/~1a/post'), { paths: doc.paths }, 'openapi-3.0');
    expect(noSchemes.descriptor).toBeUndefined();
    expect(noSchemes.text).toContain('security requirement');
    const ids = fixFor(finding('owasp:api1:2023-no-numeric-ids', '/paths'), doc, 'openapi-3.0');
    expect(ids.descriptor).toBeUndefined();
    expect(ids.text).toContain('uuid');
    expect(fixFor(finding('owasp:api4:2023-array-limit', '/nowhere'), doc, 'openapi-3.0').descriptor).toBeUndefined();
  });

  it('never replaces a value that is already there', () => {
    const withMax = { s: { type: 'array', maxItems: 5 } };
    expect(fixFor(finding('owasp:api4:2023-array-limit', '/s'), withMax, 'openapi-3.1').descriptor).toBeUndefined();
  });
});
