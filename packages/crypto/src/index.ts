/**
 * Matrix cryptography primitives: unpadded base64, ed25519 (node:crypto or noble), SHA-256,
 * signing and verifying JSON, content and reference hashes.
 * @packageDocumentation
 */
export { randomId } from './random.js';
export { encodeBase64, encodeBase64Url, decodeBase64, decodeBase64Url, decodeBase64Any } from './base64.js';
export { nodeBackend, nobleBackend, defaultBackend, nodeVerifyHelped, sha256, sha256Utf8, sha256Utf8Base64, type Ed25519Backend, type CryptoBackend } from './backend.js';
export {
  signingKeyFromSeed,
  generateSigningKey,
  publicKeyBase64,
  isValidKeyId,
  isValidKeyVersion,
  parseKeyId,
  type SigningKey,
  type KeyId,
} from './keys.js';
export {
  signJson,
  verifyJson,
  verifyJsonAll,
  assertVerified,
  signingBytes,
  type SignOptions,
  type VerifyResult,
  type VerifyAllResult,
  type RequiredSigner,
} from './sign.js';
export { computeContentHash, computeContentHashBase64, checkContentHash, computeReferenceHash, type HashOptions } from './hashes.js';
export {
  CryptoError,
  Base64Error,
  KeyError,
  SignatureError,
  type Base64ErrorCode,
  type KeyErrorCode,
  type SignatureErrorCode,
  type VerifyFailureCode,
} from './errors.js';
