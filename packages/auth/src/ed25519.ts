/**
 * Internal: base64 decoding (standard or URL-safe, padded or not) and ed25519 verification, via
 * `@roomgraph/crypto`, wrapped so that malformed input is `undefined` / `false` rather than a throw.
 *
 * @module
 */
import { decodeBase64Any, defaultBackend } from '@roomgraph/crypto';

/** Decodes standard or URL-safe base64, padded or unpadded; `undefined` when malformed. */
export function decodeAnyBase64(text: string): Uint8Array | undefined {
  try {
    return decodeBase64Any(text);
  } catch {
    return undefined;
  }
}

/** Whether `signature` is a valid ed25519 signature of `message` by the 32-byte `publicKey`. Never throws. */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return defaultBackend.verify(publicKey, message, signature);
  } catch {
    return false;
  }
}
