import * as z from 'zod';
import { TokenScope } from '../../protocol';
import type { EventRecord, Projection } from '../../store/types';

/** Event types of the auth domain. Only the auth service appends them (they are reserved). */
export const TokenCreated = 'auth.tokenCreated';
export const TokenRevoked = 'auth.tokenRevoked';

/** Payload of `auth.tokenCreated`: the token's SHA-256, never the token. */
export const TokenCreatedPayload = z.object({
  name: z.string(),
  scope: TokenScope,
  /** Hex SHA-256 of the bearer token. */
  tokenSha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export const TokenRevokedPayload = z.object({ name: z.string() });

export interface StoredToken {
  name: string;
  scope: z.infer<typeof TokenScope>;
  /** SHA-256 of the token, 32 bytes. */
  hash: Buffer;
  /** ISO-8601. */
  createdAt: string;
  createdBy: string;
}

interface SnapshotRow {
  name: string;
  scope: z.infer<typeof TokenScope>;
  tokenSha256: string;
  createdAt: string;
  createdBy: string;
}

/** Named tokens that are currently valid, built from `auth.tokenCreated` / `auth.tokenRevoked`. */
export class TokenProjection implements Projection {
  readonly name = 'auth.tokens';
  private readonly tokens = new Map<string, StoredToken>();

  apply(event: EventRecord): void {
    if (event.type === TokenCreated) {
      const p = TokenCreatedPayload.safeParse(event.payload);
      if (!p.success) return;
      this.tokens.set(p.data.name, {
        name: p.data.name,
        scope: p.data.scope,
        hash: Buffer.from(p.data.tokenSha256, 'hex'),
        createdAt: event.time,
        createdBy: event.actor,
      });
    } else if (event.type === TokenRevoked) {
      const p = TokenRevokedPayload.safeParse(event.payload);
      if (p.success) this.tokens.delete(p.data.name);
    }
  }

  get(name: string): StoredToken | undefined {
    return this.tokens.get(name);
  }

  all(): StoredToken[] {
    return [...this.tokens.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  snapshot(): SnapshotRow[] {
    return this.all().map((t) => ({
      name: t.name,
      scope: t.scope,
      tokenSha256: t.hash.toString('hex'),
      createdAt: t.createdAt,
      createdBy: t.createdBy,
    }));
  }

  restore(state: unknown): void {
    this.reset();
    if (!Array.isArray(state)) return;
    for (const row of state as SnapshotRow[]) {
      this.tokens.set(row.name, {
        name: row.name,
        scope: row.scope,
        hash: Buffer.from(row.tokenSha256, 'hex'),
        createdAt: row.createdAt,
        createdBy: row.createdBy,
      });
    }
  }

  reset(): void {
    this.tokens.clear();
  }
}
