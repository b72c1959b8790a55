import { ErrorCode, RpcError } from '../../../protocol';
import { NonTransientError, type DependencyPolicies } from '../../resilience/policies';
import { AwsSecretsManagerBackend } from './awsSecretsManager';
import { HashicorpVaultBackend } from './hashicorpVault';
import {
  BACKEND_NAMES,
  BackendConflictError,
  BackendNotFoundError,
  BackendRefusedError,
  type BackendName,
  type SecretBackend,
} from './secretBackend';
import { BACKEND_SETUP_HINT, type BackendSettings } from './settings';

export interface BackendCallOptions {
  /** Safe to repeat (reads, listings, health): the policy may retry it. */
  idempotent: boolean;
  /** What the call does, for the error message (`write version 3 of payments_api`). */
  what: string;
}

/** One configured backend, as `secrets/backends` shows it. */
export interface BackendDescription {
  name: BackendName;
  configured: boolean;
  isDefault: boolean;
  address?: string;
  dependency?: string;
}

/**
 * The configured backends, and the one way the service calls them: remote calls run through their
 * named dependency policy (bulkhead, timeout, breaker; retries only for idempotent calls), and every
 * failure becomes an RpcError naming the backend and its address. A backend's "no" (check-and-set
 * mismatch, missing version, refused token) is an answer, not an outage: it does not trip the breaker.
 */
export class BackendGateway {
  private readonly backends = new Map<BackendName, SecretBackend>();

  constructor(
    readonly defaultBackend: BackendName,
    backends: readonly SecretBackend[],
    private readonly policies: DependencyPolicies | undefined,
    private readonly timeoutMs: number,
  ) {
    for (const b of backends) this.backends.set(b.name, b);
  }

  /** Build the remote backends the settings configure, next to the given local one. */
  static fromSettings(settings: BackendSettings, local: SecretBackend, policies: DependencyPolicies | undefined): BackendGateway {
    const backends: SecretBackend[] = [local];
    if (settings.vault) {
      backends.push(
        new HashicorpVaultBackend({
          address: settings.vault.address,
          token: settings.vault.token,
          mount: settings.vault.mount,
          pathPrefix: settings.vault.pathPrefix,
          ...(settings.vault.namespace ? { namespace: settings.vault.namespace } : {}),
          requestTimeoutMs: settings.timeoutMs,
        }),
      );
    }
    if (settings.aws) backends.push(new AwsSecretsManagerBackend(settings.aws));
    return new BackendGateway(settings.defaultBackend, backends, policies, settings.timeoutMs);
  }

  /** The backend of that name; FailedPrecondition saying what to set when it is not configured. */
  get(name: BackendName): SecretBackend {
    const b = this.backends.get(name);
    if (!b) {
      throw new RpcError(ErrorCode.FailedPrecondition, `the secrets backend "${name}" is not configured: ${BACKEND_SETUP_HINT[name]}`, {
        backend: name,
      });
    }
    return b;
  }

  describe(): BackendDescription[] {
    return BACKEND_NAMES.map((name) => {
      const b = this.backends.get(name);
      return {
        name,
        configured: b !== undefined,
        isDefault: name === this.defaultBackend,
        ...(b ? { address: b.address } : {}),
        ...(b?.dependency ? { dependency: b.dependency } : {}),
      };
    });
  }

  async call<T>(backend: SecretBackend, options: BackendCallOptions, fn: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
    try {
      if (!backend.dependency || !this.policies) return await fn(undefined);
      return await this.policies.execute(
        backend.dependency,
        async (signal) => {
          try {
            return await fn(signal);
          } catch (e) {
            if (isAnswer(e)) throw new NonTransientError(e);
            throw e;
          }
        },
        { idempotent: options.idempotent, timeoutMs: this.timeoutMs },
      );
    } catch (e) {
      throw this.toRpcError(backend, options.what, e);
    }
  }

  private toRpcError(backend: SecretBackend, what: string, e: unknown): unknown {
    const where = `secrets backend ${backend.name} at ${backend.address}`;
    const data = { backend: backend.name, address: backend.address };
    if (e instanceof BackendConflictError) return new RpcError(ErrorCode.Conflict, `${where}: ${what}: ${e.message}`, data);
    if (e instanceof BackendNotFoundError) return new RpcError(ErrorCode.FailedPrecondition, `${where}: ${what}: ${e.message}`, data);
    if (e instanceof BackendRefusedError) return new RpcError(ErrorCode.FailedPrecondition, `${where}: ${what}: ${e.message}`, data);
    if (e instanceof RpcError) {
      // The policy's own answers (open circuit, full bulkhead, timeout) and the local vault's errors.
      if (e.code === ErrorCode.BackendUnavailable || e.code === ErrorCode.Timeout) {
        const extra = typeof e.data === 'object' && e.data !== null ? e.data : {};
        return new RpcError(e.code, `${where} is unavailable (${what}): ${e.message}`, { ...extra, ...data });
      }
      return e;
    }
    const why = e instanceof Error ? e.message : String(e);
    return new RpcError(ErrorCode.BackendUnavailable, `${where} is unreachable (${what}): ${why}`, { ...data, reason: 'unreachable' });
  }
}

const isAnswer = (e: unknown) =>
  e instanceof BackendConflictError || e instanceof BackendNotFoundError || e instanceof BackendRefusedError || e instanceof RpcError;
