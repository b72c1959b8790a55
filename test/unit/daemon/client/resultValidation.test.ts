import { describe, expect, it } from 'vitest';
import { ClientError, validateResult } from '../../../../daemon/client';
import { PublishEvent } from '../../../../daemon/protocol';

const good = { id: 'e1', seq: 4, stream: 'default', time: '2026-11-27T17:14:00.000Z', duplicate: false };

describe('validateResult', () => {
  it('returns the parsed result when it matches the schema', () => {
    expect(validateResult(PublishEvent, good)).toEqual(good);
  });

  it('names the method and the failing path', () => {
    let caught: unknown;
    try {
      validateResult(PublishEvent, { ...good, seq: 'four' });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ClientError);
    const err = caught as ClientError;
    expect(err.kind).toBe('invalidResult');
    expect(err.method).toBe('events/publish');
    expect(err.message).toMatch(/^Invalid result from events\/publish: seq: /);
    expect(err.data).toMatchObject({ method: 'events/publish', issues: [{ path: 'seq' }] });
  });

  it('rejects a missing result', () => {
    expect(() => validateResult(PublishEvent, undefined)).toThrow(/events\/publish/);
  });
});
