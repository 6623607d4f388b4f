/**
 * Sharing repeated identifier strings between parsed PDUs (no spec algorithm: a memory layout).
 *
 * Every PDU of a room repeats identifiers other PDUs hold too: its room ID, its sender, its type,
 * and above all the event IDs it cites — each event's ID comes back in the `prev_events` of its
 * children and, for state events, in the `auth_events` of thousands of later events. Parsed from
 * JSON, each occurrence is a string of its own (~60 bytes for an event ID); kept for the life of a
 * room (a memory store keeps every PDU), they are a large share of the heap and of what the
 * garbage collector walks. `parsePdu` passes these fields through {@link intern}, which answers
 * an equal string seen recently, so every copy of an ID is the same string.
 *
 * The table is bounded and direct-mapped: {@link SLOTS} slots, a string's slot chosen by a hash
 * of its length and of up to 16 of its characters spread over it; a string takes its slot from
 * whatever held it. Identifiers cited all the time — the create event, the power levels, the room
 * ID — are asked for again and again and so stay. A lookup is one hash of a few characters, one
 * array read and one string comparison (a two-generation `Map` cost a hash of the whole string and
 * up to three table operations per call: ~0.8 µs, a tenth of a PDU's parse). A string that has
 * left the table is simply not shared with later copies: the answer is always a string equal to
 * the input.
 *
 * The event types the authorization rules, state resolution and redaction compare against
 * (`m.room.member`, `m.room.power_levels`, …) are answered with the library's own literal of that
 * type: a parsed copy is a slice of the JSON text, so `type === 'm.room.member'` compared the
 * characters (through V8's runtime for a slice); with the literal it is one pointer comparison.
 *
 * @module
 */

/** Slots of the table (a power of two): at most this many strings are held. */
export const SLOTS = 65_536;

/** Longest string interned: identifiers are at most 255 bytes (checklist H4). */
const MAX_LENGTH = 255;

const table: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);

/**
 * The event types the spec's rules name (see the module comment). Internal; a workspace test
 * checks that every event type literal in the rules' packages is listed.
 */
export const KNOWN_EVENT_TYPES: readonly string[] = Object.freeze([
  'm.room.create', 'm.room.member', 'm.room.power_levels', 'm.room.join_rules', 'm.room.third_party_invite',
  'm.room.history_visibility', 'm.room.redaction', 'm.room.aliases', 'm.room.guest_access', 'm.room.server_acl',
  'm.room.name', 'm.room.topic', 'm.room.avatar', 'm.room.canonical_alias', 'm.room.encryption',
  'm.room.tombstone', 'm.room.pinned_events', 'm.room.message', 'm.room.encrypted',
]);

/** Each of {@link KNOWN_EVENT_TYPES} mapped to this module's literal. */
const KNOWN_TYPES: ReadonlyMap<string, string> = new Map(KNOWN_EVENT_TYPES.map((t) => [t, t]));
/** The longest of them (a cheap filter before the look-up). */
const KNOWN_MAX_LENGTH = Math.max(...KNOWN_EVENT_TYPES.map((t) => t.length));

/**
 * `type` itself, or the library's literal of it when it is one of the event types the spec's rules
 * name (see the module comment): an equal string either way. One `Map` look-up, no hashing in
 * JavaScript — for views built once per event (`toRoomEvent`), where {@link intern}'s loop would
 * cost more than the comparisons it saves.
 */
export function knownType(type: string): string {
  return KNOWN_TYPES.get(type) ?? type;
}

/** A string equal to `s`: the one seen before where the table still holds it, else `s` (now remembered). */
export function intern(s: string): string {
  const n = s.length;
  if (n > MAX_LENGTH) return s;
  // FNV-1a-like mix of the length and of every `step`-th character (all of them up to 16).
  const step = n > 16 ? n >> 4 : 1;
  let h = n ^ 0x811c9dc5;
  for (let i = n - 1; i >= 0; i -= step) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  const slot = (h ^ (h >>> 16)) & (SLOTS - 1);
  const held = table[slot];
  if (held === s) return held;
  // (Only on a miss, and only for strings that can be such a type: IDs begin with a sigil.)
  const out = n <= KNOWN_MAX_LENGTH && s.charCodeAt(0) === 0x6d ? knownType(s) : s;
  table[slot] = out;
  return out;
}
