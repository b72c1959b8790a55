import { describe, expect, it } from 'vitest';
import type { ChaosExperiment } from '../../../../daemon/protocol';
import { experimentRows, FINISHED_SHOWN, parseExperimentDuration, parseFaultRate, parseLatencyMs } from '../../../../extension/features/events/chaosModel';
import { buildEventsTree, EventsContext, type EventsTreeInput } from '../../../../extension/features/events/eventsTreeModel';
import { EventTail } from '../../../../extension/features/events/eventTail';
import { NOW, policy } from './fixtures';

const iso = (offsetMs: number) => new Date(NOW + offsetMs).toISOString();

function experiment(id: string, over: Partial<ChaosExperiment> = {}): ChaosExperiment {
  return {
    id,
    dependency: 'notify:webhook',
    fault: 'error',
    rate: 0.5,
    durationMs: 300_000,
    parameters: {},
    state: 'running',
    startedAt: iso(-60_000),
    endsAt: iso(240_000),
    startedBy: 'owner',
    results: { calls: 10, callsAffected: 4, breakerTrips: 1, callerErrors: 6 },
    ...over,
  };
}

const tree = (over: Partial<EventsTreeInput>) =>
  buildEventsTree({
    streams: { ok: true, value: [] },
    subscriptions: { ok: true, value: [] },
    dlq: { ok: true, value: { entries: [], more: false } },
    policies: { ok: true, value: [] },
    chaos: { ok: true, value: [] },
    tail: new EventTail().snapshot(),
    nowMs: NOW,
    ...over,
  });

describe('chaos input parsers', () => {
  it('reads durations in s/m/h and refuses zero, junk and more than 24 h', () => {
    expect(parseExperimentDuration('90s')).toEqual({ ok: true, value: 90_000 });
    expect(parseExperimentDuration(' 5m ')).toEqual({ ok: true, value: 300_000 });
    expect(parseExperimentDuration('24h')).toEqual({ ok: true, value: 86_400_000 });
    expect(parseExperimentDuration('0s').ok).toBe(false);
    expect(parseExperimentDuration('25h')).toMatchObject({ ok: false, message: expect.stringMatching(/At most/) });
    expect(parseExperimentDuration('5 minutes')).toMatchObject({ ok: false, message: expect.stringMatching(/90s, 5m or 2h/) });
  });

  it('reads rates as percentages or fractions in (0, 1]', () => {
    expect(parseFaultRate('50%')).toEqual({ ok: true, value: 0.5 });
    expect(parseFaultRate('0.25')).toEqual({ ok: true, value: 0.25 });
    expect(parseFaultRate('1')).toEqual({ ok: true, value: 1 });
    expect(parseFaultRate('0%').ok).toBe(false);
    expect(parseFaultRate('150%').ok).toBe(false);
    expect(parseFaultRate('half').ok).toBe(false);
  });

  it('reads latency in whole ms within the daemon bounds', () => {
    expect(parseLatencyMs('500')).toEqual({ ok: true, value: 500 });
    expect(parseLatencyMs('0').ok).toBe(false);
    expect(parseLatencyMs('600001').ok).toBe(false);
    expect(parseLatencyMs('1.5').ok).toBe(false);
  });
});

describe('chaos section', () => {
  it('lists running experiments first (soonest end first) with a Stop context, then the newest finished', () => {
    const finished = Array.from({ length: FINISHED_SHOWN + 2 }, (_, i) =>
      experiment(`f${i}`, { state: 'finished', endReason: i === 0 ? 'stopped' : 'duration', stoppedBy: i === 0 ? 'alice' : undefined, finishedAt: iso(-1000 * (i + 1)) }),
    );
    const rows = experimentRows([...finished, experiment('late', { endsAt: iso(600_000) }), experiment('soon', { endsAt: iso(30_000), fault: 'latency', parameters: { latencyMs: 250 } })], NOW);
    expect(rows.map((r) => r.experimentId)).toEqual(['soon', 'late', 'f0', 'f1', 'f2', 'f3', 'f4']);
    expect(rows[0]).toMatchObject({ running: true, label: 'Latency on notify:webhook', description: '30s left · 4 affected' });
    expect(rows[0]!.tooltip).toContain('at 50%, +250 ms latency');
    expect(rows[2]).toMatchObject({ running: false, description: 'stopped · 6 caller errors' });
    expect(rows[2]!.tooltip).toContain('(by alice)');
    expect(rows[2]!.tooltip).toContain('4 of 10 calls affected · 6 caller errors · 1 breaker trip');
  });

  it('does not claim a rate for a network partition', () => {
    const [row] = experimentRows([experiment('p', { fault: 'network_partition', rate: 1 })], NOW);
    expect(row!.tooltip.split('\n')[0]).toBe('Network partition on notify:webhook for 5m');
  });

  it('sits after Dependencies, starts open, and explains an empty list and a load error', () => {
    const running = tree({ chaos: { ok: true, value: [experiment('x')] } });
    const section = running.find((s) => s.key === 'chaos')!;
    expect(running.map((s) => s.key)).toEqual(['streams', 'dlq', 'subscriptions', 'dependencies', 'chaos', 'tail']);
    expect(section).toMatchObject({ description: '1 running', expanded: true, contextValue: EventsContext.chaosSection });
    expect(section.children[0]).toMatchObject({ kind: 'experiment', experimentId: 'x', contextValue: EventsContext.experimentRunning });

    const empty = tree({}).find((s) => s.key === 'chaos')!;
    expect(empty).toMatchObject({ description: 'none running', expanded: true });
    expect(empty.children[0]).toMatchObject({ kind: 'message', label: 'No chaos experiments yet' });

    const failed = tree({ chaos: { ok: false, error: 'Method not found' } }).find((s) => s.key === 'chaos')!;
    expect(failed.children[0]).toMatchObject({ kind: 'message', label: 'Could not load the chaos experiments', tooltip: 'Method not found' });
  });

  it('offers Reset Breaker only on dependencies whose circuit is not closed', () => {
    const deps = tree({ policies: { ok: true, value: [policy('vault', 'closed'), policy('kafka', 'open')] } }).find((s) => s.key === 'dependencies')!;
    const ctx = Object.fromEntries(deps.children.map((n) => [n.label, 'contextValue' in n ? n.contextValue : undefined]));
    expect(ctx).toEqual({ kafka: EventsContext.dependencyOpen, vault: EventsContext.dependency });
  });
});
