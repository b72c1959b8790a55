import type { EventRecord, Projection } from '../../../daemon/store/types';

/** Counts applied events: after a crash, snapshot + replayed tail must equal the log's length. */
export class EventCountProjection implements Projection {
  readonly name = 'eventCount';
  count = 0;
  apply(_event: EventRecord): void {
    this.count++;
  }
  snapshot(): unknown {
    return { count: this.count };
  }
  restore(state: unknown): void {
    this.count = (state as { count: number }).count;
  }
  reset(): void {
    this.count = 0;
  }
}
