import { describe, expect, it } from 'vitest';
import { EventTail } from '../../../../extension/features/events/eventTail';
import {
  buildEventsTree,
  discardQuestion,
  EventsContext,
  headSeqOf,
  type EventsNode,
  type EventsTreeInput,
  type SectionKey,
  type SectionNode,
} from '../../../../extension/features/events/eventsTreeModel';
import { dlqEntry, event, NOW, policy, stream, subscription } from './fixtures';

const ok = <T>(value: T) => ({ ok: true as const, value });

function input(over: Partial<EventsTreeInput> = {}): EventsTreeInput {
  return {
    streams: ok([stream('default', { events: 12, lastSeq: 40 }), stream('api_events', { events: 3, lastSeq: 38, retentionDays: 7 })]),
    subscriptions: ok([]),
    dlq: ok({ entries: [], more: false }),
    policies: ok([]),
    chaos: ok([]),
    tail: new EventTail().snapshot(),
    headSeq: 40,
    nowMs: NOW,
    ...over,
  };
}

const sectionOf = (tree: SectionNode[], key: SectionKey): SectionNode => {
  const s = tree.find((n) => n.key === key);
  if (!s) throw new Error(`no ${key} section`);
  return s;
};
const labels = (nodes: readonly EventsNode[]) => nodes.map((n) => n.label);

describe('buildEventsTree', () => {
  it('has one section per concern, in order, with stable ids', () => {
    const tree = buildEventsTree(input());
    expect(tree.map((s) => s.id)).toEqual(['section:streams', 'section:dlq', 'section:subscriptions', 'section:dependencies', 'section:chaos', 'section:tail']);
    expect(sectionOf(tree, 'streams').description).toBe('2 streams · 15 events');
    expect(labels(sectionOf(tree, 'streams').children)).toEqual(['api_events', 'default']);
  });

  it('explains every empty list instead of leaving it blank', () => {
    const tree = buildEventsTree(input());
    expect(labels(sectionOf(tree, 'tail').children)).toEqual(['Waiting for events…']);
    expect(labels(sectionOf(tree, 'dlq').children)).toEqual(['No dead letters']);
    expect(labels(sectionOf(tree, 'subscriptions').children)).toEqual(['No durable subscriptions']);
    expect(labels(sectionOf(tree, 'dependencies').children)).toEqual(['No outbound dependencies yet']);
    expect(sectionOf(tree, 'dlq').contextValue).toBe(EventsContext.dlqSectionEmpty);
  });

  it('shows a load error in its own section only', () => {
    const tree = buildEventsTree(input({ policies: { ok: false, error: 'Method not found' } }));
    const deps = sectionOf(tree, 'dependencies');
    expect(deps.description).toBe('unavailable');
    expect(deps.children[0]).toMatchObject({ kind: 'message', label: 'Could not load the dependency policies', tooltip: 'Method not found' });
    expect(sectionOf(tree, 'streams').description).toBe('2 streams · 15 events');
  });

  it('lists the live tail newest first with its state and filter, and the pause/resume context', () => {
    const tail = new EventTail();
    tail.push(event(1, { type: 'order.placed' }));
    tail.push(event(2, { type: 'order.paid', priority: 'critical' }));
    tail.setPatterns(['order.*']);
    let section = sectionOf(buildEventsTree(input({ tail: tail.snapshot() })), 'tail');
    expect(section).toMatchObject({ description: 'following · order.*', contextValue: EventsContext.tailFollowing, expanded: true });
    expect(section.children[0]).toMatchObject({ kind: 'tailEvent', seq: 2, label: 'order.paid', description: '#2 · default · 5s ago', icon: { color: 'charts.red' } });
    tail.pause();
    tail.push(event(3, { type: 'order.placed' }));
    section = sectionOf(buildEventsTree(input({ tail: tail.snapshot() })), 'tail');
    expect(section).toMatchObject({ description: 'paused · 1 event missed · order.*', contextValue: EventsContext.tailPaused });
  });

  it('lists dead letters with retry/discard only on parked ones', () => {
    const entries = [dlqEntry('a'), dlqEntry('b', { seq: 9, type: 'order.paid', status: 'retrying' })];
    const section = sectionOf(buildEventsTree(input({ dlq: ok({ entries, more: false }) })), 'dlq');
    expect(section).toMatchObject({ description: '1 parked · 1 retrying', expanded: true, contextValue: EventsContext.dlqSection });
    expect(section.children.map((n) => (n.kind === 'dlqEntry' ? n.contextValue : n.kind))).toEqual([EventsContext.dlqEntry, EventsContext.dlqEntryRetrying]);
    expect(section.children[0]).toMatchObject({ description: '#7 · billing · 3 attempts' });
    expect(section.children[0]!.kind === 'dlqEntry' && section.children[0]!.tooltip).toContain('Reason: cannot ship order');
  });

  it('gives each subscription its lag as head seq minus checkpoint, and its state', () => {
    const subs = [subscription('billing', { checkpoint: 30, consumer: 'conn-1', parked: 1, inFlight: 2 }), subscription('audit', { checkpoint: 40 })];
    const section = sectionOf(buildEventsTree(input({ subscriptions: ok(subs) })), 'subscriptions');
    expect(section.description).toBe('2 subscriptions · lag 10');
    expect(labels(section.children)).toEqual(['audit', 'billing']);
    expect(section.children[0]).toMatchObject({ description: 'lag 0 · detached', icon: { id: 'debug-disconnect' } });
    expect(section.children[1]).toMatchObject({ description: 'lag 10 · attached · 2 in flight · 1 parked', icon: { id: 'broadcast', color: 'charts.orange' } });
  });

  it('shows each dependency with its breaker-state icon and bulkhead usage', () => {
    const policies = [
      policy('vault', 'closed', { active: 2, queued: 1 }),
      policy('webhook:slack', 'open', { breaker: { state: 'open', consecutiveFailures: 5, halfOpenSuccesses: 0, retryAt: '2026-01-01T12:00:30.000Z' } }),
      policy('kafka', 'halfOpen'),
    ];
    const section = sectionOf(buildEventsTree(input({ policies: ok(policies) })), 'dependencies');
    expect(section).toMatchObject({ description: '2 circuits not closed', expanded: true });
    expect(section.children.map((n) => [n.label, n.kind === 'dependency' ? n.icon : undefined])).toEqual([
      ['kafka', { id: 'circle-large-outline', color: 'charts.yellow' }],
      ['vault', { id: 'pass-filled', color: 'charts.green' }],
      ['webhook:slack', { id: 'error', color: 'charts.red' }],
    ]);
    expect(section.children[1]).toMatchObject({ description: 'closed · bulkhead 2/10 · 1 queued' });
    expect(section.children[2]!.kind === 'dependency' && section.children[2]!.tooltip).toContain('circuit open (trial calls 30s from now)');
    expect(sectionOf(buildEventsTree(input({ policies: ok([policy('vault', 'closed')]) })), 'dependencies').description).toBe('1 dependency · all closed');
  });

  it('puts the message broker first, with its outbox lag and, in team mode, its teammates', () => {
    const base = { kind: 'kafka' as const, target: '127.0.0.1:9092 (topics cogniforge.<stream>)', connected: true, outboxLag: 3, lastPublishedSeq: 7, headSeq: 10, publishedSinceStart: 7, since: '2026-01-01T11:00:00.000Z' };
    const team = {
      daemonId: 'alpha',
      topics: ['cogniforge.incident_events'],
      group: 'cogniforge.team.alpha',
      consuming: true,
      imported: 12,
      skipped: 1,
      teammates: [{ daemonId: 'bravo', events: 12, lastEventAt: '2026-01-01T11:59:00.000Z' }],
    };
    const withBroker = (broker: EventsTreeInput['broker']) => sectionOf(buildEventsTree(input({ policies: ok([policy('vault', 'closed')]), broker })), 'dependencies').children;
    const [row] = withBroker({ ...base, team });
    expect(row).toMatchObject({ kind: 'broker', label: 'Broker (kafka)', description: 'connected · outbox lag 3 · team: 1 teammate', icon: { id: 'radio-tower', color: 'charts.green' } });
    expect(row!.kind === 'broker' && row!.tooltip).toContain('bravo: 12 events, newest 1m ago');
    const [down] = withBroker({ ...base, connected: false, lastError: { message: 'ECONNREFUSED', at: '2026-01-01T11:59:30.000Z' } });
    expect(down).toMatchObject({ description: 'unreachable · outbox lag 3', icon: { color: 'charts.red' } });
    expect(down!.kind === 'broker' && down!.tooltip).toContain('Last error 30s ago: ECONNREFUSED');
    expect(labels(withBroker({ ...base, kind: 'in_memory' }))).toEqual(['vault']);
  });
});

describe('headSeqOf and discardQuestion', () => {
  it('takes the highest last seq of any stream', () => {
    expect(headSeqOf([stream('a', { lastSeq: 3 }), stream('b', { lastSeq: 9 })])).toBe(9);
    expect(headSeqOf([])).toBe(0);
  });

  it('names the event, its subscription and the last failure', () => {
    const q = discardQuestion(dlqEntry('a'));
    expect(q.message).toBe('Discard the dead letter "order.placed" (seq 7) of subscription billing?');
    expect(q.detail).toContain('after 3 attempts: cannot ship order');
  });
});
