import * as z from 'zod';
import { DaemonStatus } from '../../daemon/protocol/daemon';
import { ConnectionStateName } from './connection';

/** Messages of the Overview dashboard (panel type `cogniforge.overview`). */

export const OverviewConnection = z.object({
  type: z.literal('connection'),
  state: ConnectionStateName,
  /** Why there is no daemon, when `state` is `stopped`. */
  reason: z.string().max(2000).optional(),
  /** True when the stop was not asked for: the dashboard shows an error, not a notice. */
  failure: z.boolean(),
});

export const OverviewStatus = z.object({
  type: z.literal('status'),
  status: DaemonStatus,
  /** When the host received it, epoch ms. */
  receivedAt: z.number().int().nonnegative(),
});

export const OverviewStatusError = z.object({
  type: z.literal('statusError'),
  /** Why `daemon/status` failed, one sentence. */
  message: z.string().max(2000),
});

export const OverviewAppended = z.object({
  type: z.literal('appended'),
  /** Events appended per stream since the previous `appended` message. */
  counts: z.record(z.string().max(64), z.number().int().positive()),
});

export const HostToOverview = z.discriminatedUnion('type', [OverviewConnection, OverviewStatus, OverviewStatusError, OverviewAppended]);
export type HostToOverview = z.infer<typeof HostToOverview>;

/** Commands a dashboard may ask the host to run: a fixed list, never an arbitrary command id. */
export const OverviewCommand = z.enum(['startDaemon', 'restartDaemon', 'showLog']);
export type OverviewCommand = z.infer<typeof OverviewCommand>;

export const OverviewToHost = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('refresh') }),
  z.object({ type: z.literal('runCommand'), command: OverviewCommand }),
]);
export type OverviewToHost = z.infer<typeof OverviewToHost>;

/** What the dashboard keeps with `setState`, so a restored or re-shown panel shows the last data at once. */
export const OverviewSavedState = z.object({
  version: z.literal(1),
  status: DaemonStatus.optional(),
  /** Epoch ms of `status`. */
  receivedAt: z.number().int().nonnegative().optional(),
});
export type OverviewSavedState = z.infer<typeof OverviewSavedState>;
