/** Wall-clock parts of an instant in a time zone. `weekday` 0 = Monday. */
export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall clock in `timeZone` at epoch ms `t`. */
export function localParts(t: number, timeZone: string): LocalParts {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(t))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const year = parts.year!;
  const month = parts.month!;
  const day = parts.day!;
  return {
    year,
    month,
    day,
    hour: parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
    weekday: (new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 6) % 7,
  };
}

/** UTC offset of `timeZone` at epoch ms `t`, ms (Berlin in summer: +7,200,000). */
export function offsetAt(t: number, timeZone: string): number {
  const p = localParts(t, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - (t - (((t % 1000) + 1000) % 1000));
}

/**
 * The instant a local wall time happens in `timeZone`. Day overflow is allowed (day 32 is the 1st of
 * the next month). A time skipped by a spring-forward change maps to the same distance after the
 * change (02:30 → 03:30); a repeated autumn time maps to its first occurrence.
 */
export function zonedToUtc(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  // Zone offsets never change twice within two days: the offsets a day either side are the candidates.
  const offsets = [offsetAt(wall - 86_400_000, timeZone), offsetAt(wall + 86_400_000, timeZone), offsetAt(wall, timeZone)];
  const valid = offsets.map((o) => wall - o).filter((t) => t + offsetAt(t, timeZone) === wall);
  if (valid.length > 0) return Math.min(...valid);
  return wall - Math.min(...offsets);
}

/** `HH:mm` → [hour, minute]. */
export function parseLocalTime(hhmm: string): [number, number] {
  const [h, m] = hhmm.split(':');
  return [Number(h), Number(m)];
}

/** `YYYY-MM-DD` → [year, month, day]. */
export function parseDate(date: string): [number, number, number] {
  const [y, m, d] = date.split('-');
  return [Number(y), Number(m), Number(d)];
}

/** Whole days from 1970-01-01 of a civil date (for calendar arithmetic without a zone). */
export function civilDay(year: number, month: number, day: number): number {
  return Math.floor(Date.UTC(year, month - 1, day) / 86_400_000);
}

/** The civil date of a day number. */
export function civilDate(dayNumber: number): [number, number, number] {
  const d = new Date(dayNumber * 86_400_000);
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
}
