/**
 * The shape of a room version: every behaviour that differs between Matrix room versions, as data.
 *
 * Algorithms elsewhere in roomgraph read these flags; they never compare version numbers. Each flag
 * says which room versions have it on and cites the room version of the Matrix specification
 * (https://spec.matrix.org/latest/rooms/) that introduced it.
 *
 * @module
 */

/** A room version identifier: 1–32 characters of `[a-z0-9.-]` (Room versions › Room version grammar). */
export type RoomVersionId = string;

/**
 * How events are shaped and identified (room version N › Event format, Event IDs;
 * Server-Server API › PDUs).
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
   * `create-event-hash` (v12: `!` + URL-safe reference hash of the create event, room version 12).
   */
  readonly roomIdFormat: 'server-assigned' | 'create-event-hash';
  /** The `m.room.create` event carries `room_id` (false only in v12, pdu:components-room_id_v12). */
  readonly createEventHasRoomId: boolean;
  /** `m.room.create` may (must) appear in `auth_events` (false in v12: it is implied by the room ID). */
  readonly createEventInAuthEvents: boolean;
  /** `m.room.redaction` carries `redacts` in `content` rather than at the top level (v11+, room version 11 › Moving the redacts property). */
  readonly redactsInContent: boolean;
  /** `depth` is limited to 2^53-1 (v6+; also implied by strict canonical JSON). */
  readonly limitDepth: boolean;
}

/** Canonical JSON strictness (room versions 1 and 6 › Canonical JSON). */
export interface CanonicalJsonRules {
  /** v6+: events must be valid canonical JSON — no floats, integers within [-(2^53)+1, 2^53-1]. */
  readonly strict: boolean;
}

/** What signatures are required and how keys are validated. */
export interface SignatureRules {
  /** v5+: a signing key is only valid up to its `valid_until_ts` (capped at 7 days, room version 5 › Signing key validity period). */
  readonly enforceKeyValidity: boolean;
  /** v1–v2: the server named in the `event_id` must also sign the event (Server-Server API › Validating hashes and signatures). */
  readonly checkEventIdServer: boolean;
}

/** Redaction algorithm differences (room versions 1, 6, 8, 9 and 11 › Redactions). */
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

/** Authorization rule differences (room version N › Authorization rules; docs/spec-checklist.md §f). */
export interface AuthorizationRules {
  /** v1–v2: `m.room.redaction` has its own auth rule (redact level or same domain) — room version 1 › Authorization rules, rule 11. */
  readonly specialCaseRedaction: boolean;
  /** v1–v5: `m.room.aliases` is allowed when the sender's domain matches the state key — room versions 1 and 3 › Authorization rules, rule 4. */
  readonly specialCaseAliases: boolean;
  /** v1–v5: power level values may be floats, truncated (room version 1 › Authorization rules, power levels with floats). */
  readonly floatPowerLevels: boolean;
  /** v1–v9: power level values may be strings holding integers (room version 1 › Authorization rules, power levels as strings). */
  readonly stringPowerLevels: boolean;
  /** v10+: power level values must be integers; rule 10.1–10.3 reject others (room version 10). */
  readonly integerPowerLevels: boolean;
  /** v6+: `notifications` is checked like `events` when power levels change (room version 6). */
  readonly limitNotificationsPowerLevels: boolean;
  /** v7+: the `knock` membership and join rule (room version 7). */
  readonly knocking: boolean;
  /** v8+: the `restricted` join rule and `join_authorised_via_users_server` (room version 8 › Authorization rules). */
  readonly restrictedJoinRule: boolean;
  /** v10+: the `knock_restricted` join rule (room version 10). */
  readonly knockRestrictedJoinRule: boolean;
  /** v1–v10: `m.room.create` must have `content.creator`, and it names the creator; v11+ the creator is the create event's `sender` (room version 11). */
  readonly creatorInContent: boolean;
  /**
   * v12: room creators (create sender + `additional_creators`) have infinite power, may not be
   * listed in `users`, and `additional_creators` is validated (room version 12).
   */
  readonly privilegedCreators: boolean;
  /** v12: the create event has no `room_id`; other events' room ID must be `!` + the create event's ID (room version 12 rules 1.2, 2). */
  readonly roomIdFromCreateEvent: boolean;
}

/** State resolution algorithm choice (room version 1, room version 2 › State resolution, room version 12). */
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
  /** Whether servers may safely use it (Room versions › Complete list of room versions). */
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
