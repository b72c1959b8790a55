import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SloRequestSample } from './sloRecorder';

/**
 * Request-recording middleware for Node `http` servers and Express-style `(req, res, next)` stacks
 * (no Express dependency). Each request becomes one SLO sample when its response ends:
 *
 * - duration: from the middleware call to the response's 'finish' (ms);
 * - status: `res.statusCode`;
 * - route: Express's matched route (`req.baseUrl` + `req.route.path`, e.g. `/api/orders/:id`) when
 *   there is one, else `routeOf(req)` when given and it returns a string, else the request path
 *   without its query and with id-like segments (numbers, UUIDs, long hex or token strings) replaced
 *   by `:id`, so `/orders/42?x=1` counts as `/orders/:id`;
 * - client: the `client` option's header (e.g. `x-client-id`) or function, when it gives a non-empty
 *   string; route usage (`slo/routeUsage`) counts requests per client;
 * - a response closed before it finished (the client gave up, the socket died, the handler never
 *   answered) is a timeout: `timedOut: true`, and status 503 when no status was sent yet. Availability
 *   SLOs count it bad, as the SLI definitions say for timeouts.
 */

/** The fields Express adds to a request; all optional, so a plain `IncomingMessage` fits. */
export interface RouteAwareRequest extends IncomingMessage {
  /** Express: the matched route; only a string path is used. */
  route?: { path?: unknown };
  /** Express: the mount path of the router that matched. */
  baseUrl?: string;
  /** Express: the URL before routers rewrote `url`. */
  originalUrl?: string;
}

export interface SloMiddlewareOptions {
  /** Service name of the samples. Default: the recorder's `service` option. */
  service?: string;
  /** Route template of a request that Express did not route (or in a plain http server). */
  routeOf?: (req: RouteAwareRequest) => string | undefined;
  /** Requests not to record (health checks, metrics scrapes). */
  ignore?: (req: RouteAwareRequest) => boolean;
  /**
   * The caller's client id: a request header name (e.g. `x-client-id`; its first value when
   * repeated) or a function of the request. Absent, empty or failing: the sample has no client.
   */
  client?: string | ((req: RouteAwareRequest) => string | undefined);
}

/** What the middleware needs of a recorder (an `SloRecorder`, or a fake in tests). */
export interface RequestRecorder {
  recordRequest(sample: SloRequestSample): void;
}

/** Status recorded for a request that ended without any response. */
export const ABANDONED_STATUS = 503;

export type SloMiddleware = (req: RouteAwareRequest, res: ServerResponse, next?: (err?: unknown) => void) => void;

/** A middleware that records every request it sees into `recorder`, then calls `next`. */
export function sloMiddleware(recorder: RequestRecorder, options: SloMiddlewareOptions = {}): SloMiddleware {
  return (req, res, next) => {
    if (!safeIgnore(options, req)) observe(recorder, options, req, res);
    next?.();
  };
}

function observe(recorder: RequestRecorder, options: SloMiddlewareOptions, req: RouteAwareRequest, res: ServerResponse): void {
  const started = performance.now();
  let done = false;
  const record = (finished: boolean): void => {
    if (done) return;
    done = true;
    res.off('finish', onFinish);
    res.off('close', onClose);
    try {
      const sample: SloRequestSample = {
        method: req.method ?? 'GET',
        route: routeTemplate(req, options.routeOf),
        status: finished || res.headersSent ? res.statusCode : ABANDONED_STATUS,
        durationMs: performance.now() - started,
      };
      if (options.service !== undefined) sample.service = options.service;
      const client = clientOf(req, options.client);
      if (client !== undefined) sample.client = client;
      if (!finished) sample.timedOut = true;
      recorder.recordRequest(sample);
    } catch {
      // Reading the request failed (a caller's getter): recording must never break serving.
    }
  };
  const onFinish = (): void => record(true);
  // Node emits 'close' after 'finish' too; only a close without a finished response is a timeout.
  const onClose = (): void => record(res.writableFinished);
  res.on('finish', onFinish);
  res.on('close', onClose);
}

/** The request's client id per the `client` option; undefined when there is none or reading it failed. */
export function clientOf(req: RouteAwareRequest, option: SloMiddlewareOptions['client']): string | undefined {
  if (option === undefined) return undefined;
  let value: unknown;
  try {
    if (typeof option === 'function') value = option(req);
    else {
      const header = req.headers[option.toLowerCase()];
      value = Array.isArray(header) ? header[0] : header;
    }
  } catch {
    // A caller's function failing loses the client id, not the sample.
    return undefined;
  }
  return typeof value === 'string' && value.trim().length > 0 ? value.trim() : undefined;
}

function safeIgnore(options: SloMiddlewareOptions, req: RouteAwareRequest): boolean {
  try {
    return options.ignore?.(req) === true;
  } catch {
    return false;
  }
}

/** The route a request counts under; see the module comment for the order of the rules. */
export function routeTemplate(req: RouteAwareRequest, routeOf?: (req: RouteAwareRequest) => string | undefined): string {
  const routePath = req.route?.path;
  if (typeof routePath === 'string') {
    const base = req.baseUrl ?? '';
    const joined = base && routePath === '/' ? base : `${base}${routePath}`;
    return joined || '/';
  }
  let custom: string | undefined;
  try {
    custom = routeOf?.(req);
  } catch {
    // A caller's routeOf failing falls back to the path rather than losing the sample.
    custom = undefined;
  }
  if (typeof custom === 'string' && custom.length > 0) return custom;
  return collapseIds(pathOf(req.originalUrl ?? req.url ?? '/'));
}

const ID_SEGMENT = [
  /^\d+$/,
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  /^[0-9a-f]{16,}$/i,
  // Long opaque tokens with a digit (ULIDs, base64 ids); plain long words stay.
  /^(?=[^/]*\d)[A-Za-z0-9_-]{20,}$/,
];

/** Replace id-like path segments with `:id`: `/orders/42/items/9f1c…` → `/orders/:id/items/:id`. */
export function collapseIds(path: string): string {
  return path
    .split('/')
    .map((seg) => (seg.length > 0 && ID_SEGMENT.some((re) => re.test(seg)) ? ':id' : seg))
    .join('/');
}

function pathOf(url: string): string {
  const q = url.search(/[?#]/);
  const path = q === -1 ? url : url.slice(0, q);
  return path.length === 0 ? '/' : path;
}
