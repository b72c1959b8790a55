import { dirname, isAbsolute, resolve } from 'node:path';
import { Json as JsonParser, Yaml as YamlParser, type IParser } from '@stoplight/spectral-parsers';
import type { IParserResult } from '@stoplight/types';
import { ErrorCode, RpcError, type SourceRange, type SpecFormat } from '../../../protocol';
import { toPointer } from '../audit/sourceDocuments';
import { readSpecFile } from '../audit/specFiles';

/** The dialect of a parsed document (the audit's engine has the same test, but loads Spectral with it). */
export function specFormatOf(data: unknown): SpecFormat {
  if (typeof data !== 'object' || data === null) return 'unknown';
  const d = data as Record<string, unknown>;
  if (d.swagger === '2.0') return 'swagger-2.0';
  if (typeof d.openapi === 'string' && d.openapi.startsWith('3.1')) return 'openapi-3.1';
  if (typeof d.openapi === 'string' && d.openapi.startsWith('3.0')) return 'openapi-3.0';
  return 'unknown';
}

/** Files one side of a comparison may span: the root and the files its `$ref`s reach. */
export const MAX_REF_FILES = 100;
/** `$ref` hops followed from one node before the chain is called circular. */
const MAX_REF_HOPS = 64;

/** Reads a `$ref`'d file by absolute path (from disk, or from a git revision); throws RpcError. */
export type RefFileReader = (file: string) => Promise<string>;

/** A place in one of the documents: the file, the path inside it, and the (unresolved) value there. */
export interface SpecNode {
  readonly file: string;
  readonly path: readonly (string | number)[];
  readonly value: unknown;
}

/** `$ref`'d files from disk, with the audit's checks (absolute, regular file, size limit). */
export const diskRefReader: RefFileReader = (file) => readSpecFile(file, '$ref');

interface ParsedFile {
  parser: IParser<IParserResult<unknown>>;
  result: IParserResult<unknown>;
  text: string;
  /** Split on first use (only files with changes need it). */
  lines?: string[];
}

const invalid = (name: string, message: string, extra: Record<string, unknown> = {}) =>
  new RpcError(ErrorCode.InvalidParams, `${name}: ${message}`, { file: name, ...extra });

function parseText(name: string, text: string): ParsedFile {
  const parser = (/\.json$/i.test(name) || (!/\.ya?ml$/i.test(name) && /^\s*[{[]/.test(text)) ? JsonParser : YamlParser) as IParser<IParserResult<unknown>>;
  const result = parser.parse(text);
  const error = result.diagnostics.find((d) => d.severity === 0);
  if (error) {
    const at = error.range.start;
    throw invalid(name, `invalid ${parser === JsonParser ? 'JSON' : 'YAML'} at line ${at.line + 1}, column ${at.character + 1}: ${error.message}`, {
      range: error.range,
    });
  }
  return { parser, result, text };
}

/**
 * One side of a comparison: the root document and every file its `$ref`s reach, parsed with
 * positions. `$ref`s are followed lazily (`deref`), so circular schemas are fine and every node keeps
 * the file and path it really lives at; that is what gives a change its line and column.
 */
export class SpecDocuments {
  readonly format: SpecFormat;
  private readonly files = new Map<string, ParsedFile>();
  /** Why a `$ref`'d file could not be read (reported where a `$ref` uses it). */
  private readonly unreadable = new Map<string, string>();

  private constructor(
    /** The root file: an absolute path, or the display name of inline content. */
    readonly root: string,
  ) {
    this.format = 'unknown';
  }

  /**
   * Parse the root, then load the files its `$ref`s name (relative to the file holding each `$ref`)
   * through `readRef`. Without `readRef` (inline content) only refs inside the document resolve.
   */
  static async load(root: string, text: string, readRef?: RefFileReader): Promise<SpecDocuments> {
    const docs = new SpecDocuments(root);
    docs.files.set(root, parseText(root, text));
    const format = specFormatOf(docs.files.get(root)!.result.data);
    if (format === 'unknown') throw invalid(root, 'is not an OpenAPI 3.0/3.1 or Swagger 2.0 document (no `openapi: 3.x` or `swagger: "2.0"` at the top)');
    (docs as { format: SpecFormat }).format = format;
    if (readRef && isAbsolute(root)) await docs.loadRefs(readRef);
    return docs;
  }

  /** The root document's top node. */
  get top(): SpecNode {
    return { file: this.root, path: [], value: this.files.get(this.root)!.result.data };
  }

  /** The child of a node after following its `$ref`s; undefined when absent. */
  child(node: SpecNode | undefined, key: string | number): SpecNode | undefined {
    if (!node) return undefined;
    const at = this.deref(node);
    const v = at.value;
    if (typeof v !== 'object' || v === null) return undefined;
    if (!Object.hasOwn(v, key)) return undefined;
    return { file: at.file, path: [...at.path, key], value: (v as Record<string | number, unknown>)[key] };
  }

  /** The keys of an object node (after `$ref`s), in document order. */
  keys(node: SpecNode | undefined): string[] {
    if (!node) return [];
    const v = this.deref(node).value;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.keys(v) : [];
  }

  /** The items of an array node (after `$ref`s). */
  items(node: SpecNode | undefined): SpecNode[] {
    if (!node) return [];
    const at = this.deref(node);
    return Array.isArray(at.value) ? at.value.map((_, i) => this.child(at, i)!) : [];
  }

  /** The node's own value after `$ref`s. */
  valueOf(node: SpecNode | undefined): unknown {
    return node ? this.deref(node).value : undefined;
  }

  /** Follow `$ref` until a node that is not one; throws InvalidParams naming the file and line of a bad one. */
  deref(node: SpecNode): SpecNode {
    let at = node;
    for (let hop = 0; ; hop++) {
      const v = at.value;
      if (typeof v !== 'object' || v === null || typeof (v as { $ref?: unknown }).$ref !== 'string') return at;
      if (hop >= MAX_REF_HOPS) throw this.refError(node, String((node.value as { $ref: string }).$ref), 'is circular (a $ref chain that never reaches a value)');
      const ref = (v as { $ref: string }).$ref;
      at = this.resolveRef(at, ref);
    }
  }

  /**
   * Where a node starts in its file (the closest existing ancestor when the path is not there), to the
   * end of that line: a change to a whole operation or schema marks one line, not the block.
   */
  rangeOf(node: { file: string; path: readonly (string | number)[] }): SourceRange | undefined {
    const f = this.files.get(node.file);
    if (!f) return undefined;
    const loc = f.parser.getLocationForJsonPath(f.result, [...node.path], true);
    if (!loc) return undefined;
    const start = loc.range.start;
    f.lines ??= f.text.split(/\r?\n/);
    const lineEnd = (f.lines[start.line] ?? '').length;
    const end = loc.range.end.line === start.line ? loc.range.end : { line: start.line, character: Math.max(lineEnd, start.character) };
    return { start: { ...start }, end: { ...end } };
  }

  private resolveRef(at: SpecNode, ref: string): SpecNode {
    const hash = ref.indexOf('#');
    const filePart = hash === -1 ? ref : ref.slice(0, hash);
    const fragment = hash === -1 ? '' : ref.slice(hash + 1);
    let file = at.file;
    if (filePart !== '') {
      if (/^[a-z][a-z0-9+.-]*:/i.test(filePart)) throw this.refError(at, ref, 'points outside the local files (remote refs are not followed)');
      file = isAbsolute(at.file) ? resolve(dirname(at.file), decodeURIComponent(filePart)) : filePart;
    }
    const target = this.files.get(file);
    if (!target) throw this.refError(at, ref, `cannot be resolved: ${this.unreadable.get(file) ?? `${file} is not readable here`}`);
    if (fragment !== '' && !fragment.startsWith('/')) throw this.refError(at, ref, 'has a fragment that is not a JSON pointer');
    const path = fragment === '' ? [] : fragment.slice(1).split('/').map((s) => decodeURIComponent(s).replace(/~1/g, '/').replace(/~0/g, '~'));
    let value: unknown = target.result.data;
    for (const key of path) {
      if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) throw this.refError(at, ref, `cannot be resolved: nothing at #${fragment} in ${file}`);
      value = (value as Record<string, unknown>)[key];
    }
    return { file, path, value };
  }

  private refError(at: SpecNode, ref: string, why: string): RpcError {
    const range = this.rangeOf(at);
    const where = range ? ` (line ${range.start.line + 1}, column ${range.start.character + 1})` : '';
    return invalid(at.file, `$ref "${ref}" at ${toPointer(at.path) || '/'}${where} ${why}`, { pointer: toPointer(at.path), ...(range ? { range } : {}) });
  }

  /** Breadth-first over the external refs of every loaded file. */
  private async loadRefs(readRef: RefFileReader): Promise<void> {
    const queue = [this.root];
    for (let i = 0; i < queue.length; i++) {
      const file = queue[i]!;
      for (const target of externalTargets(this.files.get(file)!.result.data, file)) {
        if (this.files.has(target) || this.unreadable.has(target)) continue;
        if (this.files.size >= MAX_REF_FILES) throw invalid(this.root, `$refs reach more than ${MAX_REF_FILES} files`);
        let text: string;
        try {
          text = await readRef(target);
        } catch (e) {
          // A missing ref'd file is reported where the $ref is used (deref), with its line.
          if (e instanceof RpcError && e.code === ErrorCode.InvalidParams) {
            this.unreadable.set(target, e.message.replace(/^\$ref: /, ''));
            continue;
          }
          throw e;
        }
        this.files.set(target, parseText(target, text));
        queue.push(target);
      }
    }
  }
}

/** Absolute paths of the files `$ref`s in `data` name (relative to `file`). */
function externalTargets(data: unknown, file: string): string[] {
  const out = new Set<string>();
  const stack: unknown[] = [data];
  const seen = new Set<unknown>();
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    seen.add(v);
    const ref = (v as { $ref?: unknown }).$ref;
    if (typeof ref === 'string') {
      const filePart = ref.split('#')[0]!;
      if (filePart !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(filePart)) out.add(resolve(dirname(file), decodeURIComponent(filePart)));
    }
    for (const child of Object.values(v)) stack.push(child);
  }
  return [...out];
}
