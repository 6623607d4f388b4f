/**
 * Event IDs and room IDs (frag:v1-event-ids, room version 3 › Event IDs, frag:v4-event-ids,
 * APP › Room IDs; checklist D1–D4).
 *
 * @module
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { getRoomVersion } from '@roomgraph/room-versions';
import { EventsError, requireObject } from './errors.js';
import { referenceHashBase64 } from './hashes.js';

/**
 * The event ID of `event` in its room version (D1–D3):
 * - v1–v2: the PDU's own `event_id` (server-assigned, never computed);
 * - v3: `$` + unpadded standard base64 of the reference hash;
 * - v4+: `$` + unpadded URL-safe base64 of the reference hash.
 *
 * For v3+ any `event_id` key in `event` is ignored (C6), so events carrying a convenience
 * `event_id` hash to the same ID.
 *
 * @throws {@link EventsError} `EVENTS_INVALID_ARGUMENT` for a non-object, or a v1–v2 event without a string
 *   `event_id`; `EVENTS_NOT_ENCODABLE` when the event cannot be canonicalised.
 */
export function eventId(event: JsonObject, rules: RoomVersionRules): string {
  requireObject(event);
  switch (rules.eventFormat.eventIdFormat) {
    case 'server-assigned': {
      const id = event['event_id'];
      if (typeof id !== 'string') throw new EventsError('EVENTS_INVALID_ARGUMENT', `room version ${rules.id} events carry their event_id, and this one has none`);
      return id;
    }
    case 'hash-base64':
      return '$' + referenceHashBase64(event, rules, false);
    default:
      return '$' + referenceHashBase64(event, rules, true);
  }
}

/**
 * The room ID of a room whose room IDs are create-event hashes (v12, D4): `!` + unpadded URL-safe
 * base64 of the `m.room.create` event's reference hash — its event ID with `!` for `$`.
 *
 * @param createEvent - the `m.room.create` PDU (without `room_id`).
 * @param rules - the room version; defaults to the one named by `content.room_version`, which must
 *   use create-event-hash room IDs.
 * @throws {@link EventsError} `EVENTS_INVALID_ARGUMENT` if the event is not `m.room.create` or the
 *   room version has server-assigned room IDs.
 */
export function roomIdFromCreateEvent(createEvent: JsonObject, rules?: RoomVersionRules): string {
  if (requireObject(createEvent)['type'] !== 'm.room.create') throw new EventsError('EVENTS_INVALID_ARGUMENT', 'not an m.room.create event');
  let r = rules;
  if (r === undefined) {
    const content = createEvent['content'];
    const v = content !== null && typeof content === 'object' && !Array.isArray(content) ? (content as JsonObject)['room_version'] : undefined;
    try {
      r = getRoomVersion(typeof v === 'string' ? v : '1');
    } catch {
      throw new EventsError('EVENTS_INVALID_ARGUMENT', `unknown room version ${JSON.stringify(v)} in the create event`);
    }
  }
  if (r.eventFormat.roomIdFormat !== 'create-event-hash') {
    throw new EventsError('EVENTS_INVALID_ARGUMENT', `room version ${r.id} has server-assigned room IDs`);
  }
  return '!' + referenceHashBase64(createEvent, r, true);
}
