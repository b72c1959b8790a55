import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseJson, parseYaml } from '@stoplight/spectral-parsers';
import { MAX_SPEC_BYTES } from './specFiles';
import { toPointer, valueAt } from './sourceDocuments';

/**
 * What a file was when an audit read it: `sha256:<hex>` of its text, or why it could not be read
 * (`missing`, `notFile`, `tooBig:<bytes>`). Two equal states mean the audit would see the same input.
 */
export type FileState = string;

export function contentState(text: string): FileState {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

export interface FileRead {
  state: FileState;
  /** Present when the file is a regular file within the size limit. */
  text?: string;
}

/** Read a file the way the audit's `$ref` resolver does (same refusals), with its state. */
export async function readFileState(file: string, maxBytes = MAX_SPEC_BYTES): Promise<FileRead> {
  const info = await stat(file).catch(() => undefined);
  if (!info) return { state: 'missing' };
  if (!info.isFile()) return { state: 'notFile' };
  if (info.size > maxBytes) return { state: `tooBig:${info.size}` };
  const text = await readFile(file, 'utf8').catch(() => undefined);
  return text === undefined ? { state: 'missing' } : { state: contentState(text), text };
}

export function parseSpecText(file: string, text: string): unknown {
  return (/\.json$/i.test(file) ? parseJson(text) : parseYaml(text)).data;
}

/** A cycle of `$ref`s that only point at each other, so none resolves to a value. */
export interface RefCycle {
  /** The file of the `$ref` the cycle is reported at (the first member the scan met). */
  file: string;
  /** JSON path of that `$ref` value (ends with `$ref`). */
  path: (string | number)[];
  /** The members in the order they point at each other, the first repeated at the end. */
  chain: { file: string; pointer: string }[];
}

export interface RefScan {
  /** Every file reached through `$ref`s from the root, transitively (the root excluded), with its state. */
  dependencies: Record<string, FileState>;
  /** Text and parsed data of the root and of each readable dependency. */
  files: Map<string, { text: string; data: unknown }>;
  cycles: RefCycle[];
}

interface RefNode {
  file: string;
  /** Path of the object holding `$ref`. */
  path: (string | number)[];
  ref: string;
}

/** Longest `$ref` chain followed when looking for a cycle. */
const MAX_CHAIN = 256;

/** Target file and pointer of a `$ref` written in `file`; undefined for remote (non-file) refs. */
export function refTarget(file: string, ref: string): { file: string; pointer: string } | undefined {
  const hash = ref.indexOf('#');
  const location = hash < 0 ? ref : ref.slice(0, hash);
  const fragment = hash < 0 ? '' : ref.slice(hash + 1);
  let pointer: string;
  try {
    pointer = decodeURIComponent(fragment);
  } catch {
    pointer = fragment;
  }
  if (location === '') return { file, pointer };
  let url: URL;
  try {
    url = new URL(location, pathToFileURL(file));
  } catch {
    return undefined;
  }
  if (url.protocol !== 'file:') return undefined;
  return { file: fileURLToPath(url), pointer };
}

function collectRefs(file: string, data: unknown, out: RefNode[]): void {
  const walk = (node: unknown, path: (string | number)[]): void => {
    if (typeof node !== 'object' || node === null) return;
    if (Array.isArray(node)) {
      node.forEach((v, i) => walk(v, [...path, i]));
      return;
    }
    const record = node as Record<string, unknown>;
    if (typeof record.$ref === 'string') out.push({ file, path, ref: record.$ref });
    for (const [k, v] of Object.entries(record)) if (k !== '$ref') walk(v, [...path, k]);
  };
  walk(data, []);
}

const memberKey = (file: string, pointer: string) => `${file}#${pointer}`;

/**
 * Follow every `$ref` from a root document through the local files it reaches: the files the audit
 * depends on (so a change to any of them invalidates the root's findings), and the `$ref` cycles that
 * never reach a value (`A → B → A`). Recursive schemas (a property that refers back to its schema) are
 * not cycles: the chain stops at the first target that is not itself a `$ref`.
 */
export async function scanRefs(
  rootFile: string,
  rootText: string,
  rootData: unknown,
  read: (file: string) => Promise<FileRead> = (f) => readFileState(f),
): Promise<RefScan> {
  const files = new Map<string, { text: string; data: unknown }>([[rootFile, { text: rootText, data: rootData }]]);
  const dependencies: Record<string, FileState> = {};
  const nodes: RefNode[] = [];
  const queue = [rootFile];
  while (queue.length > 0) {
    const file = queue.shift()!;
    const found: RefNode[] = [];
    collectRefs(file, files.get(file)!.data, found);
    nodes.push(...found);
    for (const node of found) {
      const target = refTarget(file, node.ref);
      if (!target || target.file === rootFile || Object.hasOwn(dependencies, target.file)) continue;
      const got = await read(target.file);
      dependencies[target.file] = got.state;
      if (got.text === undefined) continue;
      let data: unknown;
      try {
        data = parseSpecText(target.file, got.text);
      } catch {
        data = undefined;
      }
      files.set(target.file, { text: got.text, data });
      queue.push(target.file);
    }
  }
  return { dependencies, files, cycles: findCycles(nodes, files) };
}

function findCycles(nodes: readonly RefNode[], files: Map<string, { data: unknown }>): RefCycle[] {
  const cycles: RefCycle[] = [];
  const reported = new Set<string>();
  for (const start of nodes) {
    const first = { file: start.file, pointer: toPointer(start.path) };
    const visited = [memberKey(first.file, first.pointer)];
    const members = [first];
    let current = { file: start.file, ref: start.ref };
    for (let step = 0; step < MAX_CHAIN; step++) {
      const target = refTarget(current.file, current.ref);
      if (!target || !files.has(target.file)) break;
      const value = valueAt(files.get(target.file)!.data, target.pointer);
      if (typeof value !== 'object' || value === null || typeof (value as { $ref?: unknown }).$ref !== 'string') break;
      const key = memberKey(target.file, target.pointer);
      const at = visited.indexOf(key);
      if (at >= 0) {
        // Reported once, at the member met first; a `$ref` leading into a cycle is not itself a member.
        const id = visited.slice(at).sort().join('\n');
        if (at === 0 && !reported.has(id)) {
          reported.add(id);
          cycles.push({ file: start.file, path: [...start.path, '$ref'], chain: [...members, target] });
        }
        break;
      }
      visited.push(key);
      members.push(target);
      current = { file: target.file, ref: (value as { $ref: string }).$ref };
    }
  }
  return cycles;
}

/** `#/a/b` for a member in `inFile`, `other.yaml#/a/b` for one elsewhere. */
export function describeMember(member: { file: string; pointer: string }, inFile: string): string {
  return member.file === inFile ? `#${member.pointer}` : `${basename(member.file)}#${member.pointer}`;
}
