import * as z from 'zod';

/** ISO-8601 timestamp with offset, e.g. `2026-11-27T17:14:00.000Z`. */
export const IsoTime = z.iso.datetime({ offset: true });

/** Event priority, as the seed's event bus defined them. */
export const Priority = z.enum(['low', 'normal', 'high', 'critical']);
export type Priority = z.infer<typeof Priority>;

/** A page request: `limit` rows after `cursor` (an opaque string from the previous page). */
export const PageParams = z.object({
  limit: z.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(200).optional(),
});

export const Empty = z.object({}).strict();
export const Ok = z.object({ ok: z.literal(true) });
