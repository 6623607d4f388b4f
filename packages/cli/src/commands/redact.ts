/**
 * `roomgraph redact`: the input event redacted with a room version's algorithm.
 * @packageDocumentation
 */
import { redact } from '@roomgraph/events';
import { defineJsonCommand } from '../framework.js';
import { roomVersionFlag, rulesFromFlags } from './event-id.js';
import { requireObject } from './util.js';

/** `roomgraph redact --room-version V`: the redacted event as canonical JSON (checklist §e). */
export const command = defineJsonCommand({
  lenientInput: true,
  name: 'redact',
  usage: `
Input: an event. Output: the event redacted with the room version's algorithm, as canonical JSON.
Example:
  roomgraph redact --room-version 11 < event.json
`,
  summary: 'redact the input event with the room version\'s algorithm',
  flags: { 'room-version': roomVersionFlag },
  run: (input, flags) => redact(requireObject(input), rulesFromFlags(flags)),
});
