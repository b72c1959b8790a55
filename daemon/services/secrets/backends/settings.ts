import type { BackendName } from './secretBackend';

/** A bad backend setting; start-up stops with this message (it names the variable, never a token). */
export class BackendSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendSettingsError';
  }
}

export interface VaultSettings {
  address: string;
  /** Which variable gave the address (VAULT_ADDR or the original's VAULT_URL). */
  addressVariable: 'VAULT_ADDR' | 'VAULT_URL';
  token: string;
  mount: string;
  pathPrefix: string;
  namespace?: string;
}

export interface AwsSettings {
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  namePrefix: string;
  recoveryWindowDays: number;
}

export interface BackendSettings {
  /** Where a new secret goes when `secrets/create` names no backend. */
  defaultBackend: BackendName;
  /** Present when VAULT_ADDR/VAULT_URL and VAULT_TOKEN are set. */
  vault?: VaultSettings;
  /** Present when a region or an endpoint is set. */
  aws?: AwsSettings;
  /** Per-call timeout of a remote backend, ms. */
  timeoutMs: number;
}

/** Accepted spellings of VAULT_BACKEND (case-insensitive): the seed's three plus the usual aliases. */
const BACKEND_ALIASES: Record<string, BackendName> = {
  local: 'local',
  file: 'local',
  local_vault: 'local',
  fernet: 'local',
  hashicorp: 'hashicorp',
  vault: 'hashicorp',
  hashicorp_vault: 'hashicorp',
  'hashicorp-vault': 'hashicorp',
  openbao: 'hashicorp',
  aws: 'aws',
  aws_secrets_manager: 'aws',
  'aws-secrets-manager': 'aws',
  secretsmanager: 'aws',
  secrets_manager: 'aws',
};

type Env = Readonly<Record<string, string | undefined>>;

const set = (env: Env, name: string): string | undefined => {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
};

/** Read and check the backend variables. Throws BackendSettingsError naming the variable. */
export function parseBackendSettings(env: Env): BackendSettings {
  const rawBackend = set(env, 'VAULT_BACKEND');
  let defaultBackend: BackendName = 'local';
  if (rawBackend !== undefined) {
    const mapped = BACKEND_ALIASES[rawBackend.toLowerCase()];
    if (!mapped) throw new BackendSettingsError(`VAULT_BACKEND: must be local, hashicorp or aws (got "${rawBackend}")`);
    defaultBackend = mapped;
  }

  const timeoutText = set(env, 'COGNIFORGE_SECRETS_BACKEND_TIMEOUT_MS');
  let timeoutMs = 10_000;
  if (timeoutText !== undefined) {
    timeoutMs = Number(timeoutText);
    if (!/^\d+$/.test(timeoutText) || timeoutMs < 100 || timeoutMs > 120_000) {
      throw new BackendSettingsError(`COGNIFORGE_SECRETS_BACKEND_TIMEOUT_MS: must be a whole number of ms from 100 to 120000 (got "${timeoutText}")`);
    }
  }

  const settings: BackendSettings = { defaultBackend, timeoutMs };

  const addrVar = set(env, 'VAULT_ADDR') !== undefined ? 'VAULT_ADDR' : set(env, 'VAULT_URL') !== undefined ? 'VAULT_URL' : undefined;
  const token = set(env, 'VAULT_TOKEN');
  if (addrVar) {
    const address = set(env, addrVar)!.replace(/\/+$/, '');
    if (!/^https?:\/\/[^\s/]+/i.test(address)) throw new BackendSettingsError(`${addrVar}: must be an http(s) URL such as http://127.0.0.1:8200 (got "${address}")`);
    if (!token) throw new BackendSettingsError(`${addrVar} is set but VAULT_TOKEN is not: the HashiCorp Vault backend needs a token`);
    const mount = (set(env, 'VAULT_KV_MOUNT') ?? 'secret').replace(/^\/+|\/+$/g, '');
    const prefix = set(env, 'VAULT_PATH_PREFIX') ?? 'cogniforge/';
    if (!/^[\w.-]+(\/[\w.-]+)*$/.test(mount)) throw new BackendSettingsError(`VAULT_KV_MOUNT: must be a path such as "secret" (got "${mount}")`);
    settings.vault = {
      address,
      addressVariable: addrVar,
      token,
      mount,
      pathPrefix: normalisePrefix(prefix, 'VAULT_PATH_PREFIX'),
      ...(set(env, 'VAULT_NAMESPACE') ? { namespace: set(env, 'VAULT_NAMESPACE')! } : {}),
    };
  } else if (defaultBackend === 'hashicorp') {
    throw new BackendSettingsError('VAULT_BACKEND=hashicorp needs VAULT_ADDR (or VAULT_URL) and VAULT_TOKEN');
  }

  const region = set(env, 'AWS_REGION') ?? set(env, 'AWS_DEFAULT_REGION');
  const endpoint = set(env, 'AWS_ENDPOINT_URL_SECRETS_MANAGER') ?? set(env, 'AWS_ENDPOINT_URL');
  if (region || endpoint) {
    if (!region) throw new BackendSettingsError('AWS_ENDPOINT_URL_SECRETS_MANAGER is set but AWS_REGION is not: Secrets Manager needs a region');
    if (endpoint && !/^https?:\/\/[^\s/]+/i.test(endpoint)) {
      throw new BackendSettingsError(`AWS_ENDPOINT_URL_SECRETS_MANAGER: must be an http(s) URL (got "${endpoint}")`);
    }
    const keyId = set(env, 'AWS_ACCESS_KEY_ID');
    const secretKey = set(env, 'AWS_SECRET_ACCESS_KEY');
    if ((keyId === undefined) !== (secretKey === undefined)) {
      throw new BackendSettingsError('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together');
    }
    const windowText = set(env, 'AWS_SECRETS_RECOVERY_WINDOW_DAYS') ?? '7';
    const recoveryWindowDays = Number(windowText);
    if (!/^\d+$/.test(windowText) || recoveryWindowDays < 7 || recoveryWindowDays > 30) {
      throw new BackendSettingsError(`AWS_SECRETS_RECOVERY_WINDOW_DAYS: must be a whole number of days from 7 to 30 (got "${windowText}")`);
    }
    const sessionToken = set(env, 'AWS_SESSION_TOKEN');
    settings.aws = {
      region,
      ...(endpoint ? { endpoint: endpoint.replace(/\/+$/, '') } : {}),
      ...(keyId && secretKey ? { credentials: { accessKeyId: keyId, secretAccessKey: secretKey, ...(sessionToken ? { sessionToken } : {}) } } : {}),
      namePrefix: normalisePrefix(set(env, 'AWS_SECRETS_PREFIX') ?? 'cogniforge/', 'AWS_SECRETS_PREFIX'),
      recoveryWindowDays,
    };
  } else if (defaultBackend === 'aws') {
    throw new BackendSettingsError('VAULT_BACKEND=aws needs AWS_REGION (and AWS_ENDPOINT_URL_SECRETS_MANAGER for a non-AWS endpoint)');
  }
  return settings;
}

function normalisePrefix(prefix: string, variable: string): string {
  const p = prefix.replace(/^\/+/, '');
  if (p !== '' && !/^[\w.@+=-]+(\/[\w.@+=-]+)*\/?$/.test(p)) throw new BackendSettingsError(`${variable}: must be a path such as "cogniforge/" (got "${prefix}")`);
  return p === '' || p.endsWith('/') ? p : `${p}/`;
}

/** What a missing backend needs, for the error a create/reveal on it answers. */
export const BACKEND_SETUP_HINT: Record<BackendName, string> = {
  local: 'the local vault is always available',
  hashicorp: 'set VAULT_ADDR (or VAULT_URL) and VAULT_TOKEN and restart the daemon',
  aws: 'set AWS_REGION (and AWS_ENDPOINT_URL_SECRETS_MANAGER for a non-AWS endpoint) and restart the daemon',
};
