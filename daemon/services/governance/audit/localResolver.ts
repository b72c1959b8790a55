import { readFile, stat } from 'node:fs/promises';
import { Resolver } from '@stoplight/spectral-ref-resolver';
import { MAX_SPEC_BYTES } from './specFiles';

/** Why a `$ref` was not followed; Spectral reports it as an `invalid-ref` finding at the `$ref`. */
export class RefRefusedError extends Error {
  override readonly name = 'RefRefusedError';
}

/**
 * `$ref` resolution for the audit: local files only, each within the size limit. http(s) refs are
 * refused, never fetched: the daemon makes no network calls on behalf of a document it is auditing.
 */
export function createLocalResolver(maxBytes = MAX_SPEC_BYTES): Resolver {
  const refuseRemote = {
    resolve: (uri: { href(): string }) => Promise.reject(new RefRefusedError(`remote $ref ${uri.href()} refused: only local files are resolved`)),
  };
  return new Resolver({
    resolvers: {
      http: refuseRemote,
      https: refuseRemote,
      file: {
        async resolve(uri: { href(): string }) {
          const file = decodeURIComponent(uri.href().replace(/^file:\/\//, ''));
          const info = await stat(file).catch(() => undefined);
          if (!info) throw new RefRefusedError(`$ref target ${file} does not exist`);
          if (!info.isFile()) throw new RefRefusedError(`$ref target ${file} is not a regular file`);
          if (info.size > maxBytes) throw new RefRefusedError(`$ref target ${file} is ${info.size} bytes, over the ${maxBytes}-byte limit`);
          return readFile(file, 'utf8');
        },
      },
    },
  });
}
