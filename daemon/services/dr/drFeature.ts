import {
  AbortRun,
  CompleteManualStep,
  CreatePlan,
  DeleteBackup,
  DeletePlan,
  DidChangeDr,
  DidProgressDr,
  GetDrStatus,
  GetPlan,
  GetRun,
  ListBackups,
  ListPlans,
  ListRuns,
  RegisterBackup,
  StartRun,
  UpdatePlan,
  VerifyBackup,
} from '../../protocol/dr';
import type { DaemonFeature } from '../../server/feature';
import { DrEvent, DrProjection } from './drProjection';
import { DrService, type DrServiceOptions } from './drService';
import { DRILL_DUE_EVENT, DrillReminders, REMINDER_TRIGGERS } from './drillReminders';
import { RealStepExecutors, stopLeftoverProcesses, type StepExecutors } from './stepExecutors';

export interface DrFeatureOptions extends Pick<DrServiceOptions, 'findExecutable'> {
  /** The daemon's environment: `inheritEnv` of command steps picks from it. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Replace the real process and HTTP executors (tests). */
  executors?: StepExecutors;
}

const PROGRESS: Record<string, 'runStarted' | 'stepStarted' | 'stepFinished' | 'runFinished'> = {
  [DrEvent.runStarted]: 'runStarted',
  [DrEvent.stepStarted]: 'stepStarted',
  [DrEvent.stepFinished]: 'stepFinished',
  [DrEvent.runFinished]: 'runFinished',
};

const CHANGE: Record<string, 'planCreated' | 'planUpdated' | 'planDeleted' | 'backupRegistered' | 'backupVerified' | 'backupDeleted' | 'drillDue'> = {
  [DRILL_DUE_EVENT]: 'drillDue',
  [DrEvent.planCreated]: 'planCreated',
  [DrEvent.planUpdated]: 'planUpdated',
  [DrEvent.planDeleted]: 'planDeleted',
  [DrEvent.backupRegistered]: 'backupRegistered',
  [DrEvent.backupVerified]: 'backupVerified',
  [DrEvent.backupDeleted]: 'backupDeleted',
};

/** Disaster recovery: plans, drills and failovers that really run, the backup registry (`dr/*`, `backups/*`). */
export function drFeature(options: DrFeatureOptions = {}): DaemonFeature {
  const projection = new DrProjection();
  let service: DrService | undefined;
  let reminders: DrillReminders | undefined;
  return {
    name: 'dr',
    projections: [projection],
    reservedEventTypes: ['dr.**', 'backup.**'],
    register({ router, rest, store, clock, server, policies, config, log, scheduler }) {
      const executors =
        options.executors ?? new RealStepExecutors({ clock, policies, defaultCwd: config.dataDir, env: options.env ?? process.env });
      const dr = new DrService(store, projection, clock, executors, {
        ...(options.findExecutable ? { findExecutable: options.findExecutable } : {}),
        ...(options.executors ? {} : { stopLeftovers: (ids: readonly string[]) => stopLeftoverProcesses(ids, clock) }),
        log: (level, message) => log[level](message),
      });
      service = dr;
      const drills = new DrillReminders({ store, scheduler, projection, clock });
      drills.register();
      reminders = drills;
      router
        .on(ListPlans, () => ({ plans: dr.listPlans() }))
        .on(GetPlan, ({ id }) => dr.getPlan(id))
        .on(CreatePlan, (p, ctx) => dr.createPlan(p, ctx.actor))
        .on(UpdatePlan, (p, ctx) => dr.updatePlan(p, ctx.actor))
        .on(DeletePlan, ({ id }, ctx) => dr.deletePlan(id, ctx.actor))
        .on(StartRun, (p, ctx) => dr.startRun(p, ctx.actor, ctx.scope))
        .on(CompleteManualStep, (p, ctx) => dr.completeManualStep(p, ctx.actor))
        .on(AbortRun, (p, ctx) => dr.abortRun(p, ctx.actor))
        .on(ListRuns, (p) => dr.listRuns(p))
        .on(GetRun, ({ runId }) => dr.getRun(runId))
        .on(GetDrStatus, (p) => dr.status(p))
        .on(RegisterBackup, (p, ctx) => dr.registerBackup(p, ctx.actor))
        .on(VerifyBackup, ({ id }, ctx) => dr.verifyBackup(id, ctx.actor))
        .on(ListBackups, ({ service: s }) => dr.listBackups(s))
        .on(DeleteBackup, ({ id }, ctx) => dr.deleteBackup(id, ctx.actor));
      rest
        .get('/api/disaster-recovery/status', GetDrStatus, ({ query }) => ({ planId: query.str('plan') }))
        // The seed's route starts a failover unless the body asks for a drill.
        .post('/api/disaster-recovery/failover', StartRun, {
          status: 202,
          toParams: ({ body }) => ({ mode: 'failover', ...(typeof body === 'object' && body !== null ? body : {}) }),
        })
        .get('/api/disaster-recovery/runs/{run_id}', GetRun, ({ path }) => ({ runId: path.run_id }));
      // From the log, so a client sees exactly what was recorded, in order.
      store.onAppend((events) => {
        for (const e of events) {
          if (REMINDER_TRIGGERS.has(e.type)) {
            const p = e.payload as { id?: unknown; plan?: { id?: unknown }; runId?: unknown };
            const planId = typeof p.runId === 'string' ? projection.run(p.runId)?.planId : (p.id ?? p.plan?.id);
            if (typeof planId === 'string') {
              drills.sync(planId).catch((err: unknown) => log.error(`dr: could not move the drill reminder of ${planId}: ${err instanceof Error ? err.message : String(err)}`));
            }
          }
          const progress = PROGRESS[e.type];
          if (progress) {
            const p = e.payload as { run?: { id?: unknown }; runId?: unknown; index?: unknown };
            const runId = progress === 'runStarted' ? p.run?.id : p.runId;
            const run = typeof runId === 'string' ? projection.run(runId) : undefined;
            if (run) server.notifyAll(DidProgressDr, { change: progress, ...(typeof p.index === 'number' ? { stepIndex: p.index } : {}), run });
            continue;
          }
          const change = CHANGE[e.type];
          if (change) {
            const p = e.payload as { id?: unknown; plan?: { id?: unknown }; backup?: { id?: unknown }; planId?: unknown };
            const id = p.id ?? p.plan?.id ?? p.backup?.id ?? p.planId;
            if (typeof id === 'string') server.notifyAll(DidChangeDr, { change, id });
          }
        }
      });
    },
    async start() {
      await service?.seedDefaults();
      await service?.markInterruptedRuns();
      await reminders?.syncAll();
    },
    async close() {
      await service?.close();
    },
  };
}
