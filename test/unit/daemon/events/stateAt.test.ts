import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../../daemon/protocol';
import { stateAt } from '../../../../daemon/services/events/stateAt';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import type { EventRecord, Projection } from '../../../../daemon/store/types';
import { MemoryEventLog } from '../support/memoryStore';

class CounterProjection implements Projection {
  readonly name = 'counter';
  private count = 0;
  apply(e: EventRecord): void {
    if (e.type === 'count.up') this.count++;
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

class NeedsArgs extends CounterProjection {
  constructor(readonly unused: number) {
    super();
  }
}

async function setup() {
  const clock = new ManualClock();
  const live = new CounterProjection();
  const store = new MemoryEventLog().open({ clock, projections: [live] });
  for (let i = 0; i < 5; i++) {
    await store.append([{ type: 'count.up', actor: 't', payload: {} }]);
    clock.advance(1000);
  }
  const sources = () => [{ name: 'counting', projections: [live] }, { name: 'other', projections: [new NeedsArgs(1)] }];
  return { store, live, sources, clock };
}

describe('stateAt', () => {
  it('rebuilds a fresh projection up to a seq or time, leaving the live one alone', async () => {
    const { store, live, sources } = await setup();
    expect(await stateAt(store, sources, { projection: 'counting', seq: 2 })).toEqual({
      seq: 2,
      eventsApplied: 2,
      complete: true,
      projections: [{ name: 'counter', state: { count: 2 } }],
    });
    const byTime = await stateAt(store, () => sources().slice(0, 1), { projection: 'counter', at: '2026-01-01T00:00:03.000Z' });
    expect(byTime).toMatchObject({ seq: 4, projections: [{ state: { count: 4 } }] });
    expect(live.snapshot()).toEqual({ count: 5 });
  });

  it('refuses unknown names, seqs past the head and projections it cannot construct', async () => {
    const { store, sources } = await setup();
    await expect(stateAt(store, sources, { projection: 'nope', seq: 1 })).rejects.toMatchObject({ code: ErrorCode.NotFound, message: expect.stringContaining('counting') });
    await expect(stateAt(store, sources, { projection: 'counting', seq: 99 })).rejects.toMatchObject({ code: ErrorCode.FailedPrecondition });
    await expect(stateAt(store, sources, { projection: 'other', seq: 1 })).rejects.toMatchObject({ code: ErrorCode.FailedPrecondition });
  });
});
