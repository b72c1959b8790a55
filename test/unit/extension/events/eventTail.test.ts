import { describe, expect, it } from 'vitest';
import { EventTail, matchesTypePattern, parseTypePatterns } from '../../../../extension/features/events/eventTail';
import { event } from './fixtures';

describe('matchesTypePattern', () => {
  it('matches segments, one-segment and any-rest wildcards as the daemon does', () => {
    expect(matchesTypePattern('order.placed', 'order.placed')).toBe(true);
    expect(matchesTypePattern('order.*', 'order.placed')).toBe(true);
    expect(matchesTypePattern('order.*', 'order.placed.late')).toBe(false);
    expect(matchesTypePattern('order.**', 'order.placed.late')).toBe(true);
    expect(matchesTypePattern('order.#', 'order')).toBe(true);
    expect(matchesTypePattern('**', 'anything.at.all')).toBe(true);
    expect(matchesTypePattern('*.failed', 'payment.failed')).toBe(true);
    expect(matchesTypePattern('order.*', 'orders.placed')).toBe(false);
  });
});

describe('parseTypePatterns', () => {
  it('splits on commas and spaces; empty means every type', () => {
    expect(parseTypePatterns(' order.*, api.**  payment.failed')).toEqual({ ok: true, patterns: ['order.*', 'api.**', 'payment.failed'] });
    expect(parseTypePatterns('')).toEqual({ ok: true, patterns: [] });
  });

  it('names the pattern that is not one', () => {
    const parsed = parseTypePatterns('order.*, bad..type');
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.message).toContain('"bad..type"');
  });
});

describe('EventTail', () => {
  it('keeps the newest events first, bounded, and each seq once', () => {
    const tail = new EventTail(3);
    for (let seq = 1; seq <= 5; seq++) expect(tail.push(event(seq))).toBe(true);
    expect(tail.push(event(5))).toBe(false);
    expect(tail.snapshot().events.map((e) => e.seq)).toEqual([5, 4, 3]);
    expect(tail.find(4)?.seq).toBe(4);
    expect(tail.find(1)).toBeUndefined();
  });

  it('holds still while paused, counting what it misses, and follows again on resume', () => {
    const tail = new EventTail();
    tail.push(event(1));
    tail.pause();
    tail.push(event(2));
    tail.push(event(3));
    expect(tail.snapshot()).toMatchObject({ paused: true, missed: 2 });
    expect(tail.snapshot().events.map((e) => e.seq)).toEqual([1]);
    tail.resume();
    tail.push(event(4));
    expect(tail.snapshot()).toMatchObject({ paused: false, missed: 0 });
    expect(tail.snapshot().events.map((e) => e.seq)).toEqual([4, 1]);
  });

  it('filters by type pattern, dropping shown events that do not match', () => {
    const tail = new EventTail();
    tail.push(event(1, { type: 'api.request' }));
    tail.push(event(2, { type: 'order.placed' }));
    tail.setPatterns(['order.*']);
    expect(tail.snapshot().events.map((e) => e.seq)).toEqual([2]);
    expect(tail.push(event(3, { type: 'api.request' }))).toBe(false);
    expect(tail.push(event(4, { type: 'order.paid' }))).toBe(true);
    expect(tail.snapshot().events.map((e) => e.seq)).toEqual([4, 2]);
    tail.clear();
    expect(tail.snapshot().events).toEqual([]);
  });
});
