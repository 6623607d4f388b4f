/**
 * Check 2 on receipt of a PDU: signatures (Server-Server API › Checks performed on receipt of a
 * PDU; › Validating hashes and signatures on received events): the servers that must have signed
 * (the sender's, and for some events others) each have a valid signature by a key valid at the
 * event's time (room versions with `enforceKeyValidity`). A PDU that fails is dropped. Also the
 * keys of a restricted join's authorising server, which an auth rule needs (checklist F6.2).
 *
 * @module
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import {
  type KeyLookup, type Pdu, type RoomEvent, type SignatureCheckResult, type VerifyKey,
  domainOf, requiredSigningServers, verifyEventSignatures, verifyEventSignaturesAsync,
} from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import type { ServerKey } from '@roomgraph/transport';
import type { EngineContext } from '../context.js';
import { isJsonObject } from '@roomgraph/canonical-json';

/** A key lookup that also hands out raw public keys (for the auth rules' signature check). */
export type RawKeyLookup = KeyLookup & { raw: (server: string, keyId: string) => Uint8Array | undefined };

/** One key an event's signatures name, with what the key source answered for it. */
interface FoundKey {
  readonly server: string;
  readonly keyId: string;
  key: VerifyKey | undefined;
}

/** `fetch`'s answer as `entry`'s key once it comes (a failed fetch: no key). */
function settleKey(entry: FoundKey, fetch: Promise<ServerKey | undefined>): Promise<void> {
  return fetch.then((key) => { entry.key = verifyKeyOf(key); }, () => undefined);
}

/** The verify key of a key source's answer (its validity: `expired_ts` of an old key, else `valid_until_ts`). */
function verifyKeyOf(key: ServerKey | undefined): VerifyKey | undefined {
  if (key === undefined) return undefined;
  const until = key.expiredTs ?? key.validUntilTs;
  return until !== undefined ? { publicKey: key.publicKey, validUntilTs: until } : { publicKey: key.publicKey };
}

/**
 * Fetches the keys an event's signatures name for `servers`; returns a sync lookup. (Usually one
 * server with one key: a short list scanned by the lookup, no map or key strings per PDU.)
 */
export async function keyLookup(ctx: EngineContext, json: JsonObject, servers: readonly string[], rules: RoomVersionRules): Promise<RawKeyLookup> {
  const found: FoundKey[] = [];
  const sigs = json['signatures'];
  const ts = json['origin_server_ts'];
  const min = rules.signatures.enforceKeyValidity && typeof ts === 'number' ? ts : undefined;
  // Usually one key to fetch: awaited alone (no list of promises, no callback per key).
  let oneEntry: FoundKey | undefined;
  let oneFetch: Promise<ServerKey | undefined> | undefined;
  let fetches: Promise<void>[] | undefined;
  const own = ctx.signingKey;
  try {
    for (const server of servers) {
      const mine = isJsonObject(sigs) ? sigs[server] : undefined;
      if (!isJsonObject(mine)) continue;
      for (const keyId in mine) {
        if (!Object.hasOwn(mine, keyId) || !keyId.startsWith('ed25519:')) continue;
        const entry: FoundKey = { server, keyId, key: undefined };
        found.push(entry);
        // This server's own current key needs no lookup (e.g. a restricted join it countersigned).
        if (server === ctx.serverName && own !== undefined && own.keyId === keyId) {
          entry.key = { publicKey: own.publicKey };
          continue;
        }
        const fetch = ctx.keys.getKey(server, keyId, min);
        if (oneFetch === undefined && fetches === undefined) {
          oneEntry = entry;
          oneFetch = fetch;
          continue;
        }
        // More than one: each fetch gets its callback, and all are awaited together.
        if (oneFetch !== undefined) {
          fetches = [settleKey(oneEntry as FoundKey, oneFetch)];
          oneFetch = undefined;
        }
        (fetches as Promise<void>[]).push(settleKey(entry, fetch));
      }
    }
  } catch (e) {
    // A key source that threw: the fetch started before it must not end as an unhandled rejection.
    oneFetch?.catch(() => undefined);
    throw e;
  }
  if (oneFetch !== undefined) {
    let key: ServerKey | undefined;
    try {
      key = await oneFetch;
    } catch {
      key = undefined;
    }
    (oneEntry as FoundKey).key = verifyKeyOf(key);
  } else if (fetches !== undefined) {
    await Promise.all(fetches);
  }
  const get = (s: string, k: string): VerifyKey | undefined => {
    for (let i = 0; i < found.length; i++) {
      const f = found[i] as FoundKey;
      if (f.server === s && f.keyId === k) return f.key;
    }
    return undefined;
  };
  const fn = get as RawKeyLookup;
  fn.raw = (s, k) => get(s, k)?.publicKey;
  return fn;
}

/** Looks up the keys an event names and starts verifying its signatures off the main thread ({@link handOffSignatureCheck} in one step). */
export async function startSignatureCheck(ctx: EngineContext, pdu: Pdu, rules: RoomVersionRules): Promise<SignatureCheckResult> {
  return (await handOffSignatureCheck(ctx, pdu, rules)).sig;
}

/**
 * {@link startSignatureCheck} in two steps: resolves once the keys are looked up and the ed25519
 * checks are handed to the verification thread, to the check's result still to come (in an
 * object: a promise resolving to a promise would wait for it). A key lookup that throws makes a
 * result that rejects with its error, as {@link startSignatureCheck}'s would. The result is marked
 * handled (awaiting it still throws): a look-ahead whose PDU is never reached leaves no unhandled rejection.
 */
export async function handOffSignatureCheck(ctx: EngineContext, pdu: Pdu, rules: RoomVersionRules): Promise<{ readonly sig: Promise<SignatureCheckResult> }> {
  let sig: Promise<SignatureCheckResult>;
  try {
    const keys = await keyLookup(ctx, pdu.json, requiredSigningServers(pdu.json, rules), rules);
    // (Queues its ed25519 checks at the verification thread before it returns.)
    sig = verifyEventSignaturesAsync(pdu.json, rules, keys);
  } catch (e) {
    sig = Promise.reject(e);
  }
  sig.catch(() => undefined);
  return { sig };
}

/** Check 2: the PDU's signatures (`started`: a check the look-ahead already began). */
export async function checkSignatures(ctx: EngineContext, pdu: Pdu, rules: RoomVersionRules, started?: Promise<SignatureCheckResult>): Promise<SignatureCheckResult> {
  if (started !== undefined) return started;
  const keys = await keyLookup(ctx, pdu.json, requiredSigningServers(pdu.json, rules), rules);
  return verifyEventSignatures(pdu.json, rules, keys);
}

/** Keys for the restricted-join authorising server's signature (an auth rule, F6.2). */
export async function authorisingKeys(ctx: EngineContext, event: RoomEvent, rules: RoomVersionRules): Promise<((s: string, k: string) => Uint8Array | undefined) | undefined> {
  const via = event.type === 'm.room.member' ? event.content['join_authorised_via_users_server'] : undefined;
  if (typeof via !== 'string' || !rules.authorization.restrictedJoinRule) return undefined;
  const server = domainOf(via);
  if (server === undefined) return undefined;
  const lookupFn = await keyLookup(ctx, event.json, [server], rules);
  return lookupFn.raw;
}
