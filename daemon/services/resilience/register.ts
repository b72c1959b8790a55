import { ListPolicies } from '../../protocol';
import type { Router } from '../../server/router';
import type { DependencyPolicies } from './policies';

/** Serve the resilience query (`resilience/policies`): the daemon's policies and the client-reported ones. */
export function registerResilience(router: Router, policies: DependencyPolicies): void {
  router.on(ListPolicies, ({ dependency }) => ({ policies: policies.stats(dependency), reported: policies.reported.list(dependency) }));
}
