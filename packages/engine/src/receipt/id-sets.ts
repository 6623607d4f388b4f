/**
 * The comparisons of event ID lists that decide whether checks 5 and 6 on receipt of a PDU
 * (Server-Server API › Checks performed on receipt of a PDU) can be skipped: the event's auth
 * events against the ones the state before it selects, its prev events against the forward
 * extremities. The lists are short (a PDU cites at most 20 prev and 10 auth events): they are
 * scanned, without Sets or sorted copies; long ones (trusted input is not held to the limits)
 * go by Sets.
 *
 * @module
 */
import { type RoomEvent, distinctIds } from '@roomgraph/events';

/** Lists longer than this are compared by Sets. */
const SMALL = 16;

/** Whether `a` and `b` hold the same IDs, repeats ignored (`new Set(a)` equals `new Set(b)`). */
export function sameIdSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length > SMALL || b.length > SMALL) {
    const sa = new Set(a);
    const sb = new Set(b);
    if (sa.size !== sb.size) return false;
    for (const x of sa) if (!sb.has(x)) return false;
    return true;
  }
  for (let i = 0; i < a.length; i++) if (!b.includes(a[i] as string)) return false;
  for (let i = 0; i < b.length; i++) if (!a.includes(b[i] as string)) return false;
  return true;
}

/**
 * `sameIdSet(extremities, prevEvents)` for a room's forward extremities, which hold no repeats
 * (the store keeps them so): more of them than prev events cannot be the same set — answered at
 * once, however many extremities a room has gathered.
 */
export function sameExtremities(extremities: readonly string[], prevEvents: readonly string[]): boolean {
  return extremities.length <= prevEvents.length && sameIdSet(extremities, prevEvents);
}

/**
 * Whether every ID of `extremities` (a room's forward extremities: no repeats) is among
 * `prevEvents` — at once `false` where there are more of them than prev events.
 */
export function allAmong(extremities: readonly string[], prevEvents: readonly string[]): boolean {
  if (extremities.length > prevEvents.length) return false;
  if (prevEvents.length > SMALL) {
    const set = new Set(prevEvents);
    for (let i = 0; i < extremities.length; i++) if (!set.has(extremities[i] as string)) return false;
    return true;
  }
  for (let i = 0; i < extremities.length; i++) if (!prevEvents.includes(extremities[i] as string)) return false;
  return true;
}

/**
 * Whether `claimed` lists each of the distinct IDs of `calculated` exactly once and nothing else
 * (the sorted `claimed` equals the sorted distinct `calculated`).
 */
export function listsEachOnce(claimed: readonly string[], calculated: readonly string[]): boolean {
  // `distinctIds` answers the list itself exactly when nothing in it repeats.
  return distinctIds(claimed) === claimed && sameIdSet(claimed, calculated);
}

/**
 * `listsEachOnce(claimed, entries' event IDs)` (check 5's skip: the event's auth events are the
 * ones the state before it selects), without making the list of IDs for short lists.
 */
export function listsEachOnceIn(claimed: readonly string[], entries: readonly RoomEvent[]): boolean {
  if (claimed.length > SMALL || entries.length > SMALL) return listsEachOnce(claimed, entries.map((e) => e.eventId));
  if (distinctIds(claimed) !== claimed) return false;
  for (let i = 0; i < claimed.length; i++) {
    let found = false;
    for (let j = 0; j < entries.length && !found; j++) found = (entries[j] as RoomEvent).eventId === claimed[i];
    if (!found) return false;
  }
  for (let j = 0; j < entries.length; j++) if (!claimed.includes((entries[j] as RoomEvent).eventId)) return false;
  return true;
}
