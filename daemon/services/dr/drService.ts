import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, constants, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { ErrorCode, RpcError, type ParsedParamsOf, type ResultOf, type Scope } from '../../protocol';
import {
  DrPlanSpec,
  FINAL_RUN_STATUSES,
  type AbortRun,
  type Backup,
  type BackupSpec,
  type CompleteManualStep,
  type DrPlan,
  type DrRun,
  type GetDrStatus,
  type ListRuns,
  type RunMode,
  type StartRun,
  type UpdatePlan,
} from '../../protocol/dr';
import type { EventStore } from '../../store/types';
import type { Clock } from '../shared/clock';
import { planStatus } from './drStatus';
import { DrEvent, type DrProjection, type StepFinishedPayload } from './drProjection';
import { SEED_PLANS } from './seed';
import type { StepExecutors, StepResult } from './stepExecutors';

/** Why a run still in progress at start-up is marked interrupted. */
export const INTERRUPTED_REASON = 'the daemon stopped while this run was in progress; it was not resumed (start a new run)';

export interface DrServiceOptions {
  /**
   * Where an executable would be found, or undefined when it would not; checked when a plan is
   * saved so a typo is an error then, not in the middle of a failover. Default: PATH lookup.
   */
  findExecutable?: (executable: string) => Promise<string | undefined>;
  /**
   * Stop processes that runs interrupted by a crash left running (found by run id); answers their
   * pids. Default: none are looked for.
   */
  stopLeftovers?: (runIds: readonly string[]) => Promise<number[]>;
  /** For logging failures of a run's background work. */
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

type Confirmation = { status: 'succeeded' | 'failed'; confirmedBy: string; note?: string };

/** A run executing in this process. */
interface ActiveRun {
  readonly runId: string;
  readonly planId: string;
  readonly mode: RunMode;
  readonly controller: AbortController;
  /** Set by abortRun or close before aborting. */
  stop?: { kind: 'cancelled' | 'interrupted'; by: string; reason?: string };
  /** The manual step waiting for a person, with the way to answer it. */
  manual?: { index: number; confirm: (c: Confirmation) => Promise<void> };
  done: Promise<void>;
}

/** PATH lookup of a command name; an absolute or relative path is checked as is. */
export async function findOnPath(executable: string, path = process.env.PATH ?? ''): Promise<string | undefined> {
  const candidates = executable.includes('/') || isAbsolute(executable) ? [executable] : path.split(delimiter).filter(Boolean).map((d) => join(d, executable));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      if ((await stat(c)).isFile()) return c;
    } catch {
      // Not here; try the next directory.
    }
  }
  return undefined;
}

/** SHA-256 and size of a file, streamed. */
export function hashFile(path: string): Promise<{ sha256: string; sizeBytes: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let size = 0;
    createReadStream(path)
      .on('data', (d) => {
        const chunk = d as Buffer;
        size += chunk.length;
        hash.update(chunk);
      })
      .on('error', reject)
      .on('end', () => resolve({ sha256: hash.digest('hex'), sizeBytes: size }));
  });
}

/**
 * Plans, runs (drills and failovers) and the backup registry. Commands run one at a time (a small
 * queue) so the state a command checked is the state its event applies to; a run's steps then
 * execute in the background, each start and finish appended to the log. Queries read the projection.
 */
export class DrService {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly active = new Map<string, ActiveRun>();
  private readonly findExecutable: (executable: string) => Promise<string | undefined>;
  private closed = false;

  constructor(
    private readonly store: EventStore,
    private readonly projection: DrProjection,
    private readonly clock: Clock,
    private readonly executors: StepExecutors,
    private readonly options: DrServiceOptions = {},
  ) {
    this.findExecutable = options.findExecutable ?? ((e) => findOnPath(e));
  }

  /** Seed the plans of the seed document once: only on a projection that never saw the seeding. */
  async seedDefaults(): Promise<void> {
    if (this.projection.hasSeeded || this.projection.allPlans().length > 0) return;
    const now = this.iso();
    await this.store.append(
      SEED_PLANS.map(({ eventId, spec }) => ({
        id: eventId,
        type: DrEvent.planCreated,
        actor: 'daemon',
        payload: { plan: { ...DrPlanSpec.parse(spec), version: 1, createdAt: now, updatedAt: now, seeded: true } },
      })),
    );
  }

  /**
   * Runs the log says are in progress cannot be: this process just started. Each is marked
   * `interrupted` (never silently resumed: half a failover replayed from the middle is worse than a
   * clear stop).
   */
  async markInterruptedRuns(): Promise<number> {
    const stale = this.projection.activeRuns();
    if (stale.length === 0) return 0;
    const leftovers = (await this.options.stopLeftovers?.(stale.map((r) => r.id))) ?? [];
    const stopped = leftovers.length > 0 ? `; ${leftovers.length} process(es) it had started were still running and were stopped (pids ${leftovers.join(', ')})` : '';
    for (const run of stale) {
      await this.store.append([
        {
          type: DrEvent.runFinished,
          actor: 'daemon',
          payload: {
            runId: run.id,
            status: 'interrupted',
            actualMs: Math.max(0, this.clock.now() - Date.parse(run.startedAt)),
            reason: `${INTERRUPTED_REASON}${stopped}`,
          },
        },
      ]);
    }
    return stale.length;
  }

  // ── Plans ───────────────────────────────────────────────────────────────────

  listPlans(): DrPlan[] {
    return this.projection.allPlans();
  }

  getPlan(id: string): DrPlan {
    return this.mustPlan(id);
  }

  createPlan(spec: DrPlanSpec, actor: string): Promise<DrPlan> {
    return this.serial(async () => {
      if (this.projection.plan(spec.id)) throw new RpcError(ErrorCode.Duplicate, `a plan ${spec.id} already exists`, { kind: 'plan', id: spec.id });
      await this.checkExecutables(spec);
      const now = this.iso();
      await this.append(actor, DrEvent.planCreated, { plan: { ...spec, version: 1, createdAt: now, updatedAt: now, seeded: false } });
      return this.mustPlan(spec.id);
    });
  }

  updatePlan(p: ParsedParamsOf<typeof UpdatePlan>, actor: string): Promise<DrPlan> {
    return this.serial(async () => {
      const { expectedVersion, ...spec } = p;
      const current = this.mustPlan(spec.id);
      if (expectedVersion !== undefined && expectedVersion !== current.version) {
        throw new RpcError(ErrorCode.Conflict, `plan ${spec.id} is at version ${current.version}, not ${expectedVersion}; reload it`, {
          id: spec.id,
          version: current.version,
          expectedVersion,
        });
      }
      await this.checkExecutables(spec);
      await this.append(actor, DrEvent.planUpdated, {
        plan: { ...spec, version: current.version + 1, createdAt: current.createdAt, updatedAt: this.iso(), seeded: current.seeded },
      });
      return this.mustPlan(spec.id);
    });
  }

  deletePlan(id: string, actor: string): Promise<{ ok: true }> {
    return this.serial(async () => {
      this.mustPlan(id);
      const running = this.activeRunOf(id);
      if (running) {
        throw new RpcError(ErrorCode.FailedPrecondition, `plan ${id} has run ${running.id} in progress; abort it first (dr/abortRun)`, { id, runId: running.id });
      }
      await this.append(actor, DrEvent.planDeleted, { id });
      return { ok: true as const };
    });
  }

  // ── Runs ────────────────────────────────────────────────────────────────────

  startRun(p: ParsedParamsOf<typeof StartRun>, actor: string, scope: Scope): Promise<DrRun> {
    return this.serial(async () => {
      if (this.closed) throw new RpcError(ErrorCode.ShuttingDown, 'the daemon is stopping; no new runs');
      if (p.mode === 'failover' && scope !== 'admin') {
        throw new RpcError(ErrorCode.Forbidden, `a failover needs a token with scope "admin"; token "${actor}" has "${scope}"`, {
          method: 'dr/startRun',
          required: 'admin',
          scope,
        });
      }
      const plan = this.mustPlan(p.planId);
      const running = this.activeRunOf(plan.id);
      if (running) {
        throw new RpcError(ErrorCode.Conflict, `plan ${plan.id} already has run ${running.id} in progress`, { planId: plan.id, runId: running.id });
      }
      const runId = randomUUID();
      const run: DrRun = {
        id: runId,
        planId: plan.id,
        planName: plan.name,
        planVersion: plan.version,
        mode: p.mode,
        status: 'running',
        startedBy: actor,
        startedAt: this.iso(),
        steps: plan.steps.map((s) => ({ id: s.id, name: s.name, kind: s.action.kind, status: 'pending' })),
        rto: { objectiveSeconds: plan.rtoSeconds },
      };
      await this.append(actor, DrEvent.runStarted, { run }, p.mode === 'failover' ? 'critical' : 'normal');
      const active: ActiveRun = { runId, planId: plan.id, mode: p.mode, controller: new AbortController(), done: Promise.resolve() };
      this.active.set(runId, active);
      active.done = this.execute(plan, active, actor).finally(() => this.active.delete(runId));
      return this.mustRun(runId);
    });
  }

  async completeManualStep(p: ParsedParamsOf<typeof CompleteManualStep>, actor: string): Promise<DrRun> {
    const run = this.mustRun(p.runId);
    const active = this.active.get(run.id);
    const waitingIndex = run.currentStep;
    const waiting = waitingIndex !== undefined && run.status === 'waiting' ? run.steps[waitingIndex] : undefined;
    if (!active && !FINAL_RUN_STATUSES.includes(run.status)) {
      throw new RpcError(ErrorCode.FailedPrecondition, `run ${run.id} is not executing in this daemon; abort it (dr/abortRun) and start a new one`, {
        runId: run.id,
        status: run.status,
      });
    }
    if (!active?.manual || !waiting || waitingIndex !== active.manual.index) {
      throw new RpcError(ErrorCode.FailedPrecondition, `run ${run.id} is ${run.status}, not waiting on a manual step`, { runId: run.id, status: run.status });
    }
    if (waiting.id !== p.stepId) {
      throw new RpcError(ErrorCode.FailedPrecondition, `run ${run.id} is waiting on step ${waiting.id}, not ${p.stepId}`, {
        runId: run.id,
        waitingOn: waiting.id,
      });
    }
    await active.manual.confirm({ status: p.outcome === 'done' ? 'succeeded' : 'failed', confirmedBy: actor, ...(p.note !== undefined ? { note: p.note } : {}) });
    return this.mustRun(run.id);
  }

  async abortRun(p: ParsedParamsOf<typeof AbortRun>, actor: string): Promise<DrRun> {
    const run = this.mustRun(p.runId);
    if (FINAL_RUN_STATUSES.includes(run.status)) {
      throw new RpcError(ErrorCode.InvalidTransition, `run ${run.id} already ended ${run.status}; allowed: none`, { runId: run.id, from: run.status, allowed: [] });
    }
    const active = this.active.get(run.id);
    if (active) {
      active.stop ??= { kind: 'cancelled', by: actor, ...(p.reason !== undefined ? { reason: p.reason } : {}) };
      active.controller.abort();
      await active.done;
    } else {
      // Open in the log but executing nowhere here (its execution stopped on a failed write): close it.
      await this.append(actor, DrEvent.runFinished, {
        runId: run.id,
        status: 'cancelled',
        actualMs: Math.max(0, this.clock.now() - Date.parse(run.startedAt)),
        cancelledBy: actor,
        ...(p.reason !== undefined ? { reason: p.reason } : {}),
      });
    }
    return this.mustRun(run.id);
  }

  getRun(runId: string): DrRun {
    return this.mustRun(runId);
  }

  listRuns(p: ParsedParamsOf<typeof ListRuns>): { runs: DrRun[] } {
    return { runs: this.projection.allRuns(p.planId, p.limit) };
  }

  status(p: ParsedParamsOf<typeof GetDrStatus>): ResultOf<typeof GetDrStatus> {
    const now = this.clock.now();
    const plans = p.planId !== undefined ? [this.mustPlan(p.planId)] : this.projection.allPlans();
    const backups = this.projection.allBackups();
    return { generatedAt: new Date(now).toISOString(), plans: plans.map((plan) => planStatus(plan, this.projection.allRuns(plan.id), backups, now)) };
  }

  // ── Backups ─────────────────────────────────────────────────────────────────

  registerBackup(spec: BackupSpec, actor: string): Promise<Backup> {
    return this.serial(async () => {
      if (this.projection.backup(spec.id)) throw new RpcError(ErrorCode.Duplicate, `a backup ${spec.id} is already registered`, { kind: 'backup', id: spec.id });
      await this.append(actor, DrEvent.backupRegistered, { backup: spec });
      return this.mustBackup(spec.id);
    });
  }

  async verifyBackup(id: string, actor: string): Promise<Backup> {
    const b = this.mustBackup(id);
    let result: { state: 'verified' | 'corrupt' | 'missing'; actualSha256?: string; actualSizeBytes?: number; problem?: string };
    try {
      const actual = await hashFile(b.location);
      const problems = [
        ...(actual.sha256 !== b.sha256 ? [`SHA-256 is ${actual.sha256}, registered ${b.sha256}`] : []),
        ...(actual.sizeBytes !== b.sizeBytes ? [`size is ${actual.sizeBytes} bytes, registered ${b.sizeBytes}`] : []),
      ];
      result = {
        state: problems.length === 0 ? 'verified' : 'corrupt',
        actualSha256: actual.sha256,
        actualSizeBytes: actual.sizeBytes,
        ...(problems.length > 0 ? { problem: problems.join('; ') } : {}),
      };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      result = { state: 'missing', problem: code === 'ENOENT' ? `no file at ${b.location}` : `cannot read ${b.location}: ${code ?? (e as Error).message}` };
    }
    return this.serial(async () => {
      this.mustBackup(id);
      await this.append(actor, DrEvent.backupVerified, { id, ...result });
      return this.mustBackup(id);
    });
  }

  listBackups(service?: string): { backups: Backup[] } {
    return { backups: this.projection.allBackups(service) };
  }

  deleteBackup(id: string, actor: string): Promise<{ ok: true }> {
    return this.serial(async () => {
      this.mustBackup(id);
      await this.append(actor, DrEvent.backupDeleted, { id });
      return { ok: true as const };
    });
  }

  /**
   * Stop every run of this process: their process trees are killed and the runs recorded
   * `interrupted` (the store is still open when features close).
   */
  async close(): Promise<void> {
    this.closed = true;
    const runs = [...this.active.values()];
    for (const a of runs) {
      a.stop ??= { kind: 'interrupted', by: 'daemon', reason: 'the daemon stopped during the run; it will not be resumed' };
      a.controller.abort();
    }
    await Promise.all(runs.map((a) => a.done));
  }

  // ── Internals ───────────────────────────────────────────────────────────────

  /** The steps in order; each start and finish is appended. Never throws (failures are logged). */
  private async execute(plan: DrPlan, active: ActiveRun, actor: string): Promise<void> {
    const started = this.clock.now();
    const { signal } = active.controller;
    let failed = false;
    try {
      for (let index = 0; index < plan.steps.length && !signal.aborted; index++) {
        const step = plan.steps[index]!;
        const isManual = step.action.kind === 'manual';
        // Ready for a confirmation before anyone can see the step waiting.
        const person = isManual ? this.waitForPerson(active, index) : undefined;
        await this.append(actor, DrEvent.stepStarted, { runId: active.runId, index, waiting: isManual });
        const t0 = this.clock.now();
        let result: StepResult | Confirmation;
        let confirmed: (() => void) | undefined;
        let finishActor = actor;
        if (person) {
          const answer = await person;
          if (answer) {
            result = answer.confirmation;
            confirmed = answer.recorded;
            finishActor = answer.confirmation.confirmedBy;
          } else {
            result = { status: 'cancelled' };
          }
        } else if (step.action.kind === 'command') {
          result = await this.executors.command(step.action, signal, { runId: active.runId, mode: active.mode });
        } else if (step.action.kind === 'httpCheck') {
          result = await this.executors.httpCheck(step.action, signal);
        } else {
          result = { status: 'cancelled' };
        }
        const status = result.status === 'cancelled' && active.stop?.kind === 'interrupted' ? 'interrupted' : result.status;
        const payload: StepFinishedPayload = { runId: active.runId, index, durationMs: Math.max(0, this.clock.now() - t0), ...result, status };
        await this.append(finishActor, DrEvent.stepFinished, payload);
        confirmed?.();
        if (status === 'failed') {
          failed = true;
          if (!step.continueOnFailure) break;
        }
      }
      const stop = signal.aborted ? active.stop : undefined;
      await this.append(stop?.by ?? actor, DrEvent.runFinished, {
        runId: active.runId,
        status: stop ? stop.kind : failed ? 'failed' : 'succeeded',
        actualMs: Math.max(0, this.clock.now() - started),
        ...(stop?.reason !== undefined ? { reason: stop.reason } : {}),
        ...(stop?.kind === 'cancelled' ? { cancelledBy: stop.by } : {}),
      });
    } catch (e) {
      // The log refused a write (disk full): the run stays open in the log and is marked interrupted at the next start.
      this.options.log?.('error', `DR run ${active.runId} of ${plan.id} stopped: ${(e as Error).message}`);
      active.controller.abort();
    }
  }

  /**
   * Wait until someone confirms the manual step or the run is aborted (undefined). `recorded` must be
   * called once the step's finish is durable: the confirming call answers then.
   */
  private waitForPerson(active: ActiveRun, index: number): Promise<{ confirmation: Confirmation; recorded: () => void } | undefined> {
    return new Promise((resolve) => {
      if (active.controller.signal.aborted) {
        resolve(undefined);
        return;
      }
      const onAbort = () => {
        delete active.manual;
        resolve(undefined);
      };
      active.controller.signal.addEventListener('abort', onAbort, { once: true });
      active.manual = {
        index,
        confirm: (confirmation) =>
          new Promise<void>((recorded) => {
            active.controller.signal.removeEventListener('abort', onAbort);
            delete active.manual;
            resolve({ confirmation, recorded });
          }),
      };
    });
  }

  private async checkExecutables(spec: DrPlanSpec): Promise<void> {
    const issues: { path: string; message: string }[] = [];
    for (const [i, step] of spec.steps.entries()) {
      if (step.action.kind !== 'command') continue;
      if (!(await this.findExecutable(step.action.executable))) {
        issues.push({ path: `steps.${i}.action.executable`, message: `${step.action.executable} is not an executable file on the daemon host (PATH or absolute path)` });
      }
    }
    if (issues.length > 0) {
      throw new RpcError(ErrorCode.InvalidParams, issues.map((x) => `${x.path}: ${x.message}`).join('; '), { issues });
    }
  }

  private activeRunOf(planId: string): DrRun | undefined {
    return this.projection.activeRuns().find((r) => r.planId === planId);
  }

  private mustPlan(id: string): DrPlan {
    const p = this.projection.plan(id);
    if (!p) throw new RpcError(ErrorCode.NotFound, `no DR plan ${id}`, { kind: 'plan', id });
    return p;
  }

  private mustRun(id: string): DrRun {
    const r = this.projection.run(id);
    if (!r) throw new RpcError(ErrorCode.NotFound, `no DR run ${id}`, { kind: 'run', id });
    return r;
  }

  private mustBackup(id: string): Backup {
    const b = this.projection.backup(id);
    if (!b) throw new RpcError(ErrorCode.NotFound, `no backup ${id}`, { kind: 'backup', id });
    return b;
  }

  private iso(): string {
    return new Date(this.clock.now()).toISOString();
  }

  private async append(actor: string, type: string, payload: unknown, priority: 'normal' | 'critical' = 'normal'): Promise<void> {
    await this.store.append([{ type, actor, payload, priority }]);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
