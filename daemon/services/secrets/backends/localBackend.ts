import { ErrorCode, RpcError } from '../../../protocol';
import { FernetError } from '../fernet';
import type { LocalVault } from '../localVault';
import {
  type BackendHealth,
  type BackendVersionInfo,
  type BackendWrite,
  type BackendWritten,
  type SecretBackend,
  type SecretLocator,
} from './secretBackend';

/**
 * The local encrypted vault file behind the backend interface. Its version reference is our version
 * number; delete removes every entry (the file keeps no history of deleted secrets), so there is
 * nothing to restore.
 */
export class LocalBackend implements SecretBackend {
  readonly name = 'local' as const;
  readonly dependency = undefined;

  constructor(private readonly vault: LocalVault) {}

  get address(): string {
    return this.vault.file;
  }

  async write(secret: SecretLocator, w: BackendWrite): Promise<BackendWritten> {
    // An entry already there is an orphan of a write whose event never became durable: replace it.
    await this.vault.putAsync([{ secretId: secret.secretId, version: w.version, value: w.value }]);
    return { ref: String(w.version), location: this.vault.file };
  }

  /** Many versions in one durable file write (bulk rotation). */
  async writeMany(writes: readonly { secretId: string; version: number; value: string }[]): Promise<void> {
    await this.vault.putAsync(writes);
  }

  read(secret: SecretLocator, ref: string): Promise<string> {
    const version = Number(ref);
    if (!this.vault.has(secret.secretId, version)) {
      return Promise.reject(
        new RpcError(ErrorCode.FailedPrecondition, `the vault file has no entry for ${secret.name} version ${version}`, {
          id: secret.secretId,
          version,
        }),
      );
    }
    try {
      return Promise.resolve(this.vault.read(secret.secretId, version));
    } catch (e) {
      if (e instanceof FernetError) {
        return Promise.reject(
          new RpcError(ErrorCode.FailedPrecondition, `vault entry for ${secret.name} version ${version}: ${e.message}`, {
            id: secret.secretId,
            version,
            reason: e.reason,
          }),
        );
      }
      return Promise.reject(e as Error);
    }
  }

  versions(secret: SecretLocator): Promise<BackendVersionInfo[]> {
    return Promise.resolve(this.vault.versionsOf(secret.secretId).map((v) => ({ ref: String(v), labels: [] })));
  }

  delete(secret: SecretLocator): Promise<void> {
    this.vault.remove(secret.secretId);
    return Promise.resolve();
  }

  restore(secret: SecretLocator): Promise<void> {
    return Promise.reject(
      new RpcError(ErrorCode.FailedPrecondition, `the local vault cannot restore ${secret.name}: a deleted local secret is gone`),
    );
  }

  destroy(secret: SecretLocator): Promise<void> {
    return this.delete(secret);
  }

  health(): Promise<BackendHealth> {
    return Promise.resolve({ ok: true, detail: `${this.vault.size} entries in ${this.vault.file}` });
  }
}
