/**
 * SHA-256 and unpadded base64 from `@roomgraph/crypto` (internal re-exports).
 *
 * @module
 */
import { decodeBase64Any } from '@roomgraph/crypto';

export { sha256, sha256Utf8, sha256Utf8Base64, encodeBase64, encodeBase64Url } from '@roomgraph/crypto';

/** Decodes base64 (either alphabet, padding optional); `undefined` when malformed. */
export function tryDecodeBase64(s: string): Uint8Array | undefined {
  try {
    return decodeBase64Any(s);
  } catch {
    return undefined;
  }
}
