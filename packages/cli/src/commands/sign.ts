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
