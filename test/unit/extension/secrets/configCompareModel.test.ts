import { describe, expect, it } from 'vitest';
import type { ConfigDiff, ConfigVersion } from '../../../../daemon/protocol';
import {
  SENSITIVE_DIFFERS,
  compareTitle,
  envCompareDocuments,
  envLine,
  rollbackItem,
  rollbackPrompt,
  rollbackTargets,
} from '../../../../extension/features/secrets/configCompareModel';

const version = (v: number, over: Partial<ConfigVersion> = {}): ConfigVersion => ({
  environment: 'production',
  key: 'DB_URL',
  version: v,
  op: 'set',
  value: `postgres://db-${v}`,
  sensitive: false,
  at: `2026-11-0${v}T10:00:00.000Z`,
  by: `user${v}`,
  seq: 10 + v,
  ...over,
});

describe('envLine', () => {
  it('writes strings bare, other JSON as JSON and masks sensitive values', () => {
    expect(envLine({ key: 'A', value: 'plain text', sensitive: false })).toBe('A=plain text');
    expect(envLine({ key: 'B', value: { x: [1, true] }, sensitive: false })).toBe('B={"x":[1,true]}');
    expect(envLine({ key: 'C', value: 42, sensitive: false })).toBe('C=42');
    expect(envLine({ key: 'D', value: 'line1\nline2', sensitive: false })).toBe('D=line1\\nline2');
    expect(envLine({ key: 'E', masked: true, sensitive: true })).toBe('E=••••');
    expect(envLine({ key: 'F', value: 'leaked?', sensitive: true })).toBe('F=••••');
  });
});

describe('envCompareDocuments', () => {
  const diff: ConfigDiff = {
    entries: [
      { key: 'POOL', change: 'changed', fields: ['value'], before: { version: 1, value: 5, sensitive: false }, after: { version: 2, value: 20, sensitive: false } },
      { key: 'PASSWORD', change: 'changed', fields: ['value'], before: { version: 1, masked: true, sensitive: true }, after: { version: 3, masked: true, sensitive: true } },
      { key: 'ONLY_PROD', change: 'added', after: { version: 1, value: 'x', sensitive: false } },
    ],
    unchanged: 1,
  };
  const docs = envCompareDocuments(
    { environment: 'staging', entries: [{ key: 'POOL', value: 5, sensitive: false }, { key: 'PASSWORD', masked: true, sensitive: true }, { key: 'NAME', value: 'app', sensitive: false }] },
    {
      environment: 'production',
      entries: [
        { key: 'ONLY_PROD', value: 'x', sensitive: false },
        { key: 'POOL', value: 20, sensitive: false },
        { key: 'NAME', value: 'app', sensitive: false },
        { key: 'PASSWORD', masked: true, sensitive: true },
      ],
    },
    diff,
  );

  it('renders each side sorted by key with a header naming the environment', () => {
    expect(docs.left).toBe(['# staging (3 keys)', 'NAME=app', `PASSWORD=••••${SENSITIVE_DIFFERS}`, 'POOL=5', ''].join('\n'));
    expect(docs.right).toBe(['# production (4 keys)', 'NAME=app', 'ONLY_PROD=x', `PASSWORD=••••${SENSITIVE_DIFFERS}`, 'POOL=20', ''].join('\n'));
  });

  it('leaves equal sensitive values unmarked', () => {
    const same = envCompareDocuments(
      { environment: 'a', entries: [{ key: 'S', masked: true, sensitive: true }] },
      { environment: 'b', entries: [{ key: 'S', masked: true, sensitive: true }] },
      { entries: [], unchanged: 1 },
    );
    expect(same.left).toBe('# a (1 keys)\nS=••••\n');
    expect(same.right).toBe('# b (1 keys)\nS=••••\n');
  });

  it('titles the comparison with what config/diff counted', () => {
    expect(compareTitle('staging', 'production', diff)).toBe('Config staging ↔ production: 2 changed, 1 only in production, 0 only in staging, 1 same');
  });
});

describe('rollback choices', () => {
  it('offers earlier set versions newest first, never the current one or a deletion', () => {
    const history = [version(5), version(4, { op: 'delete', value: undefined }), version(3), version(1), version(2)];
    expect(rollbackTargets(history).map((v) => v.version)).toEqual([3, 2, 1]);
    expect(rollbackTargets([version(1)])).toEqual([]);
  });

  it('shows who and when, masking sensitive values', () => {
    expect(rollbackItem(version(2), false)).toEqual({ label: 'v2', description: '"postgres://db-2" · by user2', detail: 'set 2026-11-02T10:00:00.000Z' });
    const secret = rollbackItem(version(3, { sensitive: true, masked: true, value: undefined, description: 'rotated' }), true);
    expect(secret).toEqual({ label: 'v3 (shown in the diff)', description: '•••• · by user3', detail: 'set 2026-11-03T10:00:00.000Z — rotated' });
  });

  it('confirms naming the key, the target and the new version', () => {
    const p = rollbackPrompt('production', 'DB_URL', version(2), 5);
    expect(p.message).toBe('Roll back production / DB_URL to v2?');
    expect(p.detail).toContain('Version 6 will hold the value of v2 ("postgres://db-2", set by user2 at 2026-11-02T10:00:00.000Z)');
  });
});
