import * as z from 'zod';
import { BackupSpec, BackupState, DrPlan, DrRun, FINAL_RUN_STATUSES, RunStep, type Backup, type DrRun as DrRunType, type RunStatus } from '../../protocol/dr';
import type { EventRecord, Projection } from '../../store/types';

/** Event types of the DR domain; only this feature appends them (they are reserved). */
export const DrEvent = {
  planCreated: 'dr.plan.created',
  planUpdated: 'dr.plan.updated',
  planDeleted: 'dr.plan.deleted',
  runStarted: 'dr.run.started',
  stepStarted: 'dr.step.started',
  stepFinished: 'dr.step.finished',
  runFinished: 'dr.run.finished',
  backupRegistered: 'backup.registered',
  backupVerified: 'backup.verified',
  backupDeleted: 'backup.deleted',
} as const;

export const PlanPayload = z.object({ plan: DrPlan });
export const PlanDeletedPayload = z.object({ id: z.string() });
export const RunStartedPayload = z.object({ run: DrRun });
export const StepStartedPayload = z.object({ runId: z.string(), index: z.number().int().min(0), waiting: z.boolean() });
/** A finished step's outcome: the optional outcome fields of `RunStep` itself, so the two cannot drift. */
export const StepFinishedPayload = RunStep.pick({
  exitCode: true,
  signal: true,
  httpStatus: true,
  attempts: true,
  stdoutTail: true,
  stderrTail: true,
  error: true,
  confirmedBy: true,
  note: true,
}).extend({
  runId: z.string(),
  index: z.number().int().min(0),
  status: z.enum(['succeeded', 'failed', 'cancelled', 'interrupted']),
  durationMs: z.number().min(0),
});
export type StepFinishedPayload = z.infer<typeof StepFinishedPayload>;
export const RunFinishedPayload = z.object({
  runId: z.string(),
  status: z.enum(['succeeded', 'failed', 'cancelled', 'interrupted']),
  /** Start to the last step done, ms. */
  actualMs: z.number().min(0),
  reason: z.string().optional(),
  cancelledBy: z.string().optional(),
});
export const BackupRegisteredPayload = z.object({ backup: BackupSpec });
export const BackupVerifiedPayload = z.object({
  id: z.string(),
  state: BackupState.exclude(['unverified']),
  actualSha256: z.string().optional(),
  actualSizeBytes: z.number().int().optional(),
  problem: z.string().optional(),
});
export const BackupDeletedPayload = z.object({ id: z.string() });

interface Snapshot {
  seeded: boolean;
  plans: DrPlan[];
  runs: DrRunType[];
  backups: Backup[];
}

const isFinal = (s: RunStatus) => FINAL_RUN_STATUSES.includes(s);

/**
 * Plans, runs and backups. Events that do not fit the current state (a step event of a finished
 * run, a step out of order) are ignored, so apply stays deterministic whatever the log holds.
 */
export class DrProjection implements Projection {
  readonly name = 'dr';
  private seededFlag = false;
  private readonly plans = new Map<string, DrPlan>();
  /** In start order. */
  private readonly runs = new Map<string, DrRunType>();
  private readonly backups = new Map<string, Backup>();

  apply(event: EventRecord): void {
    switch (event.type) {
      case DrEvent.planCreated:
      case DrEvent.planUpdated: {
        const p = PlanPayload.safeParse(event.payload);
        if (!p.success) return;
        const exists = this.plans.has(p.data.plan.id);
        if ((event.type === DrEvent.planCreated) === exists) return;
        this.plans.set(p.data.plan.id, p.data.plan);
        if (p.data.plan.seeded) this.seededFlag = true;
        return;
      }
      case DrEvent.planDeleted: {
        const p = PlanDeletedPayload.safeParse(event.payload);
        if (p.success) this.plans.delete(p.data.id);
        return;
      }
      case DrEvent.runStarted: {
        const p = RunStartedPayload.safeParse(event.payload);
        if (p.success && !this.runs.has(p.data.run.id)) this.runs.set(p.data.run.id, { ...p.data.run, startedAt: event.time });
        return;
      }
      case DrEvent.stepStarted: {
        const p = StepStartedPayload.safeParse(event.payload);
        const run = p.success ? this.runs.get(p.data.runId) : undefined;
        const step = run && p.success ? run.steps[p.data.index] : undefined;
        if (!p.success || !run || !step || isFinal(run.status) || step.status !== 'pending') return;
        step.status = p.data.waiting ? 'waiting' : 'running';
        step.startedAt = event.time;
        run.currentStep = p.data.index;
        run.status = p.data.waiting ? 'waiting' : 'running';
        return;
      }
      case DrEvent.stepFinished: {
        const p = StepFinishedPayload.safeParse(event.payload);
        const run = p.success ? this.runs.get(p.data.runId) : undefined;
        const step = run && p.success ? run.steps[p.data.index] : undefined;
        if (!p.success || !run || !step || isFinal(run.status) || (step.status !== 'running' && step.status !== 'waiting')) return;
        const { runId: _r, index: _i, ...details } = p.data;
        Object.assign(step, details, { finishedAt: event.time });
        delete run.currentStep;
        run.status = 'running';
        return;
      }
      case DrEvent.runFinished: {
        const p = RunFinishedPayload.safeParse(event.payload);
        const run = p.success ? this.runs.get(p.data.runId) : undefined;
        if (!p.success || !run || isFinal(run.status)) return;
        run.status = p.data.status;
        run.finishedAt = event.time;
        delete run.currentStep;
        for (const step of run.steps) {
          if (step.status === 'pending') step.status = 'skipped';
          else if (step.status === 'running' || step.status === 'waiting') {
            // A step cut short by the run's end (interrupted by a crash) ends with the run.
            step.status = p.data.status === 'cancelled' ? 'cancelled' : 'interrupted';
            step.finishedAt = event.time;
          }
        }
        run.rto = {
          objectiveSeconds: run.rto.objectiveSeconds,
          actualMs: p.data.actualMs,
          met: p.data.status === 'succeeded' && p.data.actualMs <= run.rto.objectiveSeconds * 1000,
        };
        if (p.data.reason !== undefined) run.reason = p.data.reason;
        if (p.data.cancelledBy !== undefined) run.cancelledBy = p.data.cancelledBy;
        return;
      }
      case DrEvent.backupRegistered: {
        const p = BackupRegisteredPayload.safeParse(event.payload);
        if (p.success && !this.backups.has(p.data.backup.id)) {
          this.backups.set(p.data.backup.id, { ...p.data.backup, registeredAt: event.time, registeredBy: event.actor, state: 'unverified' });
        }
        return;
      }
      case DrEvent.backupVerified: {
        const p = BackupVerifiedPayload.safeParse(event.payload);
        const b = p.success ? this.backups.get(p.data.id) : undefined;
        if (!p.success || !b) return;
        const { id: _id, ...result } = p.data;
        const next: Backup = { ...b, ...result, verifiedAt: event.time };
        for (const k of ['actualSha256', 'actualSizeBytes', 'problem'] as const) if (result[k] === undefined) delete next[k];
        this.backups.set(b.id, next);
        return;
      }
      case DrEvent.backupDeleted: {
        const p = BackupDeletedPayload.safeParse(event.payload);
        if (p.success) this.backups.delete(p.data.id);
        return;
      }
      default:
        return;
    }
  }

  get hasSeeded(): boolean {
    return this.seededFlag;
  }

  plan(id: string): DrPlan | undefined {
    const p = this.plans.get(id);
    return p ? structuredClone(p) : undefined;
  }

  allPlans(): DrPlan[] {
    return [...this.plans.values()].sort((a, b) => a.id.localeCompare(b.id)).map((p) => structuredClone(p));
  }

  run(id: string): DrRunType | undefined {
    const r = this.runs.get(id);
    return r ? structuredClone(r) : undefined;
  }

  /** Newest first. */
  allRuns(planId?: string, limit = Infinity): DrRunType[] {
    const out: DrRunType[] = [];
    const all = [...this.runs.values()];
    for (let i = all.length - 1; i >= 0 && out.length < limit; i--) {
      if (planId === undefined || all[i]!.planId === planId) out.push(structuredClone(all[i]!));
    }
    return out;
  }

  /** Runs not yet finished (running or waiting). */
  activeRuns(): DrRunType[] {
    return [...this.runs.values()].filter((r) => !isFinal(r.status)).map((r) => structuredClone(r));
  }

  backup(id: string): Backup | undefined {
    const b = this.backups.get(id);
    return b ? { ...b } : undefined;
  }

  /** Newest `createdAt` first. */
  allBackups(service?: string): Backup[] {
    return [...this.backups.values()]
      .filter((b) => service === undefined || b.service === service)
      .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || a.id.localeCompare(b.id))
      .map((b) => ({ ...b }));
  }

  snapshot(): Snapshot {
    return { seeded: this.seededFlag, plans: [...this.plans.values()], runs: [...this.runs.values()], backups: [...this.backups.values()] };
  }

  restore(state: unknown): void {
    this.reset();
    const s = state as Partial<Snapshot> | null;
    if (!s) return;
    this.seededFlag = s.seeded === true;
    for (const p of s.plans ?? []) this.plans.set(p.id, p);
    for (const r of s.runs ?? []) this.runs.set(r.id, r);
    for (const b of s.backups ?? []) this.backups.set(b.id, b);
  }

  reset(): void {
    this.seededFlag = false;
    this.plans.clear();
    this.runs.clear();
    this.backups.clear();
  }
}
