/**
 * `roomgraph verify`: checks one signature on the input object.
 * @packageDocumentation
 */
import { verifyJson } from '@roomgraph/crypto';
import type { JsonObject } from '@roomgraph/canonical-json';
import { defineJsonCommand, stringFlag } from '../framework.js';

/**
 * `roomgraph verify --server NAME --key-id ed25519:ID --public-key BASE64`: `{"valid":true}` or
 * `{"valid":false,"reason":"CODE: explanation"}` (exit 0 either way: it is a result, not an error).
 */
export const command = defineJsonCommand({
  name: 'verify',
  usage: `
Input: a signed JSON object. Output: {"valid":true} or {"valid":false,"reason":"CODE: ..."} (exit 0 either way).
Example:
  roomgraph verify --server domain --key-id ed25519:1 --public-key <base64> < signed.json
`,
  summary: 'check a signature: {"valid":true} or {"valid":false,"reason":...}',
  flags: {
    server: { type: 'string', description: 'server whose signature is checked', required: true },
    'key-id': { type: 'string', description: 'key id, ed25519:VERSION', required: true },
    'public-key': { type: 'string', description: 'ed25519 public key, unpadded base64', required: true },
  },
  run: (input, flags, ctx) => {
    const r = verifyJson(input, stringFlag(flags, 'server'), stringFlag(flags, 'key-id'), stringFlag(flags, 'public-key'), { strict: !ctx.lenient });
    const out: JsonObject = r.valid ? { valid: true } : { valid: false, reason: `${r.code}: ${r.reason}` };
    return out;
  },
});
