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
 * The table is bounded: two generations of {@link GENERATION} strings; a full young generation
 * becomes the old one and the old one is dropped (constant time; a hit in the old generation moves
 * the string to the young one, so identifiers cited all the time — the create event, the power
 * levels — stay). A string that has left the table is simply not shared with later copies: the
 * answer is always a string equal to the input.
 *
 * @module
 */

/** Strings per generation of the table (at most twice this many are held). */
export const GENERATION = 65_536;

/** Longest string interned: identifiers are at most 255 bytes (checklist H4). */
const MAX_LENGTH = 255;

let young = new Map<string, string>();
let old = new Map<string, string>();

/** A string equal to `s`: the one seen before where the table still holds it, else `s` (now remembered). */
export function intern(s: string): string {
  if (s.length > MAX_LENGTH) return s;
  const y = young.get(s);
  if (y !== undefined) return y;
  const o = old.get(s);
  const v = o ?? s;
  young.set(v, v);
  if (young.size >= GENERATION) {
    old = young;
    young = new Map<string, string>();
  }
  return v;
}
