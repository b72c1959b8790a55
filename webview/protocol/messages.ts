import type * as z from 'zod';

/**
 * Every dashboard's first message: the host posts nothing before it, because a webview that is still
 * loading (or reloading after it was hidden) would drop what it is sent.
 */
export const READY = 'ready';

export type ParseOutcome<T> = { readonly ok: true; readonly message: T } | { readonly ok: false; readonly error: string };

/**
 * Validate a message that crossed the host/webview boundary. Both sides call this on everything they
 * receive; the caller logs and ignores a failure (the webview is the least trusted side, and a host
 * message that does not parse means the two bundles disagree, which must not crash the dashboard).
 */
export function parseMessage<S extends z.ZodType>(schema: S, data: unknown): ParseOutcome<z.output<S>> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return { ok: true, message: parsed.data };
  const issues = parsed.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(message)'}: ${i.message}`)
    .join('; ');
  const type = typeof data === 'object' && data !== null && 'type' in data ? String((data as { type: unknown }).type) : '?';
  return { ok: false, error: `invalid message (type ${type.slice(0, 40)}): ${issues}` };
}
