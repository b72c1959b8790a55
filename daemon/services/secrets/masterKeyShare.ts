import { MultiFernet } from './fernet';

/** A store outside the vault that encrypts under the vault's master key (config's sensitive values). */
export interface MasterKeyUser {
  /** Names the store in error messages, e.g. `config/sensitive.json`. */
  readonly name: string;
  /**
   * Re-encrypt everything under the primary key of `fernet` and make it durable before returning.
   * `fernet` still opens tokens under the older keys; they are forgotten once every user returned.
   */
  reencrypt(fernet: MultiFernet): void;
}

/**
 * The local vault's master key, lent to other stores by an explicit dependency (no global): the vault
 * reports its keys, users encrypt with `fernet()` and are asked to re-encrypt while a rotation still
 * holds the old key, so no ciphertext under a retired key outlives the rotation.
 */
export class MasterKeyShare {
  private keys: readonly string[] | undefined;
  /** Keys the vault dropped during this run: a user opened after a start-up rotation still reads its old tokens once. */
  private retired: string[] = [];
  private readonly users = new Set<MasterKeyUser>();

  /** The vault's current keys, primary first (called by the vault whenever they change). */
  setKeys(keys: readonly string[]): void {
    if (this.keys) for (const k of this.keys) if (!keys.includes(k) && !this.retired.includes(k)) this.retired.push(k);
    this.keys = [...keys];
  }

  /** Encrypts under the primary key, decrypts under any key the vault held during this run. */
  fernet(): MultiFernet {
    if (!this.keys) throw new Error('the master key is not loaded yet: the secrets feature must be registered before its users');
    return new MultiFernet([...this.keys, ...this.retired.filter((k) => !this.keys!.includes(k))]);
  }

  /** Ask to be told of rotations; answers the detach function. */
  use(user: MasterKeyUser): () => void {
    this.users.add(user);
    return () => this.users.delete(user);
  }

  /** Called by the vault after its own re-encryption, before older keys leave the key file. */
  reencryptUsers(fernet: MultiFernet): void {
    for (const user of this.users) user.reencrypt(fernet);
  }
}
