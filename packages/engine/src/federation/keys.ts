/**
 * Publishing this server's keys (Server-Server API › Retrieving server keys, `GET
 * /_matrix/key/v2/server`): the self-signed key object.
 *
 * @module
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import { encodeBase64, signJson } from '@roomgraph/crypto';
import { type EngineContext, signerOf } from '../context.js';

/** How long published keys are valid (the spec suggests a short period; Synapse uses a day to a week). */
export const KEY_VALIDITY_MS = 7 * 24 * 3600 * 1000;

/** `GET /_matrix/key/v2/server`: this server's self-signed key object. */
export async function onGetServerKeys(ctx: EngineContext): Promise<JsonObject> {
  const { key } = signerOf(ctx);
  const body: JsonObject = {
    server_name: ctx.serverName,
    valid_until_ts: ctx.now() + KEY_VALIDITY_MS,
    verify_keys: { [key.keyId]: { key: encodeBase64(key.publicKey) } },
    old_verify_keys: {},
  };
  return signJson(body, ctx.serverName, key);
}
