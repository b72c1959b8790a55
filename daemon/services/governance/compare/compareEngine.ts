import type { ChangeLocation, ChangeSeverity, ContractChange } from '../../../protocol';
import { toPointer } from '../audit/sourceDocuments';
import { buildModel, type Operation, type Payload, type SecurityRequirement, type SpecModel } from './operations';
import { COMPARE_RULES, type CompareRuleId } from './rules';
import type { SpecDocuments, SpecNode } from './specDocuments';

/** What decides whether removing an operation is allowed: what the base document says about it. */
export interface RemovedOperation {
  method: string;
  path: string;
  deprecated: boolean;
  /** The operation's `x-sunset` as written. */
  sunset: string | undefined;
  /** Base paths the base document serves the operation under (server URL paths, Swagger basePath). */
  basePaths: string[];
}

export type RemovalDecision = { allowed: true; by: string; message: string } | { allowed: false; note?: string };

/** Whether an operation may be removed without it counting as breaking (its sunset date passed). */
export type RemovalPolicy = (op: RemovedOperation) => RemovalDecision;

const SEVERITY_ORDER: Record<ChangeSeverity, number> = { breaking: 0, warning: 1, info: 2 };

/** Recursion limit inside one schema (deeper nesting is not compared). */
const MAX_SCHEMA_DEPTH = 32;

type Direction = 'request' | 'response';

interface SchemaScope {
  dir: Direction;
  op: Operation;
  /** What the schema is, for messages: `query parameter "limit"`, `response 200 (application/json) body`. */
  label: string;
  /** Rule for an incompatible type change at this level. */
  typeRule: CompareRuleId;
  visited: Set<string>;
  depth: number;
}

interface FlatSchema {
  node: SpecNode;
  types: string[] | undefined;
  enumValues: unknown[] | undefined;
  properties: Map<string, SpecNode>;
  required: Set<string>;
  items: SpecNode | undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const upper = (op: { method: string; path: string }) => `${op.method.toUpperCase()} ${op.path}`;

/**
 * Classify the changes from `base` (the old contract) to `head` (the new one). Pure: reads the two
 * document sets, asks `removal` about removed operations, returns the changes most severe first.
 */
export function compareSpecs(base: SpecDocuments, head: SpecDocuments, removal: RemovalPolicy = () => ({ allowed: false })): ContractChange[] {
  return new Comparison(buildModel(base), buildModel(head), removal).run();
}

class Comparison {
  private readonly changes: ContractChange[] = [];

  constructor(
    private readonly base: SpecModel,
    private readonly head: SpecModel,
    private readonly removal: RemovalPolicy,
  ) {}

  run(): ContractChange[] {
    for (const [key, b] of this.base.operations) {
      const h = this.head.operations.get(key);
      if (h) this.compareOperation(b, h);
      else this.removed(b);
    }
    for (const [key, h] of this.head.operations) {
      if (this.base.operations.has(key)) continue;
      const newPath = !this.base.paths.has(h.normalizedPath);
      this.emit(newPath ? 'path-added' : 'operation-added', `${upper(h)} was added${newPath ? ' (new path)' : ''}.`, h, this.headLoc(h.node), undefined);
    }
    return this.changes.sort(
      (x, y) =>
        SEVERITY_ORDER[x.severity] - SEVERITY_ORDER[y.severity] ||
        (x.path ?? '').localeCompare(y.path ?? '') ||
        (x.method ?? '').localeCompare(y.method ?? '') ||
        x.rule.localeCompare(y.rule),
    );
  }

  private removed(b: Operation): void {
    const pathGone = !this.head.paths.has(b.normalizedPath);
    const headPathItem = pathGone ? undefined : [...this.head.operations.values()].find((o) => o.normalizedPath === b.normalizedPath)?.pathItem;
    const where = headPathItem ? this.headLoc(headPathItem) : this.head.pathsNode ? this.headLoc(this.head.pathsNode) : this.headLoc(this.head.docs.top);
    const decision = this.removal({ method: b.method, path: b.path, deprecated: b.deprecated, sunset: b.sunset, basePaths: this.base.basePaths });
    if (decision.allowed) {
      this.emit('deprecated-operation-removed', `${upper(b)} was removed; allowed: ${decision.message}.`, b, where, this.baseLoc(b.node), decision.by);
      return;
    }
    const what = pathGone ? `${upper(b)} was removed (the path ${b.path} is gone)` : `${upper(b)} was removed`;
    this.emit(pathGone ? 'path-removed' : 'operation-removed', `${what}.${decision.note ? ` ${decision.note}` : ''}`, b, where, this.baseLoc(b.node));
  }

  private compareOperation(b: Operation, h: Operation): void {
    if (!b.deprecated && h.deprecated) this.emit('operation-deprecated', `${upper(h)} is now deprecated.`, h, this.headLoc(this.head.docs.child(h.node, 'deprecated') ?? h.node), this.baseLoc(b.node));
    if (b.deprecated && !h.deprecated) this.emit('operation-undeprecated', `${upper(h)} is no longer deprecated.`, h, this.headLoc(h.node), this.baseLoc(b.node));
    if (b.operationId !== undefined && h.operationId !== undefined && b.operationId !== h.operationId) {
      this.emit('operation-id-changed', `${upper(h)}: operationId changed from "${b.operationId}" to "${h.operationId}".`, h, this.headLoc(this.head.docs.child(h.node, 'operationId') ?? h.node), this.baseLoc(b.node));
    }
    this.compareParameters(b, h);
    this.compareRequestBody(b, h);
    this.compareResponses(b, h);
    this.compareSecurity(b, h);
  }

  private compareParameters(b: Operation, h: Operation): void {
    for (const [key, bp] of b.parameters) {
      const hp = h.parameters.get(key);
      const label = `${bp.in} parameter "${bp.name}"`;
      if (!hp) {
        this.emit('parameter-removed', `${upper(h)}: ${label} was removed; clients that send it may be refused or ignored.`, h, this.headLoc(h.node), this.baseLoc(bp.node));
        continue;
      }
      if (!bp.required && hp.required) this.emit('parameter-became-required', `${upper(h)}: ${label} is now required.`, h, this.headLoc(hp.node), this.baseLoc(bp.node));
      if (bp.required && !hp.required) this.emit('parameter-became-optional', `${upper(h)}: ${label} is now optional.`, h, this.headLoc(hp.node), this.baseLoc(bp.node));
      this.compareSchema(bp.schema, hp.schema, { dir: 'request', op: h, label, typeRule: 'parameter-type-changed', visited: new Set(), depth: 0 });
    }
    for (const [key, hp] of h.parameters) {
      if (b.parameters.has(key)) continue;
      const label = `${hp.in} parameter "${hp.name}"`;
      if (hp.required) this.emit('required-parameter-added', `${upper(h)}: required ${label} was added; existing clients do not send it.`, h, this.headLoc(hp.node), undefined);
      else this.emit('optional-parameter-added', `${upper(h)}: optional ${label} was added.`, h, this.headLoc(hp.node), undefined);
    }
  }

  private compareRequestBody(b: Operation, h: Operation): void {
    const bb = b.requestBody;
    const hb = h.requestBody;
    if (!bb && !hb) return;
    if (!bb && hb) {
      if (hb.required) this.emit('request-body-required-added', `${upper(h)}: a required request body was added.`, h, this.headLoc(hb.node), undefined);
      else this.emit('request-body-added', `${upper(h)}: an optional request body was added.`, h, this.headLoc(hb.node), undefined);
      return;
    }
    if (bb && !hb) {
      this.emit('request-body-removed', `${upper(h)}: the request body was removed.`, h, this.headLoc(h.node), this.baseLoc(bb.node));
      return;
    }
    if (!bb || !hb) return;
    if (!bb.required && hb.required) this.emit('request-body-became-required', `${upper(h)}: the request body is now required.`, h, this.headLoc(hb.node), this.baseLoc(bb.node));
    this.comparePayload(bb, hb, h, 'request', 'request body');
  }

  private compareResponses(b: Operation, h: Operation): void {
    for (const [code, br] of b.responses) {
      const hr = h.responses.get(code);
      if (!hr) {
        const success = /^2/.test(code);
        this.emit(
          success ? 'success-response-removed' : 'response-removed',
          `${upper(h)}: the ${code} response was removed${success ? '; clients expecting it will fail' : ''}.`,
          h,
          this.headLoc(this.head.docs.child(h.node, 'responses') ?? h.node),
          this.baseLoc(br.node),
        );
        continue;
      }
      this.comparePayload(br, hr, h, 'response', `response ${code}`);
    }
    for (const [code, hr] of h.responses) {
      if (!b.responses.has(code)) this.emit('response-added', `${upper(h)}: a ${code} response was added.`, h, this.headLoc(hr.node), undefined);
    }
  }

  private comparePayload(bp: Payload, hp: Payload, op: Operation, dir: Direction, label: string): void {
    for (const [mt, bs] of bp.content) {
      if (!hp.content.has(mt)) {
        this.emit(
          dir === 'request' ? 'request-media-type-removed' : 'response-media-type-removed',
          `${upper(op)}: ${label} no longer ${dir === 'request' ? 'accepts' : 'offers'} ${mt}.`,
          op,
          this.headLoc(hp.node),
          this.baseLoc(bp.node),
        );
        continue;
      }
      this.compareSchema(bs, hp.content.get(mt), {
        dir,
        op,
        label: `${label} (${mt})`,
        typeRule: dir === 'request' ? 'request-property-type-changed' : 'response-property-type-changed',
        visited: new Set(),
        depth: 0,
      });
    }
    for (const mt of hp.content.keys()) {
      if (!bp.content.has(mt)) {
        this.emit(dir === 'request' ? 'request-media-type-added' : 'response-media-type-added', `${upper(op)}: ${label} now ${dir === 'request' ? 'accepts' : 'offers'} ${mt}.`, op, this.headLoc(hp.node), undefined);
      }
    }
  }

  private compareSchema(bNode: SpecNode | undefined, hNode: SpecNode | undefined, scope: SchemaScope): void {
    if (!bNode || !hNode || scope.depth > MAX_SCHEMA_DEPTH) return;
    const bs = flatten(this.base.docs, bNode);
    const hs = flatten(this.head.docs, hNode);
    // A recursive schema (a tree node with children of its own type) is compared once per pair.
    const pair = `${bs.node.file}#${toPointer(bs.node.path)}|${hs.node.file}#${toPointer(hs.node.path)}`;
    if (scope.visited.has(pair)) return;
    scope.visited.add(pair);
    const { op, dir, label } = scope;
    const at = this.headLoc(hs.node);
    const was = this.baseLoc(bs.node);

    if (bs.types && hs.types && !sameSet(bs.types, hs.types)) {
      // A request schema must still accept what clients send; a response schema may only send what clients expect.
      const compatible = dir === 'request' ? bs.types.every((t) => accepts(hs.types!, t)) : hs.types.every((t) => accepts(bs.types!, t));
      const change = `type changed from ${bs.types.join('|')} to ${hs.types.join('|')}`;
      if (!compatible) {
        this.emit(scope.typeRule, `${upper(op)}: ${label}: ${change}.`, op, at, was);
        return;
      }
      this.emit('type-generalized', `${upper(op)}: ${label}: ${change} (compatible).`, op, at, was);
    }

    this.compareEnums(bs, hs, scope, at, was);

    const skip = (s: SpecNode | undefined, docs: SpecDocuments) => {
      const v = docs.valueOf(s);
      return isObject(v) && (dir === 'request' ? v.readOnly === true : v.writeOnly === true);
    };
    for (const [name, bp] of bs.properties) {
      const hp = hs.properties.get(name);
      const prop = `${label} property "${name}"`;
      if (skip(bp, this.base.docs) || (hp && skip(hp, this.head.docs))) continue;
      if (!hp) {
        if (dir === 'request') this.emit('request-property-removed', `${upper(op)}: ${prop} was removed; clients still send it.`, op, at, this.baseLoc(bp));
        else this.emit('response-property-removed', `${upper(op)}: ${prop} was removed; clients reading it will find nothing.`, op, at, this.baseLoc(bp));
        continue;
      }
      const wasRequired = bs.required.has(name);
      const isRequired = hs.required.has(name);
      if (dir === 'request' && !wasRequired && isRequired) this.emit('request-property-became-required', `${upper(op)}: ${prop} is now required.`, op, this.headLoc(hp), this.baseLoc(bp));
      if (dir === 'request' && wasRequired && !isRequired) this.emit('request-property-became-optional', `${upper(op)}: ${prop} is now optional.`, op, this.headLoc(hp), this.baseLoc(bp));
      if (dir === 'response' && wasRequired && !isRequired) this.emit('response-property-became-optional', `${upper(op)}: ${prop} is no longer always present.`, op, this.headLoc(hp), this.baseLoc(bp));
      this.compareSchema(bp, hp, {
        ...scope,
        label: prop,
        typeRule: dir === 'request' ? 'request-property-type-changed' : 'response-property-type-changed',
        depth: scope.depth + 1,
      });
    }
    for (const [name, hp] of hs.properties) {
      if (bs.properties.has(name) || skip(hp, this.head.docs)) continue;
      const prop = `${label} property "${name}"`;
      if (dir === 'response') this.emit('response-property-added', `${upper(op)}: ${prop} was added.`, op, this.headLoc(hp), undefined);
      else if (hs.required.has(name)) this.emit('request-required-property-added', `${upper(op)}: required ${prop} was added; existing clients do not send it.`, op, this.headLoc(hp), undefined);
      else this.emit('request-optional-property-added', `${upper(op)}: optional ${prop} was added.`, op, this.headLoc(hp), undefined);
    }
    if (bs.items && hs.items) {
      this.compareSchema(bs.items, hs.items, {
        ...scope,
        label: `${label} items`,
        typeRule: dir === 'request' ? 'request-property-type-changed' : 'response-property-type-changed',
        depth: scope.depth + 1,
      });
    }
  }

  private compareEnums(bs: FlatSchema, hs: FlatSchema, scope: SchemaScope, at: ChangeLocation | undefined, was: ChangeLocation | undefined): void {
    const { op, dir, label } = scope;
    const show = (vs: unknown[]) => vs.map((v) => JSON.stringify(v)).join(', ');
    if (bs.enumValues && hs.enumValues) {
      const headSet = new Set(hs.enumValues.map((v) => JSON.stringify(v)));
      const baseSet = new Set(bs.enumValues.map((v) => JSON.stringify(v)));
      const removed = bs.enumValues.filter((v) => !headSet.has(JSON.stringify(v)));
      const added = hs.enumValues.filter((v) => !baseSet.has(JSON.stringify(v)));
      if (removed.length > 0) {
        if (dir === 'request') this.emit('request-enum-value-removed', `${upper(op)}: ${label} no longer accepts ${show(removed)}.`, op, at, was);
        else this.emit('response-enum-value-removed', `${upper(op)}: ${label} no longer returns ${show(removed)}.`, op, at, was);
      }
      if (added.length > 0) {
        if (dir === 'request') this.emit('request-enum-value-added', `${upper(op)}: ${label} now also accepts ${show(added)}.`, op, at, was);
        else this.emit('response-enum-value-added', `${upper(op)}: ${label} may now return ${show(added)}; clients with an exhaustive switch may fail.`, op, at, was);
      }
    } else if (!bs.enumValues && hs.enumValues && dir === 'request') {
      this.emit('request-enum-value-removed', `${upper(op)}: ${label} is now restricted to ${show(hs.enumValues)}.`, op, at, was);
    } else if (bs.enumValues && !hs.enumValues && dir === 'response') {
      this.emit('response-enum-value-added', `${upper(op)}: ${label} is no longer restricted to ${show(bs.enumValues)}.`, op, at, was);
    }
  }

  private compareSecurity(b: Operation, h: Operation): void {
    // Each base alternative a client may satisfy must still be enough: some head alternative must ask for no scheme or scope beyond it.
    const covered = (have: SecurityRequirement, need: SecurityRequirement) =>
      [...need].every(([scheme, scopes]) => have.has(scheme) && scopes.every((s) => have.get(scheme)!.includes(s)));
    const baseAlts = b.security.length === 0 ? [new Map() as SecurityRequirement] : b.security;
    const headAlts = h.security.length === 0 ? [new Map() as SecurityRequirement] : h.security;
    const at = this.headLoc(this.head.docs.child(h.node, 'security') ?? h.node);
    const was = this.baseLoc(this.base.docs.child(b.node, 'security') ?? b.node);
    const describe = (alts: SecurityRequirement[]) =>
      alts.map((r) => (r.size === 0 ? 'none' : [...r].map(([s, scopes]) => (scopes.length > 0 ? `${s}(${scopes.join(' ')})` : s)).join(' + '))).join(' or ');
    const broken = baseAlts.filter((have) => !headAlts.some((need) => covered(have, need)));
    if (broken.length > 0) {
      this.emit('security-requirement-added', `${upper(h)}: security changed from ${describe(baseAlts)} to ${describe(headAlts)}; clients authenticated with ${describe(broken)} are no longer enough.`, h, at, was);
      return;
    }
    const relaxed = headAlts.some((have) => !baseAlts.some((need) => covered(have, need)));
    if (relaxed) this.emit('security-requirement-removed', `${upper(h)}: security relaxed from ${describe(baseAlts)} to ${describe(headAlts)}.`, h, at, was);
  }

  private emit(rule: CompareRuleId, message: string, op: Operation | undefined, location: ChangeLocation | undefined, baseLocation: ChangeLocation | undefined, allowedBy?: string): void {
    this.changes.push({
      rule,
      severity: COMPARE_RULES[rule].severity,
      message,
      ...(op ? { path: op.path, method: op.method } : {}),
      ...(location ? { location } : {}),
      ...(baseLocation ? { baseLocation } : {}),
      ...(allowedBy ? { allowedBy } : {}),
    });
  }

  private headLoc(node: SpecNode): ChangeLocation {
    return locate(this.head.docs, node);
  }

  private baseLoc(node: SpecNode): ChangeLocation {
    return locate(this.base.docs, node);
  }
}

function locate(docs: SpecDocuments, node: SpecNode): ChangeLocation {
  const range = docs.rangeOf(node);
  return { file: node.file, pointer: toPointer(node.path), ...(range ? { range } : {}) };
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** Whether a value of JSON type `t` is valid for `types` (an integer is a number). */
function accepts(types: string[], t: string): boolean {
  return types.includes(t) || (t === 'integer' && types.includes('number'));
}

function typesOf(v: Record<string, unknown>): string[] | undefined {
  const t = v.type;
  const list = typeof t === 'string' ? [t] : Array.isArray(t) ? t.filter((x): x is string => typeof x === 'string') : undefined;
  if (!list) return undefined;
  if (v.nullable === true || v['x-nullable'] === true) list.push('null');
  return [...new Set(list)].sort();
}

/** A schema with `allOf` members merged in: their properties, required names, type and enum. */
function flatten(docs: SpecDocuments, node: SpecNode, seen = new Set<string>()): FlatSchema {
  const at = docs.deref(node);
  const out: FlatSchema = { node: at, types: undefined, enumValues: undefined, properties: new Map(), required: new Set(), items: undefined };
  const key = `${at.file}#${toPointer(at.path)}`;
  if (seen.has(key)) return out;
  seen.add(key);
  const v = at.value;
  if (!isObject(v)) return out;
  out.types = typesOf(v);
  if (Array.isArray(v.enum)) out.enumValues = v.enum;
  const props = docs.child(at, 'properties');
  for (const name of docs.keys(props)) out.properties.set(name, docs.child(props, name)!);
  if (Array.isArray(v.required)) for (const r of v.required) if (typeof r === 'string') out.required.add(r);
  out.items = docs.child(at, 'items');
  for (const member of docs.items(docs.child(at, 'allOf'))) {
    const m = flatten(docs, member, seen);
    out.types ??= m.types;
    out.enumValues ??= m.enumValues;
    out.items ??= m.items;
    for (const [name, p] of m.properties) if (!out.properties.has(name)) out.properties.set(name, p);
    for (const r of m.required) out.required.add(r);
  }
  return out;
}
