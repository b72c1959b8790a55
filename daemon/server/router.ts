import type * as z from 'zod';
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

/** How a command call ended, for `Router.observeCommands`. */
export type CommandOutcome = { ok: true } | { ok: false; error: unknown };

/**
 * Called when a command starts; answers the callback for its outcome. `params` are the raw params as
 * received (not yet validated: read them defensively). An outcome callback may return a promise: the
 * answer is sent once it settles, so what it records (a refusal in the audit) is durable first.
 */
export type CommandObserver = (call: { method: string; actor: string; connectionId: string; params: unknown }) => (outcome: CommandOutcome) => void | Promise<void>;

const SCOPE_RANK: Record<Scope, number> = { read: 0, write: 1, admin: 2 };

/**
 * Routes a method name to its handler. Params are validated with the method's schema before the
 * handler runs; a handler's return type is checked by the compiler against the result schema.
 */
export class Router {
  private readonly handlers = new Map<string, { type: AnyRequestType; handler: AnyHandler }>();
  private readonly commandObservers = new Set<CommandObserver>();

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

  /**
   * Hear every call of a `command` method (the CQRS history): `observer` runs when the call starts
   * and answers a callback for its outcome (after validation, scope check and handler). Returns an
   * unregister function. Observers must not throw; if one does, the call is unaffected.
   */
  observeCommands(observer: CommandObserver): () => void {
    this.commandObservers.add(observer);
    return () => void this.commandObservers.delete(observer);
  }

  /** Validate and run. Throws RpcError for every failure the caller should see. */
  async dispatch(method: string, rawParams: unknown, ctx: CallContext): Promise<unknown> {
    const entry = this.handlers.get(method);
    if (!entry) throw new RpcError(ErrorCode.MethodNotFound, `Method not found: ${method}`, { method });
    if (entry.type.kind !== 'command' || this.commandObservers.size === 0) return this.run(entry, method, rawParams, ctx);
    const done: ((outcome: CommandOutcome) => void)[] = [];
    for (const observe of this.commandObservers) {
      try {
        done.push(observe({ method, actor: ctx.actor, connectionId: ctx.connectionId, params: rawParams }));
      } catch {
        // An observer's failure must not change the call's outcome.
      }
    }
    const finish = async (outcome: CommandOutcome): Promise<void> => {
      const pending: Promise<void>[] = [];
      for (const fn of done) {
        try {
          const settled: unknown = fn(outcome);
          if (settled instanceof Promise) pending.push((settled as Promise<void>).catch(() => undefined));
        } catch {
          // As above.
        }
      }
      if (pending.length > 0) await Promise.all(pending);
    };
    let result: unknown;
    try {
      result = await this.run(entry, method, rawParams, ctx);
    } catch (e) {
      await finish({ ok: false, error: e });
      throw e;
    }
    await finish({ ok: true });
    return result;
  }

  private async run(entry: { type: AnyRequestType; handler: AnyHandler }, method: string, rawParams: unknown, ctx: CallContext): Promise<unknown> {
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
