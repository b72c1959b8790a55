/**
 * A small HashiCorp Vault KV version 2 server for tests, written from Vault's API documentation
 * (https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2), because no Vault or OpenBao server
 * can be installed on these machines. It serves one KV v2 mount on 127.0.0.1 and implements what that
 * page documents for the paths our backend uses:
 *
 * - every request needs `X-Vault-Token` (else 403 `{"errors":["permission denied"]}`);
 * - `GET /v1/<mount>/config`;
 * - `POST|PUT /v1/<mount>/data/<path>` with `{data, options: {cas}}`: a new version; `cas` 0 means
 *   "only if the key does not exist", otherwise it must equal the current version, else 400
 *   `{"errors":["check-and-set parameter did not match the current version"]}`; versions beyond
 *   `max_versions` (10) are dropped oldest first;
 * - `GET /v1/<mount>/data/<path>?version=N` (latest when 0/absent): 404 with `data: null` and the
 *   version's metadata when that version is deleted or destroyed;
 * - `DELETE /v1/<mount>/data/<path>` (soft-deletes the latest), `POST /delete/`, `POST /undelete/`,
 *   `PUT|POST /destroy/` with `{versions: [...]}`: 204;
 * - `GET /v1/<mount>/metadata/<path>` (versions map with created_time / deletion_time / destroyed),
 *   `DELETE /metadata/<path>` (everything), and LIST on a folder as `GET ?list=true` (Vault's
 *   documented alternative to the LIST verb, which Node's HTTP parser refuses; 404 `{"errors":[]}` when empty);
 * - `GET /v1/sys/health`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Version {
  data: Record<string, unknown> | null;
  created_time: string;
  deletion_time: string;
  destroyed: boolean;
}

interface Key {
  versions: Map<number, Version>;
  current_version: number;
  oldest_version: number;
  created_time: string;
  updated_time: string;
}

export interface FakeVaultOptions {
  token?: string;
  mount?: string;
  /** Default 10, as Vault's. */
  maxVersions?: number;
}

export interface FakeVault {
  /** `http://127.0.0.1:<port>` */
  readonly address: string;
  readonly token: string;
  readonly mount: string;
  /** Every request seen: `METHOD /v1/...` (bodies are not kept: they hold values). */
  readonly requests: string[];
  /** The stored data of a path's version (for tests that check what reached Vault). */
  stored(path: string, version: number): Record<string, unknown> | null | undefined;
  close(): Promise<void>;
}

const ROUTE = /^\/v1\/(.+?)\/(config|data|metadata|delete|undelete|destroy)(?:\/(.*))?$/;

export async function startFakeVault(options: FakeVaultOptions = {}): Promise<FakeVault> {
  const token = options.token ?? 'test-root-token';
  const mount = options.mount ?? 'secret';
  const maxVersions = options.maxVersions ?? 10;
  const keys = new Map<string, Key>();
  const requests: string[] = [];
  const now = () => new Date().toISOString();

  const send = (res: ServerResponse, status: number, body?: unknown) => {
    if (body === undefined) {
      res.writeHead(status).end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  };
  const errors = (res: ServerResponse, status: number, ...messages: string[]) => send(res, status, { errors: messages });
  const wrap = (data: unknown) => ({ request_id: 'fake', lease_id: '', renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth: null });
  const versionMeta = (n: number, v: Version) => ({
    created_time: v.created_time,
    custom_metadata: null,
    deletion_time: v.deletion_time,
    destroyed: v.destroyed,
    version: n,
  });

  async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (text.trim() === '') return {};
    return JSON.parse(text) as Record<string, unknown>;
  }

  const versionsOf = (b: Record<string, unknown>): number[] =>
    Array.isArray(b.versions) ? b.versions.filter((v): v is number => typeof v === 'number') : [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    requests.push(`${method} ${url.pathname}${url.search}`);
    if (url.pathname === '/v1/sys/health') return send(res, 200, { initialized: true, sealed: false, standby: false, version: 'fake' });
    if (req.headers['x-vault-token'] !== token) return errors(res, 403, 'permission denied');
    const m = ROUTE.exec(url.pathname);
    if (!m || m[1] !== mount) return errors(res, 404, `no handler for route "${url.pathname.slice(4)}". route entry not found.`);
    const [, , kind, path = ''] = m;
    const b = method === 'POST' || method === 'PUT' ? await body(req) : {};
    const key = keys.get(path);

    if (kind === 'config') return send(res, 200, wrap({ cas_required: false, delete_version_after: '0s', max_versions: 0 }));

    if (kind === 'data') {
      if (method === 'POST' || method === 'PUT') {
        if (typeof b.data !== 'object' || b.data === null) return errors(res, 400, 'no data provided');
        const opts = (b.options ?? {}) as { cas?: unknown };
        if (opts.cas !== undefined) {
          const current = key?.current_version ?? 0;
          if (opts.cas !== current) return errors(res, 400, 'check-and-set parameter did not match the current version');
        }
        const t = now();
        const k: Key = key ?? { versions: new Map(), current_version: 0, oldest_version: 0, created_time: t, updated_time: t };
        const n = k.current_version + 1;
        k.versions.set(n, { data: structuredClone(b.data as Record<string, unknown>), created_time: t, deletion_time: '', destroyed: false });
        k.current_version = n;
        k.updated_time = t;
        while (k.versions.size > maxVersions) k.versions.delete(Math.min(...k.versions.keys()));
        k.oldest_version = k.versions.size > 0 && n > maxVersions ? Math.min(...k.versions.keys()) : 0;
        keys.set(path, k);
        return send(res, 200, wrap(versionMeta(n, k.versions.get(n)!)));
      }
      if (method === 'GET') {
        if (!key) return errors(res, 404);
        const asked = Number(url.searchParams.get('version') ?? '0');
        const n = asked === 0 ? key.current_version : asked;
        const v = key.versions.get(n);
        if (!v) return errors(res, 404);
        if (v.deletion_time !== '' || v.destroyed) return send(res, 404, wrap({ data: null, metadata: versionMeta(n, v) }));
        return send(res, 200, wrap({ data: v.data, metadata: versionMeta(n, v) }));
      }
      if (method === 'DELETE') {
        const v = key?.versions.get(key.current_version);
        if (v && v.deletion_time === '') v.deletion_time = now();
        return send(res, 204);
      }
    }

    if (kind === 'delete' || kind === 'undelete' || kind === 'destroy') {
      // Vault treats POST and PUT alike; the documentation shows POST for delete/undelete, PUT for destroy.
      if (method !== 'POST' && method !== 'PUT') return errors(res, 405, 'unsupported operation');
      const versions = versionsOf(b);
      if (versions.length === 0) return errors(res, 400, 'no version number provided');
      for (const n of versions) {
        const v = key?.versions.get(n);
        if (!v) continue;
        if (kind === 'delete' && v.deletion_time === '') v.deletion_time = now();
        if (kind === 'undelete' && !v.destroyed) v.deletion_time = '';
        if (kind === 'destroy') {
          v.destroyed = true;
          v.data = null;
        }
      }
      return send(res, 204);
    }

    // metadata. Vault also takes the LIST verb, which Node's HTTP parser refuses before this handler
    // runs, so this server is reached with `GET ?list=true` (documented as the same call).
    const listing = method === 'LIST' || (method === 'GET' && ['true', '1'].includes(url.searchParams.get('list') ?? ''));
    if (listing) {
      const folder = path === '' || path.endsWith('/') ? path : `${path}/`;
      const names = new Set<string>();
      for (const p of keys.keys()) {
        if (!p.startsWith(folder)) continue;
        const rest = p.slice(folder.length);
        const slash = rest.indexOf('/');
        names.add(slash < 0 ? rest : rest.slice(0, slash + 1));
      }
      if (names.size === 0) return errors(res, 404);
      return send(res, 200, wrap({ keys: [...names].sort() }));
    }
    if (method === 'GET') {
      if (!key) return errors(res, 404);
      const versions = Object.fromEntries(
        [...key.versions].map(([n, v]) => [String(n), { created_time: v.created_time, deletion_time: v.deletion_time, destroyed: v.destroyed }]),
      );
      return send(
        res,
        200,
        wrap({
          cas_required: false,
          created_time: key.created_time,
          current_version: key.current_version,
          custom_metadata: null,
          delete_version_after: '0s',
          max_versions: 0,
          oldest_version: key.oldest_version,
          updated_time: key.updated_time,
          versions,
        }),
      );
    }
    if (method === 'DELETE') {
      keys.delete(path);
      return send(res, 204);
    }
    return errors(res, 405, 'unsupported operation');
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => errors(res, 500, e instanceof Error ? e.message : String(e)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    address: `http://127.0.0.1:${port}`,
    token,
    mount,
    requests,
    stored: (path, version) => keys.get(path)?.versions.get(version)?.data,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
