import type { Scheduler } from '../scheduler/scheduler';
import type { Clock } from '../shared/clock';
import type { SecretsService } from './secretsService';

export const ROTATION_TIMER_KIND = 'secrets.rotateDue';
export const GRACE_TIMER_KIND = 'secrets.endGrace';
const ROTATION_TIMER_KEY = 'secrets:rotation';
const GRACE_TIMER_KEY = 'secrets:grace';

export interface RotationSchedulerOptions {
  /** When a rotation round leaves secrets due (their backend failed), try again this much later, ms. Default 5 min. */
  retryMs?: number;
  log?: (level: 'info' | 'warn', message: string) => void;
}

/**
 * Two durable timers drive every scheduled rotation and every end of a grace period: one due at the
 * earliest `nextRotation` of any secret, one at the earliest `graceUntil` of any previous version.
 * When the first fires, every secret due by then is rotated once (`rotateDue`), however many periods
 * were missed while the daemon was down or the laptop asleep (the scheduler fires an overdue timer
 * once, late), and the timer moves to the next earliest deadline. Two timers instead of one per
 * secret: a bulk rotation of a thousand secrets appends no timer events of its own.
 */
export class RotationScheduler {
  private reconciling: Promise<void> = Promise.resolve();
  private again = false;
  private busy = false;
  private lastRoundAt: number | undefined;
  private readonly retryMs: number;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly secrets: SecretsService,
    private readonly clock: Clock,
    private readonly options: RotationSchedulerOptions = {},
  ) {
    this.retryMs = options.retryMs ?? 300_000;
  }

  register(): void {
    this.scheduler.register(ROTATION_TIMER_KIND, async (t) => {
      this.lastRoundAt = this.clock.now();
      const r = await this.secrets.rotateDue('scheduler');
      const late = t.late ? ` (late: due ${t.due})` : '';
      if (r.results.length > 0) this.options.log?.('info', `secrets: scheduled rotation${late}: ${r.rotated} rotated, ${r.failed} failed`);
      await this.reconcile();
    });
    this.scheduler.register(GRACE_TIMER_KIND, async () => {
      await this.secrets.deprecateExpired('scheduler');
      await this.reconcile();
    });
  }

  /** Bring both timers in line with the secrets (coalesced: many changes, one reconcile after them). */
  reconcile(): Promise<void> {
    if (this.busy) {
      this.again = true;
      return this.reconciling;
    }
    this.busy = true;
    this.reconciling = (async () => {
      try {
        do {
          this.again = false;
          await this.reconcileNow();
        } while (this.again);
      } finally {
        this.busy = false;
      }
    })().catch((e: unknown) => this.options.log?.('warn', `secrets: could not schedule the rotation timers: ${e instanceof Error ? e.message : String(e)}`));
    return this.reconciling;
  }

  private async reconcileNow(): Promise<void> {
    let rotation = this.secrets.nextRotationDue();
    // Due already at the last round and still not rotated: that rotation failed (backend down).
    // Try again later rather than in a tight loop.
    if (rotation !== undefined && this.lastRoundAt !== undefined && rotation <= this.lastRoundAt) {
      rotation = Math.max(rotation, this.lastRoundAt + this.retryMs);
    }
    await this.ensure(ROTATION_TIMER_KIND, ROTATION_TIMER_KEY, rotation);
    await this.ensure(GRACE_TIMER_KIND, GRACE_TIMER_KEY, this.secrets.nextGraceEnd());
  }

  /**
   * One keyed timer at `due`. A pending timer that fires no later is kept (when it fires it finds the
   * work, or nothing, and moves on); one whose occurrence is firing now is over and gets replaced.
   */
  private async ensure(kind: string, key: string, due: number | undefined): Promise<void> {
    const existing = this.scheduler.get(key);
    const pending = existing !== undefined && existing.firing === undefined;
    if (due === undefined) {
      if (pending) await this.scheduler.cancel(key);
      return;
    }
    if (pending && Date.parse(existing.due) <= due) return;
    await this.scheduler.schedule({ kind, key, due });
  }
}
