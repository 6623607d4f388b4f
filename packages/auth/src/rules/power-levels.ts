/**
 * The rules for `m.room.power_levels` (Room versions › Authorization rules, rule 10 in v12's
 * numbering — checklist F11): value types per room version, the creators' absence from `users`
 * (v12), and that a sender changes only levels at or below its own.
 *
 * @module
 */
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import type { RoomEvent, StateLookup } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { NAMED_LEVEL_KEYS, type PowerLevels, isValidPowerLevelValue, parsePowerLevelValue, roomCreators } from '../powerLevels.js';
import { showValue } from '../show.js';
import { isUserId } from '../userId.js';
import { ALLOW, type AuthResult, asObject, has, own, reject } from './common.js';

/** F11: `m.room.power_levels`. */
export function checkPowerLevels(
  event: RoomEvent,
  authState: StateLookup<RoomEvent>,
  rules: RoomVersionRules,
  create: RoomEvent,
  pls: PowerLevels,
): AuthResult {
  const flags = rules.authorization;
  const content = event.content;
  if (flags.integerPowerLevels) {
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
  if (flags.privilegedCreators) {
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
  const maps = flags.limitNotificationsPowerLevels ? ['events', 'notifications'] : ['events'];
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
