/**
 * The redaction algorithm of every room version (frag:v1-redactions, frag:v6-redactions,
 * room version 8 › Redactions, frag:v9-redactions, frag:v11-redactions; checklist §e E1–E5).
 *
 * Redaction is also the first step of signing, verifying and the reference hash (E9), so it must be
 * exact.
 *
 * @module
 */
import { isJsonObject, type JsonObject, type JsonValue } from '@roomgraph/canonical-json';
import type { RedactionRules, RoomVersionRules } from '@roomgraph/room-versions';
import { frozenCopy, setOwn } from './freeze.js';
import { requireObject } from './errors.js';

/** Top-level keys every room version keeps (E1). */
const KEEP_TOP_LEVEL = [
  'event_id', 'type', 'room_id', 'sender', 'state_key', 'content', 'hashes', 'signatures', 'depth',
  'prev_events', 'auth_events', 'origin_server_ts',
] as const;
/** Top-level keys kept only in v1–v10 (E1; dropped by frag:v11-redactions). */
const KEEP_TOP_LEVEL_PRE_V11 = ['origin', 'membership', 'prev_state'] as const;

const POWER_LEVELS_KEYS = ['ban', 'events', 'events_default', 'kick', 'redact', 'state_default', 'users', 'users_default'] as const;


/** Which content keys survive for `type` under `r` (E2); `'all'` for v11+ `m.room.create`. */
function keptContentKeys(type: JsonValue | undefined, r: RedactionRules): readonly string[] | 'all' {
  switch (type) {
    case 'm.room.member':
      return r.keepJoinAuthorisedViaUsersServer ? ['membership', 'join_authorised_via_users_server'] : ['membership'];
    case 'm.room.create':
      return r.keepAllCreateContent ? 'all' : ['creator'];
    case 'm.room.join_rules':
      return r.keepJoinRulesAllow ? ['join_rule', 'allow'] : ['join_rule'];
    case 'm.room.power_levels':
      return r.keepPowerLevelsInvite ? [...POWER_LEVELS_KEYS, 'invite'] : POWER_LEVELS_KEYS;
    case 'm.room.history_visibility':
      return ['history_visibility'];
    case 'm.room.aliases':
      return r.keepAliasesContent ? ['aliases'] : [];
    case 'm.room.redaction':
      return r.keepRedactionRedacts ? ['redacts'] : [];
    default:
      return [];
  }
}

/**
 * The content of the redacted event (E2–E4): what {@link redact} puts under `content` (internal:
 * `canonicalSize` encodes it without redacting the whole event).
 */
export function redactContent(type: JsonValue | undefined, content: JsonValue | undefined, r: RedactionRules): JsonObject {
  const out: Record<string, JsonValue> = {};
  if (!isJsonObject(content)) return Object.freeze(out);
  const keep = keptContentKeys(type, r);
  if (keep === 'all') return frozenCopy(content) as JsonObject;
  // Kept keys in their original order ("if present": never adds keys, E5).
  for (const k of Object.keys(content)) {
    if (keep.includes(k)) setOwn(out, k, frozenCopy(content[k] as JsonValue));
  }
  // v11+ m.room.member: `third_party_invite` is reduced to its `signed` key (frag:v11-redactions).
  // E4 is silent on a `third_party_invite` that is not an object or has no `signed`: like Synapse,
  // drop it then (never keep `{}`).
  if (type === 'm.room.member' && r.keepThirdPartyInviteSigned) {
    const tpi = content['third_party_invite'];
    if (isJsonObject(tpi) && Object.hasOwn(tpi, 'signed')) {
      setOwn(out, 'third_party_invite', Object.freeze({ signed: frozenCopy(tpi['signed'] as JsonValue) }));
    }
  }
  return Object.freeze(out);
}

/**
 * Redacts an event with the room version's algorithm (checklist E1–E5): keeps only the allowed
 * top-level keys (those present; `unsigned` and top-level `redacts` always go) and, in `content`,
 * only the keys allowed for the event's `type`. A `content` that is not an object becomes `{}`.
 *
 * Works on any JSON object (a PDU, a client-format event); `event_id` is kept when present.
 * Returns a new deep-frozen object and never modifies `event`. Idempotent.
 *
 * @throws {@link EventsError} `EVENTS_NOT_ENCODABLE` when a kept value contains itself or nests
 *   deeper than the canonical JSON encoder's limit (such an event cannot be hashed or signed);
 *   `EVENTS_INVALID_ARGUMENT` when `event` is not an object.
 *
 * @example
 * ```ts
 * redact({ type: 'm.room.message', content: { body: 'hi' }, sender: '@a:x', unsigned: {} }, getRoomVersion('11'));
 * // { type: 'm.room.message', content: {}, sender: '@a:x' }
 * ```
 */
export function redact(event: JsonObject, rules: RoomVersionRules): JsonObject {
  requireObject(event);
  const r = rules.redaction;
  const out: Record<string, JsonValue> = {};
  for (const k of Object.keys(event)) {
    if (k === 'content') {
      out['content'] = redactContent(event['type'], event['content'], r);
    } else if (keepsTopLevel(k, r)) {
      out[k] = frozenCopy(event[k] as JsonValue);
    }
  }
  return Object.freeze(out);
}

/**
 * Whether {@link redact} keeps the top-level key `k` (other than `content`, which it keeps
 * redacted) with its value as it is (internal: see {@link redactContent}).
 */
export function keepsTopLevel(k: string, r: RedactionRules): boolean {
  return (KEEP_TOP_LEVEL as readonly string[]).includes(k) || (r.keepOriginMembershipPrevState && (KEEP_TOP_LEVEL_PRE_V11 as readonly string[]).includes(k));
}
