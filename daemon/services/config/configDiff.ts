import type { ConfigDiff, ConfigDiffEntry, ConfigEntry, ConfigVersion } from '../../protocol/config';
import type { StoredVersion } from './configProjection';

/** JSON text with object keys sorted, so equal values compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export const sameValue = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);

/** Value fields of a view: the value in clear, or `masked` for a sensitive one unless revealed. */
function valueFields(v: StoredVersion, reveal: boolean): { value?: ConfigEntry['value']; masked?: true } {
  if (v.op === 'delete') return {};
  if (v.sensitive && !reveal) return { masked: true };
  return { value: v.value as ConfigEntry['value'] };
}

const descriptionField = (v: StoredVersion) => (v.description !== undefined ? { description: v.description } : {});

export function entryView(environment: string, key: string, v: StoredVersion, reveal = false): ConfigEntry {
  return {
    environment,
    key,
    version: v.version,
    ...valueFields(v, reveal),
    sensitive: v.sensitive,
    ...descriptionField(v),
    updatedAt: v.at,
    updatedBy: v.by,
  };
}

export function versionView(environment: string, key: string, v: StoredVersion): ConfigVersion {
  return {
    environment,
    key,
    version: v.version,
    op: v.op,
    ...valueFields(v, false),
    sensitive: v.sensitive,
    ...descriptionField(v),
    at: v.at,
    by: v.by,
    seq: v.seq,
    ...(v.rolledBackFrom !== undefined ? { rolledBackFrom: v.rolledBackFrom } : {}),
    ...(v.promotedFrom !== undefined ? { promotedFrom: v.promotedFrom } : {}),
  };
}

const side = (v: StoredVersion) => ({ version: v.version, ...valueFields(v, false), sensitive: v.sensitive, ...descriptionField(v) });

/** Which parts of two live versions differ (empty when equal). Values are compared in clear, shown masked. */
export function changedFields(a: StoredVersion, b: StoredVersion): ('value' | 'sensitive' | 'description')[] {
  const fields: ('value' | 'sensitive' | 'description')[] = [];
  if (!sameValue(a.value, b.value)) fields.push('value');
  if (a.sensitive !== b.sensitive) fields.push('sensitive');
  if ((a.description ?? '') !== (b.description ?? '')) fields.push('description');
  return fields;
}

/**
 * Differences between two states (key → live version, tombstones already dropped). Keys are listed
 * in order; sensitive values never appear, only that they changed.
 */
export function diffStates(before: ReadonlyMap<string, StoredVersion>, after: ReadonlyMap<string, StoredVersion>): ConfigDiff {
  const keys = [...new Set([...before.keys(), ...after.keys()])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const entries: ConfigDiffEntry[] = [];
  let unchanged = 0;
  for (const key of keys) {
    const b = before.get(key);
    const a = after.get(key);
    if (!b && a) entries.push({ key, change: 'added', after: side(a) });
    else if (b && !a) entries.push({ key, change: 'removed', before: side(b) });
    else if (a && b) {
      const fields = changedFields(b, a);
      if (fields.length === 0) unchanged++;
      else entries.push({ key, change: 'changed', before: side(b), after: side(a), fields });
    }
  }
  return { entries, unchanged };
}
