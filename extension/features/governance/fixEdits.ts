import type { FixDescriptor } from '../../../daemon/protocol';

/**
 * Turns a machine fix (a JSON pointer plus a value) into one minimal text edit on a YAML or JSON
 * spec, keeping the rest of the file byte for byte. The `yaml` package would do the locating but
 * adds ~115 KB to an extension bundle that must stay under 400 KB, so this file locates nodes
 * itself: full JSON, and block-style YAML (the style specs are written in). Flow-style YAML
 * (`{a: 1}`), multi-line scalars and anchors are not located: no quick fix is offered there.
 */

/** A replacement of `length` characters at `offset` (UTF-16 code units) by `newText`. */
export interface TextEdit {
  offset: number;
  length: number;
  newText: string;
}

export type SpecLanguage = 'yaml' | 'json';

/** The edit applying `fix` to `text`, or undefined when the target cannot be located safely. */
export function computeFixEdit(text: string, language: SpecLanguage, fix: FixDescriptor): TextEdit | undefined {
  const segments = parsePointer(fix.pointer);
  if (!segments) return undefined;
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  return language === 'json' ? jsonEdit(text, segments, fix, eol) : yamlEdit(text, segments, fix, eol);
}

/** The language of a document by its VS Code language id or file name. */
export function specLanguageOf(languageId: string, fileName: string): SpecLanguage | undefined {
  if (languageId === 'json' || languageId === 'jsonc' || /\.json$/i.test(fileName)) return 'json';
  if (languageId === 'yaml' || /\.ya?ml$/i.test(fileName)) return 'yaml';
  return undefined;
}

/** True when the text has a top-level `openapi` or `swagger` key (cheap check before an audit). */
export function looksLikeSpec(text: string, language: SpecLanguage): boolean {
  const head = text.slice(0, 20_000);
  return language === 'json' ? /"(openapi|swagger)"\s*:/.test(head) : /^["']?(openapi|swagger)["']?\s*:/m.test(head);
}

function parsePointer(pointer: string): string[] | undefined {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return undefined;
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

// ---------------------------------------------------------------------------------------------
// JSON

type JsonNode =
  | { type: 'object'; offset: number; end: number; props: { key: string; keyOffset: number; value: JsonNode }[] }
  | { type: 'array'; offset: number; end: number; items: JsonNode[] }
  | { type: 'scalar'; offset: number; end: number };

class JsonScanner {
  pos = 0;
  constructor(private readonly text: string) {}

  parse(): JsonNode | undefined {
    try {
      const node = this.value();
      this.ws();
      return this.pos === this.text.length ? node : undefined;
    } catch {
      return undefined;
    }
  }

  private ws(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  private value(): JsonNode {
    this.ws();
    const start = this.pos;
    const c = this.text[this.pos];
    if (c === '{') {
      this.pos++;
      const props: { key: string; keyOffset: number; value: JsonNode }[] = [];
      this.ws();
      if (this.text[this.pos] === '}') return { type: 'object', offset: start, end: ++this.pos, props };
      for (;;) {
        this.ws();
        const keyOffset = this.pos;
        const key = JSON.parse(this.text.slice(keyOffset, this.stringEnd())) as string;
        this.ws();
        if (this.text[this.pos++] !== ':') throw new Error('colon expected');
        props.push({ key, keyOffset, value: this.value() });
        this.ws();
        const sep = this.text[this.pos++];
        if (sep === '}') return { type: 'object', offset: start, end: this.pos, props };
        if (sep !== ',') throw new Error('comma expected');
      }
    }
    if (c === '[') {
      this.pos++;
      const items: JsonNode[] = [];
      this.ws();
      if (this.text[this.pos] === ']') return { type: 'array', offset: start, end: ++this.pos, items };
      for (;;) {
        items.push(this.value());
        this.ws();
        const sep = this.text[this.pos++];
        if (sep === ']') return { type: 'array', offset: start, end: this.pos, items };
        if (sep !== ',') throw new Error('comma expected');
      }
    }
    if (c === '"') return { type: 'scalar', offset: start, end: this.stringEnd() };
    const m = /^(-?\d[\d.eE+-]*|true|false|null)/.exec(this.text.slice(this.pos, this.pos + 64));
    if (!m) throw new Error('value expected');
    this.pos += m[0].length;
    return { type: 'scalar', offset: start, end: this.pos };
  }

  /** Moves past the string at `pos` and returns its end offset. */
  private stringEnd(): number {
    if (this.text[this.pos] !== '"') throw new Error('string expected');
    let i = this.pos + 1;
    while (i < this.text.length && this.text[i] !== '"') i += this.text[i] === '\\' ? 2 : 1;
    if (i >= this.text.length) throw new Error('unterminated string');
    this.pos = i + 1;
    return this.pos;
  }
}

function jsonLocate(root: JsonNode, segments: readonly string[]): JsonNode | undefined {
  let node: JsonNode | undefined = root;
  for (const seg of segments) {
    if (node?.type === 'object') node = node.props.find((p) => p.key === seg)?.value;
    else if (node?.type === 'array' && /^\d+$/.test(seg)) node = node.items[Number(seg)];
    else return undefined;
  }
  return node;
}

function lineIndentAt(text: string, offset: number): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))![0];
}

function jsonEdit(text: string, segments: readonly string[], fix: FixDescriptor, eol: string): TextEdit | undefined {
  const root = new JsonScanner(text).parse();
  const node = root && jsonLocate(root, segments);
  if (!node) return undefined;
  if (fix.kind === 'replaceValue') return { offset: node.offset, length: node.end - node.offset, newText: JSON.stringify(fix.value) };
  if (node.type !== 'object' || node.props.some((p) => p.key === fix.key)) return undefined;
  const last = node.props.at(-1);
  if (!last) return { offset: node.offset + 1, length: 0, newText: `${JSON.stringify(fix.key)}: ${JSON.stringify(fix.value)}` };
  const multiline = text.slice(node.offset, last.keyOffset).includes('\n');
  if (!multiline) return { offset: last.value.end, length: 0, newText: `, ${JSON.stringify(fix.key)}: ${JSON.stringify(fix.value)}` };
  const indent = lineIndentAt(text, last.keyOffset);
  const unit = indent.slice(lineIndentAt(text, node.offset).length) || '  ';
  const value = JSON.stringify(fix.value, null, unit).split('\n').join(`${eol}${indent}`);
  return { offset: last.value.end, length: 0, newText: `,${eol}${indent}${JSON.stringify(fix.key)}: ${value}` };
}

// ---------------------------------------------------------------------------------------------
// Block-style YAML

interface Line {
  start: number;
  /** Text without the line break. */
  text: string;
  /** Column of the first non-space character, -1 for blank and comment-only lines. */
  indent: number;
}

type YamlNode =
  | { type: 'map' | 'seq'; line: number; col: number; endLine: number }
  | { type: 'scalar'; offset: number; end: number; text: string };

const KEY = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{[\]}:,][^:#]*?)\s*:(?=\s|$)/;

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  for (const raw of text.split('\n')) {
    const t = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const m = /^( *)(\S)?/.exec(t)!;
    lines.push({ start, text: t, indent: m[2] === undefined || m[2] === '#' ? -1 : m[1]!.length });
    start += raw.length + 1;
  }
  return lines;
}

function unquoteKey(raw: string): string {
  if (raw.startsWith('"')) return JSON.parse(raw) as string;
  if (raw.startsWith("'")) return raw.slice(1, -1).replace(/''/g, "'");
  return raw.trim();
}

/** The end of a block that starts at `line` with its content at `col`. */
function blockEnd(lines: readonly Line[], line: number, col: number, type: 'map' | 'seq'): number {
  let i = line + 1;
  for (; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.indent < 0) continue;
    if (l.indent > col) continue;
    if (l.indent === col && (type === 'map' || /^-(\s|$)/.test(l.text.slice(col)))) continue;
    break;
  }
  return i;
}

/** The node whose content starts at `line`:`col`, or undefined for flow style and block scalars. */
function nodeAt(lines: readonly Line[], line: number, col: number): YamlNode | undefined {
  const rest = lines[line]!.text.slice(col);
  if (/^-(\s|$)/.test(rest)) return { type: 'seq', line, col, endLine: blockEnd(lines, line, col, 'seq') };
  if (KEY.test(rest)) return { type: 'map', line, col, endLine: blockEnd(lines, line, col, 'map') };
  return inlineScalar(lines[line]!, col);
}

function inlineScalar(line: Line, col: number): YamlNode | undefined {
  const rest = line.text.slice(col);
  if (/^[[{|>&*!]/.test(rest)) return undefined;
  const quoted = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*')/.exec(rest);
  const value = quoted ? quoted[0] : rest.replace(/\s+#.*$/, '').trimEnd();
  if (value === '') return undefined;
  return { type: 'scalar', offset: line.start + col, end: line.start + col + value.length, text: value };
}

/** The value of a key whose line is `line`, the text after the colon starting at `after`. */
function valueAfter(lines: readonly Line[], line: number, after: number, parentCol: number): YamlNode | undefined {
  const inline = lines[line]!.text.slice(after);
  if (inline.trim() !== '' && !inline.trim().startsWith('#')) return inlineScalar(lines[line]!, after + (inline.length - inline.trimStart().length));
  let next = line + 1;
  while (next < lines.length && lines[next]!.indent < 0) next++;
  const l = lines[next];
  if (!l) return undefined;
  if (l.indent > parentCol || (l.indent === parentCol && /^-(\s|$)/.test(l.text.slice(l.indent)))) return nodeAt(lines, next, l.indent);
  return undefined;
}

function mapEntries(lines: readonly Line[], node: { line: number; col: number; endLine: number }): { key: string; line: number; after: number }[] {
  const out: { key: string; line: number; after: number }[] = [];
  for (let i = node.line; i < node.endLine; i++) {
    const l = lines[i]!;
    const col = i === node.line ? node.col : l.indent;
    if (col !== node.col) continue;
    const m = KEY.exec(l.text.slice(col));
    if (m) out.push({ key: unquoteKey(m[1]!), line: i, after: col + m[0].length });
  }
  return out;
}

function seqItems(lines: readonly Line[], node: { line: number; col: number; endLine: number }): { line: number; col: number }[] {
  const out: { line: number; col: number }[] = [];
  for (let i = node.line; i < node.endLine; i++) {
    const l = lines[i]!;
    if ((i === node.line ? node.col : l.indent) !== node.col) continue;
    const m = /^-( +|$)/.exec(l.text.slice(node.col));
    if (m) out.push({ line: i, col: node.col + m[0].length });
  }
  return out;
}

function yamlLocate(lines: readonly Line[], segments: readonly string[]): YamlNode | undefined {
  let first = 0;
  while (first < lines.length && (lines[first]!.indent < 0 || lines[first]!.text.startsWith('---'))) first++;
  if (first >= lines.length) return undefined;
  let node = nodeAt(lines, first, lines[first]!.indent);
  for (const seg of segments) {
    if (node?.type === 'map') {
      const entry = mapEntries(lines, node).find((e) => e.key === seg);
      node = entry && valueAfter(lines, entry.line, entry.after, node.col);
    } else if (node?.type === 'seq' && /^\d+$/.test(seg)) {
      const item = seqItems(lines, node)[Number(seg)];
      if (!item) return undefined;
      if (lines[item.line]!.text.length > item.col) node = nodeAt(lines, item.line, item.col);
      else node = valueAfter(lines, item.line, item.col, node.col);
    } else return undefined;
  }
  return node;
}

const PLAIN = /^[A-Za-z_/][\w ./+-]*$|^https?:\/\/[\w.\-~/%?&=+]*$/;
const AMBIGUOUS = /^(true|false|yes|no|on|off|null|~|y|n)$/i;

function yamlScalar(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const s = String(v);
  return PLAIN.test(s) && !AMBIGUOUS.test(s) && !s.endsWith(' ') ? s : JSON.stringify(s);
}

function yamlKey(k: string): string {
  return PLAIN.test(k) && !AMBIGUOUS.test(k) ? k : `'${k.replace(/'/g, "''")}'`;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Block YAML lines for `key: value` at `indent` spaces. */
function yamlPair(key: string, value: unknown, indent: number): string[] {
  const pad = ' '.repeat(indent);
  if (isRecord(value) && Object.keys(value).length > 0) return [`${pad}${yamlKey(key)}:`, ...yamlMap(value, indent + 2)];
  if (Array.isArray(value) && value.length > 0) return [`${pad}${yamlKey(key)}:`, ...yamlSeq(value, indent + 2)];
  return [`${pad}${yamlKey(key)}: ${isRecord(value) ? '{}' : Array.isArray(value) ? '[]' : yamlScalar(value)}`];
}

function yamlMap(value: Record<string, unknown>, indent: number): string[] {
  return Object.entries(value).flatMap(([k, v]) => yamlPair(k, v, indent));
}

function yamlSeq(items: readonly unknown[], indent: number): string[] {
  const pad = ' '.repeat(indent);
  return items.flatMap((item) => {
    if (isRecord(item) && Object.keys(item).length > 0) {
      const lines = yamlMap(item, indent + 2);
      return [`${pad}- ${lines[0]!.trimStart()}`, ...lines.slice(1)];
    }
    if (Array.isArray(item)) return [`${pad}- ${JSON.stringify(item)}`];
    return [`${pad}- ${isRecord(item) ? '{}' : yamlScalar(item)}`];
  });
}

function yamlEdit(text: string, segments: readonly string[], fix: FixDescriptor, eol: string): TextEdit | undefined {
  const lines = splitLines(text);
  const node = yamlLocate(lines, segments);
  if (!node) return undefined;
  if (fix.kind === 'replaceValue') {
    if (node.type !== 'scalar' || isRecord(fix.value) || Array.isArray(fix.value)) return undefined;
    const quotedBefore = /^["']/.test(node.text);
    const newText = quotedBefore && typeof fix.value === 'string' ? JSON.stringify(fix.value) : yamlScalar(fix.value);
    return { offset: node.offset, length: node.end - node.offset, newText };
  }
  if (node.type !== 'map' || mapEntries(lines, node).some((e) => e.key === fix.key)) return undefined;
  let last = node.endLine - 1;
  while (last > node.line && lines[last]!.indent < 0) last--;
  const at = lines[last]!.start + lines[last]!.text.length;
  return { offset: at, length: 0, newText: eol + yamlPair(fix.key, fix.value, node.col).join(eol) };
}
