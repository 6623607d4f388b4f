/**
 * Power events and the sender power level used by the reverse topological power ordering.
 *
 * @module
 */
import { IMPLICIT_CREATOR_LEVEL, parsePowerLevelValue, roomCreators } from '@roomgraph/auth';
import type { RoomEvent } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';

/** A JSON value as found in event content. */
type JsonValue = RoomEvent['content'][string];

/** Looks an event up by ID (`undefined` when unknown). */
export type EventLookup = (id: string) => RoomEvent | undefined;

/**
 * Whether `event` is a *power event* (frag:v2-state-res › Definitions; checklist G9): an
 * `m.room.power_levels` or `m.room.join_rules` state event, or an `m.room.member` leave/ban whose
 * sender is not the target. Like Synapse (G9 AMBIGUOUS) `m.room.create` counts too, and PL/JR/create
 * need an empty state key.
 */
export function isPowerEvent(event: RoomEvent): boolean {
  const sk = event.stateKey;
  if (sk === undefined) return false;
  switch (event.type) {
    case 'm.room.power_levels':
    case 'm.room.join_rules':
    case 'm.room.create':
      return sk === '';
    case 'm.room.member': {
      const m = event.content['membership'];
      return (m === 'leave' || m === 'ban') && event.sender !== sk;
    }
    default:
      return false;
  }
}

/**
 * Parses a power level value per room version: the authorization rules' own parser
 * (`@roomgraph/auth` `parsePowerLevelValue`, read as the reference homeserver's `int()`), so state
 * resolution and auth never read a level differently. Kept under this name for compatibility.
 */
export const parsePowerLevel: (value: RoomEvent['content'][string] | undefined, rules: RoomVersionRules) => number | undefined = parsePowerLevelValue;

/** Whether `x` is `m.room.<type>` with an empty state key. */
function isKey(x: RoomEvent, type: string): boolean {
  return x.type === type && x.stateKey === '';
}

/**
 * The create event governing `event`: in v12 (`roomIdFromCreateEvent`) the event named by the room
 * ID (`!X` → `$X`, checklist G22), else the `m.room.create` among its auth events. A create event
 * governs itself.
 */
export function createEventFor(event: RoomEvent, lookup: EventLookup, rules: RoomVersionRules): RoomEvent | undefined {
  if (isKey(event, 'm.room.create')) return event;
  if (rules.authorization.roomIdFromCreateEvent && event.roomId !== undefined && event.roomId.startsWith('!')) {
    const c = lookup('$' + event.roomId.slice(1));
    if (c !== undefined) return c;
  }
  const auth = event.authEvents;
  for (let i = 0; i < auth.length; i++) {
    const a = lookup(auth[i] as string);
    if (a !== undefined && isKey(a, 'm.room.create')) return a;
  }
  return undefined;
}

/**
 * The room creators named by a create event (F0.3/F0.4): v12 sender + `additional_creators`; the
 * authorization rules' `roomCreators`, as an array (kept for compatibility).
 */
export function creatorsOf(create: RoomEvent, rules: RoomVersionRules): string[] {
  return [...roomCreators(create, rules)];
}

/**
 * The power level of `event`'s sender "looking at its auth events" (checklist G13, G22), as
 * Synapse's `_get_power_level_for_sender` does: v12 creators are `Infinity`; with an
 * `m.room.power_levels` auth event, `users[sender]` else `users_default` else 0; without one, 100
 * for the creator and 0 for anyone else. Missing auth events are skipped.
 */
export function senderPowerLevel(event: RoomEvent, lookup: EventLookup, rules: RoomVersionRules): number {
  let pl: RoomEvent | undefined;
  const auth = event.authEvents;
  for (let i = 0; i < auth.length; i++) {
    const a = lookup(auth[i] as string);
    if (a !== undefined && isKey(a, 'm.room.power_levels')) {
      pl = a;
      break;
    }
  }
  const create = createEventFor(event, lookup, rules);
  if (rules.authorization.privilegedCreators && create !== undefined && roomCreators(create, rules).has(event.sender)) {
    return Infinity;
  }
  if (pl === undefined) {
    return create !== undefined && roomCreators(create, rules).has(event.sender) ? IMPLICIT_CREATOR_LEVEL : 0;
  }
  const users = pl.content['users'];
  let raw: JsonValue | undefined;
  if (users !== null && typeof users === 'object' && !Array.isArray(users) && Object.hasOwn(users, event.sender)) {
    raw = (users as Record<string, JsonValue>)[event.sender];
  } else {
    raw = pl.content['users_default'];
  }
  return parsePowerLevelValue(raw, rules) ?? 0;
}
