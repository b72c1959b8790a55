import type * as z from 'zod';

/**
 * Whether a method changes state (a command: it appends events) or only reads projections (a query).
 * This is the CQRS split: the README lists each method with its kind.
 */
export type MethodKind = 'command' | 'query';

/** A JSON-RPC request declared once, as a value (LSP's `XRequest.type`). */
export interface RequestType<N extends string, P extends z.ZodType, R extends z.ZodType> {
  readonly method: N;
  readonly params: P;
  readonly result: R;
  readonly kind: MethodKind;
  /** One line for the README's method reference. */
  readonly doc: string;
  /** Scope a named token needs to call this method (the owner token has every scope). */
  readonly scope: Scope;
}

/** A server-to-client notification, `domain/didVerb`. */
export interface NotificationType<N extends string, P extends z.ZodType> {
  readonly method: N;
  readonly params: P;
  readonly doc: string;
}

/** Token scopes: `read` may call queries, `write` commands too, `admin` may also configure what runs code. */
export type Scope = 'read' | 'write' | 'admin';

export type AnyRequestType = RequestType<string, z.ZodType, z.ZodType>;
export type AnyNotificationType = NotificationType<string, z.ZodType>;

export type ParamsOf<T extends AnyRequestType> = z.input<T['params']>;
export type ParsedParamsOf<T extends AnyRequestType> = z.output<T['params']>;
export type ResultOf<T extends AnyRequestType> = z.output<T['result']>;
export type NotificationParamsOf<T extends AnyNotificationType> = z.output<T['params']>;

const METHOD_NAME = /^[a-z][a-zA-Z]*\/[a-z][a-zA-Z]*$/;
const NOTIFICATION_NAME = /^[a-z][a-zA-Z]*\/did[A-Z][a-zA-Z]*$/;

export function defineRequest<N extends string, P extends z.ZodType, R extends z.ZodType>(
  method: N,
  params: P,
  result: R,
  options: { kind: MethodKind; doc: string; scope?: Scope },
): RequestType<N, P, R> {
  if (!METHOD_NAME.test(method)) throw new Error(`method name must be domain/verb: ${method}`);
  const scope = options.scope ?? (options.kind === 'query' ? 'read' : 'write');
  return Object.freeze({ method, params, result, kind: options.kind, doc: options.doc, scope });
}

export function defineNotification<N extends string, P extends z.ZodType>(
  method: N,
  params: P,
  doc: string,
): NotificationType<N, P> {
  if (!NOTIFICATION_NAME.test(method)) throw new Error(`notification name must be domain/didVerb: ${method}`);
  return Object.freeze({ method, params, doc });
}
