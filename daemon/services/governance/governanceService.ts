import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  RpcError,
  type ApiVersion,
  type ParsedParamsOf,
  type RateLimitPolicy,
  type ResultOf,
  type VersionStatus,
  type CheckRateLimit,
  type CreateRateLimitPolicy,
  type CreateVersion,
  type GetGovernanceDashboard,
  type HeadersFor,
  type TransitionVersion,
  type UpdateRateLimitPolicy,
} from '../../protocol';
import type { EventStore, NewEvent } from '../../store/types';
import type { Clock } from '../shared/clock';
import { GovernanceEvent, type GovernanceProjection } from './projection';
import { matchPolicy, RateLimiter } from './rateLimiter';
import { SEED_VERSIONS, seedPolicies } from './seed';
import { headersForVersion, NEXT_STATUS } from './versionHeaders';

const notFound = (kind: string, id: string) => new RpcError(ErrorCode.NotFound, `No ${kind} "${id}".`, { kind, id });
const invalid = (field: string, message: string) =>
  new RpcError(ErrorCode.InvalidParams, `${field}: ${message}`, { issues: [{ path: field, message }] });

/** Rate-limit policies, API version lifecycle and the rate-limit answers. Every change is an event. */
export class GovernanceService {
  readonly limiter: RateLimiter;

  constructor(
    private readonly store: EventStore,
    private readonly projection: GovernanceProjection,
    private readonly clock: Clock,
  ) {
    this.limiter = new RateLimiter(clock);
  }

  /** Append the seed's policies and versions once, on the first start with an empty log. */
  async seedDefaults(): Promise<void> {
    if (this.projection.seeded) return;
    const now = this.nowIso();
    const events: NewEvent[] = [
      ...seedPolicies(now).map((policy) => ({ type: GovernanceEvent.PolicyCreated, actor: 'daemon', payload: { policy } })),
      ...SEED_VERSIONS.map((version) => ({ type: GovernanceEvent.VersionCreated, actor: 'daemon', payload: { version } })),
      { type: GovernanceEvent.DefaultsSeeded, actor: 'daemon', payload: {} },
    ];
    await this.store.append(events);
  }

  policies(clientType?: string): RateLimitPolicy[] {
    const all = this.projection.policies();
    return clientType ? all.filter((p) => p.clientType === clientType) : all;
  }

  async createPolicy(p: ParsedParamsOf<typeof CreateRateLimitPolicy>, actor: string): Promise<RateLimitPolicy> {
    const id = p.id ?? `pol_${randomUUID().slice(0, 8)}`;
    if (this.projection.policy(id)) throw new RpcError(ErrorCode.Duplicate, `A policy with id "${id}" already exists.`, { kind: 'policy', id });
    this.assertNoTwin(p.clientType, p.endpointPattern);
    this.assertLimits(p);
    const now = this.nowIso();
    const policy: RateLimitPolicy = { ...p, id, createdAt: now, updatedAt: now };
    await this.store.append([{ type: GovernanceEvent.PolicyCreated, actor, payload: { policy } }]);
    return policy;
  }

  async updatePolicy(p: ParsedParamsOf<typeof UpdateRateLimitPolicy>, actor: string): Promise<RateLimitPolicy> {
    const current = this.projection.policy(p.id);
    if (!current) throw notFound('policy', p.id);
    const changes = Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined));
    const next: RateLimitPolicy = { ...current, ...changes, id: current.id, updatedAt: this.nowIso() };
    if (next.clientType !== current.clientType || next.endpointPattern !== current.endpointPattern) {
      this.assertNoTwin(next.clientType, next.endpointPattern, current.id);
    }
    this.assertLimits(next);
    await this.store.append([{ type: GovernanceEvent.PolicyUpdated, actor, payload: { policy: next } }]);
    this.limiter.forgetPolicy(current.id);
    return next;
  }

  async deletePolicy(id: string, actor: string): Promise<void> {
    if (!this.projection.policy(id)) throw notFound('policy', id);
    await this.store.append([{ type: GovernanceEvent.PolicyDeleted, actor, payload: { id } }]);
    this.limiter.forgetPolicy(id);
  }

  checkRateLimit(p: ParsedParamsOf<typeof CheckRateLimit>): ResultOf<typeof CheckRateLimit> {
    return this.limiter.check(matchPolicy(this.projection.policies(), p.clientType, p.endpoint), p.clientId);
  }

  versions(status?: VersionStatus): ApiVersion[] {
    const all = this.projection.versions();
    return status ? all.filter((v) => v.status === status) : all;
  }

  async createVersion(p: ParsedParamsOf<typeof CreateVersion>, actor: string): Promise<ApiVersion> {
    if (this.projection.version(p.version)) {
      throw new RpcError(ErrorCode.Duplicate, `Version "${p.version}" already exists.`, { kind: 'version', id: p.version });
    }
    const version: ApiVersion = { ...p, status: 'active', releasedAt: p.releasedAt ?? this.nowIso() };
    if (version.supportedUntil && Date.parse(version.supportedUntil) <= Date.parse(version.releasedAt!)) {
      throw invalid('supportedUntil', 'must be after releasedAt');
    }
    await this.store.append([{ type: GovernanceEvent.VersionCreated, actor, payload: { version } }]);
    return version;
  }

  async transitionVersion(p: ParsedParamsOf<typeof TransitionVersion>, actor: string): Promise<ApiVersion> {
    const current = this.projection.version(p.version);
    if (!current) throw notFound('version', p.version);
    const allowed = NEXT_STATUS[current.status];
    if (!allowed.includes(p.to)) {
      throw new RpcError(ErrorCode.InvalidTransition, `Version "${p.version}" is ${current.status}; it can move to ${allowed.join(', ') || 'nothing'}, not ${p.to}.`, {
        from: current.status,
        to: p.to,
        allowed,
      });
    }
    if (p.replacement !== undefined && !this.projection.version(p.replacement)) throw notFound('version', p.replacement);
    const at = p.at ?? this.nowIso();
    const next: ApiVersion = { ...current, status: p.to };
    for (const key of ['supportedUntil', 'replacement', 'deprecationLink', 'sunsetLink'] as const) {
      if (p[key] !== undefined) next[key] = p[key];
    }
    if (p.to === 'deprecated') {
      next.deprecatedAt = at;
      if (p.sunsetAt !== undefined) next.sunsetAt = p.sunsetAt;
      if (next.sunsetAt && Date.parse(next.sunsetAt) <= Date.parse(at)) throw invalid('sunsetAt', 'must be after the deprecation date');
    } else {
      if (p.sunsetAt !== undefined) throw invalid('sunsetAt', 'is set when deprecating; moving to sunset uses `at`');
      if (p.to === 'sunset') next.sunsetAt = at;
      if (p.to === 'retired') next.retiredAt = at;
    }
    await this.store.append([
      { type: GovernanceEvent.VersionTransitioned, actor, payload: { name: current.version, from: current.status, to: p.to, version: next } },
    ]);
    return next;
  }

  headersFor(name: string): ResultOf<typeof HeadersFor> {
    const v = this.projection.version(name);
    if (!v) throw notFound('version', name);
    return { version: v.version, status: v.status, ...headersForVersion(v) };
  }

  /** `owasp`: the audit's summary (audit/auditService.ts); `notAudited` when none is given. */
  dashboard(owasp?: ResultOf<typeof GetGovernanceDashboard>['owasp']): ResultOf<typeof GetGovernanceDashboard> {
    const versions = this.projection.versions();
    const byStatus = { active: 0, deprecated: 0, sunset: 0, retired: 0 };
    for (const v of versions) byStatus[v.status]++;
    const policies = this.projection.policies();
    return {
      versions,
      policies,
      counts: {
        versions: byStatus,
        policies: policies.length,
        rateLimitChecks: this.limiter.counts.checks,
        rateLimitDenied: this.limiter.counts.denied,
        rateLimitExceededSoft: this.limiter.counts.exceededSoft,
      },
      owasp: owasp ?? {
        status: 'notAudited',
        score: null,
        message: 'The OWASP API Top 10 contract audit is not available yet; no compliance score is reported until it has run.',
      },
    };
  }

  private assertNoTwin(clientType: string, endpointPattern: string, except?: string): void {
    const twin = this.projection.policies().find((q) => q.id !== except && q.clientType === clientType && q.endpointPattern === endpointPattern);
    if (twin) {
      throw new RpcError(ErrorCode.Duplicate, `Policy "${twin.id}" already covers client type "${clientType}" on "${endpointPattern}".`, {
        kind: 'policy',
        id: twin.id,
      });
    }
  }

  private assertLimits(p: { perMinute: number; perHour: number; perDay: number }): void {
    if (p.perHour < p.perMinute) throw invalid('perHour', 'must be at least perMinute');
    if (p.perDay < p.perHour) throw invalid('perDay', 'must be at least perHour');
  }

  private nowIso(): string {
    return new Date(this.clock.now()).toISOString();
  }
}
