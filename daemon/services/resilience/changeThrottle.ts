import type { Clock, TimerHandle } from '../shared/clock';

/**
 * At most one emission per key per interval: the first change is emitted at once, changes during
 * the interval collapse into one emission at its end (with the latest state, read then).
 */
export class ChangeThrottle {
  private readonly windows = new Map<string, { timer: TimerHandle; dirty: boolean }>();

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly emit: (key: string) => void,
  ) {}

  touch(key: string): void {
    const w = this.windows.get(key);
    if (w) {
      w.dirty = true;
      return;
    }
    this.emit(key);
    this.open(key);
  }

  /** Stop every timer; pending changes are dropped. */
  close(): void {
    for (const w of this.windows.values()) w.timer.cancel();
    this.windows.clear();
  }

  private open(key: string): void {
    const window = {
      dirty: false,
      timer: this.clock.setTimer(this.intervalMs, () => {
        this.windows.delete(key);
        if (!window.dirty) return;
        this.emit(key);
        this.open(key);
      }),
    };
    this.windows.set(key, window);
  }
}
