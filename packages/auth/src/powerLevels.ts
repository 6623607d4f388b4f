/**
 * Power levels: the one place that answers "what is user U's power level", "what level does event
 * type T need" and "what is the kick/ban/invite/redact level", for every room version
 * (Server-Server API › Definitions; Client-Server API › m.room.power_levels and Permissions;
 * checklist F0.1–F0.7, F15).
 *
 * Values are parsed per room version and a malformed value never throws: it reads as absent (the
 * default applies). Whether a *new* power levels event with malformed values is acceptable is
 * decided by the authorization rules (F11), not here.
 *
 * @module
 */
import { asObject } from './rules/common.js';
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import type { RoomEvent } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';

/** Defaults of the named levels when a power levels event does not set them (checklist F0.2). */
export const POWER_LEVEL_DEFAULTS = Object.freeze({
  invite: 0,
  kick: 50,
  ban: 50,
  redact: 50,
  state_default: 50,
  events_default: 0,
  users_default: 0,
  notifications_room: 50,
});

/** The seven named integer properties of `m.room.power_levels` content that the auth rules compare (F11.1, F11.6). */
export const NAMED_LEVEL_KEYS = Object.freeze([
  'users_default',
  'events_default',
  'state_default',
  'ban',
  'redact',
  'kick',
  'invite',
] as const);

/** One of {@link NAMED_LEVEL_KEYS}. */
export type NamedLevelKey = (typeof NAMED_LEVEL_KEYS)[number];

/** The level of a v1–v10 room's creator when there is no `m.room.power_levels` event (F0.3). */
export const IMPLICIT_CREATOR_LEVEL = 100;

/**
 * Whitespace that Python's `int()` strips around a number: `str.isspace()` (Unicode White_Space
 * plus the ASCII information separators U+001C–U+001F; not U+FEFF, the byte order mark, nor
 * U+200B or U+180E). The reference homeserver reads v1–v9 string power levels with `int()`.
 */
const PY_SPACE = '\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000';
/**
 * frag:v1-stringy-power-levels, read as the reference homeserver does (Python `int(str)`):
 * optional surrounding whitespace ({@link PY_SPACE}), one optional sign, decimal digits of any
 * script (Unicode `Nd`, e.g. `"٣"` or `"３"`), single underscores between digits allowed, nothing
 * else. (AMBIGUOUS F0.5: the spec says "integer strings" without a grammar.)
 */
const INTEGER_STRING = new RegExp(`^[${PY_SPACE}]*([+-]?)(\\p{Nd}+(?:_\\p{Nd}+)*)[${PY_SPACE}]*$`, 'u');
const ASCII_DIGITS = /^[0-9]+$/;
const IS_DECIMAL = /^\p{Nd}$/u;

/**
 * The value of a Unicode decimal digit: Unicode encodes every `Nd` digit in contiguous runs of ten,
 * 0 to 9 (a stability guarantee), so the value is the offset from the start of its run of digits.
 */
function decimalValue(ch: string): number {
  const cp = ch.codePointAt(0) as number;
  let start = cp;
  while (start > 0 && IS_DECIMAL.test(String.fromCodePoint(start - 1))) start--;
  return (cp - start) % 10;
}

/** Turns `-0` into `0` (`int(-0.5)` and `int("-0")` are `0` in the reference homeserver). */
function noNegativeZero(n: number): number {
  return n === 0 ? 0 : n;
}

/**
 * Parses one power level value as the room version reads it (F0.5–F0.7, F15) — the single parser
 * of the project: the authorization rules and state resolution both read levels through it.
 *
 * - every version: a JSON integer;
 * - `stringPowerLevels` (v1–v9): also a string holding an integer, read as the reference
 *   homeserver's `int()` reads it (`" +007 "` → 7, `"\u00a05"` → 5, `"1_000"` → 1000, `"٣"` → 3;
 *   a leading byte order mark, `"0x10"`, `"1.5"` or `""` are not integers);
 * - `floatPowerLevels` (v1–v5): also a finite non-integer number, truncated toward zero
 *   (`50.57` → 50, `-1.5` → -1, `-0.5` → 0; AMBIGUOUS F0.6: truncation of negatives matches the
 *   reference server's `int()`).
 *
 * Returns `undefined` for anything else (absent, `null`, booleans, objects, non-finite numbers,
 * malformed strings). Never returns `-0`. Never throws. Strings of integers beyond 2^53 lose
 * precision (the reference homeserver keeps arbitrary precision).
 */
export function parsePowerLevelValue(value: JsonValue | undefined, rules: RoomVersionRules): number | undefined {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return noNegativeZero(value);
    if (rules.authorization.floatPowerLevels && Number.isFinite(value)) return noNegativeZero(Math.trunc(value));
    return undefined;
  }
  if (typeof value === 'string' && rules.authorization.stringPowerLevels) {
    const m = INTEGER_STRING.exec(value);
    if (m === null) return undefined;
    const digits = (m[2] as string).replaceAll('_', '');
    let n: number;
    if (ASCII_DIGITS.test(digits)) {
      n = Number(digits);
    } else {
      n = 0;
      for (const ch of digits) n = n * 10 + decimalValue(ch);
    }
    return noNegativeZero(m[1] === '-' ? -n : n);
  }
  return undefined;
}

/**
 * Whether a value present in a power levels event is acceptable for the room version: what F11.1–F11.3
 * require of *new* power levels events. v10+ (`integerPowerLevels`): JSON integers only. v1–v9:
 * anything {@link parsePowerLevelValue} accepts.
 */
export function isValidPowerLevelValue(value: JsonValue | undefined, rules: RoomVersionRules): boolean {
  if (rules.authorization.integerPowerLevels) return typeof value === 'number' && Number.isInteger(value);
  return parsePowerLevelValue(value, rules) !== undefined;
}


function own(o: JsonObject | undefined, key: string): JsonValue | undefined {
  return o !== undefined && Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}

/**
 * The room creators of a room (F0.3, room version 12 › Authorisation rules notes).
 *
 * - `privilegedCreators` (v12): the create event's `sender` plus every string in
 *   `content.additional_creators` (when it is an array);
 * - otherwise the single creator: `content.creator` where the version has `creatorInContent`
 *   (v1–v10; F0.4 follows the reference server), else the create `sender` (v11).
 *
 * Empty when there is no create event.
 */
export function roomCreators(createEvent: RoomEvent | undefined, rules: RoomVersionRules): ReadonlySet<string> {
  const out = new Set<string>();
  if (createEvent === undefined) return out;
  if (rules.authorization.privilegedCreators) {
    out.add(createEvent.sender);
    const extra = createEvent.content['additional_creators'];
    if (Array.isArray(extra)) for (const c of extra as readonly JsonValue[]) if (typeof c === 'string') out.add(c);
    return out;
  }
  if (rules.authorization.creatorInContent) {
    const c = createEvent.content['creator'];
    if (typeof c === 'string') out.add(c);
    return out;
  }
  out.add(createEvent.sender);
  return out;
}

/** The answers the authorization rules and state resolution need from the room's power levels. */
export interface PowerLevels {
  /** The `m.room.power_levels` event these answers come from, if any. */
  readonly event: RoomEvent | undefined;
  /** The room creators (see {@link roomCreators}); in v12 each has an infinite level. */
  readonly creators: ReadonlySet<string>;
  /** `users_default` (F0.3): used for users not listed in `users`. */
  readonly usersDefault: number;
  /** `events_default` (F0.1). */
  readonly eventsDefault: number;
  /** `state_default` (F0.1). */
  readonly stateDefault: number;
  /** The *invite level* (default 0). */
  readonly invite: number;
  /** The *kick level* (default 50). */
  readonly kick: number;
  /** The *ban level* (default 50). */
  readonly ban: number;
  /** The *redact level* (default 50). */
  readonly redact: number;
  /**
   * The power level of `userId` (F0.3): `Infinity` for a v12 room creator; else `users[userId]`,
   * else `users_default`; with no power levels event, 100 for the v1–v11 creator and 0 otherwise.
   */
  userLevel(userId: string): number;
  /** The *required power level* for sending an event of `type` (F0.1): `events[type]`, else `state_default` / `events_default`. */
  eventLevel(type: string, isState: boolean): number;
  /** The level needed to trigger a notification of kind `key` (e.g. `room`, default 50). */
  notificationLevel(key: string): number;
  /** Whether `userId` is a room creator with infinite power (v12 only; always `false` before). */
  isPrivilegedCreator(userId: string): boolean;
}

class PowerLevelsImpl implements PowerLevels {
  readonly event: RoomEvent | undefined;
  readonly creators: ReadonlySet<string>;
  readonly usersDefault: number;
  readonly eventsDefault: number;
  readonly stateDefault: number;
  readonly invite: number;
  readonly kick: number;
  readonly ban: number;
  readonly redact: number;
  readonly #rules: RoomVersionRules;
  readonly #users: JsonObject | undefined;
  readonly #events: JsonObject | undefined;
  readonly #notifications: JsonObject | undefined;
  readonly #privileged: boolean;

  constructor(pl: RoomEvent | undefined, create: RoomEvent | undefined, rules: RoomVersionRules) {
    this.event = pl;
    this.#rules = rules;
    this.creators = roomCreators(create, rules);
    this.#privileged = rules.authorization.privilegedCreators;
    const c = pl?.content;
    const named = (k: NamedLevelKey, d: number): number => parsePowerLevelValue(own(c, k), rules) ?? d;
    this.usersDefault = named('users_default', POWER_LEVEL_DEFAULTS.users_default);
    this.eventsDefault = named('events_default', POWER_LEVEL_DEFAULTS.events_default);
    this.stateDefault = named('state_default', POWER_LEVEL_DEFAULTS.state_default);
    this.invite = named('invite', POWER_LEVEL_DEFAULTS.invite);
    this.kick = named('kick', POWER_LEVEL_DEFAULTS.kick);
    this.ban = named('ban', POWER_LEVEL_DEFAULTS.ban);
    this.redact = named('redact', POWER_LEVEL_DEFAULTS.redact);
    this.#users = asObject(own(c, 'users'));
    this.#events = asObject(own(c, 'events'));
    this.#notifications = asObject(own(c, 'notifications'));
  }

  isPrivilegedCreator(userId: string): boolean {
    return this.#privileged && this.creators.has(userId);
  }

  userLevel(userId: string): number {
    if (this.#privileged && this.creators.has(userId)) return Infinity;
    if (this.event === undefined) {
      // F0.3 [v1–v11]: no power levels event → creator 100, everyone else 0. (In v12 the creators
      // were answered above and everyone else is 0.)
      return !this.#privileged && this.creators.has(userId) ? IMPLICIT_CREATOR_LEVEL : 0;
    }
    return parsePowerLevelValue(own(this.#users, userId), this.#rules) ?? this.usersDefault;
  }

  eventLevel(type: string, isState: boolean): number {
    return parsePowerLevelValue(own(this.#events, type), this.#rules) ?? (isState ? this.stateDefault : this.eventsDefault);
  }

  notificationLevel(key: string): number {
    // Only `room` has a specified default (50); other keys get the same default.
    return parsePowerLevelValue(own(this.#notifications, key), this.#rules) ?? POWER_LEVEL_DEFAULTS.notifications_room;
  }
}

/**
 * Reads the power levels of a room from its `m.room.power_levels` event (or its absence) and its
 * `m.room.create` event (for the creators), per the room version.
 *
 * @example
 * ```ts
 * const pls = powerLevelsOf(state.get('m.room.power_levels', ''), state.get('m.room.create', ''), rules);
 * pls.userLevel('@alice:example.org'); // e.g. 100
 * pls.eventLevel('m.room.name', true); // e.g. 50
 * ```
 */
export function powerLevelsOf(
  powerLevelsEvent: RoomEvent | undefined,
  createEvent: RoomEvent | undefined,
  rules: RoomVersionRules,
): PowerLevels {
  return new PowerLevelsImpl(powerLevelsEvent, createEvent, rules);
}
