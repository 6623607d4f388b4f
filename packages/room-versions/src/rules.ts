/**
 * The shape of a room version: every behaviour that differs between Matrix room versions, as data.
 *
 * Algorithms elsewhere in roomgraph read these flags; they never compare version numbers. Each flag
 * says which room versions have it on and cites the spec page (`../shared/spec/rooms/vN.md`) that
 * introduced it.
 *
 * @module
 */

/** A room version identifier: 1–32 characters of `[a-z0-9.-]` (rooms/_index.md › Room version grammar). */
export type RoomVersionId = string;

/**
 * How events are shaped and identified (rooms/vN.md › Event format, Event IDs;
 * server-server-api.md › PDUs).
 */
export interface EventFormatRules {
  /**
   * How an event ID is obtained.
   * - `server-assigned`: v1–v2, `$opaque:domain` carried in the PDU's `event_id` field.
   * - `hash-base64`: v3, `$` + unpadded standard base64 of the reference hash.
   * - `hash-url-safe-base64`: v4+, `$` + unpadded URL-safe base64 of the reference hash.
   */
  readonly eventIdFormat: 'server-assigned' | 'hash-base64' | 'hash-url-safe-base64';
  /**
   * How `prev_events` / `auth_events` are written: v1–v2 as `[event_id, {sha256: ...}]` pairs,
   * v3+ as plain event ID strings.
   */
  readonly eventReferences: 'id-and-hash' | 'id-only';
  /**
   * How the room ID is formed: `server-assigned` (`!opaque:domain`, v1–v11) or
   * `create-event-hash` (v12: `!` + URL-safe reference hash of the create event, rooms/v12.md).
   */
  readonly roomIdFormat: 'server-assigned' | 'create-event-hash';
  /** The `m.room.create` event carries `room_id` (false only in v12, pdu:components-room_id_v12). */
  readonly createEventHasRoomId: boolean;
  /** `m.room.create` may (must) appear in `auth_events` (false in v12: it is implied by the room ID). */
  readonly createEventInAuthEvents: boolean;
  /** `m.room.redaction` carries `redacts` in `content` rather than at the top level (v11+, rooms/v11.md › Moving the redacts property). */
  readonly redactsInContent: boolean;
  /** `depth` is limited to 2^53-1 (v6+; also implied by strict canonical JSON). */
  readonly limitDepth: boolean;
}

/** Canonical JSON strictness (fragments-v1-canonical-json / fragments-v6-canonical-json). */
export interface CanonicalJsonRules {
  /** v6+: events must be valid canonical JSON — no floats, integers within [-(2^53)+1, 2^53-1]. */
  readonly strict: boolean;
}

/** What signatures are required and how keys are validated. */
export interface SignatureRules {
  /** v5+: a signing key is only valid up to its `valid_until_ts` (capped at 7 days, fragments-v5-signing-requirements). */
  readonly enforceKeyValidity: boolean;
  /** v1–v2: the server named in the `event_id` must also sign the event (server-server-api.md › Validating hashes and signatures). */
  readonly checkEventIdServer: boolean;
}

/** Redaction algorithm differences (fragments-v1/v6/v9/v11-redactions, rooms/v8.md › Redactions). */
export interface RedactionRules {
  /** v1–v5: `m.room.aliases` keeps `aliases`. */
  readonly keepAliasesContent: boolean;
  /** v8+: `m.room.join_rules` keeps `allow`. */
  readonly keepJoinRulesAllow: boolean;
  /** v9+: `m.room.member` keeps `join_authorised_via_users_server`. */
  readonly keepJoinAuthorisedViaUsersServer: boolean;
  /** v11+: `m.room.create` keeps all of its content (not just `creator`). */
  readonly keepAllCreateContent: boolean;
  /** v11+: `m.room.power_levels` keeps `invite`. */
  readonly keepPowerLevelsInvite: boolean;
  /** v11+: `m.room.redaction` keeps `content.redacts`. */
  readonly keepRedactionRedacts: boolean;
  /** v11+: `m.room.member` keeps `third_party_invite.signed`. */
  readonly keepThirdPartyInviteSigned: boolean;
  /** v1–v10: top-level `origin`, `membership` and `prev_state` are kept; v11+ drops them. */
  readonly keepOriginMembershipPrevState: boolean;
}

/** Authorization rule differences (rooms/vN.md › Authorization rules; checklist §f). */
export interface AuthorizationRules {
  /** v1–v2: `m.room.redaction` has its own auth rule (redact level or same domain) — fragments-v1-auth-rules rule 11. */
  readonly specialCaseRedaction: boolean;
  /** v1–v5: `m.room.aliases` is allowed when the sender's domain matches the state key — fragments-v1/v3-auth-rules rule 4. */
  readonly specialCaseAliases: boolean;
  /** v1–v5: power level values may be floats, truncated (fragments-v1-floaty-power-levels). */
  readonly floatPowerLevels: boolean;
  /** v1–v9: power level values may be strings holding integers (fragments-v1-stringy-power-levels). */
  readonly stringPowerLevels: boolean;
  /** v10+: power level values must be integers; rule 10.1–10.3 reject others (rooms/v10.md). */
  readonly integerPowerLevels: boolean;
  /** v6+: `notifications` is checked like `events` when power levels change (rooms/v6.md). */
  readonly limitNotificationsPowerLevels: boolean;
  /** v7+: the `knock` membership and join rule (rooms/v7.md). */
  readonly knocking: boolean;
  /** v8+: the `restricted` join rule and `join_authorised_via_users_server` (fragments-v8-auth-rules). */
  readonly restrictedJoinRule: boolean;
  /** v10+: the `knock_restricted` join rule (rooms/v10.md). */
  readonly knockRestrictedJoinRule: boolean;
  /** v1–v10: `m.room.create` must have `content.creator`, and it names the creator; v11+ the creator is the create event's `sender` (rooms/v11.md). */
  readonly creatorInContent: boolean;
  /**
   * v12: room creators (create sender + `additional_creators`) have infinite power, may not be
   * listed in `users`, and `additional_creators` is validated (rooms/v12.md).
   */
  readonly privilegedCreators: boolean;
  /** v12: the create event has no `room_id`; other events' room ID must be `!` + the create event's ID (rooms/v12.md rules 1.2, 2). */
  readonly roomIdFromCreateEvent: boolean;
}

/** State resolution algorithm choice (rooms/v1.md, fragments-v2-state-res, rooms/v12.md). */
export interface StateResolutionRules {
  /** `v1` (room version 1), `v2` (2–11), `v2.1` (12). */
  readonly algorithm: 'v1' | 'v2' | 'v2.1';
  /** v2.1: iterative auth checks begin from an empty state map rather than the unconflicted state. */
  readonly beginIterativeAuthChecksWithEmptyState: boolean;
  /** v2.1: the conflicted state subgraph is added to the full conflicted set. */
  readonly considerConflictedStateSubgraph: boolean;
}

/** Everything that distinguishes one room version from another. Frozen; never mutated. */
export interface RoomVersionRules {
  /** The identifier (`"1"` … `"12"` or a custom one). */
  readonly id: RoomVersionId;
  /** Whether servers may safely use it (rooms/_index.md › Complete list of room versions). */
  readonly disposition: 'stable' | 'unstable';
  /** Event format and identifiers. */
  readonly eventFormat: EventFormatRules;
  /** Canonical JSON strictness. */
  readonly canonicalJson: CanonicalJsonRules;
  /** Signature requirements. */
  readonly signatures: SignatureRules;
  /** Redaction algorithm. */
  readonly redaction: RedactionRules;
  /** Authorization rules. */
  readonly authorization: AuthorizationRules;
  /** State resolution algorithm. */
  readonly stateResolution: StateResolutionRules;
}

/** A recursive partial, used to describe a derived room version as a delta. */
export type DeepPartial<T> = { readonly [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };
