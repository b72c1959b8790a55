import * as z from 'zod';

/** JSON-RPC 2.0 wire shapes. Validation of a frame happens in two steps: parse, then this schema. */
export const JsonRpcId = z.union([z.string().max(256), z.number().int().finite()]);
export type JsonRpcId = z.infer<typeof JsonRpcId>;

export const JsonRpcRequest = z.object({
  jsonrpc: z.literal('2.0'),
  id: JsonRpcId.optional(),
  method: z.string().min(1).max(128),
  params: z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional(),
});
export type JsonRpcRequest = z.infer<typeof JsonRpcRequest>;

export const JsonRpcErrorObject = z.object({
  code: z.number().int(),
  message: z.string(),
  data: z.unknown().optional(),
});
export type JsonRpcErrorObject = z.infer<typeof JsonRpcErrorObject>;

export const JsonRpcResponse = z.union([
  z.object({ jsonrpc: z.literal('2.0'), id: JsonRpcId, result: z.unknown() }),
  z.object({ jsonrpc: z.literal('2.0'), id: JsonRpcId.nullable(), error: JsonRpcErrorObject }),
]);
export type JsonRpcResponse = z.infer<typeof JsonRpcResponse>;

export const JsonRpcNotification = z.object({
  jsonrpc: z.literal('2.0'),
  method: z.string(),
  params: z.unknown().optional(),
});
export type JsonRpcNotification = z.infer<typeof JsonRpcNotification>;

/** Maximum number of calls in one batch frame. */
export const MAX_BATCH = 1000;

/** zod issues as `data.issues` of an InvalidParams error: path as a dotted string plus the message. */
export function describeIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({
    path: i.path.length === 0 ? '(params)' : i.path.map(String).join('.'),
    message: i.message,
  }));
}

/** One human sentence from zod issues: `objective: Too big: expected number to be <1`. */
export function summarizeIssues(error: z.ZodError): string {
  return describeIssues(error)
    .slice(0, 5)
    .map((i) => `${i.path}: ${i.message}`)
    .join('; ');
}
