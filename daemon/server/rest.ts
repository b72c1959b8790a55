import type { AnyRequestType, ParamsOf } from '../protocol';

export type HttpVerb = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** Query-string access with the conversions RPC params need; anything unparsable is passed on as is
 * so the method's params schema reports it. */
export class QueryReader {
  constructor(readonly params: URLSearchParams) {}

  str(name: string): string | undefined {
    return this.params.get(name) ?? undefined;
  }

  /** `?type=a&type=b` or `?type=a,b`. */
  list(name: string): string[] | undefined {
    const all = this.params.getAll(name).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
    return all.length === 0 ? undefined : all;
  }

  /** A number, or the raw text when it is not one (the schema then names the problem). */
  num(name: string): number | string | undefined {
    const v = this.params.get(name);
    if (v === null || v.trim() === '') return undefined;
    const n = Number(v);
    return Number.isFinite(n) ? n : v;
  }

  bool(name: string): boolean | string | undefined {
    const v = this.params.get(name);
    if (v === null) return undefined;
    return v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v;
  }
}

export interface RestInput {
  query: QueryReader;
  /** Values of `{name}` segments of the route pattern, URI-decoded. */
  path: Record<string, string>;
  /** Parsed JSON body (POST/PUT), undefined for GET. */
  body: unknown;
}

export interface RestRoute {
  readonly verb: HttpVerb;
  readonly pattern: string;
  readonly type: AnyRequestType;
  /** HTTP status of a success (200, or 201 for creating routes). */
  readonly status: number;
  toParams(input: RestInput): unknown;
}

/** Turns a route's HTTP input into the params of the RPC method it mirrors. */
export type ParamsMapper<T extends AnyRequestType> = (input: RestInput) => ParamsOf<T> | Record<string, unknown>;

interface Compiled {
  route: RestRoute;
  regex: RegExp;
  keys: string[];
}

const defaultMapper = (input: RestInput): unknown => {
  const fromBody = typeof input.body === 'object' && input.body !== null && !Array.isArray(input.body) ? input.body : {};
  const fromQuery = input.body === undefined ? Object.fromEntries(input.query.params) : {};
  return { ...fromQuery, ...fromBody, ...input.path };
};

/**
 * REST routes that map onto RPC methods, so bodies are the methods' params and results and every
 * route shares validation, scopes, metrics and errors with the WebSocket API. Adding a route is one line:
 * `rest.get('/api/slo/burn-rate/{slo_id}', GetBurnRate, ({ path }) => ({ id: path.slo_id }))`.
 */
export class RestRoutes {
  private readonly compiled: Compiled[] = [];

  /** GET: params from the query string (default: every query parameter as a string) and the path. */
  get<T extends AnyRequestType>(pattern: string, type: T, toParams?: ParamsMapper<T>): this {
    return this.add({ verb: 'GET', pattern, type, status: 200, toParams: toParams ?? defaultMapper });
  }

  /** POST: params from the JSON body (default) merged with path values; `status` 201 for creating routes. */
  post<T extends AnyRequestType>(pattern: string, type: T, options: { status?: number; toParams?: ParamsMapper<T> } = {}): this {
    return this.add({ verb: 'POST', pattern, type, status: options.status ?? 200, toParams: options.toParams ?? defaultMapper });
  }

  put<T extends AnyRequestType>(pattern: string, type: T, toParams?: ParamsMapper<T>): this {
    return this.add({ verb: 'PUT', pattern, type, status: 200, toParams: toParams ?? defaultMapper });
  }

  delete<T extends AnyRequestType>(pattern: string, type: T, toParams?: ParamsMapper<T>): this {
    return this.add({ verb: 'DELETE', pattern, type, status: 200, toParams: toParams ?? defaultMapper });
  }

  /** The route for a request; `allowed` lists the verbs of a path that exists under other verbs. */
  match(verb: string, pathname: string): { route: RestRoute; path: Record<string, string> } | { allowed: HttpVerb[] } | undefined {
    const allowed: HttpVerb[] = [];
    for (const c of this.compiled) {
      const m = c.regex.exec(pathname);
      if (!m) continue;
      if (c.route.verb !== verb) {
        allowed.push(c.route.verb);
        continue;
      }
      const path: Record<string, string> = {};
      c.keys.forEach((k, i) => {
        path[k] = decodeURIComponent(m[i + 1]);
      });
      return { route: c.route, path };
    }
    return allowed.length > 0 ? { allowed } : undefined;
  }

  list(): RestRoute[] {
    return this.compiled.map((c) => c.route);
  }

  private add(route: RestRoute): this {
    if (!route.pattern.startsWith('/api/')) throw new Error(`REST routes live under /api/: ${route.pattern}`);
    if (this.compiled.some((c) => c.route.verb === route.verb && c.route.pattern === route.pattern)) {
      throw new Error(`REST route ${route.verb} ${route.pattern} registered twice`);
    }
    const keys: string[] = [];
    const source = route.pattern
      .split('/')
      .map((seg) => {
        const m = /^\{([A-Za-z_][\w]*)\}$/.exec(seg);
        if (m) {
          keys.push(m[1]);
          return '([^/]+)';
        }
        return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    this.compiled.push({ route, regex: new RegExp(`^${source}/?$`), keys });
    return this;
  }
}
