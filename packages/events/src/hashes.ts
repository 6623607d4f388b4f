/**
 * Content hashes and reference hashes (Server-Server API › Calculating the content hash for an
 * event, Calculating the reference hash for an event; checklist C1–C6).
 *
 * @module
 */
import { encodeCanonicalJsonBytes, type JsonObject, type JsonValue } from '@roomgraph/canonical-json';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { encodeBase64, sha256, tryDecodeBase64 } from './digest.js';
import { EventsError, requireObject } from './errors.js';
import { redact } from './redact.js';

/** Canonical JSON bytes of `value`, strict or lenient per room version (A8/A9). */
export function canonicalBytes(value: JsonValue, rules: RoomVersionRules | undefined, omitKeys?: readonly string[]): Uint8Array {
  try {
    return encodeCanonicalJsonBytes(value, { strict: rules?.canonicalJson.strict ?? false, ...(omitKeys !== undefined ? { omitKeys } : {}) });
  } catch (e) {
    throw new EventsError('EVENTS_NOT_ENCODABLE', `event is not encodable as canonical JSON: ${(e as Error).message}`);
  }
}

const CONTENT_STRIP = ['unsigned', 'signatures', 'hashes'];
const CONTENT_STRIP_V3 = ['unsigned', 'signatures', 'hashes', 'event_id'];


/**
 * The SHA-256 content hash of an event as unpadded base64 (C1): the event without `unsigned`,
 * `signatures` and `hashes`, as canonical JSON. Everything else is covered, including the full
 * content and (v1–v2) `event_id`.
 *
 * @param event - the full (unredacted) PDU in federation format.
 * @param rules - decides strict or lenient canonical JSON, and for v3+ an `event_id` key (not part
 *   of the federation PDU, C6) is ignored. Omit for lenient encoding of the object exactly as given.
 * @throws {@link EventsError} `EVENTS_NOT_ENCODABLE` (lone surrogate, non-finite number...).
 */
export function contentHash(event: JsonObject, rules?: RoomVersionRules): string {
  return encodeBase64(sha256(contentHashBytes(event, rules)));
}

/**
 * The bytes the content hash covers (internal; see {@link contentHash}). Cached for frozen events,
 * like {@link redactedSigningBytes}: `parsePdu` measures the event's size from them and the receipt
 * checks hash them, so a received PDU's content is encoded once.
 */
export function contentHashBytes(event: JsonObject, rules: RoomVersionRules | undefined): Uint8Array {
  if (rules === undefined) return canonicalBytes(requireObject(event), undefined, CONTENT_STRIP);
  return cachedBytes(contentBytesCache, event, rules, () =>
    canonicalBytes(event, rules, rules.eventFormat.eventIdFormat !== 'server-assigned' ? CONTENT_STRIP_V3 : CONTENT_STRIP));
}

/**
 * Bytes computed from recent frozen events, per room version. Never handed out for mutation.
 *
 * Bounded (the newest {@link RECENT_BYTES} events), not weak: a received event's bytes are needed
 * for a moment — the event ID, the size check, the signature and content hash checks, all within
 * one receipt — while the event itself may live for the whole process (a memory store keeps every
 * event's JSON). Held weakly they lived as long as the event: two buffers per stored event, each
 * pinning a shared 8 KiB allocation pool of `Buffer`, about 1.3 KiB per event in a 20k-event room.
 */
class RecentBytes {
  readonly #map = new Map<JsonObject, { readonly rules: RoomVersionRules; readonly bytes: Uint8Array }>();

  get(event: JsonObject): { readonly rules: RoomVersionRules; readonly bytes: Uint8Array } | undefined {
    return this.#map.get(event);
  }

  set(event: JsonObject, value: { readonly rules: RoomVersionRules; readonly bytes: Uint8Array }): void {
    const m = this.#map;
    m.set(event, value);
    // Insertion order is age: the oldest entry goes first.
    if (m.size > RECENT_BYTES) m.delete(m.keys().next().value as JsonObject);
  }
}

/**
 * Events whose bytes are remembered (each cache): well above the engine's receive look-ahead (32
 * PDUs prepared ahead), so a PDU's bytes computed while parsing are still there when its checks
 * run; a miss only costs encoding again.
 */
const RECENT_BYTES = 4096;

type BytesCache = RecentBytes;

/**
 * `compute()`, remembered for a frozen event (its bytes cannot change) and the room version it was
 * computed for; a mutable event is computed afresh every time.
 */
function cachedBytes(cache: BytesCache, event: JsonObject, rules: RoomVersionRules, compute: () => Uint8Array): Uint8Array {
  requireObject(event);
  const frozen = Object.isFrozen(event);
  if (frozen) {
    const hit = cache.get(event);
    if (hit !== undefined && hit.rules === rules) return hit.bytes;
  }
  const bytes = compute();
  if (frozen) cache.set(event, { rules, bytes });
  return bytes;
}

/** Content-hash bytes of frozen events (see {@link contentHashBytes}). */
const contentBytesCache: BytesCache = new RecentBytes();

/**
 * Whether `event.hashes.sha256` equals the recomputed content hash (C4). A missing or non-string
 * hash is `false`. Padding in the stored value is tolerated (APP › Unpadded Base64 B2).
 * On `false` a receiving server replaces the event with its redacted form (H1 step 3).
 */
export function checkContentHash(event: JsonObject, rules?: RoomVersionRules): boolean {
  if (event === null || typeof event !== 'object') return false;
  const hashes = event['hashes'];
  if (hashes === null || typeof hashes !== 'object' || Array.isArray(hashes)) return false;
  const claimed = (hashes as JsonObject)['sha256'];
  if (typeof claimed !== 'string') return false;
  let computed: string;
  try {
    computed = contentHash(event, rules);
  } catch {
    return false;
  }
  if (claimed === computed) return true;
  const decoded = tryDecodeBase64(claimed);
  return decoded !== undefined && decoded.length === 32 && encodeBase64(decoded) === computed;
}

/**
 * The bytes the reference hash (and every signature) covers (C5, B5, B8): the event redacted by the
 * room version's algorithm, without `signatures` and `unsigned`, as canonical JSON. For v3+ an
 * `event_id` key is removed first (C6: it is not part of the federation PDU).
 */
export function redactedSigningBytes(event: JsonObject, rules: RoomVersionRules): Uint8Array {
  // The event ID (reference hash) and the signature check of one received PDU cover the same
  // bytes: a frozen event (this package's PDUs are deep-frozen) computes them once per room version.
  return cachedBytes(signingBytesCache, event, rules, () =>
    canonicalBytes(redact(event, rules), rules, rules.eventFormat.eventIdFormat === 'server-assigned' ? ['signatures', 'unsigned'] : ['signatures', 'unsigned', 'event_id']));
}

/** Signing bytes of frozen events (see {@link redactedSigningBytes}). */
const signingBytesCache: BytesCache = new RecentBytes();

/**
 * The SHA-256 reference hash of an event (C5): redact with the room version's algorithm, remove
 * `signatures` and `unsigned` (and, for v3+, any `event_id`: C6), canonical JSON, SHA-256.
 * `hashes` stays in.
 *
 * @returns the 32-byte digest.
 * @throws {@link EventsError} `EVENTS_NOT_ENCODABLE`.
 */
export function referenceHash(event: JsonObject, rules: RoomVersionRules): Uint8Array {
  return sha256(redactedSigningBytes(event, rules));
}
