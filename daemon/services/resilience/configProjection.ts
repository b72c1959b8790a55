import { PolicyConfiguredPayload, ResilienceEventType, type PolicyOverrides } from '../../protocol';
import type { EventRecord, Projection } from '../../store/types';

/** Each dependency's policy overrides, from `resilience.policyConfigured` (the latest wins). */
export class PolicyConfigProjection implements Projection {
  readonly name = 'resilienceConfig';
  private readonly overrides = new Map<string, PolicyOverrides>();

  apply(event: EventRecord): void {
    if (event.type !== ResilienceEventType.PolicyConfigured) return;
    const p = PolicyConfiguredPayload.safeParse(event.payload);
    if (!p.success) return;
    if (Object.keys(p.data.overrides).length === 0) this.overrides.delete(p.data.dependency);
    else this.overrides.set(p.data.dependency, p.data.overrides);
  }

  get(dependency: string): PolicyOverrides | undefined {
    const o = this.overrides.get(dependency);
    return o && structuredClone(o);
  }

  all(): [string, PolicyOverrides][] {
    return [...this.overrides.entries()].map(([k, v]) => [k, structuredClone(v)]);
  }

  snapshot(): Record<string, PolicyOverrides> {
    return Object.fromEntries(this.overrides);
  }

  restore(state: unknown): void {
    this.reset();
    for (const [k, v] of Object.entries((state ?? {}) as Record<string, PolicyOverrides>)) this.overrides.set(k, v);
  }

  reset(): void {
    this.overrides.clear();
  }
}

/** `patch` over `base`, one level deep for `retry` and `breaker`. */
export function mergeOverrides(base: PolicyOverrides, patch: PolicyOverrides): PolicyOverrides {
  const merged: PolicyOverrides = { ...base, ...patch };
  if (base.retry || patch.retry) merged.retry = { ...base.retry, ...patch.retry };
  if (base.breaker || patch.breaker) merged.breaker = { ...base.breaker, ...patch.breaker };
  return merged;
}
