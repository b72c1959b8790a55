import * as z from 'zod';
import { ApiVersion, PolicyId, RateLimitPolicy, VersionName } from '../../protocol';
import type { EventRecord, Projection } from '../../store/types';

/** Event types of the governance domain; only this feature appends them (`governance.**` is reserved). */
export const GovernanceEvent = {
  DefaultsSeeded: 'governance.defaultsSeeded',
  PolicyCreated: 'governance.policyCreated',
  PolicyUpdated: 'governance.policyUpdated',
  PolicyDeleted: 'governance.policyDeleted',
  VersionCreated: 'governance.versionCreated',
  VersionTransitioned: 'governance.versionTransitioned',
} as const;

export const PolicyEventPayload = z.object({ policy: RateLimitPolicy });
export const PolicyDeletedPayload = z.object({ id: PolicyId });
export const VersionCreatedPayload = z.object({ version: ApiVersion });
/** The whole version after the move, so replay needs no logic. */
export const VersionTransitionedPayload = z.object({ from: z.string(), to: z.string(), name: VersionName, version: ApiVersion });

interface Snapshot {
  seeded: boolean;
  policies: RateLimitPolicy[];
  versions: ApiVersion[];
}

/** Rate-limit policies and API versions, from `governance.*` events. */
export class GovernanceProjection implements Projection {
  readonly name = 'governance';
  private seededFlag = false;
  private readonly policyMap = new Map<string, RateLimitPolicy>();
  private readonly versionMap = new Map<string, ApiVersion>();

  apply(event: EventRecord): void {
    switch (event.type) {
      case GovernanceEvent.DefaultsSeeded:
        this.seededFlag = true;
        return;
      case GovernanceEvent.PolicyCreated:
      case GovernanceEvent.PolicyUpdated: {
        const p = PolicyEventPayload.safeParse(event.payload);
        if (p.success) this.policyMap.set(p.data.policy.id, p.data.policy);
        return;
      }
      case GovernanceEvent.PolicyDeleted: {
        const p = PolicyDeletedPayload.safeParse(event.payload);
        if (p.success) this.policyMap.delete(p.data.id);
        return;
      }
      case GovernanceEvent.VersionCreated: {
        const p = VersionCreatedPayload.safeParse(event.payload);
        if (p.success) this.versionMap.set(p.data.version.version, p.data.version);
        return;
      }
      case GovernanceEvent.VersionTransitioned: {
        const p = VersionTransitionedPayload.safeParse(event.payload);
        if (p.success) this.versionMap.set(p.data.name, p.data.version);
        return;
      }
      default:
    }
  }

  get seeded(): boolean {
    return this.seededFlag;
  }

  policy(id: string): RateLimitPolicy | undefined {
    return this.policyMap.get(id);
  }

  policies(): RateLimitPolicy[] {
    return [...this.policyMap.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  version(name: string): ApiVersion | undefined {
    return this.versionMap.get(name);
  }

  versions(): ApiVersion[] {
    return [...this.versionMap.values()].sort((a, b) => a.version.localeCompare(b.version, 'en', { numeric: true }));
  }

  snapshot(): Snapshot {
    return { seeded: this.seededFlag, policies: this.policies(), versions: this.versions() };
  }

  restore(state: unknown): void {
    this.reset();
    const s = state as Partial<Snapshot> | null;
    if (!s || typeof s !== 'object') return;
    this.seededFlag = s.seeded === true;
    for (const p of s.policies ?? []) this.policyMap.set(p.id, p);
    for (const v of s.versions ?? []) this.versionMap.set(v.version, v);
  }

  reset(): void {
    this.seededFlag = false;
    this.policyMap.clear();
    this.versionMap.clear();
  }
}
