/**
 * The authorization rules of every room version (Matrix specification, Room versions 1–12 ›
 * Authorization rules, https://spec.matrix.org/latest/rooms/; Server-Server API › Authorization rules). Numbering in
 * comments follows checklist §f (F1…F13), which uses the v12 text's numbers.
 *
 * Room version differences are read from `rules.authorization` flags only.
 *
 * @module
 */
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import { authEventTypes, domainOf, stateKeyOf } from '@roomgraph/events';
import type { RoomEvent, StateLookup } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { ROOM_VERSIONS } from '@roomgraph/room-versions';
import type { AuthRuleCode } from './codes.js';
import {
  NAMED_LEVEL_KEYS,
  isValidPowerLevelValue,
  parsePowerLevelValue,
  powerLevelsOf,
  roomCreators,
} from './powerLevels.js';
import type { PowerLevels } from './powerLevels.js';
import { isSignedByServer, verifyThirdPartySigned } from './signatures.js';
import { isUserId } from './userId.js';
import { showValue } from './show.js';

/** The outcome of an authorization check: allowed, or rejected by a rule (a code from {@link AUTH_RULE_CODES}) with a reason. */
export type AuthResult =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly rule: string; readonly reason: string };

/** Optional inputs of {@link checkAuth}. */
export interface AuthOptions {
  /**
   * The event's own auth events as loaded (in any order). When given, the rules about the auth
   * events list run: duplicates, entries not allowed by auth events selection, rejected entries,
   * wrong room, missing create (v1–v11) — checklist F3. Only entries whose ID is listed in the
   * event's `auth_events` count; others (e.g. the v12 create event, passed for convenience) are
   * ignored by these rules.
   */
  readonly authEvents?: readonly RoomEvent[];
  /** Whether an event was rejected (for F3.3, and v12 F2 "accepted create event"). Default: nothing is rejected. */
  readonly isRejected?: (eventId: string) => boolean;
  /**
   * Public keys for verifying `join_authorised_via_users_server` signatures (F6.2). When absent, a
   * signature by that server must merely be present.
   */
  readonly serverKeys?: (serverName: string, keyId: string) => Uint8Array | undefined;
}

const ALLOW: AuthResult = Object.freeze({ allowed: true });

function reject(rule: AuthRuleCode, reason: string): AuthResult {
  return { allowed: false, rule, reason };
}

function asObject(v: JsonValue | undefined): JsonObject | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : undefined;
}

function has(o: JsonObject | undefined, key: string): boolean {
  return o !== undefined && Object.prototype.hasOwnProperty.call(o, key);
}

function own(o: JsonObject | undefined, key: string): JsonValue | undefined {
  return has(o, key) ? (o as JsonObject)[key] : undefined;
}

/** `membership` of a member event, when it is a string. */
function membershipOf(ev: RoomEvent | undefined): string | undefined {
  const m = ev?.content['membership'];
  return typeof m === 'string' ? m : undefined;
}

function safeRejected(options: AuthOptions | undefined, id: string): boolean {
  if (options?.isRejected === undefined) return false;
  try {
    return options.isRejected(id) === true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// State-independent rules: F1 (create), F3 (the auth_events list).
// ---------------------------------------------------------------------------------------------

/** F1: the rules for `m.room.create`. */
function checkCreate(event: RoomEvent, rules: RoomVersionRules): AuthResult {
  const a = rules.authorization;
  // F1.1
  if (event.prevEvents.length > 0 || (Array.isArray(event.json['prev_events']) && (event.json['prev_events'] as readonly JsonValue[]).length > 0)) {
    return reject('create.prev_events', 'm.room.create must not have prev_events');
  }
  // F1.2
  if (a.roomIdFromCreateEvent) {
    if (event.json['room_id'] !== undefined) return reject('create.room_id_present', 'm.room.create must not have a room_id in this room version');
  } else {
    const roomDomain = event.roomId === undefined ? undefined : domainOf(event.roomId);
    const senderDomain = domainOf(event.sender);
    if (roomDomain === undefined || roomDomain !== senderDomain) {
      return reject('create.room_id_domain', `room_id domain ${String(roomDomain)} does not match sender domain ${String(senderDomain)}`);
    }
  }
  // F1.3: present and not recognised. A non-string value is not a recognised version.
  if (has(event.content, 'room_version')) {
    const v = event.content['room_version'];
    if (typeof v !== 'string' || !ROOM_VERSIONS.has(v)) {
      return reject('create.room_version', `unrecognised room_version ${showValue(v)}`);
    }
  }
  // F1.4 [v1–v10]
  if (a.creatorInContent && !has(event.content, 'creator')) {
    return reject('create.no_creator', 'm.room.create content has no creator');
  }
  // F1.5 [v12]
  if (a.privilegedCreators && has(event.content, 'additional_creators')) {
    const ac = event.content['additional_creators'];
    if (!Array.isArray(ac) || !(ac as readonly JsonValue[]).every((u) => typeof u === 'string' && isUserId(u))) {
      return reject('create.additional_creators', 'additional_creators must be an array of valid user IDs');
    }
  }
  // F1.6
  return ALLOW;
}

/**
 * F3: the rules about the event's `auth_events` list. Entries are visited in the order of the
 * event's own `auth_events` IDs, so the result does not depend on the order of `authEvents`.
 */
function checkAuthEventsList(event: RoomEvent, rules: RoomVersionRules, authEvents: readonly RoomEvent[], options: AuthOptions | undefined): AuthResult {
  const byId = new Map<string, RoomEvent>();
  for (const e of authEvents) if (!byId.has(e.eventId)) byId.set(e.eventId, e);
  const listed: RoomEvent[] = [];
  const seenIds = new Set<string>();
  for (const id of event.authEvents) {
    if (seenIds.has(id)) continue;
    seenIds.add(id);
    const e = byId.get(id);
    if (e !== undefined) listed.push(e);
  }
  // F3.1
  const seen = new Set<string>();
  for (const e of listed) {
    const key = stateKeyOf(e.type, e.stateKey ?? '');
    if (e.stateKey !== undefined && seen.has(key)) {
      return reject('auth_events.duplicate', `duplicate auth event for (${e.type}, ${e.stateKey})`);
    }
    seen.add(key);
  }
  // F3.2: compare (type, state_key) with the auth events selection of the event alone (checklist
  // F3 AMBIGUOUS: keys only). In v12 the selection never includes m.room.create.
  const allowed = new Set(authEventTypes(event, rules).map(([t, k]) => stateKeyOf(t, k)));
  for (const e of listed) {
    if (e.stateKey === undefined || !allowed.has(stateKeyOf(e.type, e.stateKey))) {
      return reject('auth_events.unexpected', `auth event ${e.eventId} (${e.type}, ${String(e.stateKey)}) is not selected by auth events selection`);
    }
  }
  // F3.3
  for (const e of listed) {
    if (safeRejected(options, e.eventId)) return reject('auth_events.rejected', `auth event ${e.eventId} was rejected`);
  }
  // F3.4 [v1–v11]
  if (rules.eventFormat.createEventInAuthEvents && !listed.some((e) => e.type === 'm.room.create' && e.stateKey === '')) {
    return reject('auth_events.no_create', 'no m.room.create among the auth events');
  }
  // F3.5
  for (const e of listed) {
    if (e.roomId !== event.roomId) return reject('auth_events.wrong_room', `auth event ${e.eventId} is in room ${String(e.roomId)}`);
  }
  return ALLOW;
}

/** F2 [v12]: the room ID must name an accepted create event. */
function checkRoomIdFromCreate(event: RoomEvent, create: RoomEvent | undefined, options: AuthOptions | undefined): AuthResult {
  const roomId = event.roomId;
  if (roomId === undefined || !roomId.startsWith('!')) return reject('room_id.create_event', 'the event has no valid room_id');
  const expected = '$' + roomId.slice(1);
  if (create === undefined || create.eventId !== expected || create.type !== 'm.room.create' || create.stateKey !== '') {
    return reject('room_id.create_event', `room_id ${roomId} does not name the room's m.room.create event`);
  }
  if (safeRejected(options, create.eventId)) return reject('room_id.create_event', `the m.room.create event ${create.eventId} was rejected`);
  return ALLOW;
}

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

function internalError(err: unknown): AuthResult {
  // Defensive: the rules never throw on malformed input; if a caller-supplied callback or lookup
  // throws, report it as a rejection rather than crash.
  return { allowed: false, rule: 'internal', reason: `auth check failed: ${err instanceof Error ? err.message : String(err)}` };
}

// ---------------------------------------------------------------------------------------------
// State-dependent rules: F2 (v12), F4–F13.
// ---------------------------------------------------------------------------------------------

/** F6.2 + F6.3–F6.8: `m.room.member`. */
function checkMember(
  event: RoomEvent,
  authState: StateLookup<RoomEvent>,
  rules: RoomVersionRules,
  create: RoomEvent,
  pls: PowerLevels,
  options: AuthOptions | undefined,
): AuthResult {
  const a = rules.authorization;
  const content = event.content;
  // F6.1
  if (event.stateKey === undefined) return reject('member.no_state_key', 'm.room.member without state_key');
  if (!has(content, 'membership')) return reject('member.no_membership', 'm.room.member without content.membership');
  const target = event.stateKey;
  const sender = event.sender;
  const membership = content['membership'];

  // F6.2 [v8+]: applies to every membership (the reference server checks it for joins only, in its
  // signature checks; the spec rule is general and we follow it).
  if (a.restrictedJoinRule && has(content, 'join_authorised_via_users_server')) {
    const via = content['join_authorised_via_users_server'];
    const server = typeof via === 'string' ? domainOf(via) : undefined;
    if (server === undefined || !isSignedByServer(event, server, rules, options?.serverKeys)) {
      return reject('member.join_authorised_signature', `the event is not validly signed by the server of join_authorised_via_users_server ${showValue(via)}`);
    }
  }

  const senderMembership = membershipOf(authState.get('m.room.member', sender));
  const targetMembership = membershipOf(authState.get('m.room.member', target));
  const jrEvent = authState.get('m.room.join_rules', '');
  // F0.8 AMBIGUOUS: no join rules event → 'invite' (the reference server's default). A join_rules
  // event without a join_rule also reads as 'invite' there.
  const jrRaw = jrEvent === undefined ? 'invite' : has(jrEvent.content, 'join_rule') ? jrEvent.content['join_rule'] : 'invite';
  const joinRule = typeof jrRaw === 'string' ? jrRaw : undefined;

  if (membership === 'join') {
    // F6.3.1: the only previous event is the create event and the target is the creator
    // ([v1–v10] content.creator, [v11] create sender, [v12] create sender only).
    if (event.prevEvents.length === 1 && event.prevEvents[0] === create.eventId) {
      const creator = a.creatorInContent ? create.content['creator'] : create.sender;
      if (typeof creator === 'string' && creator === target) return ALLOW;
    }
    // F6.3.2
    if (sender !== target) return reject('member.join.sender_mismatch', 'a user may only join themselves');
    // F6.3.3
    if (senderMembership === 'ban') return reject('member.join.banned', `${sender} is banned`);
    // F6.3.4
    if (joinRule === 'invite' || (a.knocking && joinRule === 'knock')) {
      if (senderMembership === 'invite' || senderMembership === 'join') return ALLOW;
      return reject('member.join.not_invited', `join rule is ${joinRule} and ${sender} is not invited`);
    }
    // F6.3.5
    if ((a.restrictedJoinRule && joinRule === 'restricted') || (a.knockRestrictedJoinRule && joinRule === 'knock_restricted')) {
      if (senderMembership === 'join' || senderMembership === 'invite') return ALLOW;
      const via = content['join_authorised_via_users_server'];
      if (typeof via !== 'string') {
        return reject('member.join.authorising_user', `join rule is ${joinRule} and the join has no join_authorised_via_users_server`);
      }
      if (membershipOf(authState.get('m.room.member', via)) !== 'join') {
        return reject('member.join.authorising_user', `authorising user ${via} is not joined`);
      }
      if (pls.userLevel(via) < pls.invite) {
        return reject('member.join.authorising_user', `authorising user ${via} may not invite`);
      }
      return ALLOW;
    }
    // F6.3.6
    if (joinRule === 'public') return ALLOW;
    // F6.3.7 (also reached by knock_restricted in v8–v9 or knock in v1–v6: not join rules there)
    return reject('member.join.join_rule', `join rule ${showValue(jrRaw)} does not allow joining`);
  }

  if (membership === 'invite') {
    // F6.4.1
    if (has(content, 'third_party_invite')) {
      if (targetMembership === 'ban') return reject('member.invite.third_party.banned', `${target} is banned`);
      const tpi = asObject(content['third_party_invite']);
      const signed = asObject(own(tpi, 'signed'));
      if (signed === undefined) return reject('member.invite.third_party.no_signed', 'third_party_invite has no signed object');
      if (!has(signed, 'mxid') || !has(signed, 'token')) {
        return reject('member.invite.third_party.signed_fields', 'third_party_invite.signed lacks mxid or token');
      }
      if (signed['mxid'] !== target) return reject('member.invite.third_party.mxid', 'signed.mxid does not match state_key');
      const token = signed['token'];
      const inviteEvent = typeof token === 'string' ? authState.get('m.room.third_party_invite', token) : undefined;
      if (inviteEvent === undefined) {
        return reject('member.invite.third_party.no_invite_event', `no m.room.third_party_invite with token ${showValue(token)}`);
      }
      if (inviteEvent.sender !== sender) {
        return reject('member.invite.third_party.sender', 'the sender did not send the m.room.third_party_invite');
      }
      const keys: string[] = [];
      const pk = inviteEvent.content['public_key'];
      if (typeof pk === 'string') keys.push(pk);
      const pks = inviteEvent.content['public_keys'];
      if (Array.isArray(pks)) {
        for (const entry of pks as readonly JsonValue[]) {
          const k = own(asObject(entry), 'public_key');
          if (typeof k === 'string') keys.push(k);
        }
      }
      if (verifyThirdPartySigned(signed, keys)) return ALLOW;
      return reject('member.invite.third_party.signature', 'no signature in signed matches a public key of the m.room.third_party_invite');
    }
    // F6.4.2
    if (senderMembership !== 'join') return reject('member.invite.sender_not_joined', `${sender} is not joined`);
    // F6.4.3
    if (targetMembership === 'join' || targetMembership === 'ban') {
      return reject('member.invite.target_membership', `${target} is ${targetMembership === 'join' ? 'already joined' : 'banned'}`);
    }
    // F6.4.4–5
    if (pls.userLevel(sender) >= pls.invite) return ALLOW;
    return reject('member.invite.power', `${sender} has power ${pls.userLevel(sender)} < invite level ${pls.invite}`);
  }

  if (membership === 'leave') {
    // F6.5.1
    if (sender === target) {
      if (senderMembership === 'invite' || senderMembership === 'join' || (a.knocking && senderMembership === 'knock')) return ALLOW;
      return reject('member.leave.self_membership', `${sender} cannot leave with membership ${String(senderMembership)}`);
    }
    // F6.5.2
    if (senderMembership !== 'join') return reject('member.leave.sender_not_joined', `${sender} is not joined`);
    const senderLevel = pls.userLevel(sender);
    // F6.5.3
    if (targetMembership === 'ban' && senderLevel < pls.ban) {
      return reject('member.leave.unban_power', `${sender} has power ${senderLevel} < ban level ${pls.ban}`);
    }
    // F6.5.4–5
    const targetLevel = pls.userLevel(target);
    if (senderLevel >= pls.kick && targetLevel < senderLevel) return ALLOW;
    return reject('member.leave.kick_power', `${sender} (power ${senderLevel}, kick level ${pls.kick}) cannot kick ${target} (power ${targetLevel})`);
  }

  if (membership === 'ban') {
    // F6.6.1
    if (senderMembership !== 'join') return reject('member.ban.sender_not_joined', `${sender} is not joined`);
    // F6.6.2–3
    const senderLevel = pls.userLevel(sender);
    const targetLevel = pls.userLevel(target);
    if (senderLevel >= pls.ban && targetLevel < senderLevel) return ALLOW;
    return reject('member.ban.power', `${sender} (power ${senderLevel}, ban level ${pls.ban}) cannot ban ${target} (power ${targetLevel})`);
  }

  if (membership === 'knock' && a.knocking) {
    // F6.7.1
    if (joinRule !== 'knock' && !(a.knockRestrictedJoinRule && joinRule === 'knock_restricted')) {
      return reject('member.knock.join_rule', `join rule ${showValue(jrRaw)} does not allow knocking`);
    }
    // F6.7.2
    if (sender !== target) return reject('member.knock.sender_mismatch', 'a user may only knock for themselves');
    // F6.7.3–4
    if (senderMembership !== 'ban' && senderMembership !== 'invite' && senderMembership !== 'join') return ALLOW;
    return reject('member.knock.membership', `${sender} cannot knock with membership ${senderMembership}`);
  }

  // F6.8
  return reject('member.unknown_membership', `unknown membership ${showValue(membership)}`);
}

/** F11: `m.room.power_levels`. */
function checkPowerLevels(
  event: RoomEvent,
  authState: StateLookup<RoomEvent>,
  rules: RoomVersionRules,
  create: RoomEvent,
  pls: PowerLevels,
): AuthResult {
  const a = rules.authorization;
  const content = event.content;
  if (a.integerPowerLevels) {
    // F11.1 [v10+]
    for (const k of NAMED_LEVEL_KEYS) {
      if (has(content, k) && !isValidPowerLevelValue(content[k], rules)) {
        return reject('power_levels.not_integer', `${k} is not an integer`);
      }
    }
    // F11.2 [v10+]
    for (const k of ['events', 'notifications']) {
      if (!has(content, k)) continue;
      const m = asObject(content[k]);
      if (m === undefined || !Object.values(m).every((v) => isValidPowerLevelValue(v, rules))) {
        return reject('power_levels.map_not_integers', `${k} is not an object of integers`);
      }
    }
  } else {
    // F0.5/F0.6 [v1–v9]: values must parse (integer, integer string, v1–v5 float). `null` reads as
    // absent, like the reference server's `.get()`.
    for (const k of NAMED_LEVEL_KEYS) {
      if (has(content, k) && content[k] !== null && !isValidPowerLevelValue(content[k], rules)) {
        return reject('power_levels.invalid_value', `${k} is not a valid power level`);
      }
    }
    for (const k of ['events', 'notifications']) {
      const m = asObject(own(content, k));
      if (m === undefined) continue;
      for (const [t, v] of Object.entries(m)) {
        if (v !== null && !isValidPowerLevelValue(v, rules)) return reject('power_levels.invalid_value', `${k}[${t}] is not a valid power level`);
      }
    }
  }
  // F11.3: `users` absent passes (AMBIGUOUS; reference server reads it as {}); present must be an
  // object of valid user IDs to valid values.
  const newUsers = has(content, 'users') ? asObject(content['users']) : {};
  if (newUsers === undefined) return reject('power_levels.users_invalid', 'users is not an object');
  for (const u of Object.keys(newUsers)) {
    if (!isValidPowerLevelValue(newUsers[u], rules)) return reject('power_levels.users_invalid', `users[${u}] is not an integer`);
    if (!isUserId(u)) return reject('power_levels.users_invalid', `users key ${showValue(u)} is not a user ID`);
  }
  // F11.4 [v12]
  if (a.privilegedCreators) {
    for (const c of roomCreators(create, rules)) {
      if (has(newUsers, c)) return reject('power_levels.creator_in_users', `users lists the room creator ${c}`);
    }
  }
  // F11.5
  const old = authState.get('m.room.power_levels', '');
  if (old === undefined) return ALLOW;
  const oldContent = old.content;
  const senderLevel = pls.userLevel(event.sender);
  const parse = (v: JsonValue | undefined): number | undefined => parsePowerLevelValue(v, rules);

  // F11.6: added, changed or removed named levels (compare the values present, F15; the reference
  // server does the same — a removed key has no "new value" to compare).
  for (const k of NAMED_LEVEL_KEYS) {
    const o = parse(own(oldContent, k));
    const n = parse(own(content, k));
    if (o === n) continue;
    if (o !== undefined && o > senderLevel) return reject('power_levels.named_level', `${k}: current value ${o} > sender power ${senderLevel}`);
    if (n !== undefined && n > senderLevel) return reject('power_levels.named_level', `${k}: new value ${n} > sender power ${senderLevel}`);
  }
  // F11.7–F11.8: events (and [v6+] notifications)
  const maps = a.limitNotificationsPowerLevels ? ['events', 'notifications'] : ['events'];
  for (const m of maps) {
    const om = asObject(own(oldContent, m));
    const nm = asObject(own(content, m));
    for (const key of unionKeys(om, nm)) {
      const o = parse(own(om, key));
      const n = parse(own(nm, key));
      if (o === n) continue;
      if (o !== undefined && o > senderLevel) return reject('power_levels.events_level', `${m}[${key}]: current value ${o} > sender power ${senderLevel}`);
      if (n !== undefined && n > senderLevel) return reject('power_levels.events_level', `${m}[${key}]: new value ${n} > sender power ${senderLevel}`);
    }
  }
  // F11.9–F11.10: users
  const ou = asObject(own(oldContent, 'users'));
  const userChange = (u: string): AuthResult | undefined => {
    const o = parse(own(ou, u));
    const n = parse(own(newUsers, u));
    if (o === n) return undefined;
    if (u !== event.sender && o !== undefined && o >= senderLevel) {
      return reject('power_levels.user_level', `users[${u}]: current value ${o} >= sender power ${senderLevel}`);
    }
    if (n !== undefined && n > senderLevel) return reject('power_levels.user_level', `users[${u}]: new value ${n} > sender power ${senderLevel}`);
    return undefined;
  };
  // Visit the union of old and new keys without building it (rooms may list many thousands).
  if (ou !== undefined) {
    for (const u of Object.keys(ou)) {
      const r = userChange(u);
      if (r !== undefined) return r;
    }
  }
  for (const u of Object.keys(newUsers)) {
    if (has(ou, u)) continue;
    const r = userChange(u);
    if (r !== undefined) return r;
  }
  // F11.11
  return ALLOW;
}

function unionKeys(a: JsonObject | undefined, b: JsonObject | undefined): Set<string> {
  const out = new Set<string>(a === undefined ? [] : Object.keys(a));
  if (b !== undefined) for (const k of Object.keys(b)) out.add(k);
  return out;
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
 * events against the same few power levels events.
 */
const plMemo = new WeakMap<RoomEvent, WeakMap<RoomEvent, WeakMap<RoomVersionRules, PowerLevels>>>();
const noPlMemo = new WeakMap<RoomEvent, WeakMap<RoomVersionRules, PowerLevels>>();
function cachedPowerLevels(pl: RoomEvent | undefined, create: RoomEvent, rules: RoomVersionRules): PowerLevels {
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
  const a = rules.authorization;
  const create = authState.get('m.room.create', '');
  // F2 [v12]
  if (a.roomIdFromCreateEvent) {
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
  if (a.specialCaseAliases && event.type === 'm.room.aliases') {
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
  if (a.specialCaseRedaction && event.type === 'm.room.redaction') {
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
