import { randomBytes } from 'node:crypto';
import type { Clock } from '../shared/clock';

/** Highest value of the 12-bit `rand_a` field, used as a counter within one millisecond. */
const MAX_COUNTER = 0xfff;

/**
 * UUIDv7 (RFC 9562): 48-bit Unix ms timestamp, version 7, a 12-bit counter in `rand_a` (method 1 of
 * the RFC, so ids made in the same millisecond still sort in creation order), variant `10`, and
 * 62 random bits. Ids are globally unique, so daemons sharing one log never collide, and
 * monotonic per generator even if the clock steps back (the last timestamp is reused).
 */
export class UuidV7Generator {
  private lastMs = -1;
  private counter = 0;

  constructor(
    private readonly clock: Clock,
    private readonly random: (size: number) => Buffer = randomBytes,
  ) {}

  next(): string {
    const bytes = this.random(16);
    let ms = Math.max(0, Math.floor(this.clock.now()));
    if (ms > this.lastMs) {
      // Fresh millisecond: random counter start, top bit clear to leave room for increments.
      this.counter = ((bytes[6]! << 8) | bytes[7]!) & 0x7ff;
    } else {
      ms = this.lastMs;
      this.counter++;
      if (this.counter > MAX_COUNTER) {
        // Counter exhausted: borrow the next millisecond rather than break the ordering.
        ms++;
        this.counter = 0;
      }
    }
    this.lastMs = ms;
    // 48-bit timestamp, big-endian, without bit operators (they truncate to 32 bits).
    let t = ms;
    for (let i = 5; i >= 0; i--) {
      bytes[i] = t % 256;
      t = Math.floor(t / 256);
    }
    bytes[6] = 0x70 | (this.counter >> 8);
    bytes[7] = this.counter & 0xff;
    bytes[8] = 0x80 | (bytes[8]! & 0x3f);
    const hex = bytes.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  }
}

/** The Unix ms timestamp encoded in a UUIDv7. */
export function uuidV7Time(id: string): number {
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}
