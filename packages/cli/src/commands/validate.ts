/**
 * `roomgraph validate`: checks the input PDU against a room version's event format and limits.
 * @packageDocumentation
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import { validatePdu } from '@roomgraph/events';
import { defineJsonCommand } from '../framework.js';
import { roomVersionFlag, rulesFromFlags } from './event-id.js';

/**
 * `roomgraph validate --room-version V`: `{"valid":true}` or
 * `{"valid":false,"errors":[{"path","code","message"}, ...]}` listing every problem (exit 0 either
 * way; the output shape is the CLI contract, so it carries nothing else — `event-id` gives the ID).
 * Input that is not JSON at all is reported by the framework as an error object instead.
 */
export const command = defineJsonCommand({
  lenientInput: true,
  name: 'validate',
  usage: `
Input: a PDU. Output: {"valid":true} or {"valid":false,"errors":[{"path","code","message"},...]}.
Example:
  roomgraph validate --room-version 12 < event.json
`,
  summary: 'validate the input PDU: {"valid":true} or {"valid":false,"errors":[...]}',
  flags: { 'room-version': roomVersionFlag },
  run: (input, flags) => {
    const r = validatePdu(input, rulesFromFlags(flags));
    const out: JsonObject = r.ok
      ? { valid: true }
      : { valid: false, errors: r.problems.map((p) => ({ path: p.path, code: p.code, message: p.message })) };
    return out;
  },
});
