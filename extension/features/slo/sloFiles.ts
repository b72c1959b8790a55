import { isAbsolute, resolve } from 'node:path';

/**
 * The file a command argument names (the Export/Import OpenSLO commands take one, so scripts and
 * tests can run them without the file dialog): an absolute path as is, a relative one against the
 * first workspace folder (or the extension host's working directory without one). Anything but a
 * non-empty string is no file: the command shows its dialog.
 */
export function sloFilePath(arg: unknown, workspaceRoot: string | undefined): string | undefined {
  if (typeof arg !== 'string' || arg.trim().length === 0) return undefined;
  const path = arg.trim();
  return isAbsolute(path) ? path : resolve(workspaceRoot ?? process.cwd(), path);
}

/** How an import is run: `replace` redefines SLOs whose ids exist instead of failing on them. */
export type SloImportMode = 'create' | 'replace';

/** The import mode a command's options argument asks for; `create` unless it says `replace`. */
export function sloImportMode(arg: unknown): SloImportMode {
  return typeof arg === 'object' && arg !== null && (arg as { mode?: unknown }).mode === 'replace' ? 'replace' : 'create';
}
