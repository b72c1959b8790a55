/** The three places a secret's value can live; a secret lives in exactly one, named in its metadata. */
export const BACKEND_NAMES = ['local', 'hashicorp', 'aws'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** Which secret a backend call is about. The backend derives its own path/name from these. */
export interface SecretLocator {
  secretId: string;
  name: string;
  environment: string;
  /** The backend's own path or name, fixed at creation (absent for a secret about to be created). */
  location?: string;
}

export interface BackendWrite {
  /** Our version number of the value being written (1 for the first). */
  version: number;
  value: string;
  /**
   * The backend reference of the version that is current now (undefined when creating): the write
   * fails with BackendConflictError when the backend's current version differs (check-and-set).
   */
  expectedCurrentRef: string | undefined;
  /** Stable id of this write: a repeated call with the same id does not create a second version. */
  idempotencyKey: string;
}

export interface BackendWritten {
  /** The backend's reference of the new version (local: our number, Vault: its version, AWS: VersionId). */
  ref: string;
  /** The backend's path or name of the secret (Vault path, AWS secret name). */
  location: string;
}

/** One version as the backend itself reports it (metadata only, never a value). */
export interface BackendVersionInfo {
  ref: string;
  /** ISO-8601, when the backend knows it. */
  createdAt?: string;
  /** Backend labels: AWS staging labels; Vault `deleted`/`destroyed`; local `current`. */
  labels: string[];
}

export interface BackendHealth {
  ok: boolean;
  /** What was checked, or why it failed (never a credential). */
  detail: string;
}

/**
 * What the secrets service needs from a store of secret values. Every method may reach a remote
 * service: callers run them through a dependency policy (see `BackendGateway`). Values pass through
 * these calls and nowhere else; errors never contain a value.
 */
export interface SecretBackend {
  readonly name: BackendName;
  /** Where it is, for error messages and `secrets/backends` (an URL, a region, a file). */
  readonly address: string;
  /** Dependency-policy name (`vault`, `aws-secrets`), undefined for the local file. */
  readonly dependency: string | undefined;
  /** Store a new version (creation when `expectedCurrentRef` is undefined). */
  write(secret: SecretLocator, w: BackendWrite, signal?: AbortSignal): Promise<BackendWritten>;
  /** The value of one version by its backend reference. */
  read(secret: SecretLocator, ref: string, signal?: AbortSignal): Promise<string>;
  /** Every version the backend keeps, oldest first. */
  versions(secret: SecretLocator, signal?: AbortSignal): Promise<BackendVersionInfo[]>;
  /** Remove the secret; remote backends keep it recoverable (Vault soft delete, AWS recovery window). */
  delete(secret: SecretLocator, refs: readonly string[], signal?: AbortSignal): Promise<void>;
  /** Undo `delete` where the backend can. */
  restore(secret: SecretLocator, refs: readonly string[], signal?: AbortSignal): Promise<void>;
  /** Remove for good. */
  destroy(secret: SecretLocator, refs: readonly string[], signal?: AbortSignal): Promise<void>;
  health(signal?: AbortSignal): Promise<BackendHealth>;
}

/** The backend refused a check-and-set write: its current version is not the one we expected. */
export class BackendConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendConflictError';
  }
}

/** The backend answered that the secret or version is not there (or no longer readable). */
export class BackendNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendNotFoundError';
  }
}

/** The backend answered and refused the request (bad token, bad input): not an outage. */
export class BackendRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendRefusedError';
  }
}
