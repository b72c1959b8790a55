import {
  CompareContracts,
  CompareReports,
  CreateDeprecationPolicy,
  DeleteDeprecationPolicy,
  DidDetectBreakingChange,
  GetNotificationChannels,
  ListDeprecationPolicies,
  SetNotificationChannels,
  UpdateDeprecationPolicy,
  type ApiVersion,
} from '../../../protocol';
import type { FeatureContext } from '../../../server/feature';
import { configureOutboundHosts } from '../../incidents/oncallFeature';
import { OutboundHttp } from '../../resilience/outbound';
import { BreakingChangeNotifier } from './breakingChangeNotifier';
import type { CompareProjection } from './compareProjection';
import { CompareService, noRouteUsage, type RouteUsageLookup } from './compareService';

export interface CompareOptions {
  /** Callers per operation (the SLO service's request samples); none by default. */
  routeUsage?: RouteUsageLookup;
  /** `COGNIFORGE_OUTBOUND_HOSTS` allow-lists the hosts notices may be sent to (as for incident pages). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** `governance/compare`, its reports and notices, and deprecation policies. */
export function registerCompare(ctx: FeatureContext, projection: CompareProjection, versions: () => readonly ApiVersion[], options: CompareOptions): CompareService {
  const { router, store, clock, server, policies, log } = ctx;
  const http = new OutboundHttp({ policies, clock, allowedHosts: [], userAgent: 'CogniForge-Governance' });
  configureOutboundHosts(http, options.env ?? {}, (m) => log.warn(m));
  const compare = new CompareService({
    store,
    projection,
    clock,
    versions,
    routeUsage: options.routeUsage ?? noRouteUsage,
    notify: (params) => server.notifyAll(DidDetectBreakingChange, params),
    notifier: new BreakingChangeNotifier(http),
    warn: (m) => log.warn(m),
  });
  router
    .on(CompareContracts, (p, c) => compare.compare(p, c.actor))
    .on(CompareReports, ({ document, limit }) => ({ reports: compare.reports(document, limit) }))
    .on(SetNotificationChannels, async ({ channels }, c) => ({ channels: await compare.setChannels(channels, c.actor) }))
    .on(GetNotificationChannels, () => ({ channels: compare.channels() }))
    .on(ListDeprecationPolicies, ({ path }) => ({ policies: compare.policies(path) }))
    .on(CreateDeprecationPolicy, (p, c) => compare.createPolicy(p, c.actor))
    .on(UpdateDeprecationPolicy, (p, c) => compare.updatePolicy(p, c.actor))
    .on(DeleteDeprecationPolicy, async ({ id }, c) => {
      await compare.deletePolicy(id, c.actor);
      return { ok: true as const };
    });
  return compare;
}
