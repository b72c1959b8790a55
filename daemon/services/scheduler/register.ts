import { ListTimers } from '../../protocol';
import type { Router } from '../../server/router';
import type { Scheduler } from './scheduler';

/** Serve the scheduler's queries (`scheduler/list`). */
export function registerScheduler(router: Router, scheduler: Scheduler): void {
  router.on(ListTimers, ({ kind, limit }) => {
    const timers = scheduler.pending({ kind });
    return { timers: timers.slice(0, limit), total: timers.length };
  });
}
