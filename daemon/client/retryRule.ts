import * as z from 'zod';
import type { AnyRequestType } from '../protocol';

/**
 * Whether a request may be sent again after the connection dropped while it was in flight.
 *
 * The rule: a request is retry-safe when
 *  - its method is a query (`kind: 'query'`): it reads projections, so asking twice changes nothing; or
 *  - the caller supplied an idempotency key in its params: an `idempotencyKey` field, or an `id` field
 *    that the method's params schema declares optional. An optional `id` is a client-chosen id for
 *    what the call creates (`events/publish {id}`): the daemon stores the thing once however often it
 *    hears it. A required `id` names the target (`incidents/resolve {id}`) and is no idempotency
 *    key: re-sending such a command after an unknown outcome could apply it twice.
 *
 * Everything else (a command without a key) is never re-sent: if it was in flight when the connection
 * dropped, the caller gets an `outcomeUnknown` error and decides.
 */
export function isRetrySafe(type: AnyRequestType, params: unknown): boolean {
  if (type.kind === 'query') return true;
  if (params === null || typeof params !== 'object' || Array.isArray(params)) return false;
  const p = params as Record<string, unknown>;
  if (isKey(p.idempotencyKey)) return true;
  return isKey(p.id) && schemaFieldIsOptional(type.params, 'id');
}

function isKey(value: unknown): boolean {
  return (typeof value === 'string' && value.length > 0) || (typeof value === 'number' && Number.isFinite(value));
}

function schemaFieldIsOptional(schema: z.ZodType, field: string): boolean {
  if (!(schema instanceof z.ZodObject)) return false;
  const fieldSchema = (schema.shape as Record<string, z.ZodType | undefined>)[field];
  return fieldSchema !== undefined && fieldSchema.safeParse(undefined).success;
}
