/** One minute of an SLO's traffic. */
export interface MinuteCount {
  /** Minute index: epoch ms ÷ 60,000, floored. */
  minute: number;
  good: number;
  total: number;
}

/**
 * Good/total counters per minute in a fixed ring of `capacity` minutes (window + 3 days), with a
 * Fenwick tree over each so the sum of any range costs O(log capacity): a 30-day evaluation costs
 * about what a 7-day one does, and memory stays fixed however much traffic arrives.
 */
export class MinuteCounters {
  private readonly good: Float64Array;
  private readonly total: Float64Array;
  private readonly treeGood: Float64Array;
  private readonly treeTotal: Float64Array;
  /** Newest minute the ring holds; minutes older than head − capacity + 1 are gone. */
  private head = -Infinity;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`capacity must be a positive integer, got ${capacity}`);
    this.good = new Float64Array(capacity);
    this.total = new Float64Array(capacity);
    this.treeGood = new Float64Array(capacity + 1);
    this.treeTotal = new Float64Array(capacity + 1);
  }

  get headMinute(): number {
    return this.head;
  }

  /** Oldest minute still held. */
  get tailMinute(): number {
    return this.head - this.capacity + 1;
  }

  /** Add counts to a minute; false (nothing changed) when the minute is older than the ring holds. */
  add(minute: number, good: number, total: number): boolean {
    if (minute > this.head) this.advanceTo(minute);
    if (minute < this.tailMinute) return false;
    const slot = this.slot(minute);
    this.good[slot] += good;
    this.total[slot] += total;
    this.update(this.treeGood, slot, good);
    this.update(this.treeTotal, slot, total);
    return true;
  }

  /** Sums over minutes from..to, both inclusive; minutes outside the ring count as zero. */
  sum(from: number, to: number): { good: number; total: number } {
    const lo = Math.max(from, this.tailMinute);
    const hi = Math.min(to, this.head);
    if (hi < lo) return { good: 0, total: 0 };
    const a = this.slot(lo);
    const b = this.slot(hi);
    if (a <= b) return { good: this.range(this.treeGood, a, b), total: this.range(this.treeTotal, a, b) };
    return {
      good: this.range(this.treeGood, a, this.capacity - 1) + this.range(this.treeGood, 0, b),
      total: this.range(this.treeTotal, a, this.capacity - 1) + this.range(this.treeTotal, 0, b),
    };
  }

  /** Non-empty minutes, oldest first (snapshots). */
  entries(): MinuteCount[] {
    const out: MinuteCount[] = [];
    if (this.head === -Infinity) return out;
    for (let m = this.tailMinute; m <= this.head; m++) {
      const s = this.slot(m);
      if (this.total[s] !== 0) out.push({ minute: m, good: this.good[s]!, total: this.total[s]! });
    }
    return out;
  }

  private slot(minute: number): number {
    return ((minute % this.capacity) + this.capacity) % this.capacity;
  }

  /** Move the head forward, clearing the slots of minutes that fall out of the ring. */
  private advanceTo(minute: number): void {
    if (this.head === -Infinity || minute - this.head >= this.capacity) {
      this.good.fill(0);
      this.total.fill(0);
      this.treeGood.fill(0);
      this.treeTotal.fill(0);
    } else {
      for (let m = this.head + 1; m <= minute; m++) {
        const s = this.slot(m);
        if (this.total[s] !== 0) {
          this.update(this.treeGood, s, -this.good[s]!);
          this.update(this.treeTotal, s, -this.total[s]!);
          this.good[s] = 0;
          this.total[s] = 0;
        }
      }
    }
    this.head = minute;
  }

  private update(tree: Float64Array, slot: number, delta: number): void {
    for (let i = slot + 1; i <= this.capacity; i += i & -i) tree[i] += delta;
  }

  private prefix(tree: Float64Array, slot: number): number {
    let s = 0;
    for (let i = slot + 1; i > 0; i -= i & -i) s += tree[i]!;
    return s;
  }

  private range(tree: Float64Array, a: number, b: number): number {
    return this.prefix(tree, b) - (a > 0 ? this.prefix(tree, a - 1) : 0);
  }
}
