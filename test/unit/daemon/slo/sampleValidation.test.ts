import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { IsoTime } from '../../../../daemon/protocol/common';
import { RecordBatchParams, SloSample, isRecordBatchParams, isSloSample, isoTimeMs, validatedSampleTimes } from '../../../../daemon/protocol/slo';

/** The schema's own zod parse, without the fast path in front of its `safeParse` method. */
const zodParse = (schema: z.ZodType, data: unknown) => z.safeParse(schema, data);

const canonical = fc.date({ min: new Date('0000-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }).map((d) => d.toISOString());
/** Canonical times with one character replaced: impossible dates, wrong separators, non-digits. */
const mutated = fc
  .tuple(canonical, fc.nat(23), fc.constantFrom(...'0123456789-:.TZz+ x'.split('')))
  .map(([s, i, ch]) => s.slice(0, i) + ch + s.slice(i + 1));
const edgeDates = fc
  .tuple(fc.constantFrom('1900', '2000', '2024', '2023', '2100', '0000', '9999'), fc.constantFrom('01', '02', '04', '12', '13', '00'), fc.constantFrom('28', '29', '30', '31', '00', '32'))
  .map(([y, m, d]) => `${y}-${m}-${d}T23:59:59.999Z`);
const otherShapes = fc.oneof(
  canonical.map((s) => s.replace('Z', '+02:00')),
  canonical.map((s) => s.replace('.000Z', 'Z').replace(/\.\d{3}Z$/, '.5Z')),
  canonical.map((s) => s.slice(0, 19) + 'Z'),
  canonical.map((s) => s.slice(0, 10)),
  fc.string({ maxLength: 30 }),
);
const timestamp = fc.oneof(canonical, mutated, edgeDates, otherShapes);

const value = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom('', 'x'.repeat(16), 'x'.repeat(17), 'x'.repeat(128), 'x'.repeat(129), 'x'.repeat(512), 'x'.repeat(513)),
  fc.integer({ min: -10, max: 700 }),
  fc.double(),
  fc.constantFrom(99, 100, 599, 600, 0, -0, 86_400_000, 86_400_001, 1.5, Number.NaN, Infinity),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.constant([]),
  fc.constant({}),
  timestamp,
);

const validSample = fc.record(
  {
    service: fc.string({ minLength: 1, maxLength: 128 }),
    method: fc.constantFrom('GET', 'post', 'PUT'),
    route: fc.string({ minLength: 1, maxLength: 40 }),
    status: fc.integer({ min: 100, max: 599 }),
    durationMs: fc.double({ min: 0, max: 86_400_000, noNaN: true }),
    timestamp: canonical,
    timedOut: fc.boolean(),
    good: fc.boolean(),
    client: fc.oneof(fc.string({ minLength: 1, maxLength: 8 }), fc.constantFrom('x'.repeat(128), 'x'.repeat(129))),
  },
  { requiredKeys: ['service', 'method', 'route', 'status', 'durationMs'] },
);
/** A valid sample with one field replaced by any value, or an extra key. */
const sample = fc.oneof(
  validSample,
  fc.tuple(validSample, fc.constantFrom('service', 'method', 'route', 'status', 'durationMs', 'timestamp', 'timedOut', 'good', 'client', 'extra'), value).map(([s, k, v]) => ({ ...s, [k]: v })),
  value,
);

// Thousands of generated cases each: allow for a loaded machine.
describe('fast validation of slo/recordBatch', { timeout: 30_000 }, () => {
  it('isoTimeMs accepts exactly what IsoTime accepts, with Date.parse’s value', () => {
    fc.assert(
      fc.property(timestamp, (s) => {
        const ms = isoTimeMs(s);
        expect(!Number.isNaN(ms)).toBe(IsoTime.safeParse(s).success);
        if (!Number.isNaN(ms)) expect(ms).toBe(Date.parse(s));
      }),
      { numRuns: 5000 },
    );
  });

  it('isSloSample accepts exactly what SloSample accepts, and the value passes unchanged', () => {
    fc.assert(
      fc.property(sample, (s) => {
        const zod = SloSample.safeParse(s);
        expect(isSloSample(s)).toBe(zod.success);
        if (zod.success) expect(zod.data).toEqual(s);
      }),
      { numRuns: 5000 },
    );
  });

  it('the params schema answers what zod alone answers, errors included', () => {
    const params = fc.oneof(
      fc.record({ samples: fc.array(sample, { maxLength: 20 }), batchId: fc.oneof(fc.string({ maxLength: 130 }), value) }, { requiredKeys: ['samples'] }),
      fc.record({ samples: fc.array(validSample, { minLength: 1, maxLength: 20 }) }),
      fc.record({ samples: fc.array(validSample, { minLength: 1, maxLength: 5 }), other: value }),
      value,
    );
    fc.assert(
      fc.property(params, (p) => {
        const zod = zodParse(RecordBatchParams, p);
        const fast = RecordBatchParams.safeParse(p);
        expect(isRecordBatchParams(p)).toBe(zod.success);
        expect(fast.success).toBe(zod.success);
        if (zod.success) {
          expect(fast.data).toEqual(zod.data);
          // The times the fast path handed on are the timestamps' values.
          const samples = (p as { samples: { timestamp?: string }[] }).samples;
          const times = validatedSampleTimes(samples)!;
          samples.forEach((s, i) => expect(times[i]).toBe(s.timestamp === undefined ? Number.NaN : Date.parse(s.timestamp)));
        } else expect(fast.error!.issues).toStrictEqual(zod.error.issues);
      }),
      { numRuns: 2000 },
    );
  });

  it('names the sample and field of a bad value', () => {
    const ok = { service: 'api', method: 'GET', route: '/x', status: 200, durationMs: 1, timestamp: '2026-03-01T12:00:00.000Z' };
    const samples = Array.from({ length: 20 }, () => ({ ...ok }));
    samples[12] = { ...ok, timestamp: '2026-02-30T12:00:00.000Z' };
    const r = RecordBatchParams.safeParse({ samples });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toEqual(['samples.12.timestamp']);
  });
});
