/**
 * Canonical JSON per the Matrix spec (APP › Signing JSON › Canonical JSON): a strict encoder
 * (code-point key order, integer range, exact escaping) and a strict parser for untrusted input.
 * @packageDocumentation
 */
export type { JsonValue, JsonObject } from './types.js';
export { isJsonObject } from './object.js';
export {
  encodeCanonicalJson,
  encodeCanonicalJsonBytes,
  encodeCanonicalMembers,
  type CanonicalMembers,
  compareCodePoints,
  sortKeys,
  MAX_SAFE_CANONICAL_INTEGER,
  MIN_SAFE_CANONICAL_INTEGER,
  DEFAULT_MAX_DEPTH,
  type EncodeOptions,
} from './encode.js';
export { parseCanonicalJson, type ParseOptions } from './parse.js';
export {
  CanonicalJsonError,
  CanonicalJsonParseError,
  type CanonicalJsonErrorCode,
  type CanonicalJsonParseErrorCode,
} from './errors.js';
