/**
 * Signing keys and key identifiers (APP › Signing Details; checklist B6).
 * @packageDocumentation
 */
import { defaultBackend, type Ed25519Backend } from './backend.js';
import { decodeBase64, encodeBase64 } from './base64.js';
import { KeyError } from './errors.js';

/** A key identifier `ed25519:<version>`. */
export type KeyId = `ed25519:${string}`;

/** An ed25519 signing key: its identifier, 32-byte seed (private key) and 32-byte public key. */
export interface SigningKey {
  /** `ed25519:` + version, e.g. `ed25519:1`. */
  readonly keyId: KeyId;
  /** The 32-byte RFC 8032 private key ("seed"). Treat as immutable. */
  readonly seed: Uint8Array;
  /** The 32-byte public key. */
  readonly publicKey: Uint8Array;
}

const VERSION = /^[a-zA-Z0-9_]+$/;

/** Whether `version` is a valid key version: one or more of `[a-zA-Z0-9_]` (checklist B6). */
export function isValidKeyVersion(version: string): boolean {
  return typeof version === 'string' && VERSION.test(version);
}

/** Whether `keyId` is `ed25519:` followed by a valid key version. */
export function isValidKeyId(keyId: string): keyId is KeyId {
  return typeof keyId === 'string' && keyId.startsWith('ed25519:') && VERSION.test(keyId.slice(8));
}

/**
 * Splits a key identifier `<algorithm>:<version>` at the first colon.
 * @throws {@link KeyError} `KEY_INVALID_ID` if there is no colon or either part is empty.
 */
export function parseKeyId(keyId: string): { algorithm: string; version: string } {
  const i = typeof keyId === 'string' ? keyId.indexOf(':') : -1;
  if (i <= 0 || i === keyId.length - 1) throw new KeyError('KEY_INVALID_ID', `invalid key id ${JSON.stringify(keyId)}`);
  return { algorithm: keyId.slice(0, i), version: keyId.slice(i + 1) };
}

/**
 * Builds a signing key from a 32-byte seed and a key version (`1` → key id `ed25519:1`).
 * @param seed - 32 bytes, or its (unpadded or padded) standard base64.
 * @param version - the key version, `[a-zA-Z0-9_]+`.
 * @param backend - computes the public key; defaults to node:crypto.
 * @throws {@link KeyError} `KEY_INVALID_SEED` / `KEY_INVALID_VERSION`.
 */
export function signingKeyFromSeed(seed: Uint8Array | string, version: string, backend: Ed25519Backend = defaultBackend): SigningKey {
  let bytes: Uint8Array;
  try {
    bytes = typeof seed === 'string' ? decodeBase64(seed) : seed;
  } catch {
    throw new KeyError('KEY_INVALID_SEED', 'seed is not valid base64');
  }
  if (!(bytes instanceof Uint8Array) || bytes.length !== 32) throw new KeyError('KEY_INVALID_SEED', 'seed must be 32 bytes');
  if (!isValidKeyVersion(version)) throw new KeyError('KEY_INVALID_VERSION', `invalid key version ${JSON.stringify(version)}: must match [a-zA-Z0-9_]+`);
  const copy = bytes.slice();
  return Object.freeze({ keyId: `ed25519:${version}` as KeyId, seed: copy, publicKey: backend.publicKeyFromSeed(copy) });
}

/**
 * Generates a new random signing key (seed from `crypto.getRandomValues`).
 * @throws {@link KeyError} `KEY_INVALID_VERSION`.
 */
export function generateSigningKey(version: string, backend: Ed25519Backend = defaultBackend): SigningKey {
  const seed = new Uint8Array(32);
  globalThis.crypto.getRandomValues(seed);
  return signingKeyFromSeed(seed, version, backend);
}

/** The key's public key as unpadded base64 (the form published in `verify_keys`). */
export function publicKeyBase64(key: Pick<SigningKey, 'publicKey'>): string {
  return encodeBase64(key.publicKey);
}
