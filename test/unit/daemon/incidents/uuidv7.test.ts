import { describe, expect, it } from 'vitest';
import { UuidV7Generator, uuidV7Time } from '../../../../daemon/services/incidents/uuidv7';
import { ManualClock } from '../../../../daemon/services/shared/clock';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('UuidV7Generator', () => {
  it('makes RFC 9562 version-7 ids carrying the clock time in ms', () => {
    const clock = new ManualClock(Date.parse('2026-11-27T18:00:00.123Z'));
    const id = new UuidV7Generator(clock).next();
    expect(id).toMatch(UUID_V7);
    expect(uuidV7Time(id)).toBe(clock.now());
  });

  it('encodes a known timestamp and fixed random bytes exactly', () => {
    const clock = new ManualClock(0x017f22e279b0);
    const id = new UuidV7Generator(clock, () => Buffer.alloc(16, 0xff)).next();
    // Counter start is the random 12 bits with the top bit cleared: 0x7ff.
    expect(id).toBe('017f22e2-79b0-77ff-bfff-ffffffffffff');
  });

  it('sorts in creation order within one millisecond and past the 12-bit counter', () => {
    const clock = new ManualClock();
    const gen = new UuidV7Generator(clock);
    const ids: string[] = [];
    // More than 4096 in one millisecond forces the counter to overflow into the next millisecond.
    for (let i = 0; i < 5000; i++) ids.push(gen.next());
    clock.advance(1);
    for (let i = 0; i < 10; i++) ids.push(gen.next());
    expect(ids.filter((id) => !UUID_V7.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('stays monotonic when the clock steps back', () => {
    let now = Date.parse('2026-06-01T12:00:00Z');
    const clock = { now: () => now, setTimer: () => ({ cancel: () => undefined }) };
    const gen = new UuidV7Generator(clock);
    const first = gen.next();
    now -= 60_000;
    const second = gen.next();
    expect(second > first).toBe(true);
    expect(uuidV7Time(second)).toBe(uuidV7Time(first));
  });
});
