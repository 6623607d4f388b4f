/**
 * Identifier grammars (APP › Identifier Grammar; checklist D1–D8).
 *
 * @module
 */
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { MAX_FIELD_BYTES, utf8ByteLength } from './limits.js';

// APP › Server Name: hostname [":" port]; hostname = IPv4 / "[" IPv6 "]" / dns-name
// (dns-name = 1*255 of [A-Za-z0-9.-], which also covers the IPv4 form); port = 1*5DIGIT.
const SERVER_NAME = /^(?:\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9.-]{1,255})(?::[0-9]{1,5})?$/;
// APP › User Identifiers: the current (strict) localpart grammar.
const STRICT_LOCALPART = /^[a-z0-9._=\-/+]+$/;
// Anything containing NUL or an unpaired surrogate (not a "legal non-surrogate code point").
const BAD_OPAQUE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// A sigil and 43 characters of unpadded base64 (tested on the whole ID: no substring made per test).
const HASH_EVENT_ID_STANDARD = /^\$[A-Za-z0-9+/]{43}$/;
const HASH_EVENT_ID_URL_SAFE = /^\$[A-Za-z0-9_-]{43}$/;
const HASH_ROOM_ID_URL_SAFE = /^![A-Za-z0-9_-]{43}$/;

/**
 * Whether `name` matches the server name grammar (APP › Server Name; D8). Case-sensitive; the
 * IPv4/IPv6 forms are only checked for their character set, as the grammar does.
 */
export function isValidServerName(name: string): boolean {
  return SERVER_NAME.test(name);
}

/** Splits `sigil localpart ":" domain` at the first `:`; `undefined` without one (D8). */
function splitId(id: string, sigil: string): readonly [localpart: string, domain: string] | undefined {
  if (id.length === 0 || id[0] !== sigil) return undefined;
  const colon = id.indexOf(':');
  if (colon < 0) return undefined;
  return [id.slice(1, colon), id.slice(colon + 1)];
}

/** Options of {@link isValidUserId}. */
export interface UserIdOptions {
  /**
   * `true` (default): accept the historical grammar — any localpart of non-surrogate code points
   * except `:` and NUL, including empty (APP › Historical User IDs: servers MUST accept these in
   * events over federation). `false`: only the current grammar `[a-z0-9._=\-/+]+`.
   */
  readonly historical?: boolean;
}

/**
 * Whether `id` is a user ID `@localpart:server_name` of at most 255 bytes
 * (APP › User Identifiers; D7).
 */
export function isValidUserId(id: string, options?: UserIdOptions): boolean {
  // A UTF-16 unit is at most 3 UTF-8 bytes: up to 85 units cannot exceed 255 bytes.
  if (id.length > 85 && utf8ByteLength(id) > MAX_FIELD_BYTES) return false;
  const parts = splitId(id, '@');
  if (parts === undefined) return false;
  const [local, domain] = parts;
  if (!isValidServerName(domain)) return false;
  if (options?.historical === false) return STRICT_LOCALPART.test(local);
  return !BAD_OPAQUE.test(local);
}

/**
 * Whether `id` is a room ID of the room version's form, at most 255 bytes (APP › Room IDs; D4, D5):
 * `!opaque:server_name` (opaque = non-surrogate code points except `:` and NUL) for server-assigned
 * room IDs (v1–v11), `!` + 43 characters of URL-safe unpadded base64 (a create event's reference
 * hash) for v12.
 */
export function isValidRoomId(id: string, rules: RoomVersionRules): boolean {
  if (rules.eventFormat.roomIdFormat === 'create-event-hash') return id.length === 44 && HASH_ROOM_ID_URL_SAFE.test(id);
  // Every PDU of a room names the same room: the last room ID found valid in the server-assigned
  // form is not checked again (the answer depends on nothing but the string and that form).
  if (id === lastValidRoomId) return true;
  if (utf8ByteLength(id) > MAX_FIELD_BYTES) return false;
  const parts = splitId(id, '!');
  if (parts === undefined || BAD_OPAQUE.test(parts[0]) || !isValidServerName(parts[1])) return false;
  lastValidRoomId = id;
  return true;
}

/** The last room ID {@link isValidRoomId} found valid in the server-assigned form (v1–v11). */
let lastValidRoomId: string | undefined;

/**
 * Whether `id` is an event ID of the room version's form, at most 255 bytes (APP › Event IDs; D1–D3,
 * D6): `$opaque:server_name` for v1–v2, `$` + 43 characters of standard unpadded base64 for v3,
 * `$` + 43 characters of URL-safe unpadded base64 for v4+.
 */
export function isValidEventId(id: string, rules: RoomVersionRules): boolean {
  switch (rules.eventFormat.eventIdFormat) {
    case 'hash-base64':
      return id.length === 44 && HASH_EVENT_ID_STANDARD.test(id);
    case 'hash-url-safe-base64':
      return id.length === 44 && HASH_EVENT_ID_URL_SAFE.test(id);
    default: {
      if (utf8ByteLength(id) > MAX_FIELD_BYTES) return false;
      const parts = splitId(id, '$');
      return parts !== undefined && !BAD_OPAQUE.test(parts[0]) && isValidServerName(parts[1]);
    }
  }
}

/** Whether `s` contains an unpaired UTF-16 surrogate (not encodable as UTF-8; checklist A7). */
export function hasLoneSurrogate(s: string): boolean {
  // Fast path: most strings have no surrogate at all.
  return ANY_SURROGATE.test(s) && LONE_SURROGATE.test(s);
}
const ANY_SURROGATE = /[\ud800-\udfff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
