/**
 * Size and count limits on PDUs (CS › Size limits; pdu:* schemas; checklist H4–H6).
 *
 * @module
 */

/**
 * The largest PDU, in bytes of canonical JSON of the whole event in federation format including
 * signatures (CS › Size limits: "MUST NOT be larger than 65536 bytes"; H4 — exactly 65536 is
 * allowed).
 */
export const MAX_PDU_BYTES = 65536;

/**
 * The largest `sender`, `room_id`, `state_key`, `type` and `event_id`, in UTF-8 bytes
 * (CS › Size limits; APP › User Identifiers, Room IDs, Event IDs: 255 bytes each).
 */
export const MAX_FIELD_BYTES = 255;

/** At most 20 `prev_events` (pdu schemas: "less than or equal to 20 events"). */
export const MAX_PREV_EVENTS = 20;

/** At most 10 `auth_events` (pdu schemas: "less than or equal to 10 events"). */
export const MAX_AUTH_EVENTS = 10;

/**
 * Largest `depth` in room versions 1–5: 2^63-1 (pdu:pdu_v1/v3/v4). Not exactly representable as a
 * JavaScript number; the comparison happens in doubles, where it equals 2^63.
 */
export const MAX_DEPTH_V1 = 2 ** 63 - 1;

/** Largest `depth` from room version 6 on: 2^53-1 (pdu:components-depth_v6). */
export const MAX_DEPTH_V6 = Number.MAX_SAFE_INTEGER;

/** Nesting limit used when validating untrusted PDUs (matches the canonical JSON parser's default). */
export const MAX_NESTING = 512;

const utf8 = new TextEncoder();

/** The UTF-8 length of `s` in bytes (fast path for ASCII). */
export function utf8ByteLength(s: string): number {
  const n = s.length;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return utf8.encode(s).length;
  }
  return n;
}
