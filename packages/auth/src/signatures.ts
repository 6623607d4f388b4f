/**
 * The two signature checks inside the authorization rules: the `signed` block of a third-party invite
 * (F6.4.1.7) and the authorising server's signature on a restricted join (F6.2).
 *
 * @module
 */
import { asObject } from './rules/common.js';
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import { encodeCanonicalJsonBytes } from '@roomgraph/canonical-json';
import { redact } from '@roomgraph/events';
import type { RoomEvent } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { ed25519Verify, decodeAnyBase64 } from './ed25519.js';


function withoutKeys(o: JsonObject, keys: readonly string[]): JsonObject {
  const out: Record<string, JsonValue> = {};
  for (const k of Object.keys(o)) if (!keys.includes(k)) out[k] = o[k] as JsonValue;
  return out;
}

function canonicalBytes(o: JsonObject): Uint8Array | undefined {
  try {
    // Lenient: events of v1–v5 may hold floats; the signed bytes are whatever the signer encoded,
    // and non-canonical input simply fails to verify.
    return encodeCanonicalJsonBytes(o, { strict: false });
  } catch {
    return undefined;
  }
}

/**
 * Whether any signature in `signed.signatures` (any server, any `ed25519:` key) verifies over
 * `signed` minus `signatures` with any of `publicKeys` (APP › Checking for a Signature; F6.4.1.7).
 * The reference server stops at the first failing signature per key; the spec says *any* signature,
 * which we follow.
 */
export function verifyThirdPartySigned(signed: JsonObject, publicKeys: readonly string[]): boolean {
  const sigs = asObject(signed['signatures']);
  if (sigs === undefined) return false;
  const keys: Uint8Array[] = [];
  for (const k of publicKeys) {
    const bytes = decodeAnyBase64(k);
    if (bytes !== undefined && bytes.length === 32) keys.push(bytes);
  }
  if (keys.length === 0) return false;
  const message = canonicalBytes(withoutKeys(signed, ['signatures', 'unsigned']));
  if (message === undefined) return false;
  for (const server of Object.keys(sigs)) {
    const block = asObject(sigs[server]);
    if (block === undefined) continue;
    for (const keyId of Object.keys(block)) {
      if (!keyId.startsWith('ed25519:')) continue;
      const sigText = block[keyId];
      if (typeof sigText !== 'string') continue;
      const sig = decodeAnyBase64(sigText);
      if (sig === undefined || sig.length !== 64) continue;
      for (const key of keys) if (ed25519Verify(key, message, sig)) return true;
    }
  }
  return false;
}

/**
 * Whether `event` is validly signed by `serverName` (F6.2). The signature covers the redacted event
 * without `signatures` and `unsigned` (Server-Server API › Validating hashes and signatures). For
 * v3+ a top-level `event_id` is not part of the PDU (it is derived), so it is removed first.
 *
 * With `serverKeys`, at least one `ed25519:` signature by the server must verify against a key it
 * returns; keys it does not know are skipped. Without it, a signature entry by the server must merely
 * be present (the caller verified signatures elsewhere).
 */
export function isSignedByServer(
  event: RoomEvent,
  serverName: string,
  rules: RoomVersionRules,
  serverKeys: ((serverName: string, keyId: string) => Uint8Array | undefined) | undefined,
): boolean {
  const block = asObject(asObject(event.json['signatures'])?.[serverName]);
  if (block === undefined) return false;
  const keyIds = Object.keys(block).filter((k) => typeof block[k] === 'string');
  if (serverKeys === undefined) return keyIds.length > 0;
  let message: Uint8Array | undefined;
  for (const keyId of keyIds) {
    if (!keyId.startsWith('ed25519:')) continue;
    let key: Uint8Array | undefined;
    try {
      key = serverKeys(serverName, keyId);
    } catch {
      key = undefined;
    }
    if (key === undefined || key.length !== 32) continue;
    const sig = decodeAnyBase64(block[keyId] as string);
    if (sig === undefined || sig.length !== 64) continue;
    if (message === undefined) {
      let json = event.json;
      if (rules.eventFormat.eventIdFormat !== 'server-assigned') json = withoutKeys(json, ['event_id']);
      let redacted: JsonObject;
      try {
        redacted = redact(json, rules);
      } catch {
        return false;
      }
      const m = canonicalBytes(withoutKeys(redacted, ['signatures', 'unsigned']));
      if (m === undefined) return false;
      message = m;
    }
    if (ed25519Verify(key, message, sig)) return true;
  }
  return false;
}
