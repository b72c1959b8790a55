import {
  AuditContracts,
  AuditHistory,
  CheckPassword,
  CheckRateLimit,
  CheckUrl,
  CreateRateLimitPolicy,
  CreateVersion,
  DeleteRateLimitPolicy,
  GetGovernanceDashboard,
  GetOwaspCompliance,
  HeadersFor,
  ListRateLimitPolicies,
  ListVersions,
  TransitionVersion,
  UpdateRateLimitPolicy,
} from '../../protocol';
import type { DaemonFeature } from '../../server/feature';
import { AuditProjection } from './audit/auditProjection';
import { AuditService } from './audit/auditService';
import type { AuditEngine } from './audit/engine';
import { CompareProjection } from './compare/compareProjection';
import type { CompareService } from './compare/compareService';
import { registerCompare, type CompareOptions } from './compare/registerCompare';
import { GovernanceService } from './governanceService';
import { checkPasswordStrength } from './password';
import { GovernanceProjection } from './projection';
import { UrlGuard, type HostResolver } from './ssrf';

/** `routeUsage` (client impact of breaking changes) and `env` (outbound hosts for notices): see CompareOptions. */
export interface GovernanceFeatureOptions extends CompareOptions {
  /** Name resolution for the SSRF check (the system resolver by default). */
  resolver?: HostResolver;
}

/** `governance/*`: SSRF and password checks, rate-limit policies and answers, API version lifecycle. */
export function governanceFeature(options: GovernanceFeatureOptions = {}): DaemonFeature {
  const projection = new GovernanceProjection();
  const auditProjection = new AuditProjection();
  const compareProjection = new CompareProjection();
  let service: GovernanceService | undefined;
  let compareService: CompareService | undefined;
  return {
    name: 'governance',
    projections: [projection, auditProjection, compareProjection],
    reservedEventTypes: ['governance.**'],
    register(ctx) {
      const { router, rest, store, clock } = ctx;
      const governance = new GovernanceService(store, projection, clock);
      service = governance;
      // Spectral and its rulesets are loaded on the first audit, not at daemon start (most daemons never audit).
      let engine: Promise<AuditEngine> | undefined;
      const audits = new AuditService(store, auditProjection, clock, () => (engine ??= import('./audit/engine').then((m) => new m.AuditEngine())));
      const urls = new UrlGuard({ clock, resolver: options.resolver });
      const compare = registerCompare(ctx, compareProjection, () => governance.versions(), options);
      compareService = compare;
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
        .on(HeadersFor, (p) => compare.headersFor(p, p.version === undefined ? undefined : governance.headersFor(p.version)))
        .on(GetGovernanceDashboard, () => governance.dashboard(audits.dashboardSummary()))
        .on(AuditContracts, (p, ctx) => audits.audit(p, ctx.actor))
        .on(AuditHistory, ({ file, limit }) => ({ entries: audits.history(file, limit) }))
        .on(GetOwaspCompliance, () => {
          const report = audits.latest();
          return { status: report ? ('audited' as const) : ('notAudited' as const), report };
        });
      rest.get('/api/governance/dashboard', GetGovernanceDashboard, () => ({}));
      rest.get('/api/governance/owasp-compliance', GetOwaspCompliance, () => ({}));
    },
    async start() {
      await service?.seedDefaults();
    },
    async close() {
      // Breaking-change notices in flight finish (or time out) before the store closes.
      await compareService?.idle();
    },
  };
}
