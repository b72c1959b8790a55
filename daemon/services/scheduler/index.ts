export { SchedulerProjection } from './projection';
export { Scheduler, nextOccurrence } from './scheduler';
export type { LogFn, ScheduleRequest, SchedulerOptions, TimerFiring, TimerHandler } from './scheduler';
export { registerScheduler } from './register';
