import { ListPolicies } from '../../protocol';
import type { Router } from '../../server/router';
import type { DependencyPolicies } from './policies';

/** Serve the resilience queries (`resilience/policies`). */
export function registerResilience(router: Router, policies: DependencyPolicies): void {
  router.on(ListPolicies, ({ dependency }) => ({ policies: policies.stats(dependency) }));
}
