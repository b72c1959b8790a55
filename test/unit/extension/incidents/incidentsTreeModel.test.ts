import { describe, expect, it } from 'vitest';
import type { Incident, IncidentSummary } from '../../../../daemon/protocol';
import {
  buildIncidentDetails,
  buildIncidentNode,
  buildIncidentTree,
  contextValueOf,
  hasOpenIncidents,
  RECENTLY_RESOLVED_LIMIT,
  urgentBadge,
} from '../../../../extension/features/incidents/incidentsTreeModel';

const NOW = Date.parse('2026-03-01T12:00:00.000Z');
const minutesAgo = (m: number): string => new Date(NOW - m * 60_000).toISOString();

let seq = 0;
const summary = (over: Partial<IncidentSummary> = {}): IncidentSummary => {
  seq++;
  return {
    id: `0190f0e0-0000-7000-8000-${String(seq).padStart(12, '0')}`,
    number: `INC-${seq}`,
    title: `Incident ${seq}`,
    severity: 'SEV3',
    status: 'detected',
    services: [],
    detectedAt: minutesAgo(10),
    ...over,
  };
};

describe('buildIncidentTree', () => {
  it('groups open incidents by severity with SEV1 on top, newest first inside a group', () => {
    const older = summary({ severity: 'SEV2', detectedAt: minutesAgo(60) });
    const newer = summary({ severity: 'SEV2', detectedAt: minutesAgo(5) });
    const sev1 = summary({ severity: 'SEV1', status: 'investigating' });
    const sev4 = summary({ severity: 'SEV4', status: 'acknowledged' });
    const tree = buildIncidentTree([sev4, older, newer, sev1], NOW);
    expect(tree.map((g) => g.label)).toEqual(['SEV1 · Critical', 'SEV2 · Major', 'SEV4 · Low']);
    expect(tree[1]?.children.map((c) => c.number)).toEqual([newer.number, older.number]);
    expect(tree[1]?.description).toBe('2 open');
    expect(tree.every((g) => g.expanded)).toBe(true);
  });

  it('puts resolved and closed incidents in one collapsed "Recently resolved" group, latest first and capped', () => {
    const many = Array.from({ length: RECENTLY_RESOLVED_LIMIT + 5 }, (_, i) =>
      summary({ status: i % 2 === 0 ? 'resolved' : 'closed', resolvedAt: minutesAgo(100 - i), ...(i % 2 === 1 ? { closedAt: minutesAgo(100 - i) } : {}) }),
    );
    const open = summary({ severity: 'SEV3' });
    const tree = buildIncidentTree([...many, open], NOW);
    expect(tree.map((g) => g.id)).toEqual(['group:SEV3', 'group:resolved']);
    const resolved = tree[1];
    expect(resolved?.expanded).toBe(false);
    expect(resolved?.children).toHaveLength(RECENTLY_RESOLVED_LIMIT);
    expect(resolved?.children[0]?.number).toBe(many.at(-1)?.number);
    expect(hasOpenIncidents(tree)).toBe(true);
    expect(hasOpenIncidents(buildIncidentTree(many, NOW))).toBe(false);
  });

  it('shows an incident once even when two pages both list it', () => {
    const inc = summary();
    const tree = buildIncidentTree([inc, { ...inc }], NOW);
    expect(tree[0]?.children).toHaveLength(1);
  });

  it('is empty without incidents, so the view shows its welcome', () => {
    expect(buildIncidentTree([], NOW)).toEqual([]);
  });
});

describe('buildIncidentNode', () => {
  it('labels the row with number and title, status and age in the description, severity colour on the status icon', () => {
    const node = buildIncidentNode(summary({ number: 'INC-42', title: 'Checkout 502', severity: 'SEV1', status: 'acknowledged', detectedAt: minutesAgo(93) }), NOW);
    expect(node.label).toBe('INC-42 Checkout 502');
    expect(node.description).toBe('acknowledged · 1h 33m');
    expect(node.icon).toEqual({ id: 'eye', color: 'charts.red' });
  });

  it('puts assignee, services and times in the tooltip', () => {
    const node = buildIncidentNode(
      summary({ number: 'INC-7', assignee: 'alice', services: ['checkout', 'payments'], status: 'acknowledged', acknowledgedAt: minutesAgo(2) }),
      NOW,
    );
    expect(node.tooltip).toContain('Assignee: alice');
    expect(node.tooltip).toContain('Services: checkout, payments');
    expect(node.tooltip).toContain(`Acknowledged: ${minutesAgo(2)} (2m ago)`);
    expect(node.tooltip).not.toContain('Resolved:');
  });

  it('describes a resolved incident by how long ago it was resolved', () => {
    const node = buildIncidentNode(summary({ status: 'resolved', severity: 'SEV2', resolvedAt: minutesAgo(3) }), NOW);
    expect(node.description).toBe('resolved 3m ago · SEV2');
    expect(node.icon).toEqual({ id: 'pass', color: undefined });
  });
});

describe('contextValueOf', () => {
  const words = (status: IncidentSummary['status']): string[] => contextValueOf({ status }).split(' ');
  it('offers acknowledge only on detected incidents', () => {
    expect(words('detected')).toContain('canAcknowledge');
    expect(words('acknowledged')).not.toContain('canAcknowledge');
  });
  it('offers resolve on open incidents only, and no change at all once closed', () => {
    expect(words('resolving')).toEqual(expect.arrayContaining(['incident', 'status-resolving', 'open', 'canResolve', 'canChange']));
    expect(words('resolved')).toEqual(['incident', 'status-resolved', 'done', 'canChange']);
    expect(words('closed')).toEqual(['incident', 'status-closed', 'done']);
  });
});

describe('urgentBadge', () => {
  it('counts open SEV1 and SEV2 incidents only', () => {
    const badge = urgentBadge([
      summary({ severity: 'SEV1' }),
      summary({ severity: 'SEV2', status: 'identified' }),
      summary({ severity: 'SEV2', status: 'resolved' }),
      summary({ severity: 'SEV3' }),
    ]);
    expect(badge).toEqual({ value: 2, tooltip: '2 open SEV1/SEV2 incidents' });
  });
  it('is absent when nothing urgent is open', () => {
    expect(urgentBadge([summary({ severity: 'SEV4' }), summary({ severity: 'SEV1', status: 'closed' })])).toBeUndefined();
  });
});

describe('buildIncidentDetails', () => {
  it('lists people, services and the timeline oldest first with who and when', () => {
    const inc: Incident = {
      ...summary({ number: 'INC-9', services: ['api'], assignee: 'bob' }),
      description: '',
      detectedBy: { kind: 'person', name: 'bob' },
      roles: { incidentCommander: 'carol' },
      linkedSlos: [],
      hasReview: false,
      timeline: [
        { at: minutesAgo(10), actor: 'e2e', kind: 'created', text: 'created as SEV3' },
        { at: minutesAgo(4), actor: 'alice', kind: 'transition', text: 'detected → acknowledged', from: 'detected', to: 'acknowledged' },
      ],
    };
    const nodes = buildIncidentDetails(inc, NOW);
    expect(nodes.map((n) => n.label)).toEqual(['Assignee', 'Services', 'created as SEV3', 'detected → acknowledged']);
    expect(nodes[0]?.description).toBe('bob · IC carol');
    expect(nodes[3]?.description).toBe('alice · 4m ago');
    expect(new Set(nodes.map((n) => n.id)).size).toBe(nodes.length);
  });

  it('shows, in team mode, where a teammate’s incident came from and which daemon pages for it', () => {
    const base: Incident = { ...summary({}), description: '', detectedBy: { kind: 'person', name: 'bob' }, roles: {}, linkedSlos: [], hasReview: false, timeline: [] };
    const team = buildIncidentDetails({ ...base, createdOn: 'alpha', escalationOwner: 'bravo' }, NOW).find((n) => n.label === 'Team');
    expect(team?.description).toBe('from alpha · escalation on bravo');
    expect(buildIncidentDetails({ ...base, escalationOwner: 'bravo' }, NOW).find((n) => n.label === 'Team')?.description).toBe('escalation on bravo');
    expect(buildIncidentDetails({ ...base, createdOn: 'alpha' }, NOW).find((n) => n.label === 'Team')?.description).toBe('from alpha · escalation on this daemon');
    expect(buildIncidentDetails(base, NOW).some((n) => n.label === 'Team')).toBe(false);
  });
});
