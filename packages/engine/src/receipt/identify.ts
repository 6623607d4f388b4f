/**
 * Identifying a received PDU — the first receipt check, format (Server-Server API › Checks
 * performed on receipt of a PDU, check 1: "Is a valid event, otherwise it is dropped"; room
 * versions › event format): find its room and so its room version (a create event names its
 * version in its content), then parse it against that version's format. A PDU of an unknown room,
 * of an unsupported version, or malformed is dropped.
 *
 * @module
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import { type Pdu, PduFormatError, eventId as computeEventId, parsePdu, roomIdFromCreateEvent } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import type { EngineContext } from '../context.js';
import { isJsonObject } from '@roomgraph/canonical-json';
import type { PduOutcome } from '../types.js';
import { dropped } from './outcome.js';

/** A PDU whose room and version are known, parsed. */
export interface Identified {
  /** The parsed PDU. */
  readonly pdu: Pdu;
  /** Its room version's rules. */
  readonly rules: RoomVersionRules;
  /** Its room (computed from the create event in room versions without a `room_id` on it). */
  readonly roomId: string;
}

/** The event ID of PDU JSON that failed validation, where one can still be computed (`''` otherwise). */
export function eventIdOrEmpty(json: JsonObject, rules: RoomVersionRules): string {
  try {
    return computeEventId(json, rules);
  } catch {
    return '';
  }
}

/** The room a PDU names, for the per-room lock (v12 create events: computed from the event). */
export function lockKeyOf(pdu: unknown): string {
  if (!isJsonObject(pdu)) return '';
  const r = pdu['room_id'];
  if (typeof r === 'string') return r;
  try {
    return roomIdFromCreateEvent(pdu);
  } catch {
    return '';
  }
}

/**
 * Finds the room, its version, and parses the PDU; or the outcome of dropping it. At once (no
 * promise) when the room's version is remembered (`caches.roomRules`: a room's version never
 * changes), else after reading the room from the store.
 */
export function identify(ctx: EngineContext, json: unknown): PduOutcome | Identified | Promise<PduOutcome | Identified> {
  if (!isJsonObject(json)) return dropped('format', 'the PDU is not a JSON object');
  const roomId: string | undefined = typeof json['room_id'] === 'string' ? json['room_id'] : undefined;
  const remembered = roomId !== undefined ? ctx.caches.roomRules.get(roomId) : undefined;
  if (remembered !== undefined) return parsed(json, remembered, roomId);
  return identifyByStore(ctx, json, roomId);
}

/** {@link identify} of a PDU whose room's version is not remembered: the room is read from the store. */
async function identifyByStore(ctx: EngineContext, json: JsonObject, roomId: string | undefined): Promise<PduOutcome | Identified> {
  let rules: RoomVersionRules;
  const known = roomId !== undefined ? await ctx.store.getRoom(roomId) : undefined;
  if (known !== undefined) {
    rules = ctx.versions.get(known.roomVersion);
    ctx.caches.roomRules.set(known.roomId, rules);
  } else if (json['type'] === 'm.room.create' && json['state_key'] === '') {
    const content = json['content'];
    const v = isJsonObject(content) ? (content['room_version'] ?? '1') : '1';
    if (typeof v !== 'string' || !ctx.versions.has(v)) return dropped('room_version', `unsupported room version ${JSON.stringify(v)}`);
    rules = ctx.versions.get(v);
  } else {
    return dropped('unknown_room', `room ${JSON.stringify(roomId)} is not known to this server`);
  }
  return parsed(json, rules, roomId);
}

/** The PDU parsed against `rules`, with its room (a v12 create event's computed); or the outcome of dropping it. */
function parsed(json: JsonObject, rules: RoomVersionRules, roomId: string | undefined): PduOutcome | Identified {
  let pdu: Pdu;
  try {
    pdu = parsePdu(json, rules);
  } catch (e) {
    const id = eventIdOrEmpty(json, rules);
    if (e instanceof PduFormatError) return dropped('format', e.message.slice(0, 500), id);
    return dropped('format', String(e), id);
  }
  if (roomId === undefined) {
    const isCreate = json['type'] === 'm.room.create' && json['state_key'] === '';
    if (!isCreate || rules.eventFormat.createEventHasRoomId) return dropped('format', 'no room_id', pdu.eventId);
    roomId = roomIdFromCreateEvent(pdu.json, rules);
  }
  return { pdu, rules, roomId };
}
