import {
  AddOverride,
  DeletePerson,
  DeleteSchedule,
  DidChangeOncall,
  DidEscalateIncident,
  GetOncallSchedule,
  ListEscalationPolicies,
  ListPeople,
  ListSchedules,
  RemoveOverride,
  UpsertEscalationPolicy,
  UpsertPerson,
  UpsertSchedule,
  WhoIsOnCall,
} from '../../protocol/oncall';
import type { FeatureContext } from '../../server/feature';
import { OutboundHttp } from '../resilience/outbound';
import { NotificationChannels, PAGERDUTY_EVENTS_URL } from './channels';
import { EscalationEngine } from './escalation';
import type { IncidentProjection } from './incidentProjection';
import { OncallEvent, type OncallProjection } from './oncallProjection';
import { OncallService } from './oncallService';

export interface OncallOptions {
  /**
   * Where the outbound settings are read (`process.env` in the daemon):
   * `COGNIFORGE_OUTBOUND_HOSTS` — comma-separated `host` or `host:port` entries pages may be sent to
   * (nothing else is contacted); `COGNIFORGE_PAGERDUTY_EVENTS_URL` — the Events API v2 URL.
   */
  env?: Readonly<Record<string, string | undefined>>;
}

const CHANGE_BY_TYPE: Record<string, { change: 'person' | 'schedule' | 'override' | 'policy'; key: (p: Record<string, unknown>) => unknown }> = {
  [OncallEvent.personUpserted]: { change: 'person', key: (p) => (p.person as { handle?: unknown } | undefined)?.handle },
  [OncallEvent.personDeleted]: { change: 'person', key: (p) => p.handle },
  [OncallEvent.scheduleUpserted]: { change: 'schedule', key: (p) => p.role },
  [OncallEvent.scheduleDeleted]: { change: 'schedule', key: (p) => p.role },
  [OncallEvent.overrideAdded]: { change: 'override', key: (p) => p.role },
  [OncallEvent.overrideRemoved]: { change: 'override', key: (p) => p.role },
  [OncallEvent.policyUpserted]: { change: 'policy', key: (p) => (p.policy as { severity?: unknown } | undefined)?.severity },
};

/** Give `http` the allow-list of `COGNIFORGE_OUTBOUND_HOSTS`; bad entries are logged and skipped. */
export function configureOutboundHosts(http: OutboundHttp, env: Readonly<Record<string, string | undefined>>, warn: (message: string) => void): string[] {
  const hosts: string[] = [];
  for (const entry of (env.COGNIFORGE_OUTBOUND_HOSTS ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    try {
      http.setAllowedHosts([...hosts, entry]);
      hosts.push(entry);
    } catch {
      warn(`COGNIFORGE_OUTBOUND_HOSTS: "${entry}" is not a host or host:port; ignored`);
    }
  }
  http.setAllowedHosts(hosts);
  return hosts;
}

/** On-call, escalation policies and notification channels (`oncall/*`, `escalation/*`), inside the incidents feature. */
export function registerOncall(
  ctx: FeatureContext,
  incidents: IncidentProjection,
  projection: OncallProjection,
  options: OncallOptions,
): EscalationEngine {
  const { router, store, clock, server, scheduler, policies, log } = ctx;
  const env = options.env ?? {};
  const oncall = new OncallService(store, projection, clock);
  const http = new OutboundHttp({ policies, clock, allowedHosts: [], userAgent: 'CogniForge-Incidents' });
  configureOutboundHosts(http, env, (m) => log.warn(m));
  const channels = new NotificationChannels(http, env.COGNIFORGE_PAGERDUTY_EVENTS_URL ?? PAGERDUTY_EVENTS_URL);
  const engine = new EscalationEngine({
    store,
    clock,
    scheduler,
    incidents,
    oncall,
    projection,
    channels,
    notify: (params) => server.notifyAll(DidEscalateIncident, params),
  });
  engine.register();
  router
    .on(ListPeople, () => ({ people: oncall.listPeople() }))
    .on(UpsertPerson, (p, c) => oncall.upsertPerson(p, c.actor))
    .on(DeletePerson, ({ handle }, c) => oncall.deletePerson(handle, c.actor))
    .on(ListSchedules, () => ({ schedules: oncall.listSchedules() }))
    .on(UpsertSchedule, (p, c) => oncall.upsertSchedule(p, c.actor))
    .on(DeleteSchedule, ({ role }, c) => oncall.deleteSchedule(role, c.actor))
    .on(AddOverride, (p, c) => oncall.addOverride(p, c.actor))
    .on(RemoveOverride, (p, c) => oncall.removeOverride(p, c.actor))
    .on(WhoIsOnCall, (p) => oncall.whoIsOnCall(p))
    .on(GetOncallSchedule, (p) => oncall.schedule(p))
    .on(ListEscalationPolicies, () => ({ policies: oncall.listPolicies() }))
    .on(UpsertEscalationPolicy, (p, c) => oncall.upsertPolicy(p, c.actor));
  store.onAppend((events) => {
    for (const e of events) {
      const c = CHANGE_BY_TYPE[e.type];
      const key = c ? c.key((e.payload ?? {}) as Record<string, unknown>) : undefined;
      if (c && typeof key === 'string') server.notifyAll(DidChangeOncall, { change: c.change, key });
    }
  });
  return engine;
}
