import { readFile, stat } from 'node:fs/promises';
import { parseJson, parseYaml } from '@stoplight/spectral-parsers';
import { MAX_SPEC_BYTES } from './specFiles';

/** RFC 6901 pointer of a JSON path (`["paths", "/a/b"]` → `/paths/~1a~1b`). */
export function toPointer(path: readonly (string | number)[]): string {
  return path.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** The value at an RFC 6901 pointer, or undefined. */
export function valueAt(data: unknown, pointer: string): unknown {
  if (pointer === '') return data;
  let node: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/**
 * The unresolved data of each file findings point into (the root document and the files it `$ref`s),
 * parsed once per audit: fixes are computed against the file the editor will change.
 */
export class SourceDocuments {
  private readonly cache = new Map<string, Promise<unknown>>();

  /** `known`: data already parsed this audit (the root and the files its `$ref`s reach). */
  constructor(known: ReadonlyMap<string, { data: unknown }>, private readonly maxBytes = MAX_SPEC_BYTES) {
    for (const [file, { data }] of known) this.cache.set(file, Promise.resolve(data));
  }

  /** Parsed data of a file, undefined when it cannot be read (missing, too big, not a regular file). */
  get(file: string): Promise<unknown> {
    let entry = this.cache.get(file);
    if (!entry) {
      entry = this.load(file);
      this.cache.set(file, entry);
    }
    return entry;
  }

  private async load(file: string): Promise<unknown> {
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile() || info.size > this.maxBytes) return undefined;
    return parse(file, await readFile(file, 'utf8'));
  }
}

function parse(file: string, text: string): unknown {
  return (/\.json$/i.test(file) ? parseJson(text) : parseYaml(text)).data;
}
