import * as z from 'zod';
import { ChangeSeverity, OwaspCategory } from '../../daemon/protocol/governance';
import { ConnectionStateName } from './connection';

/** Messages of the governance dashboard (panel type `cogniforge.governanceDashboard`). */

/**
 * One cell of the compliance matrix. `fail`: an error or warning finding in the category; `partly`:
 * only info or hint findings (nothing that fails it); `pass`: no finding at all.
 */
export const CellStatus = z.enum(['pass', 'partly', 'fail']);
export type CellStatus = z.infer<typeof CellStatus>;

const Count = z.number().int().min(0);

export const MatrixCell = z.object({
  category: OwaspCategory,
  status: CellStatus,
  errors: Count,
  warnings: Count,
  /** Info and hint findings. */
  notes: Count,
});
export type MatrixCell = z.infer<typeof MatrixCell>;

export const MatrixRow = z.object({
  /** Absolute path: what a click opens (the host opens only files of the report it sent). */
  file: z.string().max(4096),
  /** Workspace-relative path, or the file name outside the workspace. */
  label: z.string().max(4096),
  /** 0..100. */
  score: z.number().min(0).max(100),
  findingCount: Count,
  /** Findings that are not about an OWASP category (invalid YAML, bad `$ref`s, not OpenAPI). */
  structureFindings: Count,
  cells: z.array(MatrixCell).max(10),
});
export type MatrixRow = z.infer<typeof MatrixRow>;

export const CategoryHeader = z.object({
  category: OwaspCategory,
  title: z.string().max(200),
  /** How much of the category a contract can show at all. */
  coverage: z.enum(['partial', 'none']),
});
export type CategoryHeader = z.infer<typeof CategoryHeader>;

export const ScorePoint = z.object({
  /** ISO-8601. */
  auditedAt: z.string(),
  score: z.number().min(0).max(100),
  findingCount: Count,
});
export type ScorePoint = z.infer<typeof ScorePoint>;

export const BreakingChangeItem = z.object({
  severity: ChangeSeverity,
  rule: z.string().max(200),
  message: z.string().max(2000),
  /** `GET /orders/{id}` when the change is about an operation. */
  operation: z.string().max(2100).optional(),
  clients: z.array(z.string().max(200)).max(20),
});
export type BreakingChangeItem = z.infer<typeof BreakingChangeItem>;

export const BreakingReport = z.object({
  /** ISO-8601. */
  comparedAt: z.string(),
  base: z.string().max(4200),
  head: z.string().max(4200),
  summary: z.object({ breaking: Count, warning: Count, info: Count }),
  /** Breaking first; at most 20 listed. */
  changes: z.array(BreakingChangeItem).max(20),
  changeCount: Count,
});
export type BreakingReport = z.infer<typeof BreakingReport>;

/**
 * The latest breaking-change report: `none` when the daemon has compared nothing yet, `unavailable`
 * when it offers no comparison reports at all (an older daemon).
 */
export const BreakingState = z.discriminatedUnion('status', [
  z.object({ status: z.literal('report'), report: BreakingReport }),
  z.object({ status: z.literal('none') }),
  z.object({ status: z.literal('unavailable'), reason: z.string().max(2000) }),
]);
export type BreakingState = z.infer<typeof BreakingState>;

export const GovernanceDashboardConnection = z.object({
  type: z.literal('connection'),
  state: ConnectionStateName,
  reason: z.string().max(2000).optional(),
});

export const GovernanceDashboardData = z.object({
  type: z.literal('data'),
  /** Null before the first audit. */
  audit: z
    .object({
      /** ISO-8601. */
      auditedAt: z.string(),
      score: z.number().min(0).max(100),
      scoreFormula: z.string().max(2000),
      findingCount: Count,
      categories: z.array(CategoryHeader).max(10),
      rows: z.array(MatrixRow).max(200),
    })
    .nullable(),
  /** Oldest first, at most 200. */
  history: z.array(ScorePoint).max(200),
  breaking: BreakingState,
  /** When the host received it, epoch ms. */
  receivedAt: z.number().int().nonnegative(),
});
export type GovernanceDashboardData = z.infer<typeof GovernanceDashboardData>;

export const GovernanceDashboardError = z.object({
  type: z.literal('error'),
  message: z.string().max(2000),
});

export const HostToGovernanceDashboard = z.discriminatedUnion('type', [GovernanceDashboardConnection, GovernanceDashboardData, GovernanceDashboardError]);
export type HostToGovernanceDashboard = z.infer<typeof HostToGovernanceDashboard>;

/** Commands the dashboard may ask the host to run: a fixed list, never an arbitrary command id. */
export const GovernanceDashboardCommand = z.enum(['auditWorkspace', 'compareContract', 'startDaemon', 'showLog']);
export type GovernanceDashboardCommand = z.infer<typeof GovernanceDashboardCommand>;

export const GovernanceDashboardToHost = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('refresh') }),
  /** Open a document of the matrix, optionally at its first finding of a category. */
  z.object({ type: z.literal('openDocument'), file: z.string().min(1).max(4096), category: OwaspCategory.optional() }),
  z.object({ type: z.literal('runCommand'), command: GovernanceDashboardCommand }),
]);
export type GovernanceDashboardToHost = z.infer<typeof GovernanceDashboardToHost>;
