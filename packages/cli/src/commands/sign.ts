/**
 * `roomgraph sign`: signs the input object.
 * @packageDocumentation
 */
import { signJson } from '@roomgraph/crypto';
import type { JsonObject } from '@roomgraph/canonical-json';
import { defineJsonCommand, stringFlag } from '../framework.js';
import { keyFromFlags, requireObject } from './util.js';

/** `roomgraph sign --server NAME --key-id ed25519:ID --seed BASE64`: the input with the signature added. */
export const command = defineJsonCommand({
  name: 'sign',
  usage: `
Input: a JSON object (e.g. a PDU or a key response). Output: the object with
signatures.<server>.<key_id> added (other signatures and unsigned kept), as canonical JSON.
Example:
  echo '{}' | roomgraph sign --server domain --key-id ed25519:1 --seed YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1
  (make a key with: roomgraph keygen --server domain)
`,
  summary: 'sign the input object (other signatures and unsigned kept)',
  flags: {
    server: { type: 'string', description: 'signing server name', required: true },
    'key-id': { type: 'string', description: 'key id, ed25519:VERSION', required: true },
    seed: { type: 'string', description: 'ed25519 seed, unpadded base64', required: true },
  },
  run: (input, flags, ctx) => {
    const obj = requireObject(input);
    const key = keyFromFlags(stringFlag(flags, 'key-id'), stringFlag(flags, 'seed'));
    return signJson(obj, stringFlag(flags, 'server'), key, { strict: !ctx.lenient }) as JsonObject;
  },
});
