import * as z from 'zod';

/**
 * The daemon connection state in words, as the status bar, the views and the dashboards name it.
 * `starting`: this window launched a daemon and waits for it; `stopped`: no daemon and no attempt
 * under way (stopped on purpose, auto-start off, or the restart budget is spent).
 */
export const ConnectionStateName = z.enum(['connecting', 'starting', 'connected', 'reconnecting', 'stopped']);
export type ConnectionStateName = z.infer<typeof ConnectionStateName>;
