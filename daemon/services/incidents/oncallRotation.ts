import type { Override, RotationLayer } from '../../protocol/oncall';
import { civilDate, civilDay, localParts, parseDate, parseLocalTime, zonedToUtc } from './oncallTime';

/** A span of the schedule, epoch ms, `to` exclusive; `person: null` is a gap. */
export interface Segment {
  from: number;
  to: number;
  person: string | null;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/**
 * Start of turn `k` of a layer (k = 0 is the first member's first turn). Days and weeks step the
 * local calendar date, so the handoff stays at the same wall time across a DST change (that turn is
 * 23 or 25 hours long); hours step elapsed time.
 */
export function turnStart(layer: RotationLayer, k: number): number {
  const [y, m, d] = parseDate(layer.startDate);
  const [h, mi] = parseLocalTime(layer.handoffTime);
  if (layer.turn.unit === 'hours') return zonedToUtc(y, m, d, h, mi, layer.timeZone) + k * layer.turn.count * HOUR_MS;
  const days = layer.turn.count * (layer.turn.unit === 'weeks' ? 7 : 1);
  const [yy, mm, dd] = civilDate(civilDay(y, m, d) + k * days);
  return zonedToUtc(yy, mm, dd, h, mi, layer.timeZone);
}

/** The covered spans of one layer within [from, to): turns, cut to its restrictions. Before its start it covers nothing. */
export function layerSegments(layer: RotationLayer, from: number, to: number): Segment[] {
  const origin = turnStart(layer, 0);
  if (to <= origin || from >= to) return [];
  const approx = layer.turn.unit === 'hours' ? layer.turn.count * HOUR_MS : layer.turn.count * (layer.turn.unit === 'weeks' ? 7 : 1) * DAY_MS;
  let k = Math.max(0, Math.floor((Math.max(from, origin) - origin) / approx));
  while (k > 0 && turnStart(layer, k) > from) k--;
  while (turnStart(layer, k + 1) <= from) k++;
  const turns: Segment[] = [];
  for (let start = turnStart(layer, k); start < to; k++) {
    const end = turnStart(layer, k + 1);
    turns.push({ from: Math.max(start, from), to: Math.min(end, to), person: layer.members[k % layer.members.length]! });
    start = end;
  }
  if (!layer.restrictions || layer.restrictions.length === 0) return turns;
  return intersect(turns, restrictionWindows(layer, from, to));
}

/** The restriction windows of a layer overlapping [from, to), merged and sorted. */
export function restrictionWindows(layer: RotationLayer, from: number, to: number): { from: number; to: number }[] {
  const first = localParts(from, layer.timeZone);
  const last = localParts(to, layer.timeZone);
  const windows: { from: number; to: number }[] = [];
  for (let dn = civilDay(first.year, first.month, first.day) - 1; dn <= civilDay(last.year, last.month, last.day); dn++) {
    // 1970-01-01 was a Thursday (index 3 with Monday = 0).
    const weekday = WEEKDAYS[(((dn + 3) % 7) + 7) % 7]!;
    const [y, m, d] = civilDate(dn);
    for (const r of layer.restrictions ?? []) {
      if (r.days && !r.days.includes(weekday)) continue;
      const [fh, fm] = parseLocalTime(r.from);
      const [th, tm] = parseLocalTime(r.to);
      const nextDay = th * 60 + tm <= fh * 60 + fm;
      const [ey, em, ed] = civilDate(dn + (nextDay ? 1 : 0));
      const s = Math.max(zonedToUtc(y, m, d, fh, fm, layer.timeZone), from);
      const e = Math.min(zonedToUtc(ey, em, ed, th, tm, layer.timeZone), to);
      if (s < e) windows.push({ from: s, to: e });
    }
  }
  windows.sort((a, b) => a.from - b.from);
  const merged: { from: number; to: number }[] = [];
  for (const w of windows) {
    const prev = merged[merged.length - 1];
    if (prev && w.from <= prev.to) prev.to = Math.max(prev.to, w.to);
    else merged.push({ ...w });
  }
  return merged;
}

function intersect(segments: Segment[], windows: { from: number; to: number }[]): Segment[] {
  const out: Segment[] = [];
  let j = 0;
  for (const s of segments) {
    while (j < windows.length && windows[j]!.to <= s.from) j++;
    for (let i = j; i < windows.length && windows[i]!.from < s.to; i++) {
      const a = Math.max(s.from, windows[i]!.from);
      const b = Math.min(s.to, windows[i]!.to);
      if (a < b) out.push({ from: a, to: b, person: s.person });
    }
  }
  return out;
}

/**
 * The final schedule over [from, to): an override (the latest added wins) beats every layer; among
 * layers the later one in the list wins wherever it has coverage (PagerDuty's rule); what nobody
 * covers is a `null` segment. Adjacent segments of one person are merged.
 */
export function finalSchedule(schedule: { layers: readonly RotationLayer[]; overrides: readonly Override[] }, from: number, to: number): Segment[] {
  if (from >= to) return [];
  const sources: Segment[][] = schedule.layers.map((l) => layerSegments(l, from, to));
  const overrides: Segment[] = schedule.overrides
    .map((o) => ({ from: Math.max(Date.parse(o.from), from), to: Math.min(Date.parse(o.to), to), person: o.person }))
    .filter((o) => o.from < o.to);
  const points = new Set<number>([from, to]);
  for (const list of [...sources, overrides]) for (const s of list) points.add(s.from).add(s.to);
  const sorted = [...points].sort((a, b) => a - b);
  const cursor = sources.map(() => 0);
  const out: Segment[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const a = sorted[i]!;
    const b = sorted[i + 1]!;
    let person: string | null = null;
    for (let o = overrides.length - 1; o >= 0; o--) {
      if (overrides[o]!.from <= a && overrides[o]!.to >= b) {
        person = overrides[o]!.person;
        break;
      }
    }
    for (let l = sources.length - 1; l >= 0 && person === null; l--) {
      const list = sources[l]!;
      while (cursor[l]! < list.length && list[cursor[l]!]!.to <= a) cursor[l]!++;
      const seg = list[cursor[l]!];
      if (seg && seg.from <= a && seg.to >= b) person = seg.person;
    }
    for (let l = 0; l < sources.length; l++) {
      const list = sources[l]!;
      while (cursor[l]! < list.length && list[cursor[l]!]!.to <= a) cursor[l]!++;
    }
    const prev = out[out.length - 1];
    if (prev && prev.person === person && prev.to === a) prev.to = b;
    else out.push({ from: a, to: b, person });
  }
  return out;
}

/** How far around `at` the current segment is looked for: its `from`/`to` are clipped to this window. */
export const LOOKBEHIND_MS = 14 * DAY_MS;
export const LOOKAHEAD_MS = 35 * DAY_MS;

/** Who is on call at `at`, and the segment (clipped to 14 days back and 35 ahead) it belongs to. */
export function onCallAt(schedule: { layers: readonly RotationLayer[]; overrides: readonly Override[] }, at: number): Segment {
  const segs = finalSchedule(schedule, at - LOOKBEHIND_MS, at + LOOKAHEAD_MS);
  return segs.find((s) => s.from <= at && at < s.to) ?? { from: at, to: at + LOOKAHEAD_MS, person: null };
}
