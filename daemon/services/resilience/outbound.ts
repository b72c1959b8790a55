import { ErrorCode, RpcError } from '../../protocol';
import type { Clock } from '../shared/clock';
import { NonTransientError, type DependencyPolicies } from './policies';
import { signWebhook } from './webhookSignature';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface OutboundRequest {
  /** The named policy the call runs through, e.g. `webhook:slack`. */
  dependency: string;
  url: string;
  /** Default POST with a body, GET without. */
  method?: HttpMethod;
  headers?: Record<string, string>;
  /** Sent as JSON (`content-type: application/json`), serialised once. */
  body?: unknown;
  /** Per-attempt timeout, ms; at most the dependency's. */
  timeoutMs?: number;
  /** Safe to repeat: only then 5xx, 408, 429, network errors and timeouts are retried. Default false. */
  idempotent?: boolean;
  /** Statuses that count as success. Default 200..299. */
  expectStatus?: readonly number[] | ((status: number) => boolean);
  /** Sign the body (X-CogniForge-Timestamp / X-CogniForge-Signature) with this secret. */
  sign?: { secret: string | Buffer };
  /** Abort the request (not counted against the dependency). */
  signal?: AbortSignal;
}

export interface OutboundResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** The body as text (UTF-8), at most `maxResponseBytes`. */
  text: string;
  /** The body parsed, when the response says it is JSON and it parses. */
  json?: unknown;
  /** Wall time of the whole request, retries included, ms. */
  durationMs: number;
  /** The URL that answered (after same-host redirects). */
  url: string;
}

export interface OutboundHttpOptions {
  policies: DependencyPolicies;
  /** For signature timestamps. */
  clock: Clock;
  /** `host` or `host:port` entries the user configured; nothing else is ever contacted. */
  allowedHosts: readonly string[];
  /** Larger response bodies fail the request. Default 1 MiB. */
  maxResponseBytes?: number;
  /** Default 5. */
  maxRedirects?: number;
  userAgent?: string;
}

interface HostEntry {
  hostname: string;
  /** Undefined: the scheme's default port (80 for http, 443 for https). */
  port: string | undefined;
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

/**
 * HTTP calls to the outside (webhooks, health checks), each through its dependency's policy, and
 * only ever to the hosts the user configured.
 *
 * - The allow-list is checked before anything else, and again for every redirect (redirects are
 *   followed by hand, at most `maxRedirects`, only to allowed hosts; credentials headers are dropped
 *   when the host changes). A refused host is RpcError FailedPrecondition and no connection is made.
 * - Failure classes: network errors, timeouts, 5xx, 408 and 429 say the dependency is unwell — they
 *   count against its circuit breaker and are retried when the request is idempotent (RpcError
 *   BackendUnavailable / Timeout). Any other unexpected status (4xx, an unexpected 2xx/3xx) means the
 *   dependency is up and refused this request — a broken webhook URL or token must not open the
 *   circuit for everyone else — so it is neither retried nor counted (RpcError FailedPrecondition
 *   with `data.status`).
 * - Messages name the method and host, never the path or query: webhook URLs often carry a secret.
 */
export class OutboundHttp {
  private readonly policies: DependencyPolicies;
  private readonly clock: Clock;
  private readonly maxResponseBytes: number;
  private readonly maxRedirects: number;
  private readonly userAgent: string;
  private allowed: HostEntry[] = [];

  constructor(options: OutboundHttpOptions) {
    this.policies = options.policies;
    this.clock = options.clock;
    this.maxResponseBytes = options.maxResponseBytes ?? 1024 * 1024;
    this.maxRedirects = options.maxRedirects ?? 5;
    this.userAgent = options.userAgent ?? 'CogniForge';
    this.setAllowedHosts(options.allowedHosts);
  }

  /** Replace the allow-list (the user changed the configuration). */
  setAllowedHosts(hosts: readonly string[]): void {
    this.allowed = hosts.map(parseHostEntry);
  }

  /** The allow-list, normalised (`host` or `host:port`). */
  allowedHosts(): string[] {
    return this.allowed.map((e) => (e.port === undefined ? e.hostname : `${e.hostname}:${e.port}`));
  }

  /** Whether a URL may be contacted. */
  isAllowed(url: string | URL): boolean {
    try {
      const u = typeof url === 'string' ? new URL(url) : url;
      return this.refusal(u) === undefined;
    } catch {
      return false;
    }
  }

  async request(req: OutboundRequest): Promise<OutboundResponse> {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      throw new RpcError(ErrorCode.InvalidParams, `not a valid URL for ${req.dependency}`, { dependency: req.dependency });
    }
    const refusal = this.refusal(url);
    if (refusal !== undefined) {
      throw new RpcError(ErrorCode.FailedPrecondition, refusal, { dependency: req.dependency, host: url.host });
    }

    const method = req.method ?? (req.body === undefined ? 'GET' : 'POST');
    if (req.body !== undefined && (method === 'GET' || method === 'HEAD')) {
      throw new RpcError(ErrorCode.InvalidParams, `a ${method} request to ${req.dependency} cannot have a body`);
    }
    let rawBody: string | undefined;
    try {
      rawBody = req.body === undefined ? undefined : JSON.stringify(req.body);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new RpcError(ErrorCode.InvalidParams, `the body for ${req.dependency} is not JSON: ${why}`);
    }
    const headers: Record<string, string> = { 'user-agent': this.userAgent };
    for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
    if (rawBody !== undefined) headers['content-type'] ??= 'application/json';
    if (req.sign) {
      for (const [k, v] of Object.entries(signWebhook(req.sign.secret, rawBody ?? '', this.clock.now()))) {
        headers[k.toLowerCase()] = v;
      }
    }
    const expected = toStatusPredicate(req.expectStatus);
    const started = performance.now();
    const answer = await this.policies.execute(
      req.dependency,
      (signal) => this.exchange(req.dependency, url, method, headers, rawBody, expected, signal),
      { idempotent: req.idempotent ?? false, timeoutMs: req.timeoutMs, signal: req.signal },
    );
    return { ...answer, durationMs: performance.now() - started };
  }

  /** One attempt: the request and the redirects it is allowed to follow. Runs inside the policy. */
  private async exchange(
    dependency: string,
    firstUrl: URL,
    firstMethod: HttpMethod,
    firstHeaders: Record<string, string>,
    firstBody: string | undefined,
    expected: (status: number) => boolean,
    signal: AbortSignal,
  ): Promise<Omit<OutboundResponse, 'durationMs'>> {
    let url = firstUrl;
    let method = firstMethod;
    let headers = { ...firstHeaders };
    let body = firstBody;
    for (let hop = 0; ; hop++) {
      let res: Response;
      try {
        res = await fetch(url, { method, headers, body, redirect: 'manual', signal });
      } catch (e) {
        if (signal.aborted) throw e;
        throw new RpcError(ErrorCode.BackendUnavailable, `${dependency}: cannot reach ${url.host}: ${networkCause(e)}`, {
          dependency,
          host: url.host,
        });
      }
      const status = res.status;
      if (status >= 300 && status < 400 && status !== 304 && !expected(status)) {
        await res.body?.cancel().catch(() => undefined);
        const next = this.redirectTarget(dependency, url, res.headers.get('location'), hop);
        if (next.host !== url.host || next.protocol !== url.protocol) {
          headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !CREDENTIAL_HEADERS.includes(k)));
        }
        // What browsers do: 303, and 301/302 after a POST, continue as a GET without the body.
        if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
          delete headers['content-type'];
        }
        url = next;
        continue;
      }
      const text = await this.readBody(dependency, url, res);
      const responseHeaders = Object.fromEntries(res.headers);
      if (expected(status)) {
        return { status, headers: responseHeaders, text, json: parseJson(res.headers.get('content-type'), text), url: url.href };
      }
      const data = { dependency, host: url.host, status, body: text.slice(0, 500) };
      const what = `${dependency} answered ${status}${res.statusText ? ` ${res.statusText}` : ''} to ${method} ${url.host}`;
      if (status >= 500 || status === 408 || status === 429) throw new RpcError(ErrorCode.BackendUnavailable, what, data);
      throw new NonTransientError(new RpcError(ErrorCode.FailedPrecondition, what, data));
    }
  }

  private redirectTarget(dependency: string, from: URL, location: string | null, hop: number): URL {
    const refuse = (message: string, extra: object = {}) =>
      new NonTransientError(new RpcError(ErrorCode.FailedPrecondition, message, { dependency, host: from.host, ...extra }));
    if (location === null) throw refuse(`${dependency}: ${from.host} answered a redirect without a location`);
    if (hop >= this.maxRedirects) throw refuse(`${dependency}: more than ${this.maxRedirects} redirects from ${from.host}`);
    let next: URL;
    try {
      next = new URL(location, from);
    } catch {
      throw refuse(`${dependency}: ${from.host} redirected to an invalid location`);
    }
    const refusal = this.refusal(next);
    if (refusal !== undefined) {
      throw refuse(`${dependency}: ${from.host} redirected elsewhere; ${refusal}`, { redirectHost: next.host });
    }
    return next;
  }

  private async readBody(dependency: string, url: URL, res: Response): Promise<string> {
    const tooLarge = () =>
      new NonTransientError(
        new RpcError(
          ErrorCode.FailedPrecondition,
          `${dependency}: the response from ${url.host} is larger than ${this.maxResponseBytes} bytes`,
          { dependency, host: url.host, status: res.status, maxResponseBytes: this.maxResponseBytes },
        ),
      );
    const declared = Number(res.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > this.maxResponseBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw tooLarge();
    }
    if (!res.body) return '';
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > this.maxResponseBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** Why a URL may not be contacted, or undefined when it may. */
  private refusal(url: URL): string | undefined {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `only http and https URLs are sent, not ${url.protocol}`;
    if (url.username !== '' || url.password !== '') return 'credentials in the URL are not sent; use a header';
    const port = url.port === '' ? DEFAULT_PORTS[url.protocol] : url.port;
    const ok = this.allowed.some(
      (e) =>
        e.hostname === url.hostname &&
        (e.port === undefined ? port === DEFAULT_PORTS[url.protocol] : e.port === port),
    );
    return ok ? undefined : `host ${url.host} is not in the allowed outbound hosts`;
  }
}

function parseHostEntry(entry: string): HostEntry {
  let u: URL;
  try {
    u = new URL(`http://${entry.trim()}`);
  } catch {
    throw new RpcError(ErrorCode.InvalidParams, `allowed host "${entry}" is not a host or host:port`);
  }
  if (u.pathname !== '/' || u.search !== '' || u.hash !== '' || u.username !== '' || u.password !== '') {
    throw new RpcError(ErrorCode.InvalidParams, `allowed host "${entry}" is not a host or host:port`);
  }
  // URL drops ":80" for http; an explicit port 80 still means exactly port 80.
  const explicitPort = /:(\d+)$/.exec(entry.trim())?.[1];
  return { hostname: u.hostname, port: explicitPort === undefined ? undefined : String(Number(explicitPort)) };
}

function toStatusPredicate(expect: OutboundRequest['expectStatus']): (status: number) => boolean {
  if (expect === undefined) return (s) => s >= 200 && s < 300;
  if (typeof expect === 'function') return expect;
  return (s) => expect.includes(s);
}

function parseJson(contentType: string | null, text: string): unknown {
  if (!contentType || !/[/+]json\b/i.test(contentType) || text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function networkCause(e: unknown): string {
  const cause = (e as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return e instanceof Error ? e.message : String(e);
}
