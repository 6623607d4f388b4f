/**
 * The rules about an event's `auth_events` list (Room versions › Authorization rules, rule 3:
 * no duplicates, only entries the auth events selection allows, none rejected, the create event
 * in v1–v11, all of the same room; checklist F3).
 *
 * @module
 */
import { type RoomEvent, authEventTypes, distinctIds, stateKeyOf } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { ALLOW, type AuthOptions, type AuthResult, reject, safeRejected } from './common.js';

/**
 * Lists this short (a PDU cites at most 10 auth events) are searched by linear scans, without
 * building maps and key strings; longer ones (events parsed without the reference limits) by maps.
 */
const SMALL = 16;

/** The first of `events` with ID `id`. */
function findById(events: readonly RoomEvent[], id: string): RoomEvent | undefined {
  for (let i = 0; i < events.length; i++) if ((events[i] as RoomEvent).eventId === id) return events[i];
  return undefined;
}

/**
 * F3: the rules about the event's `auth_events` list. Entries are visited in the order of the
 * event's own `auth_events` IDs, so the result does not depend on the order of `authEvents`.
 */
export function checkAuthEventsList(event: RoomEvent, rules: RoomVersionRules, authEvents: readonly RoomEvent[], options: AuthOptions | undefined): AuthResult {
  const ids = distinctIds(event.authEvents);
  const small = ids.length <= SMALL && authEvents.length <= SMALL;
  let byId: Map<string, RoomEvent> | undefined;
  if (!small) {
    byId = new Map<string, RoomEvent>();
    for (const e of authEvents) if (!byId.has(e.eventId)) byId.set(e.eventId, e);
  }
  // Indexed loops throughout: this runs once per event, often before the optimiser takes it, where
  // each `for…of` step allocates an iterator result.
  const listed: RoomEvent[] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as string;
    const e = byId === undefined ? findById(authEvents, id) : byId.get(id);
    if (e !== undefined) listed.push(e);
  }
  // F3.1: a state event whose (type, state_key) an earlier entry has (an earlier non-state entry
  // counts with the state key "").
  if (small) {
    for (let i = 1; i < listed.length; i++) {
      const e = listed[i] as RoomEvent;
      if (e.stateKey === undefined) continue;
      for (let j = 0; j < i; j++) {
        const d = listed[j] as RoomEvent;
        if (d.type === e.type && (d.stateKey ?? '') === e.stateKey) return duplicate(e);
      }
    }
  } else {
    const seen = new Set<string>();
    for (const e of listed) {
      const key = stateKeyOf(e.type, e.stateKey ?? '');
      if (e.stateKey !== undefined && seen.has(key)) return duplicate(e);
      seen.add(key);
    }
  }
  // F3.2: compare (type, state_key) with the auth events selection of the event alone (checklist
  // F3 AMBIGUOUS: keys only). In v12 the selection never includes m.room.create.
  const allowed = authEventTypes(event, rules);
  for (let i = 0; i < listed.length; i++) {
    const e = listed[i] as RoomEvent;
    if (e.stateKey === undefined || !selects(allowed, e.type, e.stateKey)) {
      return reject('auth_events.unexpected', `auth event ${e.eventId} (${e.type}, ${String(e.stateKey)}) is not selected by auth events selection`);
    }
  }
  // F3.3
  for (let i = 0; i < listed.length; i++) {
    const e = listed[i] as RoomEvent;
    if (safeRejected(options, e.eventId)) return reject('auth_events.rejected', `auth event ${e.eventId} was rejected`);
  }
  // F3.4 [v1–v11]
  if (rules.eventFormat.createEventInAuthEvents && !listed.some((e) => e.type === 'm.room.create' && e.stateKey === '')) {
    return reject('auth_events.no_create', 'no m.room.create among the auth events');
  }
  // F3.5
  for (let i = 0; i < listed.length; i++) {
    const e = listed[i] as RoomEvent;
    if (e.roomId !== event.roomId) return reject('auth_events.wrong_room', `auth event ${e.eventId} is in room ${String(e.roomId)}`);
  }
  return ALLOW;
}

function duplicate(e: RoomEvent): AuthResult {
  return reject('auth_events.duplicate', `duplicate auth event for (${e.type}, ${String(e.stateKey)})`);
}

/** Whether the (type, state key) pairs of an auth events selection include (`type`, `stateKey`). */
function selects(pairs: readonly (readonly [string, string])[], type: string, stateKey: string): boolean {
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i] as readonly [string, string];
    if (pair[0] === type && pair[1] === stateKey) return true;
  }
  return false;
}
