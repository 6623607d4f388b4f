/**
 * `roomgraph event-id`: the event ID of the input PDU.
 * @packageDocumentation
 */
import { eventId } from '@roomgraph/events';
import { getRoomVersion, type RoomVersionRules } from '@roomgraph/room-versions';
import { defineJsonCommand, stringFlag, type FlagSpec, type Flags } from '../framework.js';
import { requireObject } from './util.js';

/** The `--room-version` flag (shared by the event commands: event-id, redact, validate, room-id). */
export const roomVersionFlag: FlagSpec = { type: 'string', description: 'room version, "1" … "12"', required: true };

/** The rules of `--room-version`; an unknown one is the library's `ROOM_VERSION_UNKNOWN` error. */
export function rulesFromFlags(flags: Flags): RoomVersionRules {
  return getRoomVersion(stringFlag(flags, 'room-version'));
}

/**
 * `roomgraph event-id --room-version V`: `{"event_id":"$..."}` — the PDU's `event_id` for v1–v2,
 * `$` + the base64 reference hash for v3+ (an `event_id` key in the input is ignored there).
 */
export const command = defineJsonCommand({
  lenientInput: true,
  name: 'event-id',
  usage: `
Input: a PDU. Output: {"event_id":"$..."} (v1-v2: its event_id; v3+: the reference hash).
Example:
  roomgraph event-id --room-version 10 < event.json
`,
  summary: 'event ID of the input PDU: {"event_id":"$..."}',
  flags: { 'room-version': roomVersionFlag },
  run: (input, flags) => ({ event_id: eventId(requireObject(input), rulesFromFlags(flags)) }),
});
