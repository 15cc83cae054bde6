/**
 * Loads the native compression libraries on first use, not at import: the broker never compresses
 * on its hot path, and a platform without a prebuilt binary then fails only for that codec, with
 * UNSUPPORTED_COMPRESSION_TYPE naming the package, instead of failing every import of @samsa/protocol.
 */
import { createRequire } from 'node:module';
import { protocolError } from '../errors.js';

const require = createRequire(import.meta.url);

/** A memoized require of `name`; the first failure is rethrown as UNSUPPORTED_COMPRESSION_TYPE on every call. */
export function lazyNative<T>(name: string, codec: string): () => T {
  let loaded: T | undefined;
  return () => {
    if (loaded !== undefined) return loaded;
    try {
      loaded = require(name) as T;
      return loaded;
    } catch (err) {
      throw protocolError(
        'UNSUPPORTED_COMPRESSION_TYPE',
        `compression ${codec} needs the npm package ${name}, which failed to load on this platform: ${(err as Error).message}`,
        err,
      );
    }
  };
}
