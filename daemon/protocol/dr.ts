import * as z from 'zod';
import { IsoTime } from './common';
import { defineNotification, defineRequest } from './define';

/** Plan and step ids: lower-case words with `_` and `-` (`dr_db_001`, `update_dns`). */
export const DrId = z.string().min(1).max(64).regex(/^[a-z][a-z0-9_-]*$/, 'ids are lower-case words with _ and -');
const Name = z.string().trim().min(1).max(200);
const ServiceName = z.string().trim().min(1).max(200);
/** Environment variable names (POSIX portable set). */
const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are letters, digits and _');

export const DrStrategy = z.enum(['backup_restore', 'failover', 'pilot_light', 'warm_standby', 'hot_standby', 'multi_site_active']);
export type DrStrategy = z.infer<typeof DrStrategy>;

/**
 * A process the daemon spawns as its own user, without a shell: `executable` gets `args` as its
 * argument vector (write `sh -c '…'` yourself when you want a shell).
 */
export const CommandAction = z.object({
  kind: z.literal('command'),
  /** A name looked up on the daemon's PATH, or an absolute path. Checked when the plan is saved. */
  executable: z.string().min(1).max(1000),
  args: z.array(z.string().max(10_000)).max(200).default([]),
  /** Absolute working directory; the daemon's data dir when absent. */
  cwd: z.string().min(1).max(1000).refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p), 'cwd must be an absolute path').optional(),
  /** Variables set for the process (stored in the plan: put no secrets here, use `inheritEnv`). */
  env: z.record(EnvName, z.string().max(10_000)).default({}),
  /**
   * Names of the daemon's own environment variables passed through (the allow-list). Nothing else
   * of the daemon's environment reaches the process except PATH. Their values are never stored and
   * are masked in captured output.
   */
  inheritEnv: z.array(EnvName).max(100).default([]),
  /** Killed (with its process tree) after this long, ms. */
  timeoutMs: z.number().int().min(100).max(24 * 3_600_000).default(60_000),
  /** Exit code that counts as success. */
  expectExitCode: z.number().int().min(0).max(255).default(0),
});
export type CommandAction = z.infer<typeof CommandAction>;

/** An HTTP request repeated until it answers the expected status or the deadline passes. */
export const HttpCheckAction = z.object({
  kind: z.literal('httpCheck'),
  /** http(s) URL; its host is the only host this step may contact. */
  url: z.url({ protocol: /^https?$/ }).max(2000),
  method: z.enum(['GET', 'HEAD']).default('GET'),
  expectStatus: z.number().int().min(100).max(599).default(200),
  /** Per attempt, ms. */
  attemptTimeoutMs: z.number().int().min(100).max(600_000).default(5_000),
  /** Keep trying this long after the step started, ms. */
  deadlineMs: z.number().int().min(100).max(24 * 3_600_000).default(30_000),
  /** Pause between attempts, ms. */
  intervalMs: z.number().int().min(10).max(600_000).default(1_000),
});
export type HttpCheckAction = z.infer<typeof HttpCheckAction>;

/** A checklist item: the run waits until someone confirms it with `dr/completeManualStep`. */
export const ManualAction = z.object({
  kind: z.literal('manual'),
  instructions: z.string().trim().min(1).max(10_000),
});
export type ManualAction = z.infer<typeof ManualAction>;

export const StepAction = z.discriminatedUnion('kind', [CommandAction, HttpCheckAction, ManualAction]);
export type StepAction = z.infer<typeof StepAction>;

export const DrStep = z.object({
  id: DrId,
  name: Name,
  action: StepAction,
  /** Carry on with the next step when this one fails (the run still ends `failed`). */
  continueOnFailure: z.boolean().default(false),
  /** How long the step is expected to take, s (the seed's figures; informative). */
  expectedSeconds: z.number().int().min(0).max(7 * 86_400).optional(),
});
export type DrStep = z.infer<typeof DrStep>;

const Steps = z
  .array(DrStep)
  .min(1)
  .max(100)
  .superRefine((steps, ctx) => {
    const seen = new Set<string>();
    steps.forEach((s, i) => {
      if (seen.has(s.id)) ctx.addIssue({ code: 'custom', message: `step id "${s.id}" is used twice`, path: [i, 'id'] });
      seen.add(s.id);
    });
  });

/** What a user writes: everything of a plan but its bookkeeping. */
export const DrPlanSpec = z.object({
  id: DrId,
  name: Name,
  description: z.string().max(10_000).default(''),
  /** Services (components) the plan recovers; backups of these count for its RPO. */
  services: z.array(ServiceName).min(1).max(50),
  strategy: DrStrategy,
  /** Recovery time objective, s. */
  rtoSeconds: z.number().int().min(0).max(30 * 86_400),
  /** Recovery point objective, s. */
  rpoSeconds: z.number().int().min(0).max(365 * 86_400),
  /** A successful run is due this often, days. */
  testEveryDays: z.number().int().min(1).max(3650),
  runbookUrl: z.url().max(2000).optional(),
  steps: Steps,
});
export type DrPlanSpec = z.infer<typeof DrPlanSpec>;

export const DrPlan = DrPlanSpec.extend({
  /** Increases with every update. */
  version: z.number().int().min(1),
  createdAt: IsoTime,
  updatedAt: IsoTime,
  /** Seeded from the seed document (its steps are manual until someone configures commands). */
  seeded: z.boolean(),
});
export type DrPlan = z.infer<typeof DrPlan>;

export const RunMode = z.enum(['drill', 'failover']);
export type RunMode = z.infer<typeof RunMode>;

/** `waiting`: a manual step waits for confirmation. `interrupted`: the daemon stopped mid-run; never resumed. */
export const RunStatus = z.enum(['running', 'waiting', 'succeeded', 'failed', 'cancelled', 'interrupted']);
export type RunStatus = z.infer<typeof RunStatus>;
export const FINAL_RUN_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled', 'interrupted'];

export const StepStatus = z.enum(['pending', 'running', 'waiting', 'succeeded', 'failed', 'skipped', 'cancelled', 'interrupted']);
export type StepStatus = z.infer<typeof StepStatus>;

export const RunStep = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(['command', 'httpCheck', 'manual']),
  status: StepStatus,
  startedAt: IsoTime.optional(),
  finishedAt: IsoTime.optional(),
  /** ms. */
  durationMs: z.number().optional(),
  exitCode: z.number().int().optional(),
  /** Signal that ended the process, e.g. `SIGKILL` after a timeout or cancel. */
  signal: z.string().optional(),
  httpStatus: z.number().int().optional(),
  /** HTTP attempts made. */
  attempts: z.number().int().optional(),
  /** Last bytes of the process output (bounded, secrets masked). */
  stdoutTail: z.string().optional(),
  stderrTail: z.string().optional(),
  /** Why the step failed, in one line. */
  error: z.string().optional(),
  /** Token name that confirmed a manual step. */
  confirmedBy: z.string().optional(),
  note: z.string().optional(),
});
export type RunStep = z.infer<typeof RunStep>;

export const DrRun = z.object({
  id: z.string(),
  planId: z.string(),
  planName: z.string(),
  /** The plan version the run executes (later edits do not change a running run). */
  planVersion: z.number().int(),
  mode: RunMode,
  status: RunStatus,
  startedBy: z.string(),
  startedAt: IsoTime,
  finishedAt: IsoTime.optional(),
  /** Index of the step running or waiting; absent when none is. */
  currentStep: z.number().int().optional(),
  steps: z.array(RunStep),
  rto: z.object({
    objectiveSeconds: z.number(),
    /** Start to last step done, ms; set when the run finished. */
    actualMs: z.number().optional(),
    /** True only for a succeeded run within the objective; absent while running. */
    met: z.boolean().optional(),
  }),
  /** Why it was cancelled or interrupted. */
  reason: z.string().optional(),
  cancelledBy: z.string().optional(),
});
export type DrRun = z.infer<typeof DrRun>;

export const BackupState = z.enum(['unverified', 'verified', 'corrupt', 'missing']);
export type BackupState = z.infer<typeof BackupState>;

export const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'sha256 is 64 lower-case hex digits');

/** Backup ids: letters, digits and `_ . : -` (a script may put the time in it). */
export const BackupId = z.string().min(1).max(200).regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'backup ids are letters, digits and _ . : -');

export const BackupSpec = z.object({
  id: BackupId,
  service: ServiceName,
  /** Absolute path of the backup file as the daemon can read it. */
  location: z.string().min(1).max(2000).refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p), 'location must be an absolute file path'),
  /** When the backup was taken (its point in time for the RPO). */
  createdAt: IsoTime,
  sizeBytes: z.number().int().min(0),
  sha256: Sha256,
});
export type BackupSpec = z.infer<typeof BackupSpec>;

export const Backup = BackupSpec.extend({
  registeredAt: IsoTime,
  registeredBy: z.string(),
  state: BackupState,
  verifiedAt: IsoTime.optional(),
  /** What the last verification read (absent when the file was missing). */
  actualSha256: z.string().optional(),
  actualSizeBytes: z.number().int().optional(),
  /** Why the last verification did not pass. */
  problem: z.string().optional(),
});
export type Backup = z.infer<typeof Backup>;

/** RPO of one service: the newest verified backup's age against the plan's objective. */
export const RpoServiceStatus = z.object({
  service: z.string(),
  /** `noVerifiedBackup`: nothing verified yet, so the RPO cannot be shown to be met. */
  status: z.enum(['met', 'missed', 'noVerifiedBackup']),
  newestVerifiedBackupId: z.string().optional(),
  /** The newest verified backup's `createdAt`. */
  newestVerifiedAt: IsoTime.optional(),
  /** Age of that backup now, ms. */
  ageMs: z.number().optional(),
});

export const PlanStatus = z.object({
  planId: z.string(),
  name: z.string(),
  strategy: DrStrategy,
  services: z.array(z.string()),
  rtoSeconds: z.number(),
  rpoSeconds: z.number(),
  testEveryDays: z.number(),
  /** A run of this plan in progress. */
  activeRunId: z.string().optional(),
  lastRun: z.object({ id: z.string(), mode: RunMode, status: RunStatus, startedAt: IsoTime, finishedAt: IsoTime.optional() }).optional(),
  lastDrill: z.object({ id: z.string(), status: RunStatus, startedAt: IsoTime }).optional(),
  /** When the last succeeded run (drill or failover) finished. */
  lastSuccessfulTestAt: IsoTime.optional(),
  /** `lastSuccessfulTestAt` + testEveryDays; absent when never tested. */
  nextTestDueAt: IsoTime.optional(),
  /** Never successfully tested, or past `nextTestDueAt`. */
  overdue: z.boolean(),
  rto: z.object({
    /** The last finished run's actual RTO, ms. */
    lastActualMs: z.number().optional(),
    /** Of the last finished run; absent when none finished. */
    met: z.boolean().optional(),
  }),
  rpo: z.object({
    /** Every service met; false when one missed or has no verified backup. */
    met: z.boolean(),
    services: z.array(RpoServiceStatus),
  }),
  /** Backups of the plan's services by state. */
  backups: z.record(BackupState, z.number().int()),
});
export type PlanStatus = z.infer<typeof PlanStatus>;

// ── Plans ─────────────────────────────────────────────────────────────────────

export const ListPlans = defineRequest('dr/listPlans', z.object({}), z.object({ plans: z.array(DrPlan) }), {
  kind: 'query',
  doc: 'Every disaster-recovery plan with its steps.',
});

export const GetPlan = defineRequest('dr/getPlan', z.object({ id: DrId }), DrPlan, { kind: 'query', doc: 'One plan by id.' });

export const CreatePlan = defineRequest('dr/createPlan', DrPlanSpec, DrPlan, {
  kind: 'command',
  scope: 'admin',
  doc: 'Create a plan (admin: its steps run commands); executables are checked on the daemon host.',
});

export const UpdatePlan = defineRequest(
  'dr/updatePlan',
  DrPlanSpec.extend({
    /** The version the caller edited; a different current version is Conflict. */
    expectedVersion: z.number().int().min(1).optional(),
  }),
  DrPlan,
  { kind: 'command', scope: 'admin', doc: 'Replace a plan (admin); runs in progress keep the version they started with.' },
);

export const DeletePlan = defineRequest('dr/deletePlan', z.object({ id: DrId }), z.object({ ok: z.literal(true) }), {
  kind: 'command',
  scope: 'admin',
  doc: 'Delete a plan that has no run in progress (admin); its past runs stay readable.',
});

// ── Runs ──────────────────────────────────────────────────────────────────────

export const StartRun = defineRequest(
  'dr/startRun',
  z.object({ planId: DrId, mode: RunMode.default('drill') }),
  DrRun,
  {
    kind: 'command',
    doc: 'Start a drill (write) or a failover (admin) of a plan; answers once the run is recorded, steps then run in order.',
  },
);

export const CompleteManualStep = defineRequest(
  'dr/completeManualStep',
  z.object({
    runId: z.string().min(1).max(100),
    stepId: DrId,
    /** `failed` when the person could not do it. */
    outcome: z.enum(['done', 'failed']).default('done'),
    note: z.string().max(10_000).optional(),
  }),
  DrRun,
  { kind: 'command', doc: 'Confirm (or fail) the manual step a run is waiting on; answers once recorded.' },
);

export const AbortRun = defineRequest(
  'dr/abortRun',
  z.object({ runId: z.string().min(1).max(100), reason: z.string().max(2000).optional() }),
  DrRun,
  { kind: 'command', doc: 'Cancel a run: the running process tree is killed; answers with the cancelled run.' },
);

export const ListRuns = defineRequest(
  'dr/listRuns',
  z.object({ planId: DrId.optional(), limit: z.number().int().min(1).max(500).default(50) }),
  z.object({ runs: z.array(DrRun) }),
  { kind: 'query', doc: 'Runs, newest first, optionally of one plan.' },
);

export const GetRun = defineRequest('dr/getRun', z.object({ runId: z.string().min(1).max(100) }), DrRun, {
  kind: 'query',
  doc: 'One run with every step, its output tails and the measured RTO.',
});

export const GetDrStatus = defineRequest(
  'dr/status',
  z.object({ planId: DrId.optional() }),
  z.object({ generatedAt: IsoTime, plans: z.array(PlanStatus) }),
  { kind: 'query', doc: 'Per plan: last run and drill, next test due, overdue, RTO and RPO compliance, backups by state.' },
);

// ── Backups ───────────────────────────────────────────────────────────────────

export const RegisterBackup = defineRequest('backups/register', BackupSpec, Backup, {
  kind: 'command',
  doc: 'Register a backup file (location, time, size, SHA-256); it is `unverified` until `backups/verify`.',
});

export const VerifyBackup = defineRequest('backups/verify', z.object({ id: BackupId }), Backup, {
  kind: 'command',
  doc: 'Re-read the backup file, recompute its SHA-256 and record verified, corrupt or missing.',
});

export const ListBackups = defineRequest(
  'backups/list',
  z.object({ service: ServiceName.optional() }),
  z.object({ backups: z.array(Backup) }),
  { kind: 'query', doc: 'Registered backups, newest `createdAt` first, optionally of one service.' },
);

export const DeleteBackup = defineRequest('backups/delete', z.object({ id: BackupId }), z.object({ ok: z.literal(true) }), {
  kind: 'command',
  doc: 'Forget a backup registration (the file is not touched).',
});

// ── Notifications ─────────────────────────────────────────────────────────────

export const DidProgressDr = defineNotification(
  'dr/didProgress',
  z.object({
    change: z.enum(['runStarted', 'stepStarted', 'stepFinished', 'runFinished']),
    /** Index of the step concerned. */
    stepIndex: z.number().int().optional(),
    run: DrRun,
  }),
  'A run of a plan moved: a step started, waits for confirmation, finished, or the run ended.',
);

export const DidChangeDr = defineNotification(
  'dr/didChange',
  z.object({
    change: z.enum(['planCreated', 'planUpdated', 'planDeleted', 'backupRegistered', 'backupVerified', 'backupDeleted', 'drillDue']),
    /** The plan or backup id. */
    id: z.string(),
  }),
  "A plan or a backup registration changed, or a plan's test fell due (`drillDue`, again daily while it stays overdue).",
);
