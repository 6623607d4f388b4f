/**
 * Auth events selection (Server-Server API › Auth events selection; checklist I5/F3.2): which
 * (type, state_key) pairs of the room state may give an event's sender permission to send it.
 *
 * @module
 */
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { type StateLookup, flatStateKeyOf, stateKeyOf } from './view.js';

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

/** Where {@link authSelection} puts each (type, state_key) pair it lists, into `out`. */
interface PairSink<O> {
  create(out: O): void;
  powerLevels(out: O): void;
  joinRules(out: O): void;
  member(out: O, userId: string): void;
  thirdPartyInvite(out: O, token: string): void;
}

/** Auth events selection: the pairs of `event`, in the spec's order, given to `sink` with `out`. */
function authSelection<O>(event: AuthSelectionInput, rules: RoomVersionRules, includeCreate: boolean, sink: PairSink<O>, out: O): O {
  if (event.type === 'm.room.create') return out;
  if (rules.eventFormat.createEventInAuthEvents || includeCreate) sink.create(out);
  sink.powerLevels(out);
  sink.member(out, event.sender);
  if (event.type === 'm.room.member' && event.stateKey !== undefined) {
    if (event.stateKey !== event.sender) sink.member(out, event.stateKey);
    const membership = event.content['membership'];
    if (membership === 'join' || membership === 'invite' || membership === 'knock') sink.joinRules(out);
    if (membership === 'invite') {
      const tpi = obj(event.content['third_party_invite']);
      const token = obj(tpi?.['signed'])?.['token'];
      if (typeof token === 'string') sink.thirdPartyInvite(out, token);
    }
    if (membership === 'join' && rules.authorization.restrictedJoinRule) {
      const via = event.content['join_authorised_via_users_server'];
      if (typeof via === 'string' && via !== event.sender && via !== event.stateKey) sink.member(out, via);
    }
  }
  return out;
}

type Pair = readonly [type: string, stateKey: string];
const CREATE_PAIR: Pair = Object.freeze(['m.room.create', ''] as const);
const POWER_LEVELS_PAIR: Pair = Object.freeze(['m.room.power_levels', ''] as const);
const JOIN_RULES_PAIR: Pair = Object.freeze(['m.room.join_rules', ''] as const);
/** Pairs as arrays (the constant ones shared and frozen). */
const PAIRS: PairSink<Pair[]> = {
  create: (out) => void out.push(CREATE_PAIR),
  powerLevels: (out) => void out.push(POWER_LEVELS_PAIR),
  joinRules: (out) => void out.push(JOIN_RULES_PAIR),
  member: (out, userId) => void out.push(['m.room.member', userId]),
  thirdPartyInvite: (out, token) => void out.push(['m.room.third_party_invite', token]),
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
  return authSelection<Pair[]>(event, rules, options?.includeCreate === true, PAIRS, []);
}

/** Bound of the member key cache of {@link authStateKeys}: cleared when full (a 2,000-member room's senders fit). */
export const MEMBER_KEY_CACHE_SIZE = 4096;
/** User ID → `stateKeyOf('m.room.member', userId)`: the same flat string for every event of a sender. */
const memberKeys = new Map<string, string>();

const CREATE_KEY = flatStateKeyOf('m.room.create', '');
const POWER_LEVELS_KEY = flatStateKeyOf('m.room.power_levels', '');
const JOIN_RULES_KEY = flatStateKeyOf('m.room.join_rules', '');
/** Pairs as state keys (the constant ones and members' made once). */
const KEYS: PairSink<string[]> = {
  create: (out) => void out.push(CREATE_KEY),
  powerLevels: (out) => void out.push(POWER_LEVELS_KEY),
  joinRules: (out) => void out.push(JOIN_RULES_KEY),
  member(out, userId) {
    let k = memberKeys.get(userId);
    if (k === undefined) {
      if (memberKeys.size >= MEMBER_KEY_CACHE_SIZE) memberKeys.clear();
      memberKeys.set(userId, (k = flatStateKeyOf('m.room.member', userId)));
    }
    out.push(k);
  },
  thirdPartyInvite: (out, token) => void out.push(stateKeyOf('m.room.third_party_invite', token)),
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
  return authSelection<string[]>(event, rules, options?.includeCreate === true, KEYS, []);
}

/**
 * A reusable list of (type, state_key) pairs for {@link authPairsInto}: pair `i < length` is
 * (`types[i]`, `stateKeys[i]`); entries at `length` and beyond are left over from earlier uses.
 * One buffer serves any number of events without allocating once it has grown to the longest
 * selection — for loops that check many events (state resolution's iterative auth checks).
 */
export class AuthPairBuffer {
  /** The pairs' types. */
  readonly types: string[] = [];
  /** The pairs' state keys. */
  readonly stateKeys: string[] = [];
  /** How many pairs the last {@link authPairsInto} wrote. */
  length = 0;
}

/** Appends the pair (`type`, `stateKey`) to `out`, at index `length`. */
function put(out: AuthPairBuffer, type: string, stateKey: string): void {
  out.types[out.length] = type;
  out.stateKeys[out.length++] = stateKey;
}

/** Pairs into an {@link AuthPairBuffer}, from index `length` on. */
const BUFFER: PairSink<AuthPairBuffer> = {
  create: (out) => put(out, 'm.room.create', ''),
  powerLevels: (out) => put(out, 'm.room.power_levels', ''),
  joinRules: (out) => put(out, 'm.room.join_rules', ''),
  member: (out, userId) => put(out, 'm.room.member', userId),
  thirdPartyInvite: (out, token) => put(out, 'm.room.third_party_invite', token),
};

/**
 * The pairs {@link authEventTypes} lists for `event` (with the same `options`), in the same order,
 * written into `out` in place of what it held.
 */
export function authPairsInto(
  event: AuthSelectionInput,
  rules: RoomVersionRules,
  out: AuthPairBuffer,
  options?: { readonly includeCreate?: boolean },
): void {
  out.length = 0;
  authSelection(event, rules, options?.includeCreate === true, BUFFER, out);
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
