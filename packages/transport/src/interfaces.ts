/**
 * How a room engine talks to other servers: the federation requests it makes (Server-Server API
 * › Retrieving events, Getting missing events, Room State / state_ids, Backfilling, Retrieving
 * server keys), and how it learns other servers' signing keys.
 *
 * @module
 */
import { RoomgraphError, type RoomgraphErrorOptions } from '@roomgraph/errors';
import type { JsonObject } from '@roomgraph/canonical-json';

/** Options every remote call accepts. */
export interface CallOptions {
  /** Aborts the call. */
  readonly signal?: AbortSignal;
}

/** Request of `POST /get_missing_events/{roomId}` (Server-Server API › Backfilling and retrieving missing events). */
export interface MissingEventsRequest {
  /** Latest event IDs the requester already has (the walk stops there). */
  readonly earliestEvents: readonly string[];
  /** Event IDs whose missing ancestors are wanted. */
  readonly latestEvents: readonly string[];
  /** Maximum number of events to return (spec default 10). */
  readonly limit: number;
  /** Minimum depth of returned events (spec default 0). */
  readonly minDepth?: number;
}

/** Response of `GET /state_ids/{roomId}?event_id=` (Server-Server API › Retrieving events). */
export interface StateIdsResponse {
  /** IDs of the room state at (before) the event. */
  readonly pduIds: readonly string[];
  /** IDs of the full auth chain of that state. */
  readonly authChainIds: readonly string[];
}

/** Response of `GET /state/{roomId}?event_id=`. */
export interface StateResponse {
  /** The room state at (before) the event, as PDUs. */
  readonly pdus: readonly JsonObject[];
  /** The auth chain of that state, as PDUs. */
  readonly authChain: readonly JsonObject[];
}

/** Response of `GET /make_join/{roomId}/{userId}` (Server-Server API › Joining Rooms). */
export interface MakeJoinResponse {
  /** The room's version (one of the versions the request said the joining server supports). */
  readonly roomVersion: string;
  /**
   * The join event template: `type`, `room_id`, `sender`, `state_key`, `content` (with
   * `membership: "join"` and, for a restricted room, `join_authorised_via_users_server`),
   * `prev_events`, `auth_events`, `depth`; the joining server adds or replaces `origin`,
   * `origin_server_ts` and `event_id`, then hashes and signs it.
   */
  readonly event: JsonObject;
}

/** Response of `PUT /send_join/{roomId}/{eventId}` (v2; Server-Server API › Joining Rooms (`send_join` v2)). */
export interface SendJoinResponse {
  /** The resolved current room state before the join event, as PDUs. */
  readonly state: readonly JsonObject[];
  /** The auth chains of the join event and of every event in `state`, as PDUs. */
  readonly authChain: readonly JsonObject[];
  /** The join event with the resident server's signature, for a restricted join it authorised. */
  readonly event?: JsonObject;
  /** Whether `m.room.member` events were left out of `state` (`omit_members`); this library never asks for that. */
  readonly membersOmitted?: boolean;
  /** The servers in the room before the join (required when members are omitted). */
  readonly serversInRoom?: readonly string[];
}

/**
 * Response of `GET /make_leave/{roomId}/{userId}` and `GET /make_knock/{roomId}/{userId}`
 * (Server-Server API › Leaving Rooms, › Knocking upon a room): the room version and an event
 * template, filled in, hashed and signed by the requesting server like a join template.
 */
export type MakeMembershipResponse = MakeJoinResponse;

/** Body of `PUT /v2/invite/{roomId}/{eventId}` (Server-Server API › Inviting to a room). */
export interface InviteRequest {
  /** The room's version. */
  readonly roomVersion: string;
  /** The invite event, signed by the inviting server. */
  readonly event: JsonObject;
  /** Stripped state events of the room, to help the invitee decide (optional in the spec). */
  readonly inviteRoomState?: readonly JsonObject[];
}

/** Response of `PUT /v1/send_knock/{roomId}/{eventId}`. */
export interface SendKnockResponse {
  /** Stripped state events of the room, for the knocking user. */
  readonly knockRoomState: readonly JsonObject[];
}

/**
 * The federation requests an engine makes of another server. Every method may reject with a
 * {@link TransportError} (unreachable, not found, bad response).
 */
export interface Transport {
  /** `GET /event/{eventId}`: one PDU, or `undefined` when the remote does not have it. */
  getEvent(destination: string, eventId: string, options?: CallOptions): Promise<JsonObject | undefined>;
  /** `POST /get_missing_events/{roomId}`: ancestors of `latestEvents` not reachable before `earliestEvents`, oldest first. */
  getMissingEvents(destination: string, roomId: string, request: MissingEventsRequest, options?: CallOptions): Promise<readonly JsonObject[]>;
  /** `GET /state_ids/{roomId}`: the state before `eventId`, as IDs. */
  getStateIds(destination: string, roomId: string, eventId: string, options?: CallOptions): Promise<StateIdsResponse>;
  /** `GET /state/{roomId}`: the state before `eventId`, as PDUs. */
  getState(destination: string, roomId: string, eventId: string, options?: CallOptions): Promise<StateResponse>;
  /** `GET /backfill/{roomId}`: `fromEventIds` and their predecessors, up to `limit` PDUs. */
  backfill(destination: string, roomId: string, fromEventIds: readonly string[], limit: number, options?: CallOptions): Promise<readonly JsonObject[]>;
  /** `GET /_matrix/key/v2/server`: the destination's published key object (Server-Server API › Retrieving server keys). */
  getServerKeys(destination: string, options?: CallOptions): Promise<JsonObject>;
  /**
   * `GET /make_join/{roomId}/{userId}?ver=…`: asks a resident server for a join event template.
   * Rejects with `TRANSPORT_REJECTED` and the Matrix `errcode` when the resident refuses
   * (`M_FORBIDDEN`, `M_INCOMPATIBLE_ROOM_VERSION`, `M_NOT_FOUND`, `M_UNABLE_TO_AUTHORISE_JOIN`,
   * `M_UNABLE_TO_GRANT_JOIN`).
   */
  makeJoin(destination: string, roomId: string, userId: string, supportedVersions: readonly string[], options?: CallOptions): Promise<MakeJoinResponse>;
  /**
   * `PUT /send_join/{roomId}/{eventId}` (v2): submits the signed join event; resolves to the room
   * state before it and the auth chain. Rejects like {@link Transport.makeJoin}.
   */
  sendJoin(destination: string, roomId: string, eventId: string, event: JsonObject, options?: CallOptions): Promise<SendJoinResponse>;
  /** `PUT /send/{txnId}`: pushes PDUs to the destination; resolves to per-event results. */
  sendPdus(destination: string, pdus: readonly JsonObject[], options?: CallOptions): Promise<Readonly<Record<string, { readonly error?: string }>>>;
  /** `GET /make_leave/{roomId}/{userId}`: a leave template (optional: a transport may not support leaving over federation). */
  makeLeave?(destination: string, roomId: string, userId: string, options?: CallOptions): Promise<MakeMembershipResponse>;
  /** `PUT /v2/send_leave/{roomId}/{eventId}`: submits a signed leave event. */
  sendLeave?(destination: string, roomId: string, eventId: string, event: JsonObject, options?: CallOptions): Promise<void>;
  /** `PUT /v2/invite/{roomId}/{eventId}`: asks the invitee's server to countersign an invite; resolves to the event it signed. */
  invite?(destination: string, roomId: string, eventId: string, request: InviteRequest, options?: CallOptions): Promise<JsonObject>;
  /** `GET /make_knock/{roomId}/{userId}?ver=…`: a knock template. */
  makeKnock?(destination: string, roomId: string, userId: string, supportedVersions: readonly string[], options?: CallOptions): Promise<MakeMembershipResponse>;
  /** `PUT /v1/send_knock/{roomId}/{eventId}`: submits a signed knock event. */
  sendKnock?(destination: string, roomId: string, eventId: string, event: JsonObject, options?: CallOptions): Promise<SendKnockResponse>;
  /**
   * Durably queues PDUs for delivery to each destination (`PUT /send` in the background, retried
   * until delivered): resolves once the queue has persisted them. A transport without a queue
   * omits it; the engine then pushes with {@link Transport.sendPdus} (best effort).
   */
  queuePdus?(destinations: readonly string[], pdus: readonly JsonObject[]): Promise<void>;
}

/**
 * What a server answers federation requests with. An engine implements it; the in-process network
 * routes requests to it.
 */
export interface FederationHandler {
  /** Answers `GET /event`. */
  onGetEvent(origin: string, eventId: string): Promise<JsonObject | undefined>;
  /** Answers `POST /get_missing_events`. */
  onGetMissingEvents(origin: string, roomId: string, request: MissingEventsRequest): Promise<readonly JsonObject[]>;
  /** Answers `GET /state_ids`. */
  onGetStateIds(origin: string, roomId: string, eventId: string): Promise<StateIdsResponse>;
  /** Answers `GET /state`. */
  onGetState(origin: string, roomId: string, eventId: string): Promise<StateResponse>;
  /** Answers `GET /backfill`. */
  onBackfill(origin: string, roomId: string, fromEventIds: readonly string[], limit: number): Promise<readonly JsonObject[]>;
  /** Answers `GET /_matrix/key/v2/server`. */
  onGetServerKeys(): Promise<JsonObject>;
  /** Answers `GET /make_join` (throws a {@link FederationRefusal} to refuse). */
  onMakeJoin(origin: string, roomId: string, userId: string, supportedVersions: readonly string[]): Promise<MakeJoinResponse>;
  /** Answers `PUT /send_join` (v2) (throws a {@link FederationRefusal} to refuse). */
  onSendJoin(origin: string, roomId: string, eventId: string, event: JsonObject): Promise<SendJoinResponse>;
  /** Receives pushed PDUs (`PUT /send`). */
  onReceivePdus(origin: string, pdus: readonly JsonObject[]): Promise<Readonly<Record<string, { readonly error?: string }>>>;
  /** Answers `GET /make_leave` (throws a `TRANSPORT_REJECTED` {@link TransportError} to refuse). */
  onMakeLeave?(origin: string, roomId: string, userId: string): Promise<MakeMembershipResponse>;
  /** Answers `PUT /v2/send_leave` (throws a `TRANSPORT_REJECTED` {@link TransportError} to refuse). */
  onSendLeave?(origin: string, roomId: string, eventId: string, event: JsonObject): Promise<void>;
  /** Answers `PUT /v2/invite`: signs and accepts an invite for a local user; resolves to the countersigned event. */
  onInvite?(origin: string, roomId: string, eventId: string, request: InviteRequest): Promise<JsonObject>;
  /** Answers `GET /make_knock` (throws a `TRANSPORT_REJECTED` {@link TransportError} to refuse). */
  onMakeKnock?(origin: string, roomId: string, userId: string, supportedVersions: readonly string[]): Promise<MakeMembershipResponse>;
  /** Answers `PUT /v1/send_knock` (throws a `TRANSPORT_REJECTED` {@link TransportError} to refuse). */
  onSendKnock?(origin: string, roomId: string, eventId: string, event: JsonObject): Promise<SendKnockResponse>;
}

/** A server's verify key as the engine uses it. */
export interface ServerKey {
  /** The server name. */
  readonly serverName: string;
  /** The key ID, `ed25519:<version>`. */
  readonly keyId: string;
  /** The raw 32-byte ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** Until when (ms since epoch) the key may be used; `undefined` = no limit known. */
  readonly validUntilTs?: number;
  /** For an old key, when it expired (ms since epoch). */
  readonly expiredTs?: number;
}

/** Where keys come from: a static map, a cache, the network (gomatrixserverlib's KeyFetcher). */
export interface KeySource {
  /**
   * Looks up a key. `minimumValidUntilTs`, when given, asks for a key known to be valid at least
   * until then (room version 5+ key validity); a source may refetch to satisfy it.
   * Resolves to `undefined` when the key cannot be found.
   */
  getKey(serverName: string, keyId: string, minimumValidUntilTs?: number, options?: CallOptions): Promise<ServerKey | undefined>;
}

/** Error codes of {@link TransportError}. */
export type TransportErrorCode = 'TRANSPORT_UNREACHABLE' | 'TRANSPORT_NOT_FOUND' | 'TRANSPORT_BAD_RESPONSE' | 'TRANSPORT_ABORTED' | 'TRANSPORT_REJECTED';

/** A failed federation request. */
export class TransportError extends RoomgraphError<TransportErrorCode> {
  override readonly name: string = 'TransportError';
  /** The server the request was for. */
  readonly destination: string;
  /** For `TRANSPORT_REJECTED`: the Matrix error code the server answered with (e.g. `M_FORBIDDEN`). */
  readonly errcode?: string;
  /**
   * @param code - stable code; @param destination - the server asked; @param message - description;
   * @param errcode - the Matrix `errcode` of a refusal; @param options - `cause`.
   */
  constructor(code: TransportErrorCode, destination: string, message: string, errcode?: string, options?: RoomgraphErrorOptions) {
    super(code, message, options);
    this.destination = destination;
    if (errcode !== undefined) this.errcode = errcode;
  }
}

/**
 * A federation request refused by this server (thrown by a {@link FederationHandler}; the server
 * side of a refusal): the Matrix `errcode` to answer with (Server-Server API › API standards:
 * errors), e.g. `M_FORBIDDEN`, `M_NOT_FOUND`. A transport turns it into the requesting server's
 * `TRANSPORT_REJECTED` {@link TransportError} (the client side), carrying the same `errcode`.
 */
export class FederationRefusal extends RoomgraphError<'FEDERATION_REFUSED'> {
  override readonly name: string = 'FederationRefusal';
  /** The Matrix error code of the answer. */
  readonly errcode: string;
  /** The refusing server (this server). */
  readonly server: string;
  /** @param server - the refusing server; @param errcode - the Matrix errcode; @param message - description; @param options - `cause`. */
  constructor(server: string, errcode: string, message: string, options?: RoomgraphErrorOptions) {
    super('FEDERATION_REFUSED', message, options);
    this.server = server;
    this.errcode = errcode;
  }
}
