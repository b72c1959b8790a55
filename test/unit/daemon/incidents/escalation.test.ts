import { describe, expect, it } from 'vitest';
import { ErrorCode, RpcError } from '../../../../daemon/protocol';
import type { IncidentStatus } from '../../../../daemon/protocol/incidents';
import type { ContactMethod, Person } from '../../../../daemon/protocol/oncall';
import type { DeliveryResult, PageMessage, PageSender } from '../../../../daemon/services/incidents/channels';
import { EscalationEngine } from '../../../../daemon/services/incidents/escalation';
import { IncidentProjection } from '../../../../daemon/services/incidents/incidentProjection';
import { IncidentService } from '../../../../daemon/services/incidents/incidentService';
import { OncallProjection } from '../../../../daemon/services/incidents/oncallProjection';
import { OncallService } from '../../../../daemon/services/incidents/oncallService';
import { Scheduler, SchedulerProjection } from '../../../../daemon/services/scheduler';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { MemoryEventLog } from '../support/memoryStore';

const MIN = 60_000;
const START = Date.parse('2026-04-01T10:00:00Z');

class RecordingSender implements PageSender {
  readonly sent: { person: string; channel: string; action: string; level: number }[] = [];
  failFor = new Set<string>();
  /** Never answers for these people: the daemon "crashes" while paging them. */
  hangFor = new Set<string>();
  send(contact: ContactMethod, person: Person, msg: PageMessage): Promise<DeliveryResult> {
    this.sent.push({ person: person.handle, channel: contact.channel, action: msg.action, level: msg.level });
    if (this.hangFor.has(person.handle)) return new Promise<DeliveryResult>(() => undefined);
    if (this.failFor.has(person.handle)) return Promise.resolve({ outcome: 'failed', host: 'relay.test', status: 500, error: 'relay answered 500' });
    return Promise.resolve({ outcome: 'delivered', host: 'relay.test', status: 200 });
  }
}

/** One daemon run on a shared log: projections, services, scheduler and engine. */
function boot(log: MemoryEventLog, clock: ManualClock, sender: RecordingSender) {
  const incidentsProjection = new IncidentProjection();
  const oncallProjection = new OncallProjection();
  const schedulerProjection = new SchedulerProjection();
  const store = log.open({ clock, projections: [schedulerProjection, incidentsProjection, oncallProjection] });
  const scheduler = new Scheduler({ store, clock, projection: schedulerProjection });
  const incidents = new IncidentService(store, incidentsProjection, clock);
  const oncall = new OncallService(store, oncallProjection, clock);
  const escalated: number[] = [];
  const engine = new EscalationEngine({
    store,
    clock,
    scheduler,
    incidents: incidentsProjection,
    oncall,
    projection: oncallProjection,
    channels: sender,
    notify: (p) => escalated.push(p.level),
  });
  engine.register();
  scheduler.start();
  return { store, scheduler, incidents, oncall, engine, escalated, incidentsProjection, oncallProjection };
}

const webhook = (handle: string): ContactMethod => ({ channel: 'webhook', url: `http://relay.test/${handle}` });
const pd: ContactMethod = { channel: 'pagerduty', routingKey: 'R0123456789ABCDEF0123456789ABCDE' };

async function setUp(run: ReturnType<typeof boot>) {
  for (const handle of ['alice', 'bob', 'carol']) {
    await run.oncall.upsertPerson({ handle, name: handle.toUpperCase(), timeZone: 'Europe/Berlin', contacts: [webhook(handle), pd] }, 'owner');
  }
  const layer = (members: string[]) => ({ name: 'main', members, startDate: '2026-03-30', handoffTime: '09:00', timeZone: 'Europe/Berlin', turn: { count: 1, unit: 'weeks' as const } });
  await run.oncall.upsertSchedule({ role: 'primary', layers: [layer(['alice'])] }, 'owner');
  await run.oncall.upsertSchedule({ role: 'secondary', layers: [layer(['bob'])] }, 'owner');
  await run.oncall.upsertPolicy(
    {
      severity: 'SEV2',
      levels: [
        { delayMinutes: 0, targets: [{ role: 'primary' }], channels: ['webhook', 'pagerduty'] },
        { delayMinutes: 10, targets: [{ role: 'secondary' }], channels: ['webhook'] },
        { delayMinutes: 20, targets: [{ person: 'carol' }], channels: ['webhook'] },
      ],
    },
    'owner',
  );
}

async function createIncident(run: ReturnType<typeof boot>) {
  const inc = await run.incidents.create(
    { title: 'API down', description: '', severity: 'SEV2', detectedBy: { kind: 'monitor', name: 'probe' }, services: ['api'], roles: {}, linkedSlos: [] },
    'owner',
  );
  await run.engine.afterCreate(inc, 'owner');
  return inc;
}

/** The RpcError a command rejects with (fails the test when it resolves). */
async function refusal(p: Promise<unknown>): Promise<RpcError> {
  const outcome = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(outcome instanceof RpcError)) throw new Error('expected the command to be refused with an RpcError');
  return outcome;
}

async function settle(run: ReturnType<typeof boot>) {
  for (let i = 0; i < 5; i++) {
    await run.scheduler.idle();
    await new Promise((r) => setImmediate(r));
  }
}

describe('escalation engine', () => {
  it('pages level 1 at creation and level 2 at its delay while unacknowledged, with every attempt on the timeline', async () => {
    const clock = new ManualClock(START);
    const sender = new RecordingSender();
    const run = boot(new MemoryEventLog(), clock, sender);
    await setUp(run);
    const inc = await createIncident(run);
    await settle(run);
    expect(sender.sent).toEqual([
      { person: 'alice', channel: 'webhook', action: 'trigger', level: 1 },
      { person: 'alice', channel: 'pagerduty', action: 'trigger', level: 1 },
    ]);
    clock.advance(10 * MIN - 1);
    await settle(run);
    expect(sender.sent).toHaveLength(2);
    clock.advance(1);
    await settle(run);
    expect(sender.sent.slice(2)).toEqual([{ person: 'bob', channel: 'webhook', action: 'trigger', level: 2 }]);
    expect(run.escalated).toEqual([1, 2]);
    const timeline = run.incidents.get(inc.id).timeline.map((t) => `${t.kind}: ${t.text}`);
    expect(timeline).toContain('escalation: escalation level 2: role:secondary → bob');
    expect(timeline).toContain('page: page to bob via webhook (relay.test): delivered');
  });

  it('does not page level 2 once acknowledged, and tells PagerDuty about the acknowledgement and resolution', async () => {
    const clock = new ManualClock(START);
    const sender = new RecordingSender();
    const run = boot(new MemoryEventLog(), clock, sender);
    await setUp(run);
    const inc = await createIncident(run);
    await settle(run);
    clock.advance(5 * MIN);
    await run.incidents.transition({ id: inc.id, to: 'acknowledged' }, 'alice');
    await run.engine.afterTransition(inc.id, 'detected', 'acknowledged', 'alice');
    await settle(run);
    clock.advance(30 * MIN);
    await settle(run);
    expect(sender.sent.map((s) => `${s.person}/${s.channel}/${s.action}`)).toEqual([
      'alice/webhook/trigger',
      'alice/pagerduty/trigger',
      'alice/pagerduty/acknowledge',
    ]);
    expect(run.scheduler.pending({ kind: 'incidents.escalate' })).toEqual([]);
    await run.incidents.transition({ id: inc.id, to: 'resolved' }, 'alice');
    await run.engine.afterTransition(inc.id, 'acknowledged', 'resolved', 'alice');
    await settle(run);
    expect(sender.sent.at(-1)).toMatchObject({ person: 'alice', channel: 'pagerduty', action: 'resolve' });
    const timeline = run.incidents.get(inc.id).timeline.map((t) => t.text);
    expect(timeline).toContain('escalation stopped (moved to acknowledged); level 2, 3 cancelled');
  });

  it('fires a level missed while the daemon was down once, late, on the next start', async () => {
    const log = new MemoryEventLog();
    const clock = new ManualClock(START);
    const sender = new RecordingSender();
    const first = boot(log, clock, sender);
    await setUp(first);
    const inc = await createIncident(first);
    await settle(first);
    await first.scheduler.stop();
    // Down from minute 0 to minute 15: level 2 (due at 10) is missed; level 3 (due at 20) is not yet due.
    clock.set(START + 15 * MIN);
    const second = boot(log, clock, sender);
    await settle(second);
    expect(sender.sent.filter((s) => s.level === 2)).toEqual([{ person: 'bob', channel: 'webhook', action: 'trigger', level: 2 }]);
    const late = second.incidents.get(inc.id).timeline.filter((t) => t.text.startsWith('escalation level 2'));
    expect(late).toHaveLength(1);
    expect(late[0]!.text).toContain('late');
    // Another restart does not page level 2 again; level 3 comes at its time.
    await second.scheduler.stop();
    const third = boot(log, clock, sender);
    await settle(third);
    expect(sender.sent.filter((s) => s.level === 2)).toHaveLength(1);
    clock.advance(5 * MIN);
    await settle(third);
    expect(sender.sent.filter((s) => s.level === 3).map((s) => s.person)).toEqual(['carol']);
  });

  it('pages again after a crash in the middle of paging (at-least-once), without recording the level twice', async () => {
    const log = new MemoryEventLog();
    const clock = new ManualClock(START);
    const sender = new RecordingSender();
    sender.hangFor.add('alice');
    const first = boot(log, clock, sender);
    await setUp(first);
    const inc = await createIncident(first);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(sender.sent.map((s) => s.person)).toEqual(['alice', 'alice']);
    // The first run never finishes (no stop): the next start finds level 1 fired but not done.
    sender.hangFor.clear();
    const second = boot(log, clock, sender);
    await settle(second);
    expect(sender.sent.map((s) => `${s.person}/${s.channel}`)).toEqual(['alice/webhook', 'alice/pagerduty', 'alice/webhook', 'alice/pagerduty']);
    const timeline = second.incidents.get(inc.id).timeline.map((t) => t.text);
    expect(timeline.filter((t) => t.startsWith('escalation level 1'))).toHaveLength(1);
    expect(timeline.filter((t) => t.startsWith('page to alice'))).toHaveLength(2);
  });

  it("pages the incident's own commander for an incident_commander target, else whoever is on call for that role", async () => {
    const clock = new ManualClock(START);
    const sender = new RecordingSender();
    const run = boot(new MemoryEventLog(), clock, sender);
    await setUp(run);
    await run.oncall.upsertPolicy({ severity: 'SEV3', levels: [{ delayMinutes: 0, targets: [{ role: 'incident_commander' }, { role: 'secondary' }], channels: ['webhook'] }] }, 'owner');
    const inc = await run.incidents.create(
      { title: 'Slow', description: '', severity: 'SEV3', detectedBy: { kind: 'person', name: 'x' }, services: [], roles: { incidentCommander: 'carol' }, linkedSlos: [] },
      'owner',
    );
    await run.engine.afterCreate(inc, 'owner');
    await settle(run);
    expect(sender.sent.map((s) => s.person)).toEqual(['carol', 'bob']);
    expect(run.incidents.get(inc.id).timeline.map((t) => t.text)).toContain('escalation level 1: role:incident_commander → carol, role:secondary → bob');
  });

  it('records a failed delivery and a person without a matching contact method without stopping the escalation', async () => {
    const clock = new ManualClock(START);
    const sender = new RecordingSender();
    sender.failFor.add('alice');
    const run = boot(new MemoryEventLog(), clock, sender);
    await setUp(run);
    await run.oncall.upsertPerson({ handle: 'bob', name: 'Bob', timeZone: 'UTC', contacts: [pd] }, 'owner');
    const inc = await createIncident(run);
    await settle(run);
    clock.advance(10 * MIN);
    await settle(run);
    const texts = run.incidents.get(inc.id).timeline.map((t) => t.text);
    expect(texts).toContain('page to alice via webhook (relay.test) failed: relay answered 500');
    expect(texts).toContain('page to bob via none failed: bob has no contact method for webhook');
    expect(run.escalated).toEqual([1, 2]);
  });

  it('uses the built-in policies until one is upserted, and refuses bad policies and unknown people', async () => {
    const clock = new ManualClock(START);
    const run = boot(new MemoryEventLog(), clock, new RecordingSender());
    const sev1 = run.oncall.policy('SEV1');
    expect(sev1.isDefault).toBe(true);
    expect(sev1.levels.map((l) => [l.delayMinutes, l.targets])).toEqual([
      [0, [{ role: 'primary' }]],
      [5, [{ role: 'secondary' }, { role: 'incident_commander' }]],
      [15, [{ role: 'escalation' }, { role: 'technical_lead' }]],
    ]);
    const missing = await refusal(run.oncall.upsertPolicy({ severity: 'SEV3', levels: [{ delayMinutes: 0, targets: [{ person: 'ghost' }], channels: ['slack'] }] }, 'owner'));
    expect(missing.code).toBe(ErrorCode.NotFound);
    expect(missing.message).toContain('levels.0.targets.0.person');
    expect(run.oncall.policy('SEV3').isDefault).toBe(true);
  });
});

describe('escalation edge cases (ManualClock, across restarts)', () => {
  async function transition(run: ReturnType<typeof boot>, id: string, from: IncidentStatus, to: IncidentStatus, actor = 'alice') {
    await run.incidents.transition({ id, to }, actor);
    await run.engine.afterTransition(id, from, to, actor);
    await settle(run);
  }
  const triggers = (sender: RecordingSender) => sender.sent.filter((s) => s.action === 'trigger').map((s) => `L${s.level}:${s.person}/${s.channel}`);

  it('an acknowledgement after level 2 paged cancels level 3 only, and nothing pages after a restart', async () => {
    const log = new MemoryEventLog();
    const clock = new ManualClock(START);
    const sender = new RecordingSender();
    const first = boot(log, clock, sender);
    await setUp(first);
    const inc = await createIncident(first);
    clock.advance(12 * MIN);
    await settle(first);
    expect(triggers(sender)).toEqual(['L1:alice/webhook', 'L1:alice/pagerduty', 'L2:bob/webhook']);
    // Bob, paged at level 2, acknowledges.
    await transition(first, inc.id, 'detected', 'acknowledged', 'bob');
    expect(first.scheduler.pending({ kind: 'incidents.escalate' })).toEqual([]);
    expect(first.incidents.get(inc.id).timeline.map((t) => t.text)).toContain('escalation stopped (moved to acknowledged); level 3 cancelled');
    // Finished levels are not kept for redelivery.
    expect(first.oncallProjection.snapshot().fired).toEqual([]);
    await first.scheduler.stop();
    clock.advance(60 * MIN);
    const second = boot(log, clock, sender);
    await settle(second);
    expect(triggers(sender)).toEqual(['L1:alice/webhook', 'L1:alice/pagerduty', 'L2:bob/webhook']);
    expect(second.incidents.get(inc.id).acknowledgedAt).toBe(new Date(START + 12 * MIN).toISOString());
  });

  it('a move straight from detected to resolved stops escalation like an acknowledgement', async () => {
    const clock = new ManualClock(START);
    const sender = new RecordingSender();
    const run = boot(new MemoryEventLog(), clock, sender);
    await setUp(run);
    const inc = await createIncident(run);
    await settle(run);
    clock.advance(2 * MIN);
    await transition(run, inc.id, 'detected', 'resolved');
    clock.advance(60 * MIN);
    await settle(run);
    expect(triggers(sender)).toEqual(['L1:alice/webhook', 'L1:alice/pagerduty']);
    // PagerDuty hears the acknowledgement the move implies, once: the resolve is the action sent.
    expect(sender.sent.filter((s) => s.action !== 'trigger').map((s) => s.action)).toEqual(['resolve']);
    expect(run.incidents.get(inc.id).acknowledgedAt).toBe(new Date(START + 2 * MIN).toISOString());
  });

  it('reopening (resolved → investigating) keeps the acknowledgement and does not page again, before or after a restart', async () => {
    const log = new MemoryEventLog();
    const clock = new ManualClock(START);
    const sender = new RecordingSender();
    const first = boot(log, clock, sender);
    await setUp(first);
    const inc = await createIncident(first);
    await settle(first);
    clock.advance(3 * MIN);
    await transition(first, inc.id, 'detected', 'acknowledged');
    clock.advance(3 * MIN);
    await transition(first, inc.id, 'acknowledged', 'resolved');
    clock.advance(3 * MIN);
    await transition(first, inc.id, 'resolved', 'investigating');
    const reopened = first.incidents.get(inc.id);
    expect(reopened.status).toBe('investigating');
    expect(reopened.acknowledgedAt).toBe(new Date(START + 3 * MIN).toISOString());
    expect(reopened.resolvedAt).toBeUndefined();
    expect(first.scheduler.pending({ kind: 'incidents.escalate' })).toEqual([]);
    await first.scheduler.stop();
    clock.advance(60 * MIN);
    const second = boot(log, clock, sender);
    await settle(second);
    expect(triggers(sender)).toEqual(['L1:alice/webhook', 'L1:alice/pagerduty']);
    // Resolving again tells PagerDuty again.
    await transition(second, inc.id, 'investigating', 'resolved');
    expect(sender.sent.filter((s) => s.action === 'resolve')).toHaveLength(2);
  });

  it('an acknowledgement recorded before a crash cancels the levels even when the daemon died before cancelling them', async () => {
    const log = new MemoryEventLog();
    const clock = new ManualClock(START);
    const sender = new RecordingSender();
    const first = boot(log, clock, sender);
    await setUp(first);
    const inc = await createIncident(first);
    await settle(first);
    // The transition is durable, the crash comes before afterTransition cancels the timers.
    await first.incidents.transition({ id: inc.id, to: 'acknowledged' }, 'alice');
    await first.scheduler.stop();
    clock.advance(60 * MIN);
    const second = boot(log, clock, sender);
    await settle(second);
    // Levels 2 and 3 fire late, find the incident acknowledged and page nobody.
    expect(triggers(sender)).toEqual(['L1:alice/webhook', 'L1:alice/pagerduty']);
    expect(second.scheduler.pending({ kind: 'incidents.escalate' })).toEqual([]);
  });
});

describe('on-call service', () => {
  it('refuses overlapping overrides, unknown members and deleting a person in use', async () => {
    const clock = new ManualClock(START);
    const run = boot(new MemoryEventLog(), clock, new RecordingSender());
    await setUp(run);
    const seq = run.store.lastSeq;
    const unknown = await refusal(
      run.oncall.upsertSchedule({ role: 'primary', layers: [{ name: 'x', members: ['alice', 'zed'], startDate: '2026-01-01', handoffTime: '09:00', timeZone: 'UTC', turn: { count: 1, unit: 'days' } }] }, 'owner'),
    );
    expect(unknown.message).toContain('layers.0.members.1');
    await run.oncall.addOverride({ role: 'primary', person: 'bob', from: '2026-04-02T00:00:00Z', to: '2026-04-03T00:00:00Z' }, 'owner');
    const overlap = await refusal(run.oncall.addOverride({ role: 'primary', person: 'carol', from: '2026-04-02T12:00:00Z', to: '2026-04-04T00:00:00Z' }, 'owner'));
    expect(overlap.code).toBe(ErrorCode.Conflict);
    const inUse = await refusal(run.oncall.deletePerson('alice', 'owner'));
    expect(inUse.code).toBe(ErrorCode.FailedPrecondition);
    expect(inUse.message).toContain('schedule primary');
    expect(run.store.lastSeq).toBe(seq + 1);
    expect(run.oncall.whoIsOnCall({ role: 'primary', at: '2026-04-02T06:00:00Z' }).oncall[0]).toMatchObject({ person: 'bob', from: '2026-04-02T00:00:00.000Z', to: '2026-04-03T00:00:00.000Z' });
  });
});
