import type { BreakerState, BrokerStatus, ChaosExperiment, DependencyStats, DlqEntry, DurableSubscriptionInfo, StreamInfo } from '../../../daemon/protocol';
import { formatBytes, formatCount, formatDuration } from '../../../webview/protocol/format';
import { experimentRows } from './chaosModel';
import type { TailSnapshot } from './eventTail';

export interface StreamNode {
  readonly kind: 'stream';
  /** Stable across refreshes, so VS Code keeps expansion and selection. */
  readonly id: string;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  /** For `view/item/context` menus. */
  readonly contextValue: 'cogniforge.stream';
  readonly children: readonly StreamDetailNode[];
}

export interface StreamDetailNode {
  readonly kind: 'detail';
  readonly id: string;
  readonly label: string;
  readonly description: string;
  readonly icon: 'history' | 'symbol-event' | 'clock';
}

/** Streams by name with their counts and a few details; `nowMs` makes "last event … ago". */
export function buildStreamNodes(streams: readonly StreamInfo[], nowMs: number): StreamNode[] {
  return [...streams]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((s) => {
      const events = `${formatCount(s.events)} event${s.events === 1 ? '' : 's'}`;
      const retention = s.retentionDays === null ? 'kept forever' : `${s.retentionDays} day${s.retentionDays === 1 ? '' : 's'}`;
      const types = s.typePatterns.length > 0 ? s.typePatterns.join(', ') : 'events no other stream claims';
      const children: StreamDetailNode[] = [
        { kind: 'detail', id: `stream:${s.name}:retention`, label: 'Retention', description: retention, icon: 'history' },
        { kind: 'detail', id: `stream:${s.name}:types`, label: 'Event types', description: types, icon: 'symbol-event' },
      ];
      if (s.lastTime !== undefined) {
        const at = Date.parse(s.lastTime);
        const ago = Number.isNaN(at) ? s.lastTime : `${formatDuration(Math.max(0, nowMs - at))} ago`;
        children.push({ kind: 'detail', id: `stream:${s.name}:last`, label: 'Last event', description: `seq ${s.lastSeq}, ${ago}`, icon: 'clock' });
      }
      return {
        kind: 'stream',
        id: `stream:${s.name}`,
        label: s.name,
        description: `${events} · ${formatBytes(s.bytes)}`,
        tooltip: [`Stream ${s.name}`, `${events}, ${formatBytes(s.bytes)} on disk`, `Retention: ${retention}`, `Types: ${types}`].join('\n'),
        contextValue: 'cogniforge.stream',
        children,
      };
    });
}

// ---------------------------------------------------------------- the whole view

/** A codicon id and an optional theme colour id (`charts.red`). */
export interface NodeIcon {
  readonly id: string;
  readonly color?: string;
}

/** A list the daemon answered, or why it could not. */
export type Loaded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

export type SectionKey = 'streams' | 'tail' | 'dlq' | 'subscriptions' | 'dependencies' | 'chaos';

/**
 * Context values for `view/item/context` menus. Tail and DLQ-section values carry state words that
 * package.json matches with regular expressions (`viewItem =~ /tail\.following/`).
 */
export const EventsContext = {
  tailFollowing: 'cogniforge.tail.following',
  tailPaused: 'cogniforge.tail.paused',
  dlqSection: 'cogniforge.dlqSection',
  dlqSectionEmpty: 'cogniforge.dlqSection.empty',
  subscriptionsSection: 'cogniforge.subscriptionsSection',
  tailEvent: 'cogniforge.tailEvent',
  dlqEntry: 'cogniforge.dlqEntry',
  dlqEntryRetrying: 'cogniforge.dlqEntry.retrying',
  subscription: 'cogniforge.subscription',
  dependency: 'cogniforge.dependency',
  dependencyOpen: 'cogniforge.dependency.open',
  chaosSection: 'cogniforge.chaosSection',
  experimentRunning: 'cogniforge.experiment.running',
  experimentFinished: 'cogniforge.experiment.finished',
} as const;

export interface SectionNode {
  readonly kind: 'section';
  readonly key: SectionKey;
  readonly id: string;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  readonly icon: NodeIcon;
  readonly contextValue?: string;
  /** Open on first show: the sections a user came for. */
  readonly expanded: boolean;
  readonly children: readonly EventsNode[];
}

/** A placeholder row: an empty list's explanation or a load error. */
export interface MessageNode {
  readonly kind: 'message';
  readonly id: string;
  readonly label: string;
  readonly tooltip: string;
  readonly icon: NodeIcon;
}

export interface TailEventNode {
  readonly kind: 'tailEvent';
  readonly id: string;
  readonly seq: number;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  readonly icon: NodeIcon;
  readonly contextValue: string;
}

export interface DlqNode {
  readonly kind: 'dlqEntry';
  readonly id: string;
  readonly entry: DlqEntry;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  readonly icon: NodeIcon;
  readonly contextValue: string;
}

export interface SubscriptionNode {
  readonly kind: 'subscription';
  readonly id: string;
  readonly name: string;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  readonly icon: NodeIcon;
  readonly contextValue: string;
}

export interface DependencyNode {
  readonly kind: 'dependency';
  readonly id: string;
  readonly dependency: string;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  readonly icon: NodeIcon;
  readonly contextValue: string;
}

/** The message broker the outbox publishes to (and, in team mode, reads teammates from). */
export interface BrokerNode {
  readonly kind: 'broker';
  readonly id: string;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  readonly icon: NodeIcon;
  readonly contextValue?: undefined;
}

export interface ExperimentNode {
  readonly kind: 'experiment';
  readonly id: string;
  readonly experimentId: string;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  readonly icon: NodeIcon;
  readonly contextValue: string;
}

export type EventsNode = SectionNode | StreamNode | StreamDetailNode | MessageNode | TailEventNode | DlqNode | SubscriptionNode | DependencyNode | BrokerNode | ExperimentNode;

export interface EventsTreeInput {
  readonly streams: Loaded<readonly StreamInfo[]>;
  readonly subscriptions: Loaded<readonly DurableSubscriptionInfo[]>;
  /** Parked and retrying entries; `more` when the page did not hold them all. */
  readonly dlq: Loaded<{ readonly entries: readonly DlqEntry[]; readonly more: boolean }>;
  readonly policies: Loaded<readonly DependencyStats[]>;
  /** Absent while it did not load (the dependencies still show). */
  readonly broker?: BrokerStatus;
  /** Running and recent chaos experiments. */
  readonly chaos: Loaded<readonly ChaosExperiment[]>;
  readonly tail: TailSnapshot;
  /** Last seq in the log, for subscription lag; undefined when the streams did not load. */
  readonly headSeq?: number;
  readonly nowMs: number;
}

const plural = (n: number, word: string): string => `${formatCount(n)} ${word}${n === 1 ? '' : 's'}`;

const ago = (iso: string, nowMs: number): string => {
  const at = Date.parse(iso);
  return Number.isNaN(at) ? iso : `${formatDuration(Math.max(0, nowMs - at))} ago`;
};

const errorNode = (section: SectionKey, what: string, error: string): MessageNode => ({
  kind: 'message',
  id: `${section}:error`,
  label: `Could not load ${what}`,
  tooltip: error,
  icon: { id: 'error', color: 'errorForeground' },
});

const emptyNode = (section: SectionKey, label: string, tooltip: string): MessageNode => ({
  kind: 'message',
  id: `${section}:empty`,
  label,
  tooltip,
  icon: { id: 'info' },
});

/** Highest seq over all streams: the head of the log. */
export function headSeqOf(streams: readonly StreamInfo[]): number {
  return streams.reduce((max, s) => Math.max(max, s.lastSeq), 0);
}

/** Lag of a subscription: head of the log minus its checkpoint (an upper bound of what is left to deliver). */
export function subscriptionLag(sub: DurableSubscriptionInfo, headSeq: number | undefined): number {
  return headSeq === undefined ? sub.lag : Math.max(0, headSeq - sub.checkpoint);
}

function section(key: SectionKey, label: string, description: string, tooltip: string, icon: string, children: readonly EventsNode[], extra: { expanded?: boolean; contextValue?: string } = {}): SectionNode {
  return { kind: 'section', key, id: `section:${key}`, label, description, tooltip, icon: { id: icon }, expanded: extra.expanded ?? true, contextValue: extra.contextValue, children };
}

function streamsSection(input: EventsTreeInput): SectionNode {
  if (!input.streams.ok) return section('streams', 'Streams', 'unavailable', input.streams.error, 'database', [errorNode('streams', 'the streams', input.streams.error)]);
  const streams = input.streams.value;
  const total = streams.reduce((n, s) => n + s.events, 0);
  const children: EventsNode[] =
    streams.length > 0 ? buildStreamNodes(streams, input.nowMs) : [emptyNode('streams', 'No streams configured', 'The daemon has no event streams.')];
  return section('streams', 'Streams', `${plural(streams.length, 'stream')} · ${plural(total, 'event')}`, 'Streams of the event log with their counts and retention.', 'database', children, {
    expanded: false,
  });
}

/** `api.request` · `#42 · api_events · 3s ago`. */
function tailSection(input: EventsTreeInput): SectionNode {
  const { tail, nowMs } = input;
  const filter = tail.patterns.length > 0 ? tail.patterns.join(', ') : 'all types';
  const state = tail.paused ? `paused${tail.missed > 0 ? ` · ${plural(tail.missed, 'event')} missed` : ''}` : 'following';
  const children: EventsNode[] = tail.events.map((e) => ({
    kind: 'tailEvent',
    id: `tail:${e.seq}`,
    seq: e.seq,
    label: e.type,
    description: `#${e.seq} · ${e.stream} · ${ago(e.time, nowMs)}`,
    tooltip: [`${e.type} (seq ${e.seq})`, `Stream: ${e.stream}`, `Time: ${e.time}`, `Actor: ${e.actor}`, ...(e.correlationId ? [`Correlation: ${e.correlationId}`] : []), 'Click to inspect.'].join('\n'),
    icon: { id: e.priority === 'critical' || e.priority === 'high' ? 'circle-filled' : 'circle-outline', color: e.priority === 'critical' ? 'charts.red' : e.priority === 'high' ? 'charts.orange' : undefined },
    contextValue: EventsContext.tailEvent,
  }));
  if (children.length === 0) {
    children.push(
      emptyNode(
        'tail',
        tail.paused ? 'Paused: resume to follow new events' : tail.patterns.length > 0 ? `Waiting for events of type ${filter}…` : 'Waiting for events…',
        `New events appear here as they are appended (the newest ${tail.limit} are kept).`,
      ),
    );
  }
  return section(
    'tail',
    'Live Tail',
    `${state} · ${filter}`,
    `The newest ${tail.limit} events as they are appended${tail.patterns.length > 0 ? `, of type ${filter}` : ''}. ${tail.paused ? 'Paused.' : 'Following.'}`,
    tail.paused ? 'debug-pause' : 'pulse',
    children,
    { expanded: true, contextValue: tail.paused ? EventsContext.tailPaused : EventsContext.tailFollowing },
  );
}

function dlqSection(input: EventsTreeInput): SectionNode {
  if (!input.dlq.ok) return section('dlq', 'Dead Letters', 'unavailable', input.dlq.error, 'inbox', [errorNode('dlq', 'the dead-letter queue', input.dlq.error)]);
  const { entries, more } = input.dlq.value;
  const parked = entries.filter((e) => e.status === 'parked').length;
  const children: EventsNode[] = entries.map((entry) => {
    const retrying = entry.status === 'retrying';
    return {
      kind: 'dlqEntry',
      id: `dlq:${entry.id}`,
      entry,
      label: entry.type,
      description: `${retrying ? 'retrying · ' : ''}#${entry.seq} · ${entry.subscription} · ${plural(entry.attempts, 'attempt')}`,
      tooltip: [
        `${entry.type} (seq ${entry.seq}) on stream ${entry.stream}`,
        `Subscription: ${entry.subscription}`,
        `Reason: ${entry.reason}`,
        `Attempts: ${entry.attempts}`,
        `Parked ${ago(entry.parkedAt, input.nowMs)} (${entry.parkedAt})`,
        retrying ? 'Handed back to the consumer; waiting for its ack.' : 'Retry hands it back to the subscription once; Discard drops it.',
      ].join('\n'),
      icon: retrying ? { id: 'sync', color: 'charts.blue' } : { id: 'warning', color: 'charts.orange' },
      contextValue: retrying ? EventsContext.dlqEntryRetrying : EventsContext.dlqEntry,
    };
  });
  if (children.length === 0) {
    children.push(emptyNode('dlq', 'No dead letters', 'An event a subscription keeps failing to handle lands here after its last retry, with the reason.'));
  }
  const count = `${formatCount(parked)}${more ? '+' : ''} parked`;
  return section('dlq', 'Dead Letters', entries.length > parked ? `${count} · ${formatCount(entries.length - parked)} retrying` : count, 'Events parked after their last failed delivery.', 'inbox', children, {
    // Expanded from the start: VS Code keeps a row's first expansion state, so a section that opened
    // collapsed while empty would stay shut when dead letters arrive.
    expanded: true,
    contextValue: parked > 0 ? EventsContext.dlqSection : EventsContext.dlqSectionEmpty,
  });
}

function subscriptionsSection(input: EventsTreeInput): SectionNode {
  if (!input.subscriptions.ok) {
    return section('subscriptions', 'Subscriptions', 'unavailable', input.subscriptions.error, 'broadcast', [errorNode('subscriptions', 'the subscriptions', input.subscriptions.error)]);
  }
  const subs = [...input.subscriptions.value].sort((a, b) => a.name.localeCompare(b.name));
  const children: EventsNode[] = subs.map((s) => {
    const lag = subscriptionLag(s, input.headSeq);
    const attached = s.consumer !== undefined;
    const state = attached ? (s.parked > 0 ? 'attached, with dead letters' : 'attached') : 'no consumer';
    const filter = [...(s.filter.types ?? []), ...(s.filter.streams ?? []).map((x) => `stream ${x}`)].join(', ') || 'every event';
    const parts = [`lag ${formatCount(lag)}`, attached ? 'attached' : 'detached'];
    if (s.inFlight > 0) parts.push(`${formatCount(s.inFlight)} in flight`);
    if (s.parked > 0) parts.push(`${formatCount(s.parked)} parked`);
    return {
      kind: 'subscription',
      id: `subscription:${s.name}`,
      name: s.name,
      label: s.name,
      description: parts.join(' · '),
      tooltip: [
        `Subscription ${s.name}: ${state}`,
        `Filter: ${filter}`,
        `Checkpoint: seq ${s.checkpoint}; lag ${lag} (head minus checkpoint)`,
        `In flight: ${s.inFlight} of at most ${s.maxInFlight}; ack timeout ${formatDuration(s.ackTimeoutMs)}; ${s.maxAttempts} attempts`,
        `Created by ${s.createdBy} ${ago(s.createdAt, input.nowMs)}`,
      ].join('\n'),
      icon: !attached ? { id: 'debug-disconnect' } : s.parked > 0 ? { id: 'broadcast', color: 'charts.orange' } : { id: 'broadcast', color: 'charts.green' },
      contextValue: EventsContext.subscription,
    };
  });
  if (children.length === 0) {
    children.push(emptyNode('subscriptions', 'No durable subscriptions', 'A client process creates one with subscribe(name, filter, handler) from the client library; it shows here with its lag.'));
  }
  const totalLag = subs.reduce((n, s) => n + subscriptionLag(s, input.headSeq), 0);
  return section('subscriptions', 'Subscriptions', subs.length === 0 ? 'none' : `${plural(subs.length, 'subscription')} · lag ${formatCount(totalLag)}`, 'Durable named subscriptions with their checkpoint and lag.', 'broadcast', children, {
    expanded: true,
    contextValue: EventsContext.subscriptionsSection,
  });
}

const BREAKER: Record<BreakerState, { icon: NodeIcon; words: string }> = {
  closed: { icon: { id: 'pass-filled', color: 'charts.green' }, words: 'closed' },
  halfOpen: { icon: { id: 'circle-large-outline', color: 'charts.yellow' }, words: 'half-open' },
  open: { icon: { id: 'error', color: 'charts.red' }, words: 'open' },
};

/** `closed · bulkhead 2/10 · 1 queued`. */
function dependenciesSection(input: EventsTreeInput): SectionNode {
  if (!input.policies.ok) return section('dependencies', 'Dependencies', 'unavailable', input.policies.error, 'plug', [errorNode('dependencies', 'the dependency policies', input.policies.error)]);
  const policies = [...input.policies.value].sort((a, b) => a.dependency.localeCompare(b.dependency));
  const children: EventsNode[] = policies.map((p) => {
    const breaker = BREAKER[p.breaker.state];
    const parts = [breaker.words, `bulkhead ${p.active}/${p.config.maxConcurrent}`];
    if (p.queued > 0) parts.push(`${formatCount(p.queued)} queued`);
    if (p.faultInjection) parts.push('chaos');
    const retryAt = p.breaker.retryAt ? ` (trial calls ${formatDuration(Math.max(0, Date.parse(p.breaker.retryAt) - input.nowMs))} from now)` : '';
    return {
      kind: 'dependency',
      id: `dependency:${p.dependency}`,
      dependency: p.dependency,
      label: p.dependency,
      description: parts.join(' · '),
      tooltip: [
        `${p.dependency}: circuit ${breaker.words}${p.breaker.state === 'open' ? retryAt : ''}`,
        `Bulkhead: ${p.active} of ${p.config.maxConcurrent} running, ${p.queued} of ${p.config.maxQueue} queued`,
        `Calls: ${formatCount(p.successes)} ok, ${formatCount(p.failures)} failed, ${formatCount(p.rejected)} rejected, ${formatCount(p.timedOut)} timed out, ${formatCount(p.shortCircuited)} short-circuited`,
        `Breaker opens after ${p.config.breaker.failureThreshold} consecutive failures (now ${p.breaker.consecutiveFailures}); timeout ${formatDuration(p.config.timeoutMs)}`,
        ...(p.lastTransition ? [`Last transition: ${BREAKER[p.lastTransition.from].words} → ${BREAKER[p.lastTransition.to].words} ${ago(p.lastTransition.at, input.nowMs)}: ${p.lastTransition.reason}`] : []),
        ...(p.faultInjection ? ['A chaos experiment is injecting faults.'] : []),
      ].join('\n'),
      icon: breaker.icon,
      contextValue: p.breaker.state === 'closed' ? EventsContext.dependency : EventsContext.dependencyOpen,
    };
  });
  const broker = input.broker && input.broker.kind !== 'in_memory' ? brokerNode(input.broker, input.nowMs) : undefined;
  if (broker) children.unshift(broker);
  if (children.length === 0) {
    children.push(emptyNode('dependencies', 'No outbound dependencies yet', 'Each outbound dependency of the daemon (Vault, AWS, brokers, webhooks, runbooks) shows here once it is used.'));
  }
  const open = policies.filter((p) => p.breaker.state !== 'closed').length;
  return section(
    'dependencies',
    'Dependencies',
    policies.length === 0 ? 'none' : open > 0 ? `${plural(open, 'circuit')} not closed` : `${formatCount(policies.length)} ${policies.length === 1 ? 'dependency' : 'dependencies'} · all closed`,
    'Outbound dependency policies: circuit breaker state and bulkhead usage.',
    'plug',
    children,
    { expanded: true },
  );
}

/** `connected · outbox lag 0 · team: 2 teammates`: where events go and, in team mode, who they come from. */
export function brokerNode(b: BrokerStatus, nowMs: number): BrokerNode {
  const parts = [b.connected ? 'connected' : 'unreachable', `outbox lag ${formatCount(b.outboxLag)}`];
  const lines = [`${b.kind} at ${b.target ?? '?'}`, `${b.connected ? 'Connected' : 'Unreachable'} since ${ago(b.since, nowMs)}`, `Outbox: ${formatCount(b.outboxLag)} event(s) to publish, up to seq ${b.lastPublishedSeq} of ${b.headSeq}`];
  if (b.lastError) lines.push(`Last error ${ago(b.lastError.at, nowMs)}: ${b.lastError.message}`);
  const t = b.team;
  if (t) {
    parts.push(`team: ${t.consuming ? plural(t.teammates.length, 'teammate') : 'not reading'}`);
    lines.push(
      `Team mode as ${t.daemonId} (group ${t.group}): ${t.consuming ? 'reading' : 'not reading'} ${t.topics.join(', ')}`,
      `Since start: ${formatCount(t.imported)} teammates' events applied, ${formatCount(t.skipped)} not shared`,
      ...t.teammates.map((m) => `  ${m.daemonId}: ${formatCount(m.events)} events, newest ${ago(m.lastEventAt, nowMs)}`),
    );
    if (t.lastError) lines.push(`Team: last error ${ago(t.lastError.at, nowMs)}: ${t.lastError.message}`);
  }
  const healthy = b.connected && (t === undefined || t.consuming);
  return {
    kind: 'broker',
    id: 'dependency:broker',
    label: `Broker (${b.kind})`,
    description: parts.join(' · '),
    tooltip: lines.join('\n'),
    icon: healthy ? { id: 'radio-tower', color: 'charts.green' } : { id: 'radio-tower', color: 'charts.red' },
  };
}

/** Running chaos experiments (with a Stop action) and the last few finished ones with their results. */
function chaosSection(input: EventsTreeInput): SectionNode {
  if (!input.chaos.ok) return section('chaos', 'Chaos Experiments', 'unavailable', input.chaos.error, 'flame', [errorNode('chaos', 'the chaos experiments', input.chaos.error)], { contextValue: EventsContext.chaosSection });
  const rows = experimentRows(input.chaos.value, input.nowMs);
  const children: EventsNode[] = rows.map((r) => ({
    kind: 'experiment',
    id: r.id,
    experimentId: r.experimentId,
    label: r.label,
    description: r.description,
    tooltip: r.tooltip,
    icon: r.icon,
    contextValue: r.running ? EventsContext.experimentRunning : EventsContext.experimentFinished,
  }));
  if (children.length === 0) {
    children.push(emptyNode('chaos', 'No chaos experiments yet', 'Start Chaos Experiment… injects latency, errors, timeouts, partitions or bulkhead exhaustion into one daemon dependency for a bounded time.'));
  }
  const running = rows.filter((r) => r.running).length;
  return section('chaos', 'Chaos Experiments', running > 0 ? `${running} running` : 'none running', 'Fault experiments on the daemon\'s own dependencies.', 'flame', children, {
    // Open from the start: VS Code remembers a section's first state by id, so a section first seen
    // empty and collapsed would hide the experiment started later.
    expanded: true,
    contextValue: EventsContext.chaosSection,
  });
}

/**
 * The Events & Resilience tree, top level: one section per concern. The live tail comes last: it is
 * the long list, and the tree only renders the rows in view, so above it would push the rest out.
 * Chaos experiments follow the dependencies they act on.
 */
export function buildEventsTree(input: EventsTreeInput): SectionNode[] {
  return [streamsSection(input), dlqSection(input), subscriptionsSection(input), dependenciesSection(input), chaosSection(input), tailSection(input)];
}

/** The modal question before a DLQ entry is dropped for good, naming the event. */
export function discardQuestion(entry: DlqEntry): { message: string; detail: string } {
  return {
    message: `Discard the dead letter "${entry.type}" (seq ${entry.seq}) of subscription ${entry.subscription}?`,
    detail: `Last failure after ${plural(entry.attempts, 'attempt')}: ${entry.reason}\nThe event stays in the log, but ${entry.subscription} will not be handed it again. This cannot be undone.`,
  };
}
