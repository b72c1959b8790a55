import { CreateToken, ListTokens, RevokeToken } from '../../protocol';
import { CloseCode } from '../../server/connection';
import type { DaemonFeature } from '../../server/feature';
import { AuthService } from './authService';
import { TokenProjection } from './tokenProjection';

/** The auth feature plus the service the server authenticates with. */
export interface AuthFeature extends DaemonFeature {
  /** Available after `register`; the server's Authenticator delegates to it. */
  service(): AuthService;
}

/** Named, scoped tokens (`auth/*`); revoking one closes its connections. */
export function authFeature(ownerToken: string): AuthFeature {
  const projection = new TokenProjection();
  let service: AuthService | undefined;
  return {
    name: 'auth',
    projections: [projection],
    reservedEventTypes: ['auth.**'],
    service() {
      if (!service) throw new Error('auth feature used before register()');
      return service;
    },
    register({ router, store, server, log }) {
      const auth = new AuthService(store, projection, ownerToken);
      service = auth;
      router
        .on(CreateToken, ({ name, scope }, ctx) => auth.createToken(name, scope, ctx.actor))
        .on(ListTokens, () => ({ tokens: auth.list() }))
        .on(RevokeToken, async ({ name }, ctx) => {
          await auth.revokeToken(name, ctx.actor);
          // After the answer, so a token that revokes itself still hears the result.
          const cut = () => {
            const closed = server.closeConnectionsOf(name, CloseCode.PolicyViolation, `token "${name}" was revoked`);
            log.info('token revoked', { token: name, connectionsClosed: closed });
          };
          if (ctx.afterResponse) ctx.afterResponse(cut);
          else cut();
          return { ok: true as const };
        });
    },
  };
}
