/**
 * Runs `fn` at most once per `intervalMs`: the first trigger runs at once, triggers during the wait
 * collapse into one trailing run. Used to turn a burst of appended events into a few refreshes.
 */
export class Throttle {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pending = false;
  private disposed = false;

  constructor(
    private readonly fn: () => void,
    /** Minimum gap between runs, ms. */
    private readonly intervalMs: number,
  ) {}

  trigger(): void {
    if (this.disposed) return;
    if (this.timer !== undefined) {
      this.pending = true;
      return;
    }
    this.run();
  }

  dispose(): void {
    this.disposed = true;
    this.pending = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private run(): void {
    this.timer = setTimeout(() => this.onTimer(), this.intervalMs);
    this.fn();
  }

  private onTimer(): void {
    this.timer = undefined;
    if (!this.pending || this.disposed) return;
    this.pending = false;
    this.run();
  }
}
