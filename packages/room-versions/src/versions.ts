/**
 * The specified room versions 1–12, each written as the delta from the previous one, so that a
 * reader sees exactly what each version changed.
 *
 * @module
 */
import type { DeepPartial, RoomVersionRules } from './rules.js';
import { RoomVersionError } from './errors.js';

const VERSION_GRAMMAR = /^[a-z0-9.-]{1,32}$/;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function merge<T extends object>(base: T, delta: DeepPartial<T> | undefined): T {
  if (delta === undefined) return base;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(delta as Record<string, unknown>)) {
    if (!(k in out)) throw new RoomVersionError('ROOM_VERSION_UNKNOWN_FLAG', `unknown room version rule "${k}"`);
    const cur = out[k];
    out[k] = cur !== null && typeof cur === 'object' && v !== null && typeof v === 'object'
      ? merge(cur as object, v as DeepPartial<object>)
      : v;
  }
  return out as T;
}

/**
 * Derives a new rules object from `base`: the overrides are merged chapter by chapter and the
 * result is deep-frozen. The base is never modified.
 *
 * @example
 * ```ts
 * const msc = deriveRoomVersion(V12, 'org.example.msc9999', { disposition: 'unstable',
 *   authorization: { knocking: false } });
 * ```
 * @throws {@link RoomVersionError} `ROOM_VERSION_INVALID_ID` if `id` breaks the room version grammar,
 * `ROOM_VERSION_UNKNOWN_FLAG` if an override names a rule that does not exist.
 */
export function deriveRoomVersion(
  base: RoomVersionRules,
  id: string,
  overrides: DeepPartial<Omit<RoomVersionRules, 'id'>> = {},
): RoomVersionRules {
  if (typeof id !== 'string' || !VERSION_GRAMMAR.test(id)) {
    throw new RoomVersionError('ROOM_VERSION_INVALID_ID', `room version identifier ${JSON.stringify(id)} is not 1-32 characters of [a-z0-9.-]`);
  }
  const merged = merge(base, overrides as DeepPartial<RoomVersionRules>);
  return deepFreeze({ ...merged, id });
}

/** Room version 1 (room version 1): server-assigned event IDs, state resolution v1. */
export const V1: RoomVersionRules = deepFreeze({
  id: '1',
  disposition: 'stable',
  eventFormat: {
    eventIdFormat: 'server-assigned',
    eventReferences: 'id-and-hash',
    roomIdFormat: 'server-assigned',
    createEventHasRoomId: true,
    createEventInAuthEvents: true,
    redactsInContent: false,
    limitDepth: false,
  },
  canonicalJson: { strict: false },
  signatures: { enforceKeyValidity: false, checkEventIdServer: true },
  redaction: {
    keepAliasesContent: true,
    keepJoinRulesAllow: false,
    keepJoinAuthorisedViaUsersServer: false,
    keepAllCreateContent: false,
    keepPowerLevelsInvite: false,
    keepRedactionRedacts: false,
    keepThirdPartyInviteSigned: false,
    keepOriginMembershipPrevState: true,
  },
  authorization: {
    specialCaseRedaction: true,
    specialCaseAliases: true,
    floatPowerLevels: true,
    stringPowerLevels: true,
    integerPowerLevels: false,
    limitNotificationsPowerLevels: false,
    knocking: false,
    restrictedJoinRule: false,
    knockRestrictedJoinRule: false,
    creatorInContent: true,
    privilegedCreators: false,
    roomIdFromCreateEvent: false,
  },
  stateResolution: { algorithm: 'v1', beginIterativeAuthChecksWithEmptyState: false, considerConflictedStateSubgraph: false },
});

/** Room version 2 (room version 2): state resolution v2. */
export const V2 = deriveRoomVersion(V1, '2', { stateResolution: { algorithm: 'v2' } });

/**
 * Room version 3 (room version 3): event IDs are hashes (standard base64), references are plain IDs,
 * the redaction auth rule is gone (redactions are checked when applied instead).
 */
export const V3 = deriveRoomVersion(V2, '3', {
  eventFormat: { eventIdFormat: 'hash-base64', eventReferences: 'id-only' },
  signatures: { checkEventIdServer: false },
  authorization: { specialCaseRedaction: false },
});

/** Room version 4 (room version 4): URL-safe base64 event IDs. */
export const V4 = deriveRoomVersion(V3, '4', { eventFormat: { eventIdFormat: 'hash-url-safe-base64' } });

/** Room version 5 (room version 5): signing key validity periods are enforced. */
export const V5 = deriveRoomVersion(V4, '5', { signatures: { enforceKeyValidity: true } });

/**
 * Room version 6 (room version 6): no aliases special case, `notifications` limited, strict canonical
 * JSON (no floats), depth limit; redaction no longer keeps `aliases`.
 */
export const V6 = deriveRoomVersion(V5, '6', {
  eventFormat: { limitDepth: true },
  canonicalJson: { strict: true },
  redaction: { keepAliasesContent: false },
  authorization: { specialCaseAliases: false, floatPowerLevels: false, limitNotificationsPowerLevels: true },
});

/** Room version 7 (room version 7): knocking. */
export const V7 = deriveRoomVersion(V6, '7', { authorization: { knocking: true } });

/** Room version 8 (room version 8): restricted join rule; redaction keeps `allow`. */
export const V8 = deriveRoomVersion(V7, '8', {
  redaction: { keepJoinRulesAllow: true },
  authorization: { restrictedJoinRule: true },
});

/** Room version 9 (room version 9): redaction keeps `join_authorised_via_users_server`. */
export const V9 = deriveRoomVersion(V8, '9', { redaction: { keepJoinAuthorisedViaUsersServer: true } });

/** Room version 10 (room version 10): `knock_restricted`, integer-only power levels. */
export const V10 = deriveRoomVersion(V9, '10', {
  authorization: { knockRestrictedJoinRule: true, integerPowerLevels: true, stringPowerLevels: false },
});

/**
 * Room version 11 (room version 11): `creator` removed (the creator is the create sender), `redacts`
 * moved into content, redaction algorithm updated.
 */
export const V11 = deriveRoomVersion(V10, '11', {
  eventFormat: { redactsInContent: true },
  redaction: {
    keepAllCreateContent: true,
    keepPowerLevelsInvite: true,
    keepRedactionRedacts: true,
    keepThirdPartyInviteSigned: true,
    keepOriginMembershipPrevState: false,
  },
  authorization: { creatorInContent: false },
});

/**
 * Room version 12 (room version 12): room IDs are create-event hashes, creators have infinite power,
 * `additional_creators`, state resolution v2.1.
 */
export const V12 = deriveRoomVersion(V11, '12', {
  eventFormat: { roomIdFormat: 'create-event-hash', createEventHasRoomId: false, createEventInAuthEvents: false },
  authorization: { privilegedCreators: true, roomIdFromCreateEvent: true },
  stateResolution: { algorithm: 'v2.1', beginIterativeAuthChecksWithEmptyState: true, considerConflictedStateSubgraph: true },
});
