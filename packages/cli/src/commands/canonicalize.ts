/**
 * `roomgraph canonicalize`: the canonical JSON text of the input.
 * @packageDocumentation
 */
import { encodeCanonicalJson } from '@roomgraph/canonical-json';
import { defineJsonCommand } from '../framework.js';

/** `roomgraph canonicalize`: prints the canonical JSON of stdin (floats are an error unless --lenient). */
export const command = defineJsonCommand({
  name: 'canonicalize',
  usage: `
Input: any JSON document. Output: its canonical JSON (keys sorted by code point, no spaces).
Example:
  echo '{"b":1,"a":"\\u2603"}' | roomgraph canonicalize        # {"a":"☃","b":1}
  printf '{"b":1}\\n{"a":1.5}\\n' | roomgraph canonicalize --jsonl
`,
  summary: 'print the canonical JSON of the input',
  flags: {},
  run: (input, _flags, ctx) => encodeCanonicalJson(input, { strict: !ctx.lenient }),
});
