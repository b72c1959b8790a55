import type { z } from 'zod';
import {
  ErrorCode,
  RpcError,
  describeIssues,
  summarizeIssues,
  type AnyRequestType,
  type ParsedParamsOf,
  type ResultOf,
  type Scope,
} from '../protocol';

/** Who is calling and on which connection; passed to every handler. */
export interface CallContext {
  /** Token name: `owner` or a minted token's name. Recorded as the actor of every event. */
  readonly actor: string;
  readonly scope: Scope;
  /** `ws:<n>` for a WebSocket connection, `http` for a REST call. */
  readonly connectionId: string;
  /**
   * Run `fn` once the answer to this call has been sent (after the whole frame, for a batch). Used
   * to start work whose output must follow the answer: subscription pushes, a requested shutdown.
   * Absent when a handler is called directly (unit tests).
   */
  readonly afterResponse?: (fn: () => void) => void;
}

export type Handler<T extends AnyRequestType> = (
  params: ParsedParamsOf<T>,
  ctx: CallContext,
) => ResultOf<T> | Promise<ResultOf<T>>;

type AnyHandler = (params: unknown, ctx: CallContext) => unknown;

const SCOPE_RANK: Record<Scope, number> = { read: 0, write: 1, admin: 2 };

/**
 * Routes a method name to its handler. Params are validated with the method's schema before the
 * handler runs; a handler's return type is checked by the compiler against the result schema.
 */
export class Router {
  private readonly handlers = new Map<string, { type: AnyRequestType; handler: AnyHandler }>();

  on<T extends AnyRequestType>(type: T, handler: Handler<T>): this {
    if (this.handlers.has(type.method)) throw new Error(`handler for ${type.method} registered twice`);
    this.handlers.set(type.method, { type, handler: handler as AnyHandler });
    return this;
  }

  has(method: string): boolean {
    return this.handlers.has(method);
  }

  typeOf(method: string): AnyRequestType | undefined {
    return this.handlers.get(method)?.type;
  }

  methods(): string[] {
    return [...this.handlers.keys()].sort();
  }

  /** Validate and run. Throws RpcError for every failure the caller should see. */
  async dispatch(method: string, rawParams: unknown, ctx: CallContext): Promise<unknown> {
    const entry = this.handlers.get(method);
    if (!entry) throw new RpcError(ErrorCode.MethodNotFound, `Method not found: ${method}`, { method });
    if (SCOPE_RANK[ctx.scope] < SCOPE_RANK[entry.type.scope]) {
      throw new RpcError(
        ErrorCode.Forbidden,
        `${method} needs a token with scope "${entry.type.scope}"; token "${ctx.actor}" has "${ctx.scope}"`,
        { method, required: entry.type.scope, scope: ctx.scope },
      );
    }
    if (Array.isArray(rawParams)) {
      throw new RpcError(ErrorCode.InvalidParams, `${method}: params must be an object (by-name), not an array`, {
        method,
        issues: [{ path: '(params)', message: 'expected an object' }],
      });
    }
    const parsed = (entry.type.params as z.ZodType).safeParse(rawParams ?? {});
    if (!parsed.success) {
      throw new RpcError(ErrorCode.InvalidParams, `Invalid params for ${method}: ${summarizeIssues(parsed.error)}`, {
        method,
        issues: describeIssues(parsed.error),
      });
    }
    return entry.handler(parsed.data, ctx);
  }
}
