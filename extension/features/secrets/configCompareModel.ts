import type { ConfigDiff, ConfigEntry, ConfigVersion } from '../../../daemon/protocol';
import { MASK, configValueText } from './secretsTreeModel';

type ShownEntry = Pick<ConfigEntry, 'key' | 'value' | 'masked' | 'sensitive'>;

/** Marks a masked line whose value differs on the other side, so the diff editor still highlights it. */
export const SENSITIVE_DIFFERS = '  # sensitive value differs';

/** One entry as a `KEY=value` line: strings bare, other JSON as JSON, sensitive values masked. */
export function envLine(entry: ShownEntry): string {
  if (entry.masked || entry.sensitive) return `${entry.key}=${MASK}`;
  if (typeof entry.value === 'string') return `${entry.key}=${entry.value.replace(/\n/g, '\\n')}`;
  return `${entry.key}=${entry.value === undefined ? '' : JSON.stringify(entry.value)}`;
}

/**
 * The two sides of an environment comparison as sorted `KEY=value` documents. A sensitive key whose
 * value differs (per `config/diff`) gets a marker on both sides: its masked lines alone would look equal.
 */
export function envCompareDocuments(
  from: { environment: string; entries: readonly ShownEntry[] },
  to: { environment: string; entries: readonly ShownEntry[] },
  diff: ConfigDiff,
): { left: string; right: string } {
  const hiddenChange = new Set(
    diff.entries
      .filter((d) => d.change === 'changed' && d.fields?.includes('value') && (d.before?.sensitive || d.before?.masked || d.after?.sensitive || d.after?.masked))
      .map((d) => d.key),
  );
  const render = (side: { environment: string; entries: readonly ShownEntry[] }): string => {
    const lines = [...side.entries]
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map((e) => envLine(e) + (hiddenChange.has(e.key) && (e.sensitive || e.masked) ? SENSITIVE_DIFFERS : ''));
    return [`# ${side.environment} (${side.entries.length} keys)`, ...lines, ''].join('\n');
  };
  return { left: render(from), right: render(to) };
}

/** The diff editor's title: both names and what `config/diff` counted. */
export function compareTitle(from: string, to: string, diff: ConfigDiff): string {
  const count = (c: 'added' | 'removed' | 'changed') => diff.entries.filter((d) => d.change === c).length;
  const parts = [`${count('changed')} changed`, `${count('added')} only in ${to}`, `${count('removed')} only in ${from}`, `${diff.unchanged} same`];
  return `Config ${from} ↔ ${to}: ${parts.join(', ')}`;
}

/** Versions a key can be rolled back to: every earlier version that set a value (newest first). */
export function rollbackTargets(versions: readonly ConfigVersion[]): ConfigVersion[] {
  const latest = versions.reduce((m, v) => Math.max(m, v.version), 0);
  return versions.filter((v) => v.op === 'set' && v.version !== latest).sort((a, b) => b.version - a.version);
}

/** A QuickPick row for a version: who and when, the value masked when sensitive. */
export function rollbackItem(v: ConfigVersion, suggested: boolean): { label: string; description: string; detail: string } {
  return {
    label: `v${v.version}${suggested ? ' (shown in the diff)' : ''}`,
    description: `${configValueText(v)} · by ${v.by}`,
    detail: `set ${v.at}${v.description ? ` — ${v.description}` : ''}`,
  };
}

/** The modal confirmation before `config/rollback`. */
export function rollbackPrompt(environment: string, key: string, target: ConfigVersion, latestVersion: number): { message: string; detail: string } {
  return {
    message: `Roll back ${environment} / ${key} to v${target.version}?`,
    detail:
      `Version ${latestVersion + 1} will hold the value of v${target.version} (${configValueText(target)}, set by ${target.by} at ${target.at}). ` +
      'History is kept: nothing is rewritten, and you can roll forward the same way.',
  };
}
