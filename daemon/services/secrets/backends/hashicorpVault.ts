import nodeVault from 'node-vault';
import {
  BackendConflictError,
  BackendNotFoundError,
  BackendRefusedError,
  type BackendHealth,
  type BackendVersionInfo,
  type BackendWrite,
  type BackendWritten,
  type SecretBackend,
  type SecretLocator,
} from './secretBackend';

export interface HashicorpVaultOptions {
  /** Vault address, e.g. `http://127.0.0.1:8200` (VAULT_ADDR or VAULT_URL). */
  address: string;
  token: string;
  /** KV v2 mount path, default `secret`. */
  mount: string;
  /** Prefix of every secret path inside the mount, default `cogniforge/`. */
  pathPrefix: string;
  /** Enterprise namespace (X-Vault-Namespace), if any. */
  namespace?: string;
  /** Per-request timeout, ms: the policy's timeout cannot abort node-vault, so the request gives up itself. */
  requestTimeoutMs: number;
}

interface ApiResponseErrorLike {
  message: string;
  response?: { statusCode?: number; body?: { errors?: unknown[]; data?: unknown } };
}

interface KvMetadata {
  current_version: number;
  versions: Record<string, { created_time?: string; deletion_time?: string; destroyed?: boolean }>;
}

/**
 * HashiCorp Vault KV version 2 through node-vault. A secret is one KV path; its value sits in the
 * `value` field of each KV version, and the KV version number is our backend reference. Writes use
 * check-and-set (`options.cas`: 0 on create, the expected current version after), so a write raced by
 * anyone else fails instead of overwriting. Rollback is Vault's own recipe: read the old version's data
 * and write it as a new version with cas (the service does that through `read` + `write`).
 */
export class HashicorpVaultBackend implements SecretBackend {
  readonly name = 'hashicorp' as const;
  readonly dependency = 'vault';
  private readonly client: nodeVault.client;

  constructor(private readonly options: HashicorpVaultOptions) {
    this.client = nodeVault({
      // node-vault's default logger prints request bodies (the values) when DEBUG=node-vault is set.
      debug: () => undefined,
      endpoint: options.address,
      token: options.token,
      ...(options.namespace ? { namespace: options.namespace } : {}),
      // LIST as `GET ?list=1`, which Vault documents as equivalent: proxies (and Node's own HTTP server,
      // which the tests' KV server runs on) refuse the non-standard LIST verb.
      noCustomHTTPVerbs: true,
      requestOptions: { timeout: options.requestTimeoutMs },
    });
  }

  get address(): string {
    return this.options.address;
  }

  /** `cogniforge/<environment>/<name>/<secret id>`: the id keeps a re-created name off a deleted one's history. */
  pathOf(secret: SecretLocator): string {
    return secret.location ?? `${this.options.pathPrefix}${secret.environment}/${secret.name}/${secret.secretId}`;
  }

  private url(kind: 'data' | 'metadata' | 'delete' | 'undelete' | 'destroy', secret: SecretLocator): string {
    return `${this.options.mount}/${kind}/${this.pathOf(secret)}`;
  }

  async write(secret: SecretLocator, w: BackendWrite): Promise<BackendWritten> {
    const cas = w.expectedCurrentRef === undefined ? 0 : Number(w.expectedCurrentRef);
    const body = (await this.call(() =>
      this.client.write(this.url('data', secret), { data: { value: w.value }, options: { cas } }),
    )) as { data?: { version?: number } };
    const version = body?.data?.version;
    if (typeof version !== 'number') throw new Error(`Vault answered a write to ${this.pathOf(secret)} without a version number`);
    return { ref: String(version), location: this.pathOf(secret) };
  }

  async read(secret: SecretLocator, ref: string): Promise<string> {
    const body = (await this.call(() => this.client.read(`${this.url('data', secret)}?version=${encodeURIComponent(ref)}`))) as {
      data?: { data?: { value?: unknown } | null };
    };
    const value = body?.data?.data?.value;
    if (typeof value !== 'string') {
      throw new BackendNotFoundError(`Vault version ${ref} of ${this.pathOf(secret)} has no "value" field (deleted, destroyed or not ours)`);
    }
    return value;
  }

  /** The KV metadata of the secret (versions, current version). */
  async metadata(secret: SecretLocator): Promise<KvMetadata> {
    const body = (await this.call(() => this.client.read(this.url('metadata', secret)))) as { data: KvMetadata };
    return body.data;
  }

  async versions(secret: SecretLocator): Promise<BackendVersionInfo[]> {
    const meta = await this.metadata(secret);
    return Object.entries(meta.versions)
      .map(([ref, v]) => ({
        ref,
        ...(v.created_time ? { createdAt: v.created_time } : {}),
        labels: [
          ...(Number(ref) === meta.current_version ? ['current'] : []),
          ...(v.deletion_time ? ['deleted'] : []),
          ...(v.destroyed ? ['destroyed'] : []),
        ],
      }))
      .sort((a, b) => Number(a.ref) - Number(b.ref));
  }

  /** Secret paths directly under `<prefix><environment>/` (Vault's LIST on the metadata path). */
  async list(environment: string): Promise<string[]> {
    try {
      const body = (await this.call(() => this.client.list(`${this.options.mount}/metadata/${this.options.pathPrefix}${environment}`))) as {
        data?: { keys?: string[] };
      };
      return body?.data?.keys ?? [];
    } catch (e) {
      // Vault answers 404 to a LIST of an empty folder.
      if (e instanceof BackendNotFoundError) return [];
      throw e;
    }
  }

  async delete(secret: SecretLocator, refs: readonly string[]): Promise<void> {
    await this.call(() => this.client.write(this.url('delete', secret), { versions: refs.map(Number) }));
  }

  async restore(secret: SecretLocator, refs: readonly string[]): Promise<void> {
    await this.call(() => this.client.write(this.url('undelete', secret), { versions: refs.map(Number) }));
  }

  async destroy(secret: SecretLocator, refs: readonly string[]): Promise<void> {
    await this.call(() =>
      this.client.request({ path: `/${this.url('destroy', secret)}`, method: 'PUT', json: { versions: refs.map(Number) } }),
    );
  }

  async health(): Promise<BackendHealth> {
    const body = (await this.call(() => this.client.read(`${this.options.mount}/config`))) as { data?: { max_versions?: number } };
    return { ok: true, detail: `KV v2 at ${this.options.mount}/ answers (max_versions ${body?.data?.max_versions ?? 0})` };
  }

  /** Turn Vault's HTTP answers into the backend error kinds; transport failures stay plain errors (outages). */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const err = e as ApiResponseErrorLike;
      const status = err.response?.statusCode;
      if (status === undefined) throw new Error(transportMessage(e));
      const errors = (err.response?.body?.errors ?? []).filter((x): x is string => typeof x === 'string');
      const why = errors.length > 0 ? errors.join('; ') : `HTTP ${status}`;
      if (status === 400 && /check-and-set/i.test(why)) throw new BackendConflictError(`Vault refused the write: ${why}`);
      if (status === 404) throw new BackendNotFoundError(`Vault has no such secret or version (${why})`);
      if (status === 401 || status === 403) throw new BackendRefusedError(`Vault refused the token (${why}): check VAULT_TOKEN`);
      if (status >= 400 && status < 500) throw new BackendRefusedError(`Vault refused the request: ${why}`);
      throw new Error(`Vault answered HTTP ${status}: ${why}`);
    }
  }
}

/** A network error's code and message (axios: `connect ECONNREFUSED 127.0.0.1:8200`), never a request body. */
function transportMessage(e: unknown): string {
  const err = e as { code?: unknown; message?: unknown };
  const code = typeof err.code === 'string' ? err.code : undefined;
  const message = typeof err.message === 'string' ? err.message : String(e);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
