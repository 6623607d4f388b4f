/**
 * The rules about an event's `auth_events` list (Room versions › Authorization rules, rule 3:
 * no duplicates, only entries the auth events selection allows, none rejected, the create event
 * in v1–v11, all of the same room; checklist F3).
 *
 * @module
 */
import { type RoomEvent, authEventTypes, stateKeyOf } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { ALLOW, type AuthOptions, type AuthResult, reject, safeRejected } from './common.js';

/**
 * F3: the rules about the event's `auth_events` list. Entries are visited in the order of the
 * event's own `auth_events` IDs, so the result does not depend on the order of `authEvents`.
 */
export function checkAuthEventsList(event: RoomEvent, rules: RoomVersionRules, authEvents: readonly RoomEvent[], options: AuthOptions | undefined): AuthResult {
  const byId = new Map<string, RoomEvent>();
  for (const e of authEvents) if (!byId.has(e.eventId)) byId.set(e.eventId, e);
  const listed: RoomEvent[] = [];
  const seenIds = new Set<string>();
  for (const id of event.authEvents) {
    if (seenIds.has(id)) continue;
    seenIds.add(id);
    const e = byId.get(id);
    if (e !== undefined) listed.push(e);
  }
  // F3.1
  const seen = new Set<string>();
  for (const e of listed) {
    const key = stateKeyOf(e.type, e.stateKey ?? '');
    if (e.stateKey !== undefined && seen.has(key)) {
      return reject('auth_events.duplicate', `duplicate auth event for (${e.type}, ${e.stateKey})`);
    }
    seen.add(key);
  }
  // F3.2: compare (type, state_key) with the auth events selection of the event alone (checklist
  // F3 AMBIGUOUS: keys only). In v12 the selection never includes m.room.create.
  const allowed = new Set(authEventTypes(event, rules).map(([t, k]) => stateKeyOf(t, k)));
  for (const e of listed) {
    if (e.stateKey === undefined || !allowed.has(stateKeyOf(e.type, e.stateKey))) {
      return reject('auth_events.unexpected', `auth event ${e.eventId} (${e.type}, ${String(e.stateKey)}) is not selected by auth events selection`);
    }
  }
  // F3.3
  for (const e of listed) {
    if (safeRejected(options, e.eventId)) return reject('auth_events.rejected', `auth event ${e.eventId} was rejected`);
  }
  // F3.4 [v1–v11]
  if (rules.eventFormat.createEventInAuthEvents && !listed.some((e) => e.type === 'm.room.create' && e.stateKey === '')) {
    return reject('auth_events.no_create', 'no m.room.create among the auth events');
  }
  // F3.5
  for (const e of listed) {
    if (e.roomId !== event.roomId) return reject('auth_events.wrong_room', `auth event ${e.eventId} is in room ${String(e.roomId)}`);
  }
  return ALLOW;
}
