/**
 * `roomgraph room-id`: the room ID of a room whose ID is its create event's hash (v12).
 * @packageDocumentation
 */
import { roomIdFromCreateEvent } from '@roomgraph/events';
import { defineJsonCommand } from '../framework.js';
import { roomVersionFlag, rulesFromFlags } from './event-id.js';
import { requireObject } from './util.js';

/** `roomgraph room-id --room-version 12` (input: the `m.room.create` event): `{"room_id":"!..."}`. */
export const command = defineJsonCommand({
  lenientInput: true,
  name: 'room-id',
  usage: `
Input: an m.room.create event of a room version whose room ID is the create event's hash (12).
Output: {"room_id":"!..."}.
Example:
  roomgraph room-id --room-version 12 < create.json
`,
  summary: 'room ID from the input m.room.create event (v12): {"room_id":"!..."}',
  flags: { 'room-version': roomVersionFlag },
  run: (input, flags) => ({ room_id: roomIdFromCreateEvent(requireObject(input), rulesFromFlags(flags)) }),
});
