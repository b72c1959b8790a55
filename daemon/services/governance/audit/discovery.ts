import { open, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { MAX_SPEC_BYTES } from './specFiles';

/** Default workspace glob: every YAML and JSON file (then kept only if it declares `openapi` or `swagger`). */
export const DEFAULT_SPEC_GLOB = '**/*.{yaml,yml,json}';

/** Most spec files one workspace audit takes. */
export const MAX_DISCOVERED_SPECS = 200;

/** Folders never searched: dependencies, VCS data and dot folders. */
const SKIPPED_DIRS = new Set(['node_modules', 'bower_components', '.git', '.hg', '.svn']);

/** Bytes read to tell whether a file is an OpenAPI/Swagger document. */
const SNIFF_BYTES = 64 * 1024;

function escapeRegExp(c: string): string {
  return /[.+^$()|[\]\\{}*?]/.test(c) ? `\\${c}` : c;
}

function globSource(glob: string): string {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '{') {
      const close = glob.indexOf('}', i);
      if (close < 0) {
        re += '\\{';
        continue;
      }
      re += `(?:${glob.slice(i + 1, close).split(',').map(globSource).join('|')})`;
      i = close;
    } else re += escapeRegExp(c);
  }
  return re;
}

/** A glob (`**`, `*`, `?`, `{a,b}`) as a RegExp over `/`-separated relative paths. */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${globSource(glob)}$`);
}

/** A top-level `openapi`/`swagger` key near the start of the file. */
export function looksLikeSpec(head: string): boolean {
  return /^["']?(openapi|swagger)["']?\s*:/m.test(head) || /^\s*\{[\s\S]{0,2000}?"(openapi|swagger)"\s*:/.test(head);
}

async function readHead(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

export interface Discovered {
  files: string[];
  skipped: { file: string; reason: string }[];
}

/**
 * OpenAPI/Swagger documents under `root` whose relative path matches `glob`, sorted. Symbolic links are
 * not followed; folders in SKIPPED_DIRS and dot folders are not searched.
 */
/** Whether a file looked like a spec, by path, valid while its size and modification time stay the same. */
export type SniffCache = Map<string, { size: number; mtimeMs: number; spec: boolean }>;

/** Files a sniff cache remembers before it starts again (bounds a daemon that audits many roots). */
const MAX_SNIFF_ENTRIES = 20_000;

export async function discoverSpecs(root: string, glob = DEFAULT_SPEC_GLOB, maxBytes = MAX_SPEC_BYTES, sniffCache?: SniffCache): Promise<Discovered> {
  if (sniffCache && sniffCache.size > MAX_SNIFF_ENTRIES) sniffCache.clear();
  const matcher = globToRegExp(glob);
  const files: string[] = [];
  const skipped: Discovered['skipped'] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name) && !entry.name.startsWith('.')) await walk(full);
        continue;
      }
      if (!entry.isFile() || !matcher.test(relative(root, full).split(sep).join('/'))) continue;
      const info = await stat(full).catch(() => undefined);
      if (!info) continue;
      const known = sniffCache?.get(full);
      let spec: boolean;
      if (known && known.size === info.size && known.mtimeMs === info.mtimeMs) spec = known.spec;
      else {
        const head = await readHead(full).catch(() => undefined);
        spec = head !== undefined && looksLikeSpec(head);
        if (head !== undefined) sniffCache?.set(full, { size: info.size, mtimeMs: info.mtimeMs, spec });
      }
      if (!spec) continue;
      if (info.size > maxBytes) skipped.push({ file: full, reason: `${info.size} bytes, over the ${maxBytes}-byte limit of a spec file` });
      else if (files.length >= MAX_DISCOVERED_SPECS) skipped.push({ file: full, reason: `more than ${MAX_DISCOVERED_SPECS} spec files under the root` });
      else files.push(full);
    }
  };
  await walk(root);
  return { files, skipped };
}
