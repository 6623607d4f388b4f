/**
 * Hashing and signing outgoing events, and checking the signatures of received ones
 * (Server-Server API › Signing events, Validating hashes and signatures on received events;
 * checklist B5, B8, B9, B11, B12, C3).
 *
 * @module
 */
import { isJsonObject, type JsonObject, type JsonValue } from '@roomgraph/canonical-json';
import { type CryptoBackend, defaultBackend, type SigningKey } from '@roomgraph/crypto';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { encodeBase64, tryDecodeBase64 } from './digest.js';
import { canonicalBytes, contentHash, redactedSigningBytes, redactedSigningText, releaseSigningText } from './hashes.js';
import { redact } from './redact.js';
import { domainOf } from './view.js';
import { EventsError, requireObject } from './errors.js';

/** A server's signing identity: its name and one ed25519 key (from `@roomgraph/crypto`). */
export interface EventSigner {
  /** The server name that signs, e.g. `example.org`. */
  readonly serverName: string;
  /** The signing key (`signingKeyFromSeed` / `generateSigningKey`). */
  readonly key: SigningKey;
}


/** The redacted form minus `signatures`/`unsigned` (and v3+ `event_id`): what is signed and hashed for the reference hash. */
export function signedForm(event: JsonObject, rules: RoomVersionRules): JsonObject {
  const redacted = redact(event, rules);
  const dropId = rules.eventFormat.eventIdFormat !== 'server-assigned';
  const out: Record<string, JsonValue> = {};
  for (const k of Object.keys(redacted)) {
    if (k === 'signatures' || k === 'unsigned' || (dropId && k === 'event_id')) continue;
    out[k] = redacted[k] as JsonValue;
  }
  return out;
}

/** Result of {@link hashAndSignEvent}: the signed event and the bytes its reference hash covers. */
export interface SignedEvent {
  /** The full event with `hashes.sha256` set and the new signature added (other signatures kept). */
  readonly event: JsonObject;
  /** Canonical JSON of the redacted event without `signatures`/`unsigned`: signed bytes = reference-hash input (C5). */
  readonly signedBytes: Uint8Array;
}

/**
 * Hashes and signs an outgoing event (C3, SS › Adding hashes and signatures to outgoing events):
 * content hash of the full event → `hashes.sha256`; redact with the room version's algorithm;
 * sign the redacted form (without `signatures` and `unsigned`, B5); copy the signature into the
 * full event's `signatures[serverName][keyId]`, keeping any other signatures.
 *
 * The input is not modified; the returned event is a new (unfrozen) object.
 * @throws {@link EventsError} `EVENTS_NOT_ENCODABLE`.
 */
export function hashAndSignEvent(event: JsonObject, rules: RoomVersionRules, signer: EventSigner): SignedEvent {
  const dropId = rules.eventFormat.eventIdFormat !== 'server-assigned';
  const full: Record<string, JsonValue> = {};
  for (const k of Object.keys(event)) if (!(dropId && k === 'event_id')) full[k] = event[k] as JsonValue;
  const oldHashes = isJsonObject(full['hashes']) ? full['hashes'] : {};
  full['hashes'] = { ...oldHashes, sha256: contentHash(full, rules) };
  const signedBytes = canonicalBytes(signedForm(full, rules), rules);
  const signature = encodeBase64(defaultBackend.sign(signer.key.seed, signedBytes));
  const sigs = isJsonObject(full['signatures']) ? full['signatures'] : {};
  const mine = isJsonObject(sigs[signer.serverName]) ? (sigs[signer.serverName] as JsonObject) : {};
  full['signatures'] = { ...sigs, [signer.serverName]: { ...mine, [signer.key.keyId]: signature } };
  return { event: full, signedBytes };
}

/**
 * Adds `signer`'s signature to an event without touching anything else (SS › Signing events): the
 * signature covers the redacted event without `signatures` and `unsigned`, so the event ID and
 * the content hash stay as they are. Used by a resident server countersigning a restricted join
 * (`join_authorised_via_users_server`). Other signatures are kept; the input is not modified.
 * @throws {@link EventsError} `EVENTS_NOT_ENCODABLE`.
 */
export function addEventSignature(event: JsonObject, rules: RoomVersionRules, signer: EventSigner): JsonObject {
  const signature = encodeBase64(defaultBackend.sign(signer.key.seed, canonicalBytes(signedForm(event, rules), rules)));
  const sigs = isJsonObject(event['signatures']) ? event['signatures'] : {};
  const mine = isJsonObject(sigs[signer.serverName]) ? (sigs[signer.serverName] as JsonObject) : {};
  return { ...event, signatures: { ...sigs, [signer.serverName]: { ...mine, [signer.key.keyId]: signature } } };
}

/** A verify key as returned by a key lookup (from `/_matrix/key/v2/server` or a notary). */
export interface VerifyKey {
  /** The 32-byte ed25519 public key. */
  readonly publicKey: Uint8Array;
  /**
   * Until when the key may be used (ms since the epoch): `valid_until_ts` of a current key
   * (callers should cap it at fetch time + 7 days, frag:v5-signing-requirements), `expired_ts` of an
   * old key. Only enforced in room versions with `signatures.enforceKeyValidity` (v5+; B12).
   */
  readonly validUntilTs?: number;
}

/** Looks a server's verify key up by key ID (`ed25519:abc`); `undefined` when unknown. */
export type KeyLookup = (server: string, keyId: string) => VerifyKey | undefined;

/** Result of {@link verifyEventSignatures}. */
export type SignatureCheckResult =
  /** Every required server has at least one signature, all by known valid keys and all valid. */
  | { readonly status: 'ok'; readonly servers: readonly string[] }
  /** A required server did not sign the event at all. */
  | { readonly status: 'missing-signature'; readonly server: string; readonly message: string }
  /** A required server signed, but with no key the lookup knows (or only with keys expired for this event). */
  | { readonly status: 'missing-key'; readonly server: string; readonly keyIds: readonly string[]; readonly message: string }
  /** A signature by a known valid key does not verify (or is not valid base64 / 64 bytes). */
  | { readonly status: 'bad-signature'; readonly server: string; readonly keyId: string; readonly message: string };

/**
 * The servers whose signatures a received event needs at the signature stage (B9; SS › Validating
 * hashes and signatures on received events): the `sender`'s server, and for v1–v2 also the server of
 * the `event_id` if different. The restricted-join authorising server (B10) and the third-party
 * invite exception are auth-rule matters, not handled here.
 */
export function requiredSigningServers(event: JsonObject, rules: RoomVersionRules): string[] {
  requireObject(event);
  const out: string[] = [];
  const sender = event['sender'];
  const s = typeof sender === 'string' ? domainOf(sender) : undefined;
  if (s !== undefined) out.push(s);
  if (rules.signatures.checkEventIdServer) {
    const id = event['event_id'];
    const d = typeof id === 'string' ? domainOf(id) : undefined;
    if (d !== undefined && !out.includes(d)) out.push(d);
  }
  return out;
}

/** One signature to check: the work {@link verifyEventSignatures} plans before verifying. */
interface SignatureJob {
  readonly server: string;
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * What the signatures to check cover: the redacted signing bytes, or — for a check on this thread
 * with a backend that verifies text ({@link CryptoBackend.verifyUtf8}) — the text `parsePdu` left
 * cached, whose UTF-8 encoding those bytes are.
 */
type SignedMessage = Uint8Array | string;

/** The signatures {@link planSignatureCheck} found to check, and what they cover. */
interface SignaturePlan {
  readonly message: SignedMessage;
  readonly jobs: readonly SignatureJob[];
  readonly servers: readonly string[];
}

/**
 * Everything but the ed25519 arithmetic: a final result, or the message and the signatures to
 * check (`text`: the message may be the cached signing text instead of bytes).
 */
function planSignatureCheck(
  event: JsonObject | { readonly json: JsonObject },
  rules: RoomVersionRules,
  keyLookup: KeyLookup,
  options: { readonly servers?: readonly string[] } | undefined,
  text: boolean,
): SignatureCheckResult | SignaturePlan {
  const candidate: unknown = isJsonObject((event as { json?: JsonValue } | null)?.json) ? (event as { json: JsonObject }).json : event;
  // Never throws on malformed input: a value that is not an event (null, a string…) has no signatures.
  if (!isJsonObject(candidate as JsonValue)) return { status: 'missing-signature', server: '', message: 'not an event: a PDU is a JSON object' };
  const json = candidate as JsonObject;
  const servers = options?.servers ?? requiredSigningServers(json, rules);
  if (servers.length === 0) return { status: 'missing-signature', server: '', message: 'the event has no sender server' };
  const sigs = json['signatures'];
  const ts = json['origin_server_ts'];
  let message: SignedMessage | undefined;
  const jobs: SignatureJob[] = [];
  for (const server of servers) {
    const mine = isJsonObject(sigs) ? sigs[server] : undefined;
    if (!isJsonObject(mine) || Object.keys(mine).length === 0) return { status: 'missing-signature', server, message: `no signature from ${server}` };
    let checked = 0;
    const unknown: string[] = [];
    for (const keyId of Object.keys(mine)) {
      if (!keyId.startsWith('ed25519:')) continue;
      const key = keyLookup(server, keyId);
      if (key === undefined || (rules.signatures.enforceKeyValidity && key.validUntilTs !== undefined && (typeof ts !== 'number' || key.validUntilTs < ts))) {
        unknown.push(keyId);
        continue;
      }
      const b64 = mine[keyId];
      const sig = typeof b64 === 'string' ? tryDecodeBase64(b64) : undefined;
      if (sig === undefined || sig.length !== 64) return { status: 'bad-signature', server, keyId, message: `signature ${server} ${keyId} is not 64 bytes of base64` };
      if (message === undefined) {
        // (A cached text was encoded already: only bytes made here can fail.)
        message = text ? redactedSigningText(json, rules) : undefined;
        if (message === undefined) {
          try {
            message = redactedSigningBytes(json, rules);
          } catch (e) {
            return { status: 'bad-signature', server, keyId, message: e instanceof EventsError ? e.message : String(e) };
          }
        }
        // This check holds them now: the cache need not (see releaseSigningText).
        releaseSigningText(json, rules);
      }
      jobs.push({ server, keyId, publicKey: key.publicKey, signature: sig });
      checked++;
    }
    if (checked === 0) return { status: 'missing-key', server, keyIds: Object.freeze(unknown), message: `no known valid key of ${server} signed the event (key IDs: ${unknown.join(', ') || 'none'})` };
  }
  return { message: message as SignedMessage, jobs, servers };
}

function settle(jobs: readonly SignatureJob[], ok: readonly boolean[], servers: readonly string[]): SignatureCheckResult {
  for (let i = 0; i < jobs.length; i++) {
    if (ok[i] !== true) {
      const j = jobs[i] as SignatureJob;
      return { status: 'bad-signature', server: j.server, keyId: j.keyId, message: `signature ${j.server} ${j.keyId} does not verify` };
    }
  }
  return { status: 'ok', servers: Object.freeze([...servers]) };
}

/**
 * Checks the signatures of a received event (B8, B9, B11, B12): the event is redacted with the
 * room version's algorithm (so a redacted copy verifies too) and, for each required server
 * ({@link requiredSigningServers}, or `options.servers`), every signature made with a key the lookup
 * knows must verify, and there must be at least one. Signatures by unknown keys and non-ed25519
 * algorithms are skipped; in v5+ a key whose `validUntilTs` is before the event's
 * `origin_server_ts` counts as unknown (B12; v1–v4 ignore validity).
 *
 * Never throws on malformed input.
 *
 * @param event - a {@link Pdu} or PDU JSON (its `json` is used when it has one).
 */
export function verifyEventSignatures(
  event: JsonObject | { readonly json: JsonObject },
  rules: RoomVersionRules,
  keyLookup: KeyLookup,
  options?: { readonly servers?: readonly string[] },
): SignatureCheckResult {
  const be = defaultBackend;
  const plan = planSignatureCheck(event, rules, keyLookup, options, be.verifyUtf8 !== undefined);
  if ('status' in plan) return plan;
  const { message } = plan;
  return settle(plan.jobs, plan.jobs.map((j) => (typeof message === 'string' ? (be.verifyUtf8 as NonNullable<CryptoBackend['verifyUtf8']>)(j.publicKey, message, j.signature) : be.verify(j.publicKey, message, j.signature))), plan.servers);
}

/**
 * {@link verifyEventSignatures} with the ed25519 checks run off the calling thread where the crypto
 * backend can (node:crypto's thread pool), so that a receiver can verify the next events while it
 * processes the current one. Same result; never rejects on malformed input.
 */
export async function verifyEventSignaturesAsync(
  event: JsonObject | { readonly json: JsonObject },
  rules: RoomVersionRules,
  keyLookup: KeyLookup,
  options?: { readonly servers?: readonly string[] },
): Promise<SignatureCheckResult> {
  const plan = planSignatureCheck(event, rules, keyLookup, options, false);
  if ('status' in plan) return plan;
  const be = defaultBackend;
  const bytes = plan.message as Uint8Array;
  const one = (j: SignatureJob): boolean | Promise<boolean> =>
    be.verifyAsync !== undefined ? be.verifyAsync(j.publicKey, bytes, j.signature) : be.verify(j.publicKey, bytes, j.signature);
  // Usually one signature: awaited alone (no list of promises).
  const ok = plan.jobs.length === 1 ? [await one(plan.jobs[0] as SignatureJob)] : await Promise.all(plan.jobs.map(one));
  return settle(plan.jobs, ok, plan.servers);
}
