import type * as z from 'zod';
import type { SloSpec } from '../../protocol/slo';

/**
 * The three SLOs of the seed (SEED_FACTS.md), with the original's dict keys as aliases. The event
 * ids are fixed so a seeding that raced or was retried is stored once.
 */
export const SEED_SLOS: readonly { eventId: string; aliases: string[]; spec: z.input<typeof SloSpec> }[] = [
  {
    eventId: '5e0d0000-0000-4000-8000-000000000001',
    aliases: ['availability_30d'],
    spec: {
      id: 'slo_avail_30d',
      name: 'API Availability (30d)',
      description: 'Share of requests that did not fail with a 5xx or time out.',
      service: 'api',
      sli: { kind: 'availability' },
      objective: 0.999,
      windowDays: 30,
    },
  },
  {
    eventId: '5e0d0000-0000-4000-8000-000000000002',
    aliases: ['latency_p99_30d'],
    spec: {
      id: 'slo_lat_30d',
      name: 'API Latency P99 (30d)',
      description: 'Share of requests answered within 500 ms.',
      service: 'api',
      sli: { kind: 'latency', thresholdMs: 500 },
      objective: 0.99,
      windowDays: 30,
    },
  },
  {
    eventId: '5e0d0000-0000-4000-8000-000000000003',
    aliases: ['error_rate_30d'],
    spec: {
      id: 'slo_err_30d',
      name: 'API Error Rate (30d)',
      description: 'Share of requests answered with a status below 400.',
      service: 'api',
      sli: { kind: 'errorRate', expectedClientErrors: [] },
      objective: 0.999,
      windowDays: 30,
    },
  },
];
