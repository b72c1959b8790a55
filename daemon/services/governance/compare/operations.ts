import type { SpecDocuments, SpecNode } from './specDocuments';

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export interface Parameter {
  /** Match key across versions: `path#<position in the template>` for path parameters (renaming one is not a change), `<in>:<name>` otherwise. */
  key: string;
  name: string;
  in: string;
  required: boolean;
  node: SpecNode;
  /** The parameter's schema; a Swagger 2.0 non-body parameter is its own schema. */
  schema: SpecNode | undefined;
}

export interface Payload {
  node: SpecNode;
  /** Media type → schema node (undefined when the media type has no schema). */
  content: Map<string, SpecNode | undefined>;
}

export interface RequestBody extends Payload {
  required: boolean;
}

/** Scheme name → scopes; one requirement object (all of its schemes apply together). */
export type SecurityRequirement = Map<string, string[]>;

export interface Operation {
  /** `get /pets/{}`: method and path with template names blanked, so renaming `{id}` to `{petId}` matches. */
  key: string;
  method: string;
  /** The path template as written. */
  path: string;
  normalizedPath: string;
  pathItem: SpecNode;
  node: SpecNode;
  deprecated: boolean;
  /** `x-sunset` of the operation (or its path item): when the operation stops answering. */
  sunset: string | undefined;
  operationId: string | undefined;
  parameters: Map<string, Parameter>;
  requestBody: RequestBody | undefined;
  /** Status code (or `default`, `2XX`) → response. */
  responses: Map<string, Payload>;
  /** Alternatives: a client must satisfy one requirement object. Empty: no security. */
  security: SecurityRequirement[];
}

export interface SpecModel {
  docs: SpecDocuments;
  operations: Map<string, Operation>;
  /** Normalised paths present. */
  paths: Set<string>;
  pathsNode: SpecNode | undefined;
  /** Path prefixes the operations are served under: Swagger `basePath`, the path part of each OpenAPI server URL. */
  basePaths: string[];
}

export function normalizePath(path: string): string {
  const blanked = path.replace(/\{[^}/]+\}/g, '{}');
  return blanked.length > 1 ? blanked.replace(/\/+$/, '') : blanked;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The operations of a document with their parameters, bodies, responses and security, `$ref`s followed. */
export function buildModel(docs: SpecDocuments): SpecModel {
  const top = docs.top;
  const swagger = docs.format === 'swagger-2.0';
  const pathsNode = docs.child(top, 'paths');
  const operations = new Map<string, Operation>();
  const paths = new Set<string>();
  const topSecurity = docs.child(top, 'security');
  const topConsumes = stringList(docs.valueOf(docs.child(top, 'consumes')));
  const topProduces = stringList(docs.valueOf(docs.child(top, 'produces')));
  for (const path of docs.keys(pathsNode)) {
    if (path.startsWith('x-')) continue;
    const pathItem = docs.child(pathsNode, path)!;
    const normalizedPath = normalizePath(path);
    paths.add(normalizedPath);
    const templateNames = [...path.matchAll(/\{([^}/]+)\}/g)].map((m) => m[1]!);
    const pathLevelParams = docs.items(docs.child(pathItem, 'parameters'));
    const pathItemValue = docs.valueOf(pathItem);
    for (const method of HTTP_METHODS) {
      const opRef = docs.child(pathItem, method);
      if (!opRef) continue;
      const node = docs.deref(opRef);
      const op = docs.valueOf(node);
      if (!isObject(op)) continue;
      const consumes = stringList(op.consumes) ?? topConsumes ?? ['application/json'];
      const produces = stringList(op.produces) ?? topProduces ?? ['application/json'];
      const parameters = new Map<string, Parameter>();
      let requestBody: RequestBody | undefined;
      for (const raw of [...pathLevelParams, ...docs.items(docs.child(node, 'parameters'))]) {
        const p = docs.deref(raw);
        const v = p.value;
        if (!isObject(v) || typeof v.name !== 'string' || typeof v.in !== 'string') continue;
        if (swagger && v.in === 'body') {
          const schema = docs.child(p, 'schema');
          requestBody = { node: p, required: v.required === true, content: new Map(consumes.map((mt) => [mt, schema])) };
          continue;
        }
        const position = v.in === 'path' ? templateNames.indexOf(v.name) : -1;
        const key = position >= 0 ? `path#${position}` : `${v.in}:${v.in === 'header' ? v.name.toLowerCase() : v.name}`;
        parameters.set(key, { key, name: v.name, in: v.in, required: v.in === 'path' || v.required === true, node: p, schema: parameterSchema(docs, p, swagger) });
      }
      if (!swagger) {
        const body = docs.child(node, 'requestBody');
        if (body) {
          const b = docs.deref(body);
          requestBody = { node: b, required: (docs.valueOf(b) as { required?: unknown }).required === true, content: contentOf(docs, b) };
        }
      }
      const responses = new Map<string, Payload>();
      const responsesNode = docs.child(node, 'responses');
      for (const code of docs.keys(responsesNode)) {
        if (code.startsWith('x-')) continue;
        const r = docs.deref(docs.child(responsesNode, code)!);
        if (swagger) {
          const schema = docs.child(r, 'schema');
          responses.set(code, { node: r, content: schema ? new Map(produces.map((mt) => [mt, schema])) : new Map() });
        } else {
          responses.set(code, { node: r, content: contentOf(docs, r) });
        }
      }
      const securityNode = docs.child(node, 'security') ?? topSecurity;
      const key = `${method} ${normalizedPath}`;
      operations.set(key, {
        key,
        method,
        path,
        normalizedPath,
        pathItem,
        node,
        deprecated: op.deprecated === true,
        sunset: typeof op['x-sunset'] === 'string' ? op['x-sunset'] : isObject(pathItemValue) && typeof pathItemValue['x-sunset'] === 'string' ? pathItemValue['x-sunset'] : undefined,
        operationId: typeof op.operationId === 'string' ? op.operationId : undefined,
        parameters,
        requestBody,
        responses,
        security: securityOf(docs, securityNode),
      });
    }
  }
  return { docs, operations, paths, pathsNode, basePaths: basePathsOf(docs, swagger) };
}

function stringList(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}

function contentOf(docs: SpecDocuments, owner: SpecNode): Map<string, SpecNode | undefined> {
  const content = docs.child(owner, 'content');
  return new Map(docs.keys(content).map((mt) => [mt, docs.child(docs.child(content, mt), 'schema')]));
}

function parameterSchema(docs: SpecDocuments, p: SpecNode, swagger: boolean): SpecNode | undefined {
  if (swagger) return p;
  const schema = docs.child(p, 'schema');
  if (schema) return schema;
  const content = docs.child(p, 'content');
  const first = docs.keys(content)[0];
  return first === undefined ? undefined : docs.child(docs.child(content, first), 'schema');
}

function securityOf(docs: SpecDocuments, node: SpecNode | undefined): SecurityRequirement[] {
  const out: SecurityRequirement[] = [];
  for (const item of docs.items(node)) {
    const req: SecurityRequirement = new Map();
    const v = docs.valueOf(item);
    if (!isObject(v)) continue;
    for (const [scheme, scopes] of Object.entries(v)) req.set(scheme, Array.isArray(scopes) ? scopes.filter((s): s is string => typeof s === 'string') : []);
    out.push(req);
  }
  return out;
}

function basePathsOf(docs: SpecDocuments, swagger: boolean): string[] {
  const top = docs.valueOf(docs.top) as Record<string, unknown>;
  if (swagger) return typeof top.basePath === 'string' ? [top.basePath] : [];
  const out: string[] = [];
  for (const server of docs.items(docs.child(docs.top, 'servers'))) {
    const url = (docs.valueOf(server) as { url?: unknown } | undefined)?.url;
    if (typeof url !== 'string') continue;
    try {
      out.push(new URL(url, 'http://relative.invalid').pathname);
    } catch {
      // A server URL with template variables in odd places: it names no version we can match.
    }
  }
  return out;
}
