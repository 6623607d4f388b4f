/**
 * `roomgraph canonicalize`: the canonical JSON text of the input.
 * @packageDocumentation
 */
import { encodeCanonicalJson } from '@roomgraph/canonical-json';
import { defineJsonCommand } from '../framework.js';

/** `roomgraph canonicalize`: prints the canonical JSON of stdin (floats are an error unless --lenient). */
export const command = defineJsonCommand({
  name: 'canonicalize',
  summary: 'print the canonical JSON of the input',
  flags: {},
  run: (input, _flags, ctx) => encodeCanonicalJson(input, { strict: !ctx.lenient }),
});
