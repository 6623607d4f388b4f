/**
 * PDU types per event format family (pdu:pdu_v1, pdu_v3, pdu_v4/v6, pdu_v11, pdu_v12) and the
 * parsed {@link Pdu}.
 *
 * @module
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import type { RoomVersionId, RoomVersionRules } from '@roomgraph/room-versions';
import type { RoomEvent } from './view.js';

/** `hashes` of a PDU: the unpadded base64 SHA-256 content hash (pdu:components-event_hash). */
export interface EventHashes {
  /** Unpadded standard base64 of the SHA-256 content hash. */
  readonly sha256: string;
  /** Other algorithms (none are specified) pass through untouched. */
  readonly [algorithm: string]: string;
}

/** `signatures`: server name → key ID (`ed25519:version`) → unpadded base64 signature. */
export type EventSignatures = { readonly [server: string]: { readonly [keyId: string]: string } };

/** A v1–v2 event reference: `[event_id, {sha256: reference hash}]` (pdu:pdu_v1). */
export type EventReferenceV1 = readonly [eventId: string, hashes: { readonly sha256: string }];

/** Fields common to every PDU format (pdu:components-pdu_base). */
export type PduBaseJson = {
  readonly sender: string;
  readonly origin_server_ts: number;
  readonly type: string;
  readonly state_key?: string;
  readonly content: JsonObject;
  readonly depth: number;
  readonly hashes: EventHashes;
  readonly signatures: EventSignatures;
  readonly unsigned?: JsonObject;
};

/** A PDU of room versions 1–2 (pdu:pdu_v1): `event_id` present, references are `[id, hash]` pairs. */
export type PduV1Json = PduBaseJson & {
  readonly event_id: string;
  readonly room_id: string;
  readonly auth_events: readonly EventReferenceV1[];
  readonly prev_events: readonly EventReferenceV1[];
  /** Top-level redaction target on `m.room.redaction`. */
  readonly redacts?: string;
};

/** A PDU of room versions 3–10 (pdu:pdu_v3, pdu_v4, pdu_v6): no `event_id`, references are IDs. */
export type PduV3Json = PduBaseJson & {
  readonly room_id: string;
  readonly auth_events: readonly string[];
  readonly prev_events: readonly string[];
  /** Top-level redaction target on `m.room.redaction`. */
  readonly redacts?: string;
};

/** A PDU of room version 11 (pdu:pdu_v11): like v3–v10, `redacts` lives in `content`. */
export type PduV11Json = PduBaseJson & {
  readonly room_id: string;
  readonly auth_events: readonly string[];
  readonly prev_events: readonly string[];
};

/**
 * A PDU of room version 12 (pdu:pdu_v12): like v11, but `room_id` is `!` + the create event's
 * reference hash and is absent from `m.room.create`.
 */
export type PduV12Json = PduBaseJson & {
  readonly room_id?: string;
  readonly auth_events: readonly string[];
  readonly prev_events: readonly string[];
};

/** Any PDU in federation format. */
export type PduJson = PduV1Json | PduV3Json | PduV11Json | PduV12Json;

/**
 * A validated, deep-frozen PDU: the {@link RoomEvent} view plus what a server needs to check and
 * re-serve it. `json` is the PDU in federation format (for v3+ without any `event_id` key).
 */
export interface Pdu extends RoomEvent {
  /** The room version identifier the PDU was validated against. */
  readonly roomVersion: RoomVersionId;
  /** The rules of that room version. */
  readonly rules: RoomVersionRules;
  /** `hashes` (the claimed content hash; see `checkContentHash`). */
  readonly hashes: EventHashes;
  /** `signatures`. */
  readonly signatures: EventSignatures;
  /** `unsigned`, when present. */
  readonly unsigned: JsonObject | undefined;
  /** The PDU in federation format. */
  readonly json: JsonObject;
}
