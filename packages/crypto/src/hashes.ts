/**
 * Content hash and reference hash (SS › Signing Events › Calculating the content hash / reference
 * hash for an event; checklist C1, C2, C5).
 * @packageDocumentation
 */
import { encodeCanonicalJsonBytes } from '@roomgraph/canonical-json';
import { defaultBackend, type CryptoBackend } from './backend.js';
import { decodeBase64, encodeBase64 } from './base64.js';

const CONTENT_HASH_OMIT: readonly string[] = Object.freeze(['unsigned', 'signatures', 'hashes']);
const REFERENCE_HASH_OMIT: readonly string[] = Object.freeze(['signatures', 'unsigned']);

/** Options of the hash functions. */
export interface HashOptions {
  /** Canonical JSON strictness (default `true`; `false` for room versions 1–5). */
  readonly strict?: boolean;
  /** Crypto backend for SHA-256; default node:crypto. */
  readonly backend?: CryptoBackend;
}

/**
 * The content hash of an event: SHA-256 of the canonical JSON of the event without `unsigned`,
 * `signatures` and `hashes` (checklist C1). Covers the full, unredacted content.
 * @returns 32 bytes.
 * @throws `CanonicalJsonError` if the event is not canonical-JSON encodable.
 */
export function computeContentHash(event: object, options?: HashOptions): Uint8Array {
  const bytes = encodeCanonicalJsonBytes(event, { strict: options?.strict ?? true, omitKeys: CONTENT_HASH_OMIT });
  return (options?.backend ?? defaultBackend).sha256(bytes);
}

/** The content hash as unpadded base64, the value stored in `hashes.sha256` (checklist C2). */
export function computeContentHashBase64(event: object, options?: HashOptions): string {
  return encodeBase64(computeContentHash(event, options));
}

/**
 * Whether `event.hashes.sha256` (base64, padded or not) equals the event's computed content hash.
 * Returns `false` — never throws — when `hashes`/`sha256` is missing or malformed or the event
 * cannot be encoded (checklist C4 leaves the consequence to the caller: redact vs drop).
 */
export function checkContentHash(event: object, options?: HashOptions): boolean {
  const hashes = (event as { hashes?: unknown }).hashes;
  if (typeof hashes !== 'object' || hashes === null) return false;
  const claimed = (hashes as { sha256?: unknown }).sha256;
  if (typeof claimed !== 'string') return false;
  let expected: Uint8Array;
  let actual: Uint8Array;
  try {
    expected = decodeBase64(claimed);
    actual = computeContentHash(event, options);
  } catch {
    return false;
  }
  if (expected.length !== actual.length) return false;
  let diff = 0;
  for (let i = 0; i < actual.length; i++) diff |= expected[i]! ^ actual[i]!;
  return diff === 0;
}

/**
 * The reference hash of an event (checklist C5): SHA-256 of the canonical JSON of the event without
 * `signatures` and `unsigned`. The caller passes the event ALREADY REDACTED with its room version's
 * algorithm (step 1 of the spec), and without any locally computed `event_id` (checklist C6).
 * `hashes` stays in. These are exactly the bytes that were signed.
 * @returns 32 bytes (base64 them for v3+ event IDs: standard in v3, URL-safe in v4+).
 */
export function computeReferenceHash(redactedEvent: object, options?: HashOptions): Uint8Array {
  const bytes = encodeCanonicalJsonBytes(redactedEvent, { strict: options?.strict ?? true, omitKeys: REFERENCE_HASH_OMIT });
  return (options?.backend ?? defaultBackend).sha256(bytes);
}
