import { SecretEnvironmentName, SecretName, type ConfigEntry, type ConfigEnvironment, type ConfigVersion, type SecretMetadata, type SecretRotationPolicy, type SecretType } from '../../../daemon/protocol';

/** A codicon with a theme colour id, e.g. `{ id: 'error', color: 'list.errorForeground' }`. */
export interface NodeIcon {
  readonly id: string;
  readonly color?: string;
}

/** What a sensitive value shows instead of itself, everywhere in the editor. */
export const MASK = '••••';
/** Longest value text a row shows, characters; the tooltip has the rest. */
export const MAX_VALUE_CHARS = 60;
/** Rotation due within this many ms shows as "due soon". */
export const DUE_SOON_MS = 7 * 24 * 3600_000;

export type SecretsNode = GroupNode | EnvironmentNode | ConfigEntryNode | SecretNode | SecretVersionNode;

interface NodeBase {
  /** Stable across refreshes, so VS Code keeps expansion and selection. */
  readonly id: string;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  readonly icon: NodeIcon;
}

export interface GroupNode extends NodeBase {
  readonly kind: 'group';
  readonly group: 'config' | 'secrets';
  readonly children: readonly (EnvironmentNode | SecretNode)[];
}

export interface EnvironmentNode extends NodeBase {
  readonly kind: 'environment';
  readonly environment: string;
  readonly contextValue: 'configEnvironment';
  readonly children: readonly ConfigEntryNode[];
}

export interface ConfigEntryNode extends NodeBase {
  readonly kind: 'configEntry';
  readonly environment: string;
  readonly key: string;
  readonly version: number;
  readonly sensitive: boolean;
  readonly contextValue: 'configEntry';
}

export interface SecretNode extends NodeBase {
  readonly kind: 'secret';
  readonly secretId: string;
  readonly name: string;
  readonly environment: string;
  readonly currentVersion: number;
  readonly contextValue: 'secret';
  readonly children: readonly SecretVersionNode[];
}

export interface SecretVersionNode extends NodeBase {
  readonly kind: 'secretVersion';
  readonly secretId: string;
  readonly version: number;
}

/** One icon per secret type (the seed's seven). */
export const SECRET_TYPE_ICONS: Readonly<Record<SecretType, NodeIcon>> = {
  api_key: { id: 'key' },
  database_password: { id: 'database' },
  jwt_secret: { id: 'symbol-key' },
  encryption_key: { id: 'lock' },
  oauth_client_secret: { id: 'account' },
  webhook_secret: { id: 'plug' },
  certificate: { id: 'verified' },
};

const VERSION_ICONS: Readonly<Record<SecretMetadata['versions'][number]['state'], NodeIcon>> = {
  current: { id: 'pass-filled', color: 'testing.iconPassed' },
  previous: { id: 'history' },
  deprecated: { id: 'circle-slash', color: 'disabledForeground' },
};

/** "3d", "5h", "12m": the coarsest unit that is at least 1. */
export function formatSpan(ms: number): string {
  const abs = Math.abs(ms);
  if (abs >= 86_400_000) return `${Math.floor(abs / 86_400_000)}d`;
  if (abs >= 3_600_000) return `${Math.floor(abs / 3_600_000)}h`;
  return `${Math.max(1, Math.floor(abs / 60_000))}m`;
}

/** The value as a row shows it: masked when sensitive, JSON text otherwise, cut at MAX_VALUE_CHARS. */
export function configValueText(entry: Pick<ConfigEntry, 'value' | 'masked' | 'sensitive'>): string {
  if (entry.masked || entry.sensitive) return MASK;
  const text = entry.value === undefined ? '(no value)' : JSON.stringify(entry.value);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

/** When rotation is next due, in words, and how urgent that is. */
export function rotationText(secret: Pick<SecretMetadata, 'nextRotation' | 'rotation'>, nowMs: number): { text: string; urgency: 'none' | 'soon' | 'overdue' } {
  if (secret.nextRotation === undefined) return { text: 'no rotation', urgency: 'none' };
  const left = Date.parse(secret.nextRotation) - nowMs;
  if (left <= 0) return { text: `rotation overdue ${formatSpan(left)}`, urgency: 'overdue' };
  return { text: `rotates in ${formatSpan(left)}`, urgency: left <= DUE_SOON_MS ? 'soon' : 'none' };
}

function entryNode(entry: ConfigEntry): ConfigEntryNode {
  const value = configValueText(entry);
  const lines = [
    `${entry.environment} / ${entry.key}`,
    `Value: ${entry.masked || entry.sensitive ? `${MASK} (sensitive)` : entry.value === undefined ? '(no value)' : JSON.stringify(entry.value)}`,
    `Version ${entry.version}, set by ${entry.updatedBy} at ${entry.updatedAt}`,
  ];
  if (entry.description) lines.push(entry.description);
  return {
    kind: 'configEntry',
    id: `config:${entry.environment}:${entry.key}`,
    label: entry.key,
    description: `= ${value}`,
    tooltip: lines.join('\n'),
    icon: entry.sensitive ? { id: 'lock' } : { id: 'symbol-constant' },
    environment: entry.environment,
    key: entry.key,
    version: entry.version,
    sensitive: entry.sensitive,
    contextValue: 'configEntry',
  };
}

function environmentNode(env: ConfigEnvironment): EnvironmentNode {
  const entries = [...(env.entries ?? [])].sort((a, b) => a.key.localeCompare(b.key)).map(entryNode);
  return {
    kind: 'environment',
    id: `config:${env.name}`,
    label: env.name,
    description: `${env.entryCount} ${env.entryCount === 1 ? 'key' : 'keys'}`,
    tooltip: [env.name, env.description, `Last change ${env.updatedAt}`].filter(Boolean).join('\n'),
    icon: { id: env.name === 'production' ? 'server-environment' : 'folder' },
    environment: env.name,
    contextValue: 'configEnvironment',
    children: entries,
  };
}

function versionNode(secret: SecretMetadata, v: SecretMetadata['versions'][number], nowMs: number): SecretVersionNode {
  const copied = v.rolledBackFrom !== undefined ? ` · copy of v${v.rolledBackFrom}` : '';
  const removed = v.destroyed ? ' · destroyed' : v.deleted ? ' · deleted' : '';
  const grace = v.state === 'previous' && v.graceUntil !== undefined ? ` · grace ${formatSpan(Date.parse(v.graceUntil) - nowMs)} left` : '';
  return {
    kind: 'secretVersion',
    id: `secret:${secret.id}:v${v.version}`,
    label: `v${v.version}`,
    description: `${v.state}${removed}${grace}${copied}`,
    tooltip: [
      `Version ${v.version} of ${secret.name}: ${v.state}${removed}`,
      `Created by ${v.createdBy} at ${v.createdAt}`,
      ...(v.graceUntil !== undefined && v.state === 'previous' ? [`Stays previous until ${v.graceUntil}, then deprecated`] : []),
      ...(copied ? [`Rolled back from v${v.rolledBackFrom}`] : []),
    ].join('\n'),
    icon: v.destroyed || v.deleted ? { id: 'trash', color: 'disabledForeground' } : VERSION_ICONS[v.state],
    secretId: secret.id,
    version: v.version,
  };
}

function secretNode(secret: SecretMetadata, nowMs: number): SecretNode {
  const rotation = rotationText(secret, nowMs);
  const icon =
    rotation.urgency === 'overdue'
      ? { id: SECRET_TYPE_ICONS[secret.type].id, color: 'list.errorForeground' }
      : rotation.urgency === 'soon'
        ? { id: SECRET_TYPE_ICONS[secret.type].id, color: 'list.warningForeground' }
        : SECRET_TYPE_ICONS[secret.type];
  const versions = [...secret.versions].sort((a, b) => b.version - a.version).map((v) => versionNode(secret, v, nowMs));
  const hook = secret.lastHookRun;
  return {
    kind: 'secret',
    id: `secret:${secret.id}`,
    label: secret.name,
    description: `${secret.environment} · ${secret.backend} · v${secret.currentVersion} · ${rotation.text}${hook && !hook.ok ? ' · hook failed' : ''}`,
    tooltip: [
      `${secret.name} (${secret.type.replace(/_/g, ' ')})`,
      `Environment ${secret.environment}, backend ${secret.backend}${secret.location ? ` at ${secret.location}` : ''}`,
      `Current version ${secret.currentVersion} of ${secret.versions.length}`,
      `Rotation: ${secret.rotation.policy}${secret.rotation.customDays !== undefined ? ` (${secret.rotation.customDays} days)` : ''}${secret.nextRotation ? `, next ${secret.nextRotation}` : ''}`,
      `Updated ${secret.updatedAt}`,
      ...(secret.sharedWithTeam === undefined
        ? []
        : [secret.sharedWithTeam ? `Shared with the team${secret.origin ? ` (created on ${secret.origin}, which runs its rotations)` : ''}` : 'Not shared with the team: local-vault values never leave this daemon']),
      ...(secret.hook ? [`Rotation hook: ${secret.hook.kind}${hook ? `, last run for v${hook.version} ${hook.ok ? 'ok' : `failed${hook.error ? ` (${hook.error})` : ''}`}` : ''}`] : []),
    ].join('\n'),
    icon,
    secretId: secret.id,
    name: secret.name,
    environment: secret.environment,
    currentVersion: secret.currentVersion,
    contextValue: 'secret',
    children: versions,
  };
}

/** The two top groups: Configuration (environments → entries) and Secrets (one row per secret → versions). */
export function buildSecretsTree(environments: readonly ConfigEnvironment[], secrets: readonly SecretMetadata[], nowMs: number): GroupNode[] {
  const envs = [...environments].sort((a, b) => a.name.localeCompare(b.name)).map(environmentNode);
  const rows = [...secrets]
    .sort((a, b) => a.environment.localeCompare(b.environment) || a.name.localeCompare(b.name))
    .map((s) => secretNode(s, nowMs));
  const due = rows.filter((r) => r.icon.color !== undefined).length;
  return [
    {
      kind: 'group',
      group: 'config',
      id: 'group:config',
      label: 'Configuration',
      description: `${envs.length} ${envs.length === 1 ? 'environment' : 'environments'}`,
      tooltip: 'Configuration per environment; sensitive values are masked.',
      icon: { id: 'settings' },
      children: envs,
    },
    {
      kind: 'group',
      group: 'secrets',
      id: 'group:secrets',
      label: 'Secrets',
      description: `${rows.length}${due > 0 ? ` · ${due} due for rotation` : ''}`,
      tooltip: 'Secrets: names, backends and versions; values are never shown.',
      icon: { id: 'key' },
      children: rows,
    },
  ];
}

/** Secrets whose rotation is overdue or due within DUE_SOON_MS, for the view's badge. */
export function dueCount(secrets: readonly SecretMetadata[], nowMs: number): number {
  return secrets.filter((s) => rotationText(s, nowMs).urgency !== 'none').length;
}

/** Parses what the user typed as a config value: JSON, or a bare word taken as a string. */
export function parseConfigValue(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  const trimmed = text.trim();
  if (trimmed.length === 0) return { ok: false, error: 'Enter a JSON value, e.g. 42, true, "text" or {"a": 1}.' };
  try {
    return { ok: true, value: JSON.parse(trimmed) as unknown };
  } catch (e) {
    return { ok: false, error: `Not valid JSON (${e instanceof Error ? e.message : String(e)}); quote text as "text".` };
  }
}

/** The text a diff editor shows for one version of a config entry. */
export function configVersionDocument(v: Pick<ConfigVersion, 'environment' | 'key' | 'version' | 'op' | 'value' | 'masked' | 'sensitive' | 'description' | 'at' | 'by'>): string {
  const value = v.op === 'delete' ? '(deleted)' : v.masked || v.sensitive ? `${MASK} (sensitive)` : JSON.stringify(v.value, null, 2);
  return [
    `// ${v.environment} / ${v.key} — version ${v.version}, ${v.op === 'delete' ? 'deleted' : 'set'} by ${v.by} at ${v.at}`,
    ...(v.description ? [`// ${v.description}`] : []),
    value ?? '(no value)',
    '',
  ].join('\n');
}

/** A versioned config document address: path `/<environment>/<key>/v<version>` (the version or `current`). */
export function configDocPath(environment: string, key: string, version: number | 'current'): string {
  return `/${encodeURIComponent(environment)}/${encodeURIComponent(key)}/${version === 'current' ? 'current' : `v${version}`}`;
}

export function parseConfigDocPath(path: string): { environment: string; key: string; version: number | 'current' } | undefined {
  const m = /^\/([^/]+)\/([^/]+)\/(current|v(\d+))$/.exec(path);
  if (!m) return undefined;
  return {
    environment: decodeURIComponent(m[1]!),
    key: decodeURIComponent(m[2]!),
    version: m[3] === 'current' ? 'current' : Number(m[4]),
  };
}

/** Event types the secrets service appends; any of them changes the Secrets group. */
export function isSecretEventType(type: string): boolean {
  return type.startsWith('secret.');
}

/** The secret a command was run on: a tree row, `{ secretId }` or `{ id }` with a sec_ id. */
export function secretRefOf(arg: unknown): string | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  const a = arg as { kind?: unknown; secretId?: unknown; id?: unknown };
  if (typeof a.secretId === 'string') return a.secretId;
  if (typeof a.id === 'string' && /^sec_[0-9a-f]{16}$/.test(a.id)) return a.id;
  return undefined;
}

/** The config entry a command was run on: a tree row or `{ environment, key }`. */
export function configRefOf(arg: unknown): { environment: string; key?: string } | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  const a = arg as { environment?: unknown; key?: unknown };
  if (typeof a.environment !== 'string') return undefined;
  return typeof a.key === 'string' ? { environment: a.environment, key: a.key } : { environment: a.environment };
}

/** The rotation policies the Create Secret command offers, in order. */
export const ROTATION_CHOICES: readonly { label: string; description: string; policy: SecretRotationPolicy['policy'] }[] = [
  { label: 'Never', description: 'rotate only by hand', policy: 'never' },
  { label: 'Daily', description: 'every day', policy: 'daily' },
  { label: 'Weekly', description: 'every 7 days', policy: 'weekly' },
  { label: 'Monthly', description: 'every 30 days', policy: 'monthly' },
  { label: 'Quarterly', description: 'every 90 days', policy: 'quarterly' },
  { label: 'Custom…', description: 'every N days', policy: 'custom' },
];

/** Why a typed secret name is refused (the daemon's own rule), or undefined when it is fine. */
export function secretNameProblem(text: string): string | undefined {
  const r = SecretName.safeParse(text);
  return r.success ? undefined : (r.error.issues[0]?.message ?? 'not a valid secret name');
}

/** Why a typed environment name is refused, or undefined when it is fine. */
export function environmentNameProblem(text: string): string | undefined {
  const r = SecretEnvironmentName.safeParse(text);
  return r.success ? undefined : (r.error.issues[0]?.message ?? 'not a valid environment name');
}

/** Why a typed number of days is refused, or undefined. */
export function customDaysProblem(text: string): string | undefined {
  const n = Number(text.trim());
  return Number.isInteger(n) && n >= 1 && n <= 3650 ? undefined : 'a whole number of days from 1 to 3650';
}

/** The modal confirmation of Delete Secret: it names the secret, its environment and what happens to the value. */
export function deleteSecretPrompt(secret: Pick<SecretMetadata, 'name' | 'environment' | 'backend' | 'versions'>): { message: string; detail: string } {
  const where =
    secret.backend === 'local'
      ? 'Every version is erased from the local vault file; this cannot be undone.'
      : secret.backend === 'hashicorp'
        ? 'Its versions are soft-deleted in HashiCorp Vault (an operator can still undelete them there).'
        : 'AWS Secrets Manager schedules it for deletion after its recovery window.';
  return {
    message: `Delete secret "${secret.name}" in environment "${secret.environment}"?`,
    detail: `${secret.versions.length} ${secret.versions.length === 1 ? 'version' : 'versions'} in ${secret.backend}. ${where} The deletion is recorded in the audit trail.`,
  };
}
