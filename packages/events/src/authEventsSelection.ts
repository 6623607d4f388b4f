/**
 * Auth events selection (Server-Server API › Auth events selection; checklist I5/F3.2): which
 * (type, state_key) pairs of the room state may give an event's sender permission to send it.
 *
 * @module
 */
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { type StateLookup, stateKeyOf } from './view.js';

/** The fields of an event that auth events selection reads. */
export interface AuthSelectionInput {
  /** The event type. */
  readonly type: string;
  /** The state key (`undefined` for non-state events). */
  readonly stateKey: string | undefined;
  /** The sender's user ID. */
  readonly sender: string;
  /** The content. */
  readonly content: JsonObject;
}

function obj(v: JsonValue | undefined): JsonObject | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : undefined;
}

/** How {@link authSelection} writes each (type, state_key) pair it lists. */
interface PairWriter<T> {
  readonly create: T;
  readonly powerLevels: T;
  readonly joinRules: T;
  member(userId: string): T;
  thirdPartyInvite(token: string): T;
}

/** Auth events selection: the pairs of `event`, in the spec's order, as `w` writes them. */
function authSelection<T>(event: AuthSelectionInput, rules: RoomVersionRules, includeCreate: boolean, w: PairWriter<T>): T[] {
  if (event.type === 'm.room.create') return [];
  const out: T[] = [];
  if (rules.eventFormat.createEventInAuthEvents || includeCreate) out.push(w.create);
  out.push(w.powerLevels, w.member(event.sender));
  if (event.type === 'm.room.member' && event.stateKey !== undefined) {
    if (event.stateKey !== event.sender) out.push(w.member(event.stateKey));
    const membership = event.content['membership'];
    if (membership === 'join' || membership === 'invite' || membership === 'knock') out.push(w.joinRules);
    if (membership === 'invite') {
      const tpi = obj(event.content['third_party_invite']);
      const token = obj(tpi?.['signed'])?.['token'];
      if (typeof token === 'string') out.push(w.thirdPartyInvite(token));
    }
    if (membership === 'join' && rules.authorization.restrictedJoinRule) {
      const via = event.content['join_authorised_via_users_server'];
      if (typeof via === 'string' && via !== event.sender && via !== event.stateKey) out.push(w.member(via));
    }
  }
  return out;
}

type Pair = readonly [type: string, stateKey: string];
const PAIRS: PairWriter<Pair> = {
  create: Object.freeze(['m.room.create', ''] as const),
  powerLevels: Object.freeze(['m.room.power_levels', ''] as const),
  joinRules: Object.freeze(['m.room.join_rules', ''] as const),
  member: (userId) => ['m.room.member', userId],
  thirdPartyInvite: (token) => ['m.room.third_party_invite', token],
};

/**
 * The (type, state_key) pairs the auth events of `event` may have, in the spec's order; empty for
 * `m.room.create`. The `m.room.create` pair is included only where the room version puts the
 * create event in `auth_events` (not v12), unless `options.includeCreate` is set: callers that
 * look the pairs up in a room state to *check* an event (state resolution's iterative auth checks,
 * the soft-fail check against current state) need the create event in every version, as Synapse's
 * `auth_types_for_event` always includes it.
 */
export function authEventTypes(
  event: AuthSelectionInput,
  rules: RoomVersionRules,
  options?: { readonly includeCreate?: boolean },
): Array<readonly [type: string, stateKey: string]> {
  return authSelection(event, rules, options?.includeCreate === true, PAIRS);
}

/** Bound of the member key cache of {@link authStateKeys}: cleared when full (a 2,000-member room's senders fit). */
export const MEMBER_KEY_CACHE_SIZE = 4096;
/** User ID → `stateKeyOf('m.room.member', userId)`: the same flat string for every event of a sender. */
const memberKeys = new Map<string, string>();

const KEYS: PairWriter<string> = {
  create: stateKeyOf('m.room.create', ''),
  powerLevels: stateKeyOf('m.room.power_levels', ''),
  joinRules: stateKeyOf('m.room.join_rules', ''),
  member(userId) {
    let k = memberKeys.get(userId);
    if (k === undefined) {
      if (memberKeys.size >= MEMBER_KEY_CACHE_SIZE) memberKeys.clear();
      memberKeys.set(userId, (k = stateKeyOf('m.room.member', userId)));
    }
    return k;
  },
  thirdPartyInvite: (token) => stateKeyOf('m.room.third_party_invite', token),
};

/**
 * The state keys ({@link stateKeyOf}) of the pairs {@link authEventTypes} lists for `event`, in
 * the same order — without building the pairs, and with the keys of the constant pairs and of
 * members' user IDs made once (what looking an event's auth state up in a state map needs).
 */
export function authStateKeys(
  event: AuthSelectionInput,
  rules: RoomVersionRules,
  options?: { readonly includeCreate?: boolean },
): string[] {
  return authSelection(event, rules, options?.includeCreate === true, KEYS);
}

/**
 * Selects the `auth_events` of a new event from the room state (Server-Server API › Auth events
 * selection; checklist I5): the IDs of the state events at the pairs {@link authEventTypes} lists
 * that exist in `state`, in that order, without duplicates. Empty for `m.room.create`.
 *
 * @param event - the new event's type, state key, sender and content.
 * @param state - the room state the event is sent against (usually the current state).
 */
export function selectAuthEvents<E extends { readonly eventId: string }>(
  event: AuthSelectionInput,
  state: StateLookup<E>,
  rules: RoomVersionRules,
): string[] {
  const out: string[] = [];
  for (const [type, stateKey] of authEventTypes(event, rules)) {
    const e = state.get(type, stateKey);
    if (e !== undefined && !out.includes(e.eventId)) out.push(e.eventId);
  }
  return out;
}
