/**
 * `roomgraph content-hash`: the content hash of the input event.
 * @packageDocumentation
 */
import { computeContentHashBase64 } from '@roomgraph/crypto';
import { defineJsonCommand } from '../framework.js';
import { requireObject } from './util.js';

/** `roomgraph content-hash`: `{"sha256":"<unpadded base64>"}` of the input event (SS › content hash). */
export const command = defineJsonCommand({
  name: 'content-hash',
  usage: `
Input: an event (PDU JSON). Output: {"sha256":"<unpadded base64>"}, the content hash
(Server-Server API › Calculating the content hash for an event).
Example:
  roomgraph content-hash < event.json
`,
  summary: 'content hash of the input event: {"sha256":"<unpadded base64>"}',
  flags: {},
  run: (input, _flags, ctx) => ({ sha256: computeContentHashBase64(requireObject(input), { strict: !ctx.lenient }) }),
});
