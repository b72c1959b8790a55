import { describeIssues, summarizeIssues, type AnyRequestType, type ResultOf } from '../protocol';
import { ClientError } from './clientError';

/**
 * Validates what the daemon answered for `type` with the method's result schema (house style 4: the
 * receiving side validates). A mismatch means the daemon and this client disagree on the contract.
 */
export function validateResult<T extends AnyRequestType>(type: T, raw: unknown): ResultOf<T> {
  const parsed = type.result.safeParse(raw);
  if (parsed.success) return parsed.data as ResultOf<T>;
  throw new ClientError('invalidResult', `Invalid result from ${type.method}: ${summarizeIssues(parsed.error)}`, type.method, {
    method: type.method,
    issues: describeIssues(parsed.error),
  });
}
