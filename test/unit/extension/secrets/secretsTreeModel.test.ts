import { describe, expect, it } from 'vitest';
import type { ConfigEnvironment, SecretMetadata } from '../../../../daemon/protocol';
import {
  buildSecretsTree,
  configDocPath,
  configRefOf,
  configValueText,
  configVersionDocument,
  customDaysProblem,
  deleteSecretPrompt,
  dueCount,
  environmentNameProblem,
  ROTATION_CHOICES,
  secretNameProblem,
  isSecretEventType,
  MASK,
  parseConfigDocPath,
  parseConfigValue,
  rotationText,
  secretRefOf,
  type EnvironmentNode,
  type SecretNode,
} from '../../../../extension/features/secrets/secretsTreeModel';

const NOW = Date.parse('2026-11-27T12:00:00.000Z');
const DAY = 86_400_000;
const iso = (ms: number): string => new Date(ms).toISOString();

function environment(name: string, entries: ConfigEnvironment['entries'] = []): ConfigEnvironment {
  return { name, createdAt: iso(NOW - 10 * DAY), createdBy: 'seed', entryCount: entries.length, updatedAt: iso(NOW - DAY), entries };
}

function secret(over: Partial<SecretMetadata> & Pick<SecretMetadata, 'id' | 'name'>): SecretMetadata {
  return {
    type: 'api_key',
    environment: 'production',
    backend: 'local',
    currentVersion: 2,
    versions: [
      { version: 1, createdAt: iso(NOW - 40 * DAY), createdBy: 'owner', state: 'previous' },
      { version: 2, createdAt: iso(NOW - 10 * DAY), createdBy: 'vscode', state: 'current' },
    ],
    rotation: { policy: 'monthly' },
    nextRotation: iso(NOW + 20 * DAY),
    tags: {},
    createdAt: iso(NOW - 40 * DAY),
    createdBy: 'owner',
    updatedAt: iso(NOW - 10 * DAY),
    ...over,
  };
}

const PLAIN = { environment: 'staging', key: 'API_TIMEOUT', version: 3, value: 30, sensitive: false, updatedAt: iso(NOW - DAY), updatedBy: 'alice' };
const SENSITIVE = { environment: 'staging', key: 'DB_PASSWORD', version: 1, masked: true as const, sensitive: true, updatedAt: iso(NOW - DAY), updatedBy: 'bob' };

describe('buildSecretsTree', () => {
  const tree = buildSecretsTree(
    [environment('staging', [SENSITIVE, PLAIN]), environment('development')],
    [
      secret({ id: 'sec_00000000000000b1', name: 'stripe_key' }),
      secret({ id: 'sec_00000000000000a1', name: 'db_pw', type: 'database_password', environment: 'development', nextRotation: iso(NOW - 2 * DAY) }),
    ],
    NOW,
  );

  it('says in team mode whether a secret is shared and which daemon runs its rotations', () => {
    const [local, shared] = buildSecretsTree(
      [],
      [
        secret({ id: 'sec_00000000000000c1', name: 'a_local', backend: 'local', sharedWithTeam: false }),
        secret({ id: 'sec_00000000000000c2', name: 'b_aws', backend: 'aws', sharedWithTeam: true, origin: 'alpha' }),
      ],
      NOW,
    )[1]!.children as SecretNode[];
    expect(local!.tooltip).toContain('Not shared with the team: local-vault values never leave this daemon');
    expect(shared!.tooltip).toContain('Shared with the team (created on alpha, which runs its rotations)');
    expect((tree[1]!.children as SecretNode[])[0]!.tooltip).not.toContain('team');
  });

  it('has a Configuration and a Secrets group', () => {
    expect(tree.map((g) => g.label)).toEqual(['Configuration', 'Secrets']);
    expect(tree[0]!.description).toBe('2 environments');
    expect(tree[1]!.description).toBe('2 · 1 due for rotation');
  });

  it('lists environments by name and their entries by key, masking sensitive values', () => {
    const envs = tree[0]!.children as EnvironmentNode[];
    expect(envs.map((e) => e.label)).toEqual(['development', 'staging']);
    const staging = envs[1]!;
    expect(staging.description).toBe('2 keys');
    expect(staging.children.map((c) => [c.label, c.description])).toEqual([
      ['API_TIMEOUT', '= 30'],
      ['DB_PASSWORD', `= ${MASK}`],
    ]);
    const timeout = staging.children[0]!;
    expect(timeout.tooltip).toContain('Version 3, set by alice');
    expect(timeout.contextValue).toBe('configEntry');
    expect(staging.children[1]!.icon.id).toBe('lock');
  });

  it('shows one row per secret with environment, backend, version and rotation; versions newest first', () => {
    const rows = tree[1]!.children as SecretNode[];
    expect(rows.map((r) => r.label)).toEqual(['db_pw', 'stripe_key']);
    const [dbPw, stripe] = rows;
    expect(stripe!.description).toBe('production · local · v2 · rotates in 20d');
    expect(stripe!.icon).toEqual({ id: 'key' });
    expect(dbPw!.description).toBe('development · local · v2 · rotation overdue 2d');
    expect(dbPw!.icon).toEqual({ id: 'database', color: 'list.errorForeground' });
    expect(stripe!.children.map((v) => [v.label, v.description])).toEqual([
      ['v2', 'current'],
      ['v1', 'previous'],
    ]);
    expect(stripe!.children[0]!.tooltip).toContain('Created by vscode');
    expect(stripe!.contextValue).toBe('secret');
  });

  it('never puts a value of a secret or a sensitive entry in any label, description or tooltip', () => {
    const texts: string[] = [];
    const walk = (nodes: readonly { label: string; description: string; tooltip: string; children?: readonly unknown[] }[]): void => {
      for (const n of nodes) {
        texts.push(n.label, n.description, n.tooltip);
        if (n.children) walk(n.children as typeof nodes);
      }
    };
    walk(tree);
    const leaked = buildSecretsTree([environment('x', [{ ...SENSITIVE, masked: undefined, value: 'hunter2' }])], [], NOW);
    walk(leaked);
    expect(texts.join('\n')).not.toContain('hunter2');
  });

  it('marks a rolled-back version with the version it copies', () => {
    const rolled = secret({
      id: 'sec_00000000000000c1',
      name: 'jwt',
      currentVersion: 3,
      versions: [
        { version: 1, createdAt: iso(NOW - 3 * DAY), createdBy: 'a', state: 'deprecated' },
        { version: 2, createdAt: iso(NOW - 2 * DAY), createdBy: 'a', state: 'previous' },
        { version: 3, createdAt: iso(NOW - DAY), createdBy: 'a', state: 'current', rolledBackFrom: 1 },
      ],
    });
    const row = buildSecretsTree([], [rolled], NOW)[1]!.children[0] as SecretNode;
    expect(row.children.map((v) => v.description)).toEqual(['current · copy of v1', 'previous', 'deprecated']);
  });
});

describe('rotation', () => {
  it('says no rotation, soon, later or overdue', () => {
    expect(rotationText({ rotation: { policy: 'never' } }, NOW)).toEqual({ text: 'no rotation', urgency: 'none' });
    expect(rotationText({ rotation: { policy: 'daily' }, nextRotation: iso(NOW + 5 * 3_600_000) }, NOW)).toEqual({ text: 'rotates in 5h', urgency: 'soon' });
    expect(rotationText({ rotation: { policy: 'monthly' }, nextRotation: iso(NOW + 30 * DAY) }, NOW).urgency).toBe('none');
    expect(rotationText({ rotation: { policy: 'weekly' }, nextRotation: iso(NOW - 90_000) }, NOW)).toEqual({ text: 'rotation overdue 1m', urgency: 'overdue' });
  });

  it('counts the secrets due soon or overdue', () => {
    const due = [
      secret({ id: 'sec_0000000000000001', name: 'a', nextRotation: iso(NOW + DAY) }),
      secret({ id: 'sec_0000000000000002', name: 'b', nextRotation: iso(NOW + 60 * DAY) }),
      secret({ id: 'sec_0000000000000003', name: 'c', nextRotation: undefined, rotation: { policy: 'never' } }),
    ];
    expect(dueCount(due, NOW)).toBe(1);
  });
});

describe('config values', () => {
  it('shows JSON, cut long values, masks sensitive ones', () => {
    expect(configValueText({ value: 'text', sensitive: false })).toBe('"text"');
    expect(configValueText({ value: { a: 1 }, sensitive: false })).toBe('{"a":1}');
    expect(configValueText({ value: 'x'.repeat(100), sensitive: false })).toHaveLength(60);
    expect(configValueText({ value: 'secret', sensitive: true })).toBe(MASK);
  });

  it('parses typed values as JSON and explains what is wrong', () => {
    expect(parseConfigValue(' 42 ')).toEqual({ ok: true, value: 42 });
    expect(parseConfigValue('{"a": [true, null]}')).toEqual({ ok: true, value: { a: [true, null] } });
    expect(parseConfigValue('"text"')).toEqual({ ok: true, value: 'text' });
    const bare = parseConfigValue('text');
    expect(bare.ok).toBe(false);
    expect(!bare.ok && bare.error).toMatch(/quote text as "text"/);
    expect(parseConfigValue('  ').ok).toBe(false);
  });

  it('renders a version document for the diff editor, masked when sensitive', () => {
    const base = { environment: 'staging', key: 'K', version: 2, at: '2026-11-27T10:00:00.000Z', by: 'alice' };
    expect(configVersionDocument({ ...base, op: 'set', value: { a: 1 }, sensitive: false })).toBe(
      '// staging / K — version 2, set by alice at 2026-11-27T10:00:00.000Z\n{\n  "a": 1\n}\n',
    );
    expect(configVersionDocument({ ...base, op: 'set', value: 'pw', sensitive: true })).not.toContain('pw"');
    expect(configVersionDocument({ ...base, op: 'delete', sensitive: false })).toContain('(deleted)');
  });

  it('round-trips document addresses, including awkward keys', () => {
    expect(parseConfigDocPath(configDocPath('staging', 'a.b-c', 4))).toEqual({ environment: 'staging', key: 'a.b-c', version: 4 });
    expect(parseConfigDocPath(configDocPath('dev', 'K', 'current'))).toEqual({ environment: 'dev', key: 'K', version: 'current' });
    expect(parseConfigDocPath('/dev/K')).toBeUndefined();
  });
});

describe('command arguments', () => {
  it('finds the secret of a row, an id object or nothing', () => {
    expect(secretRefOf({ kind: 'secret', secretId: 'sec_00000000000000a1' })).toBe('sec_00000000000000a1');
    expect(secretRefOf({ id: 'sec_00000000000000a1' })).toBe('sec_00000000000000a1');
    expect(secretRefOf({ id: 'secret:sec_00000000000000a1' })).toBeUndefined();
    expect(secretRefOf(undefined)).toBeUndefined();
  });

  it('finds the config entry or environment of a row', () => {
    expect(configRefOf({ environment: 'staging', key: 'K' })).toEqual({ environment: 'staging', key: 'K' });
    expect(configRefOf({ environment: 'staging' })).toEqual({ environment: 'staging' });
    expect(configRefOf('staging')).toBeUndefined();
  });

  it('recognises the secrets service events', () => {
    expect(isSecretEventType('secret.rotated')).toBe(true);
    expect(isSecretEventType('slo.changed')).toBe(false);
  });
});

describe('rotation grace, removed versions and hooks in the tree', () => {
  it('shows the grace left on a previous version, removed versions and a failed hook', () => {
    const s = secret({
      id: 'sec_00000000000000aa',
      name: 'hooked',
      versions: [
        { version: 1, createdAt: iso(NOW - 40 * DAY), createdBy: 'owner', state: 'deprecated', destroyed: true },
        { version: 2, createdAt: iso(NOW - 2 * DAY), createdBy: 'owner', state: 'previous', graceUntil: iso(NOW + 5 * 3_600_000) },
        { version: 3, createdAt: iso(NOW - DAY), createdBy: 'scheduler', state: 'current' },
      ],
      currentVersion: 3,
      hook: { kind: 'command', command: '/usr/local/bin/deploy', args: [], valueOnStdin: false, timeoutMs: 30_000 },
      lastHookRun: { version: 3, kind: 'command', ok: false, exitCode: 2, durationMs: 12, error: 'exit code 2', at: iso(NOW - DAY) },
    });
    const row = buildSecretsTree([], [s], NOW)[1]!.children[0] as SecretNode;
    expect(row.description).toMatch(/hook failed$/);
    expect(row.tooltip).toContain('Rotation hook: command, last run for v3 failed (exit code 2)');
    expect(row.children.map((v) => v.description)).toEqual(['current', 'previous · grace 5h left', 'deprecated · destroyed']);
    expect(row.children[2]!.icon.id).toBe('trash');
  });
});

describe('Create Secret and Delete Secret helpers', () => {
  it('validates names, environments and custom days with the daemon rules', () => {
    expect(secretNameProblem('payments_api')).toBeUndefined();
    expect(secretNameProblem('1bad')).toMatch(/start with a letter/);
    expect(environmentNameProblem('qa-2')).toBeUndefined();
    expect(environmentNameProblem('Prod')).toMatch(/lower case/);
    expect(customDaysProblem('14')).toBeUndefined();
    expect(customDaysProblem('0')).toBeDefined();
    expect(customDaysProblem('1.5')).toBeDefined();
    expect(ROTATION_CHOICES.map((c) => c.policy)).toEqual(['never', 'daily', 'weekly', 'monthly', 'quarterly', 'custom']);
  });

  it('names the secret, its environment and what happens to the value in the delete confirmation', () => {
    const local = deleteSecretPrompt(secret({ id: 'sec_00000000000000bb', name: 'db_password', environment: 'staging' }));
    expect(local.message).toBe('Delete secret "db_password" in environment "staging"?');
    expect(local.detail).toMatch(/^2 versions in local\. Every version is erased from the local vault file/);
    expect(deleteSecretPrompt(secret({ id: 'sec_00000000000000cc', name: 'x', backend: 'aws' })).detail).toMatch(/recovery window/);
  });
});
