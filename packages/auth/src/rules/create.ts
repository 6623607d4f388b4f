/**
 * The rules for `m.room.create` (Room versions › Authorization rules, rule 1; checklist F1) and,
 * in room version 12, the room ID naming the accepted create event (rule 2; checklist F2).
 *
 * @module
 */
import type { JsonValue } from '@roomgraph/canonical-json';
import { type RoomEvent, domainOf } from '@roomgraph/events';
import { ROOM_VERSIONS, type RoomVersionRules } from '@roomgraph/room-versions';
import { showValue } from '../show.js';
import { isUserId } from '../userId.js';
import { ALLOW, type AuthOptions, type AuthResult, has, reject, safeRejected } from './common.js';

/** F1: the rules for `m.room.create`. */
export function checkCreate(event: RoomEvent, rules: RoomVersionRules): AuthResult {
  const flags = rules.authorization;
  // F1.1
  if (event.prevEvents.length > 0 || (Array.isArray(event.json['prev_events']) && (event.json['prev_events'] as readonly JsonValue[]).length > 0)) {
    return reject('create.prev_events', 'm.room.create must not have prev_events');
  }
  // F1.2
  if (flags.roomIdFromCreateEvent) {
    if (event.json['room_id'] !== undefined) return reject('create.room_id_present', 'm.room.create must not have a room_id in this room version');
  } else {
    const roomDomain = event.roomId === undefined ? undefined : domainOf(event.roomId);
    const senderDomain = domainOf(event.sender);
    if (roomDomain === undefined || roomDomain !== senderDomain) {
      return reject('create.room_id_domain', `room_id domain ${String(roomDomain)} does not match sender domain ${String(senderDomain)}`);
    }
  }
  // F1.3: present and not recognised. A non-string value is not a recognised version.
  if (has(event.content, 'room_version')) {
    const v = event.content['room_version'];
    if (typeof v !== 'string' || !ROOM_VERSIONS.has(v)) {
      return reject('create.room_version', `unrecognised room_version ${showValue(v)}`);
    }
  }
  // F1.4 [v1–v10]
  if (flags.creatorInContent && !has(event.content, 'creator')) {
    return reject('create.no_creator', 'm.room.create content has no creator');
  }
  // F1.5 [v12]
  if (flags.privilegedCreators && has(event.content, 'additional_creators')) {
    const ac = event.content['additional_creators'];
    if (!Array.isArray(ac) || !(ac as readonly JsonValue[]).every((u) => typeof u === 'string' && isUserId(u))) {
      return reject('create.additional_creators', 'additional_creators must be an array of valid user IDs');
    }
  }
  // F1.6
  return ALLOW;
}

/** F2 [v12]: the room ID must name an accepted create event. */
export function checkRoomIdFromCreate(event: RoomEvent, create: RoomEvent | undefined, options: AuthOptions | undefined): AuthResult {
  const roomId = event.roomId;
  if (roomId === undefined || !roomId.startsWith('!')) return reject('room_id.create_event', 'the event has no valid room_id');
  const expected = '$' + roomId.slice(1);
  if (create === undefined || create.eventId !== expected || create.type !== 'm.room.create' || create.stateKey !== '') {
    return reject('room_id.create_event', `room_id ${roomId} does not name the room's m.room.create event`);
  }
  if (safeRejected(options, create.eventId)) return reject('room_id.create_event', `the m.room.create event ${create.eventId} was rejected`);
  return ALLOW;
}
