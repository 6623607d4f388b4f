/**
 * The authorization rules of every room version (Matrix specification, Room versions 1–12 ›
 * Authorization rules, https://spec.matrix.org/latest/rooms/; Server-Server API › Authorization rules). Numbering in
 * comments follows checklist §f (F1…F13), which uses the v12 text's numbers.
 *
 * Room version differences are read from `rules.authorization` flags only. This file holds the
 * entry points and the rules for ordinary events (F4, F5, F7–F10, F12, F13); the rules for
 * `m.room.create` (F1, F2), the auth events list (F3), `m.room.member` (F6, one file per membership
 * transition) and `m.room.power_levels` (F11) live in `rules/`.
 *
 * @module
 */
import { type RoomEvent, type StateLookup, domainOf } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { type PowerLevels, powerLevelsOf } from './powerLevels.js';
import { checkAuthEventsList } from './rules/auth-events.js';
import { ALLOW, type AuthOptions, type AuthResult, internalError, membershipOf, reject } from './rules/common.js';
import { checkCreate, checkRoomIdFromCreate } from './rules/create.js';
import { checkMember } from './rules/membership.js';
import { checkPowerLevels } from './rules/power-levels.js';

export type { AuthOptions, AuthResult } from './rules/common.js';

/**
 * The rules that need no room state: F1 for `m.room.create`, and F3 (the auth events list) when
 * `options.authEvents` is given. Like the reference server's `check_state_independent_auth_rules`,
 * except that F2 (v12 room ID) needs the create event and runs in {@link checkStateDependentAuth}.
 */
export function checkStateIndependentAuth(event: RoomEvent, rules: RoomVersionRules, options?: AuthOptions): AuthResult {
  try {
    if (event.type === 'm.room.create') return checkCreate(event, rules);
    if (options?.authEvents !== undefined) return checkAuthEventsList(event, rules, options.authEvents, options);
    return ALLOW;
  } catch (err) {
    return internalError(err);
  }
}

/**
 * The rules that read room state: F2 [v12] (room ID names the accepted create event in `authState`)
 * and F4–F13. For `m.room.create` this allows (F1 is state-independent).
 */
export function checkStateDependentAuth(
  event: RoomEvent,
  authState: StateLookup<RoomEvent>,
  rules: RoomVersionRules,
  options?: AuthOptions,
): AuthResult {
  try {
    return stateDependent(event, authState, rules, options);
  } catch (err) {
    return internalError(err);
  }
}

/**
 * {@link powerLevelsOf}, memoised per (power levels event, create event, rules). Events are
 * immutable views, so the parsed answers never go stale; state resolution checks thousands of
 * events against the same few power levels events. The last answer is kept apart: a run of
 * events checked one after another mostly asks for it again, and is answered without the three
 * weak map lookups.
 */
const plMemo = new WeakMap<RoomEvent, WeakMap<RoomEvent, WeakMap<RoomVersionRules, PowerLevels>>>();
const noPlMemo = new WeakMap<RoomEvent, WeakMap<RoomVersionRules, PowerLevels>>();
let last: { readonly pl: RoomEvent | undefined; readonly create: RoomEvent; readonly rules: RoomVersionRules; readonly pls: PowerLevels } | undefined;
function cachedPowerLevels(pl: RoomEvent | undefined, create: RoomEvent, rules: RoomVersionRules): PowerLevels {
  if (last !== undefined && last.pl === pl && last.create === create && last.rules === rules) return last.pls;
  const pls = weakPowerLevels(pl, create, rules);
  last = { pl, create, rules, pls };
  return pls;
}

/** {@link cachedPowerLevels} by the weak maps. */
function weakPowerLevels(pl: RoomEvent | undefined, create: RoomEvent, rules: RoomVersionRules): PowerLevels {
  let byRules: WeakMap<RoomVersionRules, PowerLevels> | undefined;
  if (pl === undefined) {
    byRules = noPlMemo.get(create);
    if (byRules === undefined) noPlMemo.set(create, (byRules = new WeakMap()));
  } else {
    let byCreate = plMemo.get(pl);
    if (byCreate === undefined) plMemo.set(pl, (byCreate = new WeakMap()));
    byRules = byCreate.get(create);
    if (byRules === undefined) byCreate.set(create, (byRules = new WeakMap()));
  }
  let pls = byRules.get(rules);
  if (pls === undefined) byRules.set(rules, (pls = powerLevelsOf(pl, create, rules)));
  return pls;
}

function stateDependent(event: RoomEvent, authState: StateLookup<RoomEvent>, rules: RoomVersionRules, options: AuthOptions | undefined): AuthResult {
  if (event.type === 'm.room.create') return ALLOW;
  const flags = rules.authorization;
  const create = authState.get('m.room.create', '');
  // F2 [v12]
  if (flags.roomIdFromCreateEvent) {
    const r = checkRoomIdFromCreate(event, create, options);
    if (!r.allowed) return r;
  }
  if (create === undefined) return reject('state.no_create', 'no m.room.create event in the auth state');

  // F4: only the boolean `false` counts (the reference server treats any value other than `true` as
  // non-federating; the spec says "set to false", which we follow).
  if (create.content['m.federate'] === false && domainOf(event.sender) !== domainOf(create.sender)) {
    return reject('federate', 'the room does not federate and the sender is on another server');
  }

  // F5 [v1–v5]
  if (flags.specialCaseAliases && event.type === 'm.room.aliases') {
    if (event.stateKey === undefined) return reject('aliases.no_state_key', 'm.room.aliases without state_key');
    if (domainOf(event.sender) !== event.stateKey) return reject('aliases.domain', 'the sender\'s domain does not match the state_key');
    return ALLOW;
  }

  const pls = cachedPowerLevels(authState.get('m.room.power_levels', ''), create, rules);

  // F6
  if (event.type === 'm.room.member') return checkMember(event, authState, rules, create, pls, options);

  // F7
  if (membershipOf(authState.get('m.room.member', event.sender)) !== 'join') {
    return reject('sender_not_joined', `${event.sender} is not joined`);
  }
  const senderLevel = pls.userLevel(event.sender);
  // F8
  if (event.type === 'm.room.third_party_invite') {
    if (senderLevel >= pls.invite) return ALLOW;
    return reject('third_party_invite.power', `${event.sender} has power ${senderLevel} < invite level ${pls.invite}`);
  }
  // F9
  const required = pls.eventLevel(event.type, event.stateKey !== undefined);
  if (required > senderLevel) {
    return reject('power.insufficient', `${event.type} needs power ${required}; ${event.sender} has ${senderLevel}`);
  }
  // F10
  if (event.stateKey !== undefined && event.stateKey.startsWith('@') && event.stateKey !== event.sender) {
    return reject('state_key.user_id', `state_key ${event.stateKey} is another user's ID`);
  }
  // F11
  if (event.type === 'm.room.power_levels') return checkPowerLevels(event, authState, rules, create, pls);
  // F12 [v1–v2]
  if (flags.specialCaseRedaction && event.type === 'm.room.redaction') {
    if (senderLevel >= pls.redact) return ALLOW;
    const redacts = event.redacts;
    if (redacts !== undefined && domainOf(redacts) !== undefined && domainOf(redacts) === domainOf(event.eventId)) return ALLOW;
    return reject('redaction.insufficient', `${event.sender} has power ${senderLevel} < redact level ${pls.redact} and the redacted event is from another server`);
  }
  // F13
  return ALLOW;
}

/**
 * Checks `event` against the authorization rules of `rules` (checklist F1–F13), against `authState`
 * — the event's auth events, the state before it, or the current state (the caller decides, F0.10).
 *
 * Never throws on malformed events or state: a malformed value is a rejection with a reason, or is
 * read as the spec / reference server reads it.
 *
 * @example
 * ```ts
 * const result = checkAuth(event, stateLookupOf(authEvents), getRoomVersion('12'), { authEvents });
 * if (!result.allowed) console.log(result.rule, result.reason);
 * ```
 */
export function checkAuth(event: RoomEvent, authState: StateLookup<RoomEvent>, rules: RoomVersionRules, options?: AuthOptions): AuthResult {
  try {
    // F1
    if (event.type === 'm.room.create') return checkCreate(event, rules);
    // F2 [v12] comes before F3 in the spec's order.
    if (rules.authorization.roomIdFromCreateEvent) {
      const r = checkRoomIdFromCreate(event, authState.get('m.room.create', ''), options);
      if (!r.allowed) return r;
    }
    // F3
    if (options?.authEvents !== undefined) {
      const r = checkAuthEventsList(event, rules, options.authEvents, options);
      if (!r.allowed) return r;
    }
    return stateDependent(event, authState, rules, options);
  } catch (err) {
    return internalError(err);
  }
}
