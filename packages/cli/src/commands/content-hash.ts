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
  summary: 'content hash of the input event: {"sha256":"<unpadded base64>"}',
  flags: {},
  run: (input, _flags, ctx) => ({ sha256: computeContentHashBase64(requireObject(input), { strict: !ctx.lenient }) }),
});
