import type { Backup, DrRun, PlanStatus, RunMode, RunStatus, RunStep, StepStatus } from '../../../daemon/protocol';
import { formatDuration } from '../../../webview/protocol/format';

/** A theme icon id and the theme colour id it is drawn in (undefined: the default foreground). */
export interface NodeIcon {
  readonly id: string;
  readonly color?: string;
}

/** A node of the Disaster Recovery tree; the provider turns it into a TreeItem. */
export type DrNode = DrPlanNode | DrDetailNode;

/** How a plan stands, worst wins: a run in progress, never tested, RTO or RPO missed, overdue, met. */
export type PlanHealth = 'running' | 'neverTested' | 'missed' | 'overdue' | 'met';

export interface DrPlanNode {
  readonly kind: 'plan';
  /** Stable across refreshes, so VS Code keeps expansion. */
  readonly id: string;
  readonly planId: string;
  readonly health: PlanHealth;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  /** Space-separated words the `view/item/context` menus match with `viewItem =~ /\bword\b/`. */
  readonly contextValue: string;
  readonly icon: NodeIcon;
  readonly children: readonly DrDetailNode[];
}

/** A step of the last run, the backups summary or one service's RPO row. */
export interface DrDetailNode {
  readonly kind: 'detail';
  readonly id: string;
  readonly planId: string;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  readonly icon: NodeIcon;
  readonly children: readonly DrDetailNode[];
}

const HEALTH_ICONS: Readonly<Record<PlanHealth, NodeIcon>> = {
  running: { id: 'sync~spin', color: 'charts.blue' },
  neverTested: { id: 'circle-large-outline', color: 'list.warningForeground' },
  missed: { id: 'error', color: 'list.errorForeground' },
  overdue: { id: 'watch', color: 'list.warningForeground' },
  met: { id: 'pass', color: 'testing.iconPassed' },
};

const STEP_ICONS: Readonly<Record<StepStatus, NodeIcon>> = {
  pending: { id: 'circle-outline' },
  running: { id: 'sync~spin', color: 'charts.blue' },
  waiting: { id: 'person', color: 'list.warningForeground' },
  succeeded: { id: 'pass', color: 'testing.iconPassed' },
  failed: { id: 'error', color: 'list.errorForeground' },
  skipped: { id: 'debug-step-over' },
  cancelled: { id: 'circle-slash' },
  interrupted: { id: 'debug-disconnect', color: 'list.warningForeground' },
};

const RUN_STATUS_WORDS: Readonly<Record<RunStatus, string>> = {
  running: 'running',
  waiting: 'waiting for a manual step',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  interrupted: 'interrupted',
};

const STEP_STATUS_WORDS: Readonly<Record<StepStatus, string>> = {
  pending: 'pending',
  running: 'running',
  waiting: 'waiting for you',
  succeeded: 'done',
  failed: 'failed',
  skipped: 'skipped',
  cancelled: 'cancelled',
  interrupted: 'interrupted',
};

/** `850 ms`, `4.2s`, `3m 5s`: steps often take under a second, where `formatDuration` says `0s`. */
export function formatElapsed(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  return formatDuration(ms);
}

/** `just now`, `5m ago`, `3d 2h ago`; a time in the future (clock skew) reads `just now`. */
export function formatAge(iso: string, now: number): string {
  const ms = now - Date.parse(iso);
  if (!Number.isFinite(ms)) return '—';
  return ms < 60_000 ? 'just now' : `${formatDuration(ms)} ago`;
}

/** `in 3d 2h` or `2h ago`. */
function formatDue(iso: string, now: number): string {
  const ms = Date.parse(iso) - now;
  return ms >= 0 ? `in ${formatDuration(ms)}` : `${formatDuration(-ms)} ago`;
}

const MODE_WORDS: Readonly<Record<RunMode, string>> = { drill: 'Drill', failover: 'Failover' };

/** The plan's worst state; "never tested" wins over missed targets because nothing was measured yet. */
export function planHealth(status: PlanStatus): PlanHealth {
  if (status.activeRunId !== undefined) return 'running';
  if (status.lastSuccessfulTestAt === undefined) return 'neverTested';
  if (status.rto.met === false || !status.rpo.met) return 'missed';
  if (status.overdue) return 'overdue';
  return 'met';
}

/** What the row's description says: the last drill and its age, then what is due. */
function planDescription(status: PlanStatus, health: PlanHealth, now: number): string {
  const parts: string[] = [];
  if (health === 'running') parts.push('run in progress');
  if (status.lastDrill) parts.push(`drill ${RUN_STATUS_WORDS[status.lastDrill.status]} ${formatAge(status.lastDrill.startedAt, now)}`);
  else parts.push('never drilled');
  if (status.lastSuccessfulTestAt === undefined && status.lastDrill) parts.push('never passed');
  if (status.overdue) parts.push('overdue');
  if (status.rto.met === false) parts.push('RTO missed');
  if (!status.rpo.met) parts.push(status.rpo.services.some((s) => s.status === 'missed') ? 'RPO missed' : 'RPO unproven');
  return parts.join(' · ');
}

function rtoLine(status: PlanStatus): string {
  const target = formatDuration(status.rtoSeconds * 1000);
  if (status.rto.lastActualMs === undefined) return `RTO: target ${target} · not measured yet`;
  return `RTO: target ${target} · last measured ${formatElapsed(status.rto.lastActualMs)} (${status.rto.met === true ? 'met' : 'missed'})`;
}

function rpoServiceLine(service: PlanStatus['rpo']['services'][number], rpoSeconds: number): string {
  if (service.status === 'noVerifiedBackup') return `${service.service}: no verified backup (RPO cannot be shown to be met)`;
  const age = service.ageMs === undefined ? '—' : formatDuration(service.ageMs);
  return `${service.service}: newest verified backup ${age} old vs ${formatDuration(rpoSeconds * 1000)} (${service.status})`;
}

function planTooltip(status: PlanStatus, now: number): string {
  const lines = [
    `${status.name} (${status.planId}) · ${status.strategy.replaceAll('_', ' ')}`,
    `Services: ${status.services.join(', ')}`,
    rtoLine(status),
    `RPO: target ${formatDuration(status.rpoSeconds * 1000)} · ${status.rpo.met ? 'met' : 'not met'}`,
    ...status.rpo.services.map((s) => `  ${rpoServiceLine(s, status.rpoSeconds)}`),
    status.lastSuccessfulTestAt === undefined
      ? `Never successfully tested (due every ${status.testEveryDays} days): overdue`
      : `Last successful test ${formatAge(status.lastSuccessfulTestAt, now)} · next due ${status.nextTestDueAt ? formatDue(status.nextTestDueAt, now) : '—'}${status.overdue ? ' (overdue)' : ''}`,
  ];
  return lines.join('\n');
}

function stepDescription(step: RunStep): string {
  const parts = [STEP_STATUS_WORDS[step.status]];
  if (step.durationMs !== undefined) parts.push(formatElapsed(step.durationMs));
  if (step.kind === 'manual' && step.confirmedBy !== undefined) parts.push(`by ${step.confirmedBy}`);
  if (step.status === 'failed' && step.error !== undefined) parts.push(step.error);
  return parts.join(' · ');
}

function stepTooltip(step: RunStep): string {
  const lines = [`${step.name} (${step.kind}): ${STEP_STATUS_WORDS[step.status]}`];
  if (step.durationMs !== undefined) lines.push(`Took ${formatElapsed(step.durationMs)}`);
  if (step.exitCode !== undefined) lines.push(`Exit code ${step.exitCode}${step.signal ? ` (${step.signal})` : ''}`);
  if (step.httpStatus !== undefined) lines.push(`HTTP ${step.httpStatus} after ${step.attempts ?? 1} attempt(s)`);
  if (step.error !== undefined) lines.push(`Error: ${step.error}`);
  if (step.note !== undefined) lines.push(`Note: ${step.note}`);
  if (step.stdoutTail) lines.push(`stdout:\n${step.stdoutTail.trimEnd()}`);
  if (step.stderrTail) lines.push(`stderr:\n${step.stderrTail.trimEnd()}`);
  return lines.join('\n');
}

function runNode(status: PlanStatus, run: DrRun | undefined, now: number): DrDetailNode {
  const id = `dr:${status.planId}:run`;
  if (!run) {
    return { kind: 'detail', id, planId: status.planId, label: 'No run yet', description: 'start a drill to measure the RTO', tooltip: 'This plan has never been run.', icon: { id: 'info' }, children: [] };
  }
  const steps = run.steps.map(
    (step, i): DrDetailNode => ({
      kind: 'detail',
      id: `${id}:${run.id}:${step.id}`,
      planId: status.planId,
      label: `${i + 1}. ${step.name}`,
      description: stepDescription(step),
      tooltip: stepTooltip(step),
      icon: STEP_ICONS[step.status],
      children: [],
    }),
  );
  const rto = run.rto.actualMs === undefined ? '' : ` · RTO ${formatElapsed(run.rto.actualMs)} of ${formatDuration(run.rto.objectiveSeconds * 1000)}`;
  return {
    kind: 'detail',
    id,
    planId: status.planId,
    label: `Last ${MODE_WORDS[run.mode].toLowerCase()}`,
    description: `${RUN_STATUS_WORDS[run.status]} ${formatAge(run.startedAt, now)}${rto}`,
    tooltip: `${MODE_WORDS[run.mode]} ${run.id} started by ${run.startedBy} at ${run.startedAt}: ${RUN_STATUS_WORDS[run.status]}${run.reason ? ` (${run.reason})` : ''}`,
    icon: runIcon(run.status),
    children: steps,
  };
}

function backupsNode(status: PlanStatus, backups: readonly Backup[], now: number): DrDetailNode {
  const id = `dr:${status.planId}:backups`;
  const counts = (['verified', 'unverified', 'corrupt', 'missing'] as const).filter((s) => (status.backups[s] ?? 0) > 0).map((s) => `${status.backups[s]} ${s}`);
  const services = new Set(status.services);
  const own = backups.filter((b) => services.has(b.service));
  const rows = status.rpo.services.map(
    (s): DrDetailNode => ({
      kind: 'detail',
      id: `${id}:${s.service}`,
      planId: status.planId,
      label: s.service,
      description:
        s.status === 'noVerifiedBackup'
          ? 'no verified backup'
          : `newest verified ${s.newestVerifiedAt ? formatAge(s.newestVerifiedAt, now) : '—'} · RPO ${s.status}`,
      tooltip: [
        rpoServiceLine(s, status.rpoSeconds),
        ...own.filter((b) => b.service === s.service).map((b) => `${b.id}: ${b.state}${b.problem ? ` (${b.problem})` : ''} · ${b.location}`),
      ].join('\n'),
      icon: s.status === 'met' ? STEP_ICONS.succeeded : s.status === 'missed' ? STEP_ICONS.failed : { id: 'question', color: 'list.warningForeground' },
      children: [],
    }),
  );
  return {
    kind: 'detail',
    id,
    planId: status.planId,
    label: 'Backups',
    description: `${counts.length > 0 ? counts.join(' · ') : 'none registered'} · RPO ${status.rpo.met ? 'met' : 'not met'}`,
    tooltip: `RPO target ${formatDuration(status.rpoSeconds * 1000)}: the newest verified backup of each service must be younger.`,
    icon: { id: 'database', color: status.rpo.met ? 'testing.iconPassed' : 'list.warningForeground' },
    children: rows,
  };
}

/** Runs the history row lists per plan. */
export const RUN_HISTORY_LIMIT = 10;

const runIcon = (status: RunStatus): NodeIcon =>
  status === 'succeeded' ? STEP_ICONS.succeeded : status === 'failed' ? STEP_ICONS.failed : status === 'waiting' ? STEP_ICONS.waiting : status === 'running' ? STEP_ICONS.running : status === 'interrupted' ? STEP_ICONS.interrupted : STEP_ICONS.cancelled;

/** `took 4.2s of 30m (met)`, `took 45m of 30m (missed)`, `running 12s`. */
function durationVsRto(run: DrRun, now: number): string {
  const objective = formatDuration(run.rto.objectiveSeconds * 1000);
  if (run.rto.actualMs !== undefined) return `took ${formatElapsed(run.rto.actualMs)} of ${objective} RTO (${run.rto.met === true ? 'met' : 'missed'})`;
  const end = run.finishedAt !== undefined ? Date.parse(run.finishedAt) : now;
  const elapsed = formatElapsed(end - Date.parse(run.startedAt));
  return run.finishedAt === undefined ? `${elapsed} so far of ${objective} RTO` : `stopped after ${elapsed}, RTO not measured`;
}

/** The plan's past runs, newest first: outcome, when, and the measured duration against the RTO. */
function historyNode(status: PlanStatus, runs: readonly DrRun[], now: number): DrDetailNode {
  const id = `dr:${status.planId}:history`;
  const passed = runs.filter((r) => r.status === 'succeeded' && r.rto.met === true).length;
  return {
    kind: 'detail',
    id,
    planId: status.planId,
    label: 'Run history',
    description: runs.length === 0 ? 'no runs yet' : `last ${runs.length} · ${passed} within RTO`,
    tooltip: `The latest ${RUN_HISTORY_LIMIT} drills and failovers of this plan, newest first, with the measured RTO against the ${formatDuration(status.rtoSeconds * 1000)} objective.`,
    icon: { id: 'history' },
    children: runs.map(
      (run): DrDetailNode => ({
        kind: 'detail',
        id: `${id}:${run.id}`,
        planId: status.planId,
        label: `${MODE_WORDS[run.mode]} ${RUN_STATUS_WORDS[run.status]}`,
        description: `${formatAge(run.startedAt, now)} · ${durationVsRto(run, now)}`,
        tooltip: [
          `${MODE_WORDS[run.mode]} ${run.id} (plan version ${run.planVersion})`,
          `Started ${run.startedAt} by ${run.startedBy}${run.finishedAt ? `, finished ${run.finishedAt}` : ''}`,
          `Outcome: ${RUN_STATUS_WORDS[run.status]}${run.reason ? ` (${run.reason})` : ''}`,
          `Duration: ${durationVsRto(run, now)}`,
          `Steps: ${run.steps.filter((st) => st.status === 'succeeded').length}/${run.steps.length} done`,
        ].join('\n'),
        icon: runIcon(run.status),
        children: [],
      }),
    ),
  };
}

/**
 * One row per plan (sorted by name), with its last run's steps, its run history and its backups as
 * children. `lastRuns` maps plan id → that plan's last run; `history` plan id → its latest runs,
 * newest first; `backups` may hold other services' backups too.
 */
export function buildDrNodes(
  statuses: readonly PlanStatus[],
  lastRuns: ReadonlyMap<string, DrRun>,
  backups: readonly Backup[],
  now: number,
  history: ReadonlyMap<string, readonly DrRun[]> = new Map(),
): DrPlanNode[] {
  return [...statuses]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((status) => {
      const health = planHealth(status);
      return {
        kind: 'plan',
        id: `dr:${status.planId}`,
        planId: status.planId,
        health,
        label: status.name,
        description: planDescription(status, health, now),
        tooltip: planTooltip(status, now),
        contextValue: health === 'running' ? 'drPlan running' : 'drPlan idle',
        icon: HEALTH_ICONS[health],
        children: [runNode(status, lastRuns.get(status.planId), now), historyNode(status, history.get(status.planId) ?? [], now), backupsNode(status, backups, now)],
      };
    });
}

/** The progress notification's line for a run: which step of how many, and what it is doing. */
export function progressMessage(run: DrRun): string {
  const index = run.currentStep;
  if (index === undefined) return RUN_STATUS_WORDS[run.status];
  const step = run.steps[index];
  if (!step) return RUN_STATUS_WORDS[run.status];
  return `Step ${index + 1}/${run.steps.length}: ${step.name} (${STEP_STATUS_WORDS[step.status]})`;
}

/** The manual step the run waits on, if it does. */
export function waitingManualStep(run: DrRun): RunStep | undefined {
  if (run.status !== 'waiting' || run.currentStep === undefined) return undefined;
  const step = run.steps[run.currentStep];
  return step?.kind === 'manual' && step.status === 'waiting' ? step : undefined;
}

/** The message shown when a run ended: its outcome and the measured RTO against the objective. */
export function runOutcomeMessage(run: DrRun): { readonly level: 'info' | 'warning' | 'error'; readonly text: string } {
  const what = `${MODE_WORDS[run.mode]} of "${run.planName}"`;
  const objective = formatDuration(run.rto.objectiveSeconds * 1000);
  if (run.status === 'succeeded') {
    const actual = run.rto.actualMs === undefined ? '—' : formatElapsed(run.rto.actualMs);
    return run.rto.met === true
      ? { level: 'info', text: `${what} succeeded: RTO ${actual}, within the ${objective} objective.` }
      : { level: 'warning', text: `${what} succeeded but missed the RTO: ${actual} against the ${objective} objective.` };
  }
  if (run.status === 'failed') {
    const failed = run.steps.find((s) => s.status === 'failed');
    return { level: 'error', text: `${what} failed${failed ? ` at step "${failed.name}"${failed.error ? `: ${failed.error}` : ''}` : ''}. RTO objective ${objective} not met.` };
  }
  return { level: 'warning', text: `${what} ${RUN_STATUS_WORDS[run.status]}${run.reason ? `: ${run.reason}` : ''}.` };
}
