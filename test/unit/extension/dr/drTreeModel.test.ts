import { describe, expect, it } from 'vitest';
import type { Backup, DrRun, PlanStatus, RunStep } from '../../../../daemon/protocol';
import {
  buildDrNodes,
  formatAge,
  formatElapsed,
  planHealth,
  progressMessage,
  runOutcomeMessage,
  waitingManualStep,
} from '../../../../extension/features/dr/drTreeModel';

const NOW = Date.parse('2026-11-27T12:00:00.000Z');
const ago = (ms: number): string => new Date(NOW - ms).toISOString();
const HOUR = 3_600_000;

function planStatus(over: Partial<PlanStatus> = {}): PlanStatus {
  return {
    planId: 'dr_db_001',
    name: 'Database failover',
    strategy: 'warm_standby',
    services: ['orders-db'],
    rtoSeconds: 300,
    rpoSeconds: 3600,
    testEveryDays: 30,
    overdue: true,
    rto: {},
    rpo: { met: false, services: [{ service: 'orders-db', status: 'noVerifiedBackup' }] },
    backups: { unverified: 0, verified: 0, corrupt: 0, missing: 0 },
    ...over,
  };
}

/** A plan drilled successfully 2 h ago in 3.2 s, with a verified backup 30 min old. */
const healthy = planStatus({
  overdue: false,
  lastRun: { id: 'run1', mode: 'drill', status: 'succeeded', startedAt: ago(2 * HOUR), finishedAt: ago(2 * HOUR - 3200) },
  lastDrill: { id: 'run1', status: 'succeeded', startedAt: ago(2 * HOUR) },
  lastSuccessfulTestAt: ago(2 * HOUR - 3200),
  nextTestDueAt: new Date(NOW + 29 * 24 * HOUR).toISOString(),
  rto: { lastActualMs: 3200, met: true },
  rpo: { met: true, services: [{ service: 'orders-db', status: 'met', newestVerifiedBackupId: 'b1', newestVerifiedAt: ago(HOUR / 2), ageMs: HOUR / 2 }] },
  backups: { unverified: 1, verified: 1, corrupt: 0, missing: 0 },
});

function step(over: Partial<RunStep> & Pick<RunStep, 'id' | 'status'>): RunStep {
  return { name: over.id, kind: 'command', ...over };
}

function run(over: Partial<DrRun> = {}): DrRun {
  return {
    id: 'run1',
    planId: 'dr_db_001',
    planName: 'Database failover',
    planVersion: 1,
    mode: 'drill',
    status: 'succeeded',
    startedBy: 'owner',
    startedAt: ago(2 * HOUR),
    finishedAt: ago(2 * HOUR - 3200),
    steps: [
      step({ id: 'promote', name: 'Promote replica', status: 'succeeded', durationMs: 850, exitCode: 0, stdoutTail: 'promoted\n' }),
      step({ id: 'update_dns', name: 'Update DNS', kind: 'manual', status: 'succeeded', durationMs: 2350, confirmedBy: 'owner' }),
    ],
    rto: { objectiveSeconds: 300, actualMs: 3200, met: true },
    ...over,
  };
}

const backup = (over: Partial<Backup>): Backup => ({
  id: 'b1',
  service: 'orders-db',
  location: '/backups/orders.dump',
  createdAt: ago(HOUR / 2),
  sizeBytes: 10,
  sha256: 'a'.repeat(64),
  registeredAt: ago(HOUR / 2),
  registeredBy: 'owner',
  state: 'verified',
  ...over,
});

describe('planHealth', () => {
  it('ranks a run in progress, then never tested, then missed targets, then overdue', () => {
    expect(planHealth(planStatus({ activeRunId: 'r' }))).toBe('running');
    expect(planHealth(planStatus())).toBe('neverTested');
    expect(planHealth({ ...healthy, rto: { lastActualMs: 900_000, met: false } })).toBe('missed');
    expect(planHealth({ ...healthy, rpo: { met: false, services: [] } })).toBe('missed');
    expect(planHealth({ ...healthy, overdue: true })).toBe('overdue');
    expect(planHealth(healthy)).toBe('met');
  });
});

describe('buildDrNodes', () => {
  it('lists past runs under Run history with outcome, age and duration against the RTO', () => {
    const history = [
      run({ id: 'run4', mode: 'failover', status: 'running', startedAt: ago(12_000), finishedAt: undefined, rto: { objectiveSeconds: 300 } }),
      run({ id: 'run3', status: 'succeeded', startedAt: ago(HOUR), finishedAt: ago(HOUR - 400_000), rto: { objectiveSeconds: 300, actualMs: 400_000, met: false } }),
      run({ id: 'run2', status: 'cancelled', startedAt: ago(2 * HOUR), finishedAt: ago(2 * HOUR - 5_000), reason: 'aborted by owner', rto: { objectiveSeconds: 300 } }),
      run(),
    ];
    const [node] = buildDrNodes([healthy], new Map([['dr_db_001', history[0]!]]), [], NOW, new Map([['dr_db_001', history]]));
    const historyRow = node?.children.find((c) => c.label === 'Run history');
    expect(historyRow?.description).toBe('last 4 · 1 within RTO');
    expect(historyRow?.children.map((c) => [c.label, c.description, c.icon.id])).toEqual([
      ['Failover running', 'just now · 12s so far of 5m RTO', 'sync~spin'],
      ['Drill succeeded', '1h ago · took 6m 40s of 5m RTO (missed)', 'pass'],
      ['Drill cancelled', '2h ago · stopped after 5.0s, RTO not measured', 'circle-slash'],
      ['Drill succeeded', '2h ago · took 3.2s of 5m RTO (met)', 'pass'],
    ]);
    expect(historyRow?.children[2]?.tooltip).toContain('Outcome: cancelled (aborted by owner)');
    expect(historyRow?.children[3]?.tooltip).toContain('Steps: 2/2 done');
  });

  it('describes a never-drilled plan as overdue with no run and an unproven RPO', () => {
    const [node] = buildDrNodes([planStatus()], new Map(), [], NOW);
    expect(node?.health).toBe('neverTested');
    expect(node?.description).toBe('never drilled · overdue · RPO unproven');
    expect(node?.contextValue).toBe('drPlan idle');
    expect(node?.tooltip).toContain('RTO: target 5m · not measured yet');
    expect(node?.tooltip).toContain('orders-db: no verified backup');
    expect(node?.children.map((c) => [c.label, c.description])).toEqual([
      ['No run yet', 'start a drill to measure the RTO'],
      ['Run history', 'no runs yet'],
      ['Backups', 'none registered · RPO not met'],
    ]);
  });

  it('shows the last drill, its steps with outcome and duration, and the backups per service', () => {
    const [node] = buildDrNodes([healthy], new Map([['dr_db_001', run()]]), [backup({}), backup({ id: 'b2', state: 'unverified' }), backup({ id: 'other', service: 'web' })], NOW);
    expect(node?.icon).toEqual({ id: 'pass', color: 'testing.iconPassed' });
    expect(node?.description).toBe('drill succeeded 2h ago');
    expect(node?.tooltip).toContain('RTO: target 5m · last measured 3.2s (met)');
    expect(node?.tooltip).toContain('orders-db: newest verified backup 30m old vs 1h (met)');
    const [runRow, , backupsRow] = node?.children ?? [];
    expect(runRow?.description).toBe('succeeded 2h ago · RTO 3.2s of 5m');
    expect(runRow?.children.map((c) => [c.label, c.description])).toEqual([
      ['1. Promote replica', 'done · 850 ms'],
      ['2. Update DNS', 'done · 2.3s · by owner'],
    ]);
    expect(runRow?.children[0]?.tooltip).toContain('stdout:\npromoted');
    expect(backupsRow?.description).toBe('1 verified · 1 unverified · RPO met');
    expect(backupsRow?.children.map((c) => [c.label, c.description])).toEqual([['orders-db', 'newest verified 30m ago · RPO met']]);
    // Only this plan's services' backups are listed.
    expect(backupsRow?.children[0]?.tooltip).not.toContain('other');
  });

  it('names the failing step and its error, and marks a running plan', () => {
    const failed = run({
      status: 'failed',
      steps: [step({ id: 'promote', status: 'failed', durationMs: 12_500, exitCode: 3, error: 'exit code 3, expected 0' }), step({ id: 'update_dns', status: 'skipped' })],
      rto: { objectiveSeconds: 300 },
    });
    const [node] = buildDrNodes(
      [{ ...healthy, activeRunId: 'run2', lastDrill: { id: 'run1', status: 'failed', startedAt: ago(HOUR) }, rto: { met: false } }],
      new Map([['dr_db_001', failed]]),
      [],
      NOW,
    );
    expect(node?.health).toBe('running');
    expect(node?.contextValue).toBe('drPlan running');
    expect(node?.description).toBe('run in progress · drill failed 1h ago · RTO missed');
    expect(node?.children[0]?.children.map((c) => c.description)).toEqual(['failed · 12s · exit code 3, expected 0', 'skipped']);
  });

  it('sorts plans by name with ids stable across refreshes', () => {
    const nodes = buildDrNodes([planStatus({ planId: 'z', name: 'Zeta' }), planStatus({ planId: 'a', name: 'Alpha' })], new Map(), [], NOW);
    expect(nodes.map((n) => n.id)).toEqual(['dr:a', 'dr:z']);
  });
});

describe('run progress', () => {
  it('reports the current step and finds the manual step the run waits on', () => {
    const waiting = run({
      status: 'waiting',
      currentStep: 1,
      steps: [step({ id: 'promote', status: 'succeeded' }), step({ id: 'update_dns', name: 'Update DNS', kind: 'manual', status: 'waiting' })],
    });
    expect(progressMessage(waiting)).toBe('Step 2/2: Update DNS (waiting for you)');
    expect(waitingManualStep(waiting)?.id).toBe('update_dns');
    expect(waitingManualStep(run())).toBeUndefined();
  });

  it('ends with the measured RTO against the objective', () => {
    expect(runOutcomeMessage(run())).toEqual({ level: 'info', text: 'Drill of "Database failover" succeeded: RTO 3.2s, within the 5m objective.' });
    expect(runOutcomeMessage(run({ rto: { objectiveSeconds: 1, actualMs: 3200, met: false } })).level).toBe('warning');
    const failed = runOutcomeMessage(run({ status: 'failed', steps: [step({ id: 'promote', name: 'Promote replica', status: 'failed', error: 'timed out' })] }));
    expect(failed).toEqual({ level: 'error', text: 'Drill of "Database failover" failed at step "Promote replica": timed out. RTO objective 5m not met.' });
    expect(runOutcomeMessage(run({ status: 'cancelled', reason: 'cancelled from the editor' })).text).toBe('Drill of "Database failover" cancelled: cancelled from the editor.');
  });
});

describe('formatting', () => {
  it('formats step durations and ages', () => {
    expect(formatElapsed(42)).toBe('42 ms');
    expect(formatElapsed(4_250)).toBe('4.2s');
    expect(formatElapsed(185_000)).toBe('3m 5s');
    expect(formatAge(ago(10_000), NOW)).toBe('just now');
    expect(formatAge(ago(26 * HOUR), NOW)).toBe('1d 2h ago');
  });
});
