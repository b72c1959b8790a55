import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ErrorCode, RpcError, type Scope } from '../../protocol';
import type { EventStore } from '../../store/types';
import { TokenCreated, TokenRevoked, type TokenProjection } from './tokenProjection';

/** Name every event caused by the owner token carries as its actor. */
export const OWNER_ACTOR = 'owner';

export interface TokenInfo {
  name: string;
  scope: Scope;
  /** ISO-8601. */
  createdAt: string;
  createdBy: string;
}

/** 256 random bits, base64url: the owner token (fresh at every start) and minted tokens alike. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Bearer tokens: the owner token (scope admin, held in memory and in the runtime file only) and named,
 * scoped tokens whose SHA-256 lives in the auth projection. Comparison is constant-time over the
 * digests, and every known token is compared so the time does not depend on which one matched.
 */
export class AuthService {
  private readonly ownerHash: Buffer;
  /** Names being created right now, so two concurrent creates of one name cannot both succeed. */
  private readonly creating = new Set<string>();

  constructor(
    private readonly store: EventStore,
    private readonly tokens: TokenProjection,
    ownerToken: string,
  ) {
    this.ownerHash = sha256(ownerToken);
  }

  authenticate(token: string): { actor: string; scope: Scope } | undefined {
    if (token.length === 0 || token.length > 512) return undefined;
    const hash = sha256(token);
    let found: { actor: string; scope: Scope } | undefined;
    if (timingSafeEqual(hash, this.ownerHash)) found = { actor: OWNER_ACTOR, scope: 'admin' };
    for (const t of this.tokens.all()) {
      if (timingSafeEqual(hash, t.hash) && !found) found = { actor: t.name, scope: t.scope };
    }
    return found;
  }

  async createToken(name: string, scope: Scope, actor: string): Promise<TokenInfo & { token: string }> {
    if (this.tokens.get(name) || this.creating.has(name)) {
      throw new RpcError(ErrorCode.Duplicate, `A token named "${name}" already exists; revoke it first`, { kind: 'token', name });
    }
    this.creating.add(name);
    try {
      const token = newToken();
      const [appended] = await this.store.append([
        { type: TokenCreated, actor, payload: { name, scope, tokenSha256: sha256(token).toString('hex') } },
      ]);
      return { name, scope, createdAt: appended.event.time, createdBy: actor, token };
    } finally {
      this.creating.delete(name);
    }
  }

  list(): TokenInfo[] {
    return this.tokens.all().map(({ name, scope, createdAt, createdBy }) => ({ name, scope, createdAt, createdBy }));
  }

  /** Revoke a named token. The caller closes the token's open connections. */
  async revokeToken(name: string, actor: string): Promise<void> {
    if (!this.tokens.get(name)) {
      throw new RpcError(ErrorCode.NotFound, `No token named "${name}"`, { kind: 'token', name });
    }
    await this.store.append([{ type: TokenRevoked, actor, payload: { name } }]);
  }
}
