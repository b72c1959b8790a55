import {
  CheckPassword,
  CheckRateLimit,
  CheckUrl,
  CreateRateLimitPolicy,
  CreateVersion,
  DeleteRateLimitPolicy,
  GetGovernanceDashboard,
  HeadersFor,
  ListRateLimitPolicies,
  ListVersions,
  TransitionVersion,
  UpdateRateLimitPolicy,
} from '../../protocol';
import type { DaemonFeature } from '../../server/feature';
import { GovernanceService } from './governanceService';
import { checkPasswordStrength } from './password';
import { GovernanceProjection } from './projection';
import { UrlGuard, type HostResolver } from './ssrf';

export interface GovernanceFeatureOptions {
  /** Name resolution for the SSRF check (the system resolver by default). */
  resolver?: HostResolver;
}

/** `governance/*`: SSRF and password checks, rate-limit policies and answers, API version lifecycle. */
export function governanceFeature(options: GovernanceFeatureOptions = {}): DaemonFeature {
  const projection = new GovernanceProjection();
  let service: GovernanceService | undefined;
  return {
    name: 'governance',
    projections: [projection],
    reservedEventTypes: ['governance.**'],
    register({ router, rest, store, clock }) {
      const governance = new GovernanceService(store, projection, clock);
      service = governance;
      const urls = new UrlGuard({ clock, resolver: options.resolver });
      router
        .on(CheckUrl, ({ url }) => urls.check(url))
        .on(CheckPassword, ({ password, userInputs }) => checkPasswordStrength(password, userInputs))
        .on(ListRateLimitPolicies, ({ clientType }) => ({ policies: governance.policies(clientType) }))
        .on(CreateRateLimitPolicy, (p, ctx) => governance.createPolicy(p, ctx.actor))
        .on(UpdateRateLimitPolicy, (p, ctx) => governance.updatePolicy(p, ctx.actor))
        .on(DeleteRateLimitPolicy, async ({ id }, ctx) => {
          await governance.deletePolicy(id, ctx.actor);
          return { ok: true as const };
        })
        .on(CheckRateLimit, (p) => governance.checkRateLimit(p))
        .on(ListVersions, ({ status }) => ({ versions: governance.versions(status) }))
        .on(CreateVersion, (p, ctx) => governance.createVersion(p, ctx.actor))
        .on(TransitionVersion, (p, ctx) => governance.transitionVersion(p, ctx.actor))
        .on(HeadersFor, ({ version }) => governance.headersFor(version))
        .on(GetGovernanceDashboard, () => governance.dashboard());
      rest.get('/api/governance/dashboard', GetGovernanceDashboard, () => ({}));
    },
    async start() {
      await service?.seedDefaults();
    },
  };
}
