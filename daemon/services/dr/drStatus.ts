import { BackupState, FINAL_RUN_STATUSES, type Backup, type DrPlan, type DrRun, type PlanStatus } from '../../protocol/dr';

const DAY_MS = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * What a dashboard shows for one plan. `runs` are the plan's runs newest first; `backups` any
 * backups (only those of the plan's services count); `now` epoch ms. A plan counts as tested by a
 * succeeded run of either mode: a real failover proves the plan as well as a drill does.
 */
export function planStatus(plan: DrPlan, runs: readonly DrRun[], backups: readonly Backup[], now: number): PlanStatus {
  const active = runs.find((r) => !FINAL_RUN_STATUSES.includes(r.status));
  const last = runs[0];
  const lastDrill = runs.find((r) => r.mode === 'drill');
  const lastFinished = runs.find((r) => FINAL_RUN_STATUSES.includes(r.status));
  const lastSuccess = runs.find((r) => r.status === 'succeeded' && r.finishedAt !== undefined);
  const lastSuccessAt = lastSuccess ? Date.parse(lastSuccess.finishedAt!) : undefined;
  const nextDue = lastSuccessAt !== undefined ? lastSuccessAt + plan.testEveryDays * DAY_MS : undefined;

  const services = plan.services.map((service) => {
    const newest = backups
      .filter((b) => b.service === service && b.state === 'verified')
      .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt))[0];
    if (!newest) return { service, status: 'noVerifiedBackup' as const };
    const ageMs = Math.max(0, now - Date.parse(newest.createdAt));
    return {
      service,
      status: ageMs <= plan.rpoSeconds * 1000 ? ('met' as const) : ('missed' as const),
      newestVerifiedBackupId: newest.id,
      newestVerifiedAt: newest.createdAt,
      ageMs,
    };
  });

  const counts = Object.fromEntries(BackupState.options.map((s) => [s, 0])) as Record<BackupState, number>;
  for (const b of backups) if (plan.services.includes(b.service)) counts[b.state]++;

  return {
    planId: plan.id,
    name: plan.name,
    strategy: plan.strategy,
    services: plan.services,
    rtoSeconds: plan.rtoSeconds,
    rpoSeconds: plan.rpoSeconds,
    testEveryDays: plan.testEveryDays,
    ...(active ? { activeRunId: active.id } : {}),
    ...(last
      ? { lastRun: { id: last.id, mode: last.mode, status: last.status, startedAt: last.startedAt, ...(last.finishedAt ? { finishedAt: last.finishedAt } : {}) } }
      : {}),
    ...(lastDrill ? { lastDrill: { id: lastDrill.id, status: lastDrill.status, startedAt: lastDrill.startedAt } } : {}),
    ...(lastSuccessAt !== undefined ? { lastSuccessfulTestAt: iso(lastSuccessAt) } : {}),
    ...(nextDue !== undefined ? { nextTestDueAt: iso(nextDue) } : {}),
    overdue: nextDue === undefined || now > nextDue,
    rto: {
      ...(lastFinished?.rto.actualMs !== undefined ? { lastActualMs: lastFinished.rto.actualMs } : {}),
      ...(lastFinished?.rto.met !== undefined ? { met: lastFinished.rto.met } : {}),
    },
    rpo: { met: services.every((s) => s.status === 'met'), services },
    backups: counts,
  };
}
