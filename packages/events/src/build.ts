/**
 * Building, hashing and signing new events (Server-Server API › Signing events; PDU schemas;
 * checklist C3, D1–D4, H3).
 *
 * @module
 */
import { isJsonObject, type JsonObject, type JsonValue } from '@roomgraph/canonical-json';
import { getRoomVersion, type RoomVersionId, type RoomVersionRules } from '@roomgraph/room-versions';
import { randomId } from '@roomgraph/crypto';
import { encodeBase64, encodeBase64Url, sha256 } from './digest.js';
import { EventsError, PduFormatError } from './errors.js';
import { referenceHashBase64 } from './hashes.js';
import { eventId as computeEventId } from './ids.js';
import { frozenCopy } from './freeze.js';
import { makePdu, validatePdu } from './parse.js';
import { hashAndSignEvent, type EventSigner } from './sign.js';
import type { Pdu } from './types.js';
import type { RoomEvent } from './view.js';

/**
 * A reference to a previous or auth event. Room versions 3+ only need the ID; v1–v2 references
 * are `[event_id, {sha256: reference hash}]` pairs (pdu:pdu_v1), so the hash must be obtainable:
 * - a `string`: the event ID (v3+ only; a v1–v2 build throws `EVENTS_INVALID_ARGUMENT`);
 * - `{ eventId, sha256 }`: the ID and the unpadded base64 hash to put in a v1–v2 pair as is;
 * - a {@link RoomEvent} / {@link Pdu}: its `eventId`, and for v1–v2 the reference hash of its `json`;
 * - PDU JSON (an object with `type`): its ID is computed (v3+) or read from `event_id` (v1–v2), and
 *   for v1–v2 its reference hash is computed.
 *
 * The spec (pdu:pdu_v1, checklist C7) calls the pair's hash the referenced event's *reference hash*,
 * which is what is computed here (Synapse does the same). Nothing verifies these hashes on receipt.
 */
export type EventReferenceInput =
  | string
  | { readonly eventId: string; readonly sha256: string }
  | RoomEvent
  | JsonObject;

/** What {@link buildEvent} needs to know about the new event. */
export interface BuildEventInput {
  /** The room version (identifier or rules). */
  readonly roomVersion: RoomVersionId | RoomVersionRules;
  /** `type`. */
  readonly type: string;
  /** `state_key`; omit for a non-state event. */
  readonly stateKey?: string;
  /** `sender` (a user ID of the signing server). */
  readonly sender: string;
  /** `content` (for v11+ redactions, `redacts` is added to it). */
  readonly content: JsonObject;
  /** `prev_events` (at most 20). */
  readonly prevEvents: readonly EventReferenceInput[];
  /** `auth_events` (at most 10; see `selectAuthEvents`). */
  readonly authEvents: readonly EventReferenceInput[];
  /** `depth`: max depth of the prev events + 1, capped at the room version's maximum. */
  readonly depth: number;
  /** `origin_server_ts` in ms. */
  readonly originServerTs: number;
  /** `room_id`; required except for a v12 `m.room.create` (where it must be omitted). */
  readonly roomId?: string;
  /** The redacted event of an `m.room.redaction`: top-level `redacts` in v1–v10, `content.redacts` in v11+ (like Synapse, not both). */
  readonly redacts?: string;
  /** `unsigned` (not covered by hashes or signatures). */
  readonly unsigned?: JsonObject;
  /** The legacy top-level `origin` (covered by signatures in v1–v10); omitted unless given. */
  readonly origin?: string;
  /**
   * v1–v2 only: the opaque part of the server-assigned event ID `$<localpart>:<serverName>`;
   * default 18 random URL-safe base64 characters. Ignored for v3+.
   */
  readonly eventIdLocalpart?: string;
}

/** Options of {@link buildEvent}. */
export interface BuildEventOptions {
  /**
   * Validate the result like `parsePdu` does (default `true`); a failure throws
   * {@link PduFormatError}. `false` skips the structural checks and returns a frozen view directly.
   */
  readonly validate?: boolean;
}


function reference(ref: EventReferenceInput, rules: RoomVersionRules, pairs: boolean, where: string): JsonValue {
  if (typeof ref === 'string') {
    if (pairs) throw new EventsError('EVENTS_INVALID_ARGUMENT', `${where}: room version ${rules.id} references need the event's hash; pass the event or {eventId, sha256}, not just ${JSON.stringify(ref)}`);
    return ref;
  }
  if (!isJsonObject(ref)) throw new EventsError('EVENTS_INVALID_ARGUMENT', `${where}: not an event reference`);
  const r = ref as Record<string, unknown>;
  let id: string;
  let json: JsonObject | undefined;
  if (typeof r['eventId'] === 'string') {
    id = r['eventId'];
    if (!pairs) return id;
    if (typeof r['sha256'] === 'string') return Object.freeze([id, Object.freeze({ sha256: r['sha256'] })]);
    if (!isJsonObject(r['json'])) throw new EventsError('EVENTS_INVALID_ARGUMENT', `${where}: no hash and no event JSON for ${id}`);
    json = r['json'];
  } else if (typeof r['type'] === 'string') {
    json = ref as JsonObject;
    id = computeEventId(json, rules);
    if (!pairs) return id;
  } else {
    throw new EventsError('EVENTS_INVALID_ARGUMENT', `${where}: not an event reference`);
  }
  return Object.freeze([id, Object.freeze({ sha256: referenceHashBase64(json, rules, false) })]);
}

/**
 * Builds a new PDU, hashes and signs it (C3), and returns it as a deep-frozen {@link Pdu}:
 * fields per the room version's format — v1–v2 get a server-assigned `event_id`
 * `$<localpart>:<serverName>` and `[id, {sha256}]` references; v3+ get plain ID references and an ID
 * computed from the reference hash; v11+ put `redacts` in `content`; v12 `m.room.create` has no
 * `room_id`. The content hash covers the full event, the signature the redacted event.
 *
 * Synchronous (node:crypto).
 *
 * @example
 * ```ts
 * const key = signingKeyFromSeed(seed, '1');
 * const create = buildEvent({ roomVersion: '12', type: 'm.room.create', stateKey: '', sender: '@alice:example.org',
 *   content: { room_version: '12' }, prevEvents: [], authEvents: [], depth: 1, originServerTs: Date.now() },
 *   { serverName: 'example.org', key });
 * roomIdFromCreateEvent(create.json); // '!' + create.eventId.slice(1)
 * ```
 * @throws {@link EventsError} `EVENTS_INVALID_ARGUMENT` for unusable references or room versions;
 *   {@link PduFormatError} when the result is not a valid PDU (bad sender, too large...).
 */
export function buildEvent(input: BuildEventInput, signer: EventSigner, options?: BuildEventOptions): Pdu {
  const rules = typeof input.roomVersion === 'string' ? getRoomVersion(input.roomVersion) : input.roomVersion;
  const ef = rules.eventFormat;
  const pairs = ef.eventReferences === 'id-and-hash';
  const isCreate = input.type === 'm.room.create';

  const ev: Record<string, JsonValue> = {};
  if (ef.eventIdFormat === 'server-assigned') {
    const local = input.eventIdLocalpart ?? randomId(18);
    ev['event_id'] = `$${local}:${signer.serverName}`;
  }
  if (input.roomId !== undefined) {
    if (isCreate && !ef.createEventHasRoomId) throw new EventsError('EVENTS_INVALID_ARGUMENT', `an m.room.create event of room version ${rules.id} has no room_id`);
    ev['room_id'] = input.roomId;
  } else if (!isCreate || ef.createEventHasRoomId) {
    throw new EventsError('EVENTS_INVALID_ARGUMENT', `room version ${rules.id} events need a roomId`);
  }
  ev['type'] = input.type;
  if (input.stateKey !== undefined) ev['state_key'] = input.stateKey;
  ev['sender'] = input.sender;
  let content: JsonObject = input.content;
  if (input.redacts !== undefined) {
    if (ef.redactsInContent) content = { ...content, redacts: input.redacts };
    else ev['redacts'] = input.redacts;
  }
  ev['content'] = content;
  ev['prev_events'] = input.prevEvents.map((r, i) => reference(r, rules, pairs, `prevEvents[${i}]`));
  ev['auth_events'] = input.authEvents.map((r, i) => reference(r, rules, pairs, `authEvents[${i}]`));
  ev['depth'] = input.depth;
  ev['origin_server_ts'] = input.originServerTs;
  if (input.origin !== undefined) ev['origin'] = input.origin;
  ev['hashes'] = {};
  ev['signatures'] = {};
  if (input.unsigned !== undefined) ev['unsigned'] = input.unsigned;

  const { event, signedBytes } = hashAndSignEvent(ev, rules, signer);
  const id =
    ef.eventIdFormat === 'server-assigned' ? (ev['event_id'] as string)
    : ef.eventIdFormat === 'hash-base64' ? '$' + encodeBase64(sha256(signedBytes))
    : '$' + encodeBase64Url(sha256(signedBytes));

  if (options?.validate === false) return makePdu(frozenCopy(event) as JsonObject, rules, id);
  const result = validatePdu(event, rules, { eventId: id });
  if (!result.ok) throw new PduFormatError(result.problems);
  return result.pdu;
}
