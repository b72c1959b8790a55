import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { isRetrySafe } from '../../../../daemon/client';
import { GetStatus, PublishEvent, QueryEvents, Shutdown, Subscribe, defineRequest } from '../../../../daemon/protocol';

const ResolveThing = defineRequest('things/resolve', z.object({ id: z.string() }), z.object({ ok: z.literal(true) }), {
  kind: 'command',
  doc: 'test: a command whose id names its target',
});
const ChargeCard = defineRequest(
  'things/charge',
  z.object({ amount: z.number(), idempotencyKey: z.string().optional() }),
  z.object({ ok: z.literal(true) }),
  { kind: 'command', doc: 'test: a command with an explicit idempotency key' },
);

describe('isRetrySafe', () => {
  it('re-sends queries', () => {
    expect(isRetrySafe(GetStatus, {})).toBe(true);
    expect(isRetrySafe(QueryEvents, { limit: 5 })).toBe(true);
    expect(isRetrySafe(Subscribe, {})).toBe(true);
  });

  it('never re-sends a command without an idempotency key', () => {
    expect(isRetrySafe(PublishEvent, { type: 'api.request' })).toBe(false);
    expect(isRetrySafe(Shutdown, {})).toBe(false);
  });

  it('re-sends events/publish when the caller supplied its id', () => {
    expect(isRetrySafe(PublishEvent, { type: 'api.request', id: randomUUID() })).toBe(true);
  });

  it('does not take a required id (the target of the command) for an idempotency key', () => {
    expect(isRetrySafe(ResolveThing, { id: 'inc-1' })).toBe(false);
  });

  it('re-sends a command carrying an idempotencyKey', () => {
    expect(isRetrySafe(ChargeCard, { amount: 5, idempotencyKey: 'k-1' })).toBe(true);
    expect(isRetrySafe(ChargeCard, { amount: 5 })).toBe(false);
  });

  it('ignores empty or non-scalar keys', () => {
    expect(isRetrySafe(PublishEvent, { type: 'a', id: '' })).toBe(false);
    expect(isRetrySafe(ChargeCard, { amount: 5, idempotencyKey: { k: 1 } })).toBe(false);
    expect(isRetrySafe(PublishEvent, null)).toBe(false);
  });
});
