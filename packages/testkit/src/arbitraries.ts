/**
 * Small arbitraries (users, power levels, join rules, memberships) and hostile mutations of valid
 * PDUs for fuzzing parsers and engines.
 *
 * @module
 */
import fc from 'fast-check';
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import type { RoomVersionRules } from '@roomgraph/room-versions';

/** Arbitrary valid (non-historical) Matrix user IDs: `@localpart:server` with a lowercase grammar localpart. */
export function userId(options: { readonly servers?: readonly string[] } = {}): fc.Arbitrary<string> {
  const servers = options.servers ?? ['a.example', 'b.example', 'c.example'];
  const local = fc.stringMatching(/^[a-z0-9._=-]{1,12}$/);
  return fc.tuple(local, fc.constantFrom(...servers)).map(([l, s]) => `@${l}:${s}`);
}

/** The join rules a room version supports (`public`, `invite`, `private`, + `knock` v7+, `restricted` v8+, `knock_restricted` v10+). */
export function joinRulesOf(rules: RoomVersionRules): string[] {
  const out = ['public', 'invite', 'private'];
  if (rules.authorization.knocking) out.push('knock');
  if (rules.authorization.restrictedJoinRule) out.push('restricted');
  if (rules.authorization.knockRestrictedJoinRule) out.push('knock_restricted');
  return out;
}

/** Arbitrary join rule valid for the room version (see {@link joinRulesOf}). */
export function joinRule(rules: RoomVersionRules): fc.Arbitrary<string> {
  return fc.constantFrom(...joinRulesOf(rules));
}

/** Arbitrary `m.room.join_rules` content (without `allow`). */
export function joinRulesContent(rules: RoomVersionRules): fc.Arbitrary<JsonObject> {
  return joinRule(rules).map((join_rule) => ({ join_rule }));
}

/** Arbitrary membership valid for the room version (`knock` only v7+). */
export function membership(rules: RoomVersionRules): fc.Arbitrary<string> {
  return fc.constantFrom(...['join', 'leave', 'invite', 'ban', ...(rules.authorization.knocking ? ['knock'] : [])]);
}

/** A membership change: who (`sender`) sets whose (`target`) membership to what. */
export interface MembershipChange {
  /** The sender. */
  readonly sender: string;
  /** The state key (the target user; equal to `sender` for joins, leaves and knocks of oneself). */
  readonly target: string;
  /** The new membership. */
  readonly membership: string;
}

/** Arbitrary {@link MembershipChange} among `users` (self-changes for join/knock, any target otherwise). */
export function membershipChange(rules: RoomVersionRules, users: readonly string[]): fc.Arbitrary<MembershipChange> {
  if (users.length === 0) throw new RangeError('testkit: membershipChange needs users');
  return fc.tuple(fc.constantFrom(...users), fc.constantFrom(...users), membership(rules)).map(([sender, target, m]) => ({
    sender,
    target: m === 'join' || m === 'knock' ? sender : target,
    membership: m,
  }));
}

/** A power level value valid in every room version (an integer). */
export function powerLevelValue(): fc.Arbitrary<number> {
  return fc.oneof(fc.constantFrom(0, 50, 100), fc.integer({ min: -10, max: 150 }));
}

/**
 * Arbitrary `m.room.power_levels` content for `users` (integers only, so valid in every room
 * version; v12 rooms must not list creators in `users` — pass the non-creators).
 */
export function powerLevelsContent(users: readonly string[]): fc.Arbitrary<JsonObject> {
  const level = powerLevelValue();
  const usersArb = users.length === 0 ? fc.constant({}) : fc.dictionary(fc.constantFrom(...users), level, { maxKeys: users.length });
  return fc
    .record(
      {
        users: usersArb,
        users_default: level,
        events_default: level,
        state_default: level,
        ban: level,
        kick: level,
        invite: level,
        redact: level,
        events: fc.dictionary(fc.constantFrom('m.room.name', 'm.room.topic', 'm.room.power_levels', 'm.room.join_rules'), level, { maxKeys: 4 }),
      },
      { requiredKeys: ['users'] },
    )
    .map((r) => r as JsonObject);
}

/** One hostile change applied by {@link hostilePdu} (data, so counterexamples print readably). */
export type HostileMutation =
  | { readonly kind: 'remove'; readonly field: number }
  | { readonly kind: 'wrongType'; readonly field: number; readonly value: JsonValue }
  | { readonly kind: 'hugeString'; readonly field: number; readonly bytes: number }
  | { readonly kind: 'float'; readonly where: 'depth' | 'origin_server_ts' | 'content' }
  | { readonly kind: 'hugeInteger'; readonly where: 'depth' | 'origin_server_ts'; readonly value: number }
  | { readonly kind: 'protoKey'; readonly key: '__proto__' | 'constructor' | 'prototype'; readonly inContent: boolean }
  | { readonly kind: 'forgedSignature'; readonly signature: string }
  | { readonly kind: 'deepNesting'; readonly depth: number }
  | { readonly kind: 'loneSurrogate'; readonly field: number }
  | { readonly kind: 'manyReferences'; readonly field: 'prev_events' | 'auth_events'; readonly count: number };

const FIELDS = ['type', 'sender', 'room_id', 'state_key', 'content', 'prev_events', 'auth_events', 'depth', 'origin_server_ts', 'hashes', 'signatures', 'event_id', 'redacts', 'unsigned'] as const;

/** Arbitrary {@link HostileMutation}. */
export function hostileMutation(): fc.Arbitrary<HostileMutation> {
  const field = fc.nat({ max: FIELDS.length - 1 });
  const wrongValue: fc.Arbitrary<JsonValue> = fc.oneof(
    fc.integer(),
    fc.string({ maxLength: 8 }),
    fc.constant(null),
    fc.boolean(),
    fc.array(fc.nat(), { maxLength: 3 }),
    fc.constant({}),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
  );
  return fc.oneof(
    fc.record({ kind: fc.constant('remove' as const), field }),
    fc.record({ kind: fc.constant('wrongType' as const), field, value: wrongValue }),
    fc.record({ kind: fc.constant('hugeString' as const), field, bytes: fc.constantFrom(256, 70_000) }),
    fc.record({ kind: fc.constant('float' as const), where: fc.constantFrom('depth' as const, 'origin_server_ts' as const, 'content' as const) }),
    fc.record({ kind: fc.constant('hugeInteger' as const), where: fc.constantFrom('depth' as const, 'origin_server_ts' as const), value: fc.constantFrom(2 ** 53, -1, -(2 ** 60), 1e300) }),
    fc.record({ kind: fc.constant('protoKey' as const), key: fc.constantFrom('__proto__' as const, 'constructor' as const, 'prototype' as const), inContent: fc.boolean() }),
    fc.record({ kind: fc.constant('forgedSignature' as const), signature: fc.base64String({ minLength: 4, maxLength: 88 }) }),
    fc.record({ kind: fc.constant('deepNesting' as const), depth: fc.constantFrom(50, 200, 2000) }),
    fc.record({ kind: fc.constant('loneSurrogate' as const), field }),
    fc.record({ kind: fc.constant('manyReferences' as const), field: fc.constantFrom('prev_events' as const, 'auth_events' as const), count: fc.constantFrom(11, 21, 500) }),
  );
}

function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Applies mutations to a deep copy of `json` (never modifies the input). */
export function applyHostileMutations(json: JsonObject, mutations: readonly HostileMutation[]): Record<string, unknown> {
  const out = JSON.parse(JSON.stringify(json)) as Record<string, unknown>;
  const contentOf = (): Record<string, unknown> => {
    const c = out['content'];
    if (c !== null && typeof c === 'object' && !Array.isArray(c)) return c as Record<string, unknown>;
    const fresh: Record<string, unknown> = {};
    out['content'] = fresh;
    return fresh;
  };
  for (const m of mutations) {
    switch (m.kind) {
      case 'remove':
        delete out[FIELDS[m.field]!];
        break;
      case 'wrongType':
        out[FIELDS[m.field]!] = m.value;
        break;
      case 'hugeString': {
        const f = FIELDS[m.field]!;
        const s = 'x'.repeat(m.bytes);
        if (f === 'content' || f === 'hashes' || f === 'signatures' || f === 'unsigned') contentOf()['body'] = s;
        else out[f] = typeof out[f] === 'string' ? `${String(out[f]).slice(0, 1)}${s}` : s;
        break;
      }
      case 'float':
        if (m.where === 'content') contentOf()['level'] = 50.5;
        else out[m.where] = 1.5;
        break;
      case 'hugeInteger':
        out[m.where] = m.value;
        break;
      case 'protoKey': {
        const target = m.inContent ? contentOf() : out;
        setOwn(target, m.key, { polluted: true, membership: 'join', users: { '@mallory:evil.example': 100 } });
        break;
      }
      case 'forgedSignature': {
        const sender = typeof out['sender'] === 'string' ? out['sender'] : '@mallory:evil.example';
        const server = sender.slice(sender.indexOf(':') + 1);
        const sigs = out['signatures'] !== null && typeof out['signatures'] === 'object' ? (out['signatures'] as Record<string, unknown>) : {};
        const existing = sigs[server];
        const keys = existing !== null && typeof existing === 'object' ? Object.keys(existing as object) : [];
        sigs[server] = Object.fromEntries((keys.length > 0 ? keys : ['ed25519:forged']).map((k) => [k, m.signature]));
        out['signatures'] = sigs;
        break;
      }
      case 'deepNesting': {
        let v: unknown = 'bottom';
        for (let i = 0; i < m.depth; i++) v = { d: v };
        contentOf()['nested'] = v;
        break;
      }
      case 'loneSurrogate': {
        const f = FIELDS[m.field]!;
        if (typeof out[f] === 'string') out[f] = `${String(out[f])}\uD800`;
        else contentOf()['body'] = 'lone \uDC00 surrogate';
        break;
      }
      case 'manyReferences': {
        const refs = Array.isArray(out[m.field]) ? (out[m.field] as unknown[]) : [];
        const one = refs[0] ?? '$x';
        out[m.field] = Array.from({ length: m.count }, (_, i) => (typeof one === 'string' ? `${one}${i}` : one));
        break;
      }
    }
  }
  return out;
}

/**
 * Arbitrary hostile variants of a valid PDU (its federation JSON): 1–3 {@link HostileMutation}s —
 * wrong types, removed fields, huge strings, floats, out-of-range integers, `__proto__` /
 * `constructor` keys, forged signatures, deep nesting, lone surrogates, too many references. The
 * result is a fresh object (`Record<string, unknown>`: it may not be a valid `JsonObject`); use it
 * to check that parsers reject cleanly and engines never crash.
 */
export function hostilePdu(validEvent: JsonObject | { readonly json: JsonObject }): fc.Arbitrary<Record<string, unknown>> {
  const json: JsonObject = 'json' in validEvent && validEvent.json !== null && typeof validEvent.json === 'object' && !Array.isArray(validEvent.json) ? (validEvent.json as JsonObject) : (validEvent as JsonObject);
  return fc.array(hostileMutation(), { minLength: 1, maxLength: 3 }).map((ms) => applyHostileMutations(json, ms));
}
