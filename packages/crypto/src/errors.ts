/**
 * Typed errors of @roomgraph/crypto.
 * @packageDocumentation
 */
import { RoomgraphError, type RoomgraphErrorOptions } from '@roomgraph/errors';

/** Base class of every error thrown by this package: a stable `code` plus a message. */
export class CryptoError extends RoomgraphError {
  override readonly name: string = 'CryptoError';
  /** @param code - stable code; @param message - human-readable description; @param options - `cause`. */
  constructor(code: string, message: string, options?: RoomgraphErrorOptions) {
    super(code, message, options);
  }
}

/** Codes of {@link Base64Error}. */
export type Base64ErrorCode = 'BASE64_INVALID_CHARACTER' | 'BASE64_INVALID_LENGTH' | 'BASE64_INVALID_PADDING' | 'BASE64_NOT_A_STRING';

/** Malformed base64 input (APP › Unpadded Base64; checklist B1–B4). */
export class Base64Error extends CryptoError {
  override readonly name: string = 'Base64Error';
  declare readonly code: Base64ErrorCode;
  /** @param code - stable code; @param message - description; @param options - `cause`. */
  constructor(code: Base64ErrorCode, message: string, options?: RoomgraphErrorOptions) {
    super(code, message, options);
  }
}

/** Codes of {@link KeyError}. */
export type KeyErrorCode = 'KEY_INVALID_SEED' | 'KEY_INVALID_VERSION' | 'KEY_INVALID_ID' | 'KEY_INVALID_PUBLIC_KEY';

/** An invalid seed, key version or key identifier (APP › Signing Details; checklist B6). */
export class KeyError extends CryptoError {
  override readonly name: string = 'KeyError';
  declare readonly code: KeyErrorCode;
  /** @param code - stable code; @param message - description; @param options - `cause`. */
  constructor(code: KeyErrorCode, message: string, options?: RoomgraphErrorOptions) {
    super(code, message, options);
  }
}

/** Why a signature check failed (see {@link VerifyResult}). */
export type VerifyFailureCode =
  /** The value is not a JSON object (arrays, primitives, non-plain objects). */
  | 'NOT_JSON_OBJECT'
  /** `signatures` is missing or not an object of objects of strings where it matters. */
  | 'MISSING_SIGNATURE'
  /** The key id's algorithm is not `ed25519`. */
  | 'UNKNOWN_ALGORITHM'
  /** The signature (or public key) is not valid base64. */
  | 'BAD_BASE64'
  /** The signature is not 64 bytes or the public key is not 32 bytes. */
  | 'WRONG_LENGTH'
  /** The object cannot be encoded as canonical JSON (e.g. a float in strict mode). */
  | 'NOT_CANONICAL'
  /** ed25519 verification failed. */
  | 'INVALID_SIGNATURE';

/** Codes of {@link SignatureError}. */
export type SignatureErrorCode = VerifyFailureCode | 'MALFORMED_SIGNATURES';

/** Thrown by `signJson` on unsignable input and by `assertVerified` on a failed check. */
export class SignatureError extends CryptoError {
  override readonly name: string = 'SignatureError';
  declare readonly code: SignatureErrorCode;
  /** @param code - stable code; @param message - description; @param options - `cause`. */
  constructor(code: SignatureErrorCode, message: string, options?: RoomgraphErrorOptions) {
    super(code, message, options);
  }
}
