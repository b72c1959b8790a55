import { readFile, stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { ErrorCode, RpcError } from '../../../protocol';

/** Largest spec file the audit reads, the root document and every `$ref`'d file alike (5 MiB). */
export const MAX_SPEC_BYTES = 5 * 1024 * 1024;

const invalidPath = (field: string, file: string, message: string) =>
  new RpcError(ErrorCode.InvalidParams, `${field}: ${file}: ${message}`, { issues: [{ path: field, message: `${file}: ${message}` }], file });

/**
 * Check that a path the client named is an absolute path to a regular file within the size limit, and
 * read it. Errors name the field and the file.
 */
export async function readSpecFile(file: string, field: string, maxBytes = MAX_SPEC_BYTES): Promise<string> {
  if (!isAbsolute(file)) throw invalidPath(field, file, 'must be an absolute path');
  const info = await stat(file).catch(() => undefined);
  if (!info) throw invalidPath(field, file, 'does not exist');
  if (!info.isFile()) throw invalidPath(field, file, 'is not a regular file');
  if (info.size > maxBytes) throw invalidPath(field, file, `is ${info.size} bytes, over the ${maxBytes}-byte limit of a spec file`);
  return readFile(file, 'utf8');
}
