// Auth events selection as pairs (authEventTypes), as state keys (authStateKeys, with its
// member key cache) and into a reused buffer (authPairsInto), and the small state lookup (stateEntriesOf), each against a plain model:
// the selection as the spec lists it, and a map keyed by stateKeyOf.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type JsonObject, isJsonObject } from '@roomgraph/canonical-json';
import { ROOM_VERSIONS, getRoomVersion, type RoomVersionRules } from '@roomgraph/room-versions';
import { AuthPairBuffer, MEMBER_KEY_CACHE_SIZE, authEventTypes, authPairsInto, authStateKeys } from '../src/authEventsSelection.js';
import { type RoomEvent, stateEntriesOf, stateKeyOf, stateLookupOf, toRoomEvent } from '../src/view.js';

/** Server-Server API › Auth events selection, written out plainly. */
function modelSelection(e: { type: string; stateKey: string | undefined; sender: string; content: JsonObject }, rules: RoomVersionRules, includeCreate: boolean): [string, string][] {
  if (e.type === 'm.room.create') return [];
  const out: [string, string][] = [];
  if (rules.eventFormat.createEventInAuthEvents || includeCreate) out.push(['m.room.create', '']);
  out.push(['m.room.power_levels', ''], ['m.room.member', e.sender]);
  if (e.type !== 'm.room.member' || e.stateKey === undefined) return out;
  if (e.stateKey !== e.sender) out.push(['m.room.member', e.stateKey]);
  const m = e.content['membership'];
  if (m === 'join' || m === 'invite' || m === 'knock') out.push(['m.room.join_rules', '']);
  const tpi = e.content['third_party_invite'];
  if (m === 'invite' && isJsonObject(tpi)) {
    const signed = tpi['signed'];
    if (isJsonObject(signed) && typeof signed['token'] === 'string') out.push(['m.room.third_party_invite', signed['token']]);
  }
  const via = e.content['join_authorised_via_users_server'];
  if (m === 'join' && rules.authorization.restrictedJoinRule && typeof via === 'string' && via !== e.sender && via !== e.stateKey) out.push(['m.room.member', via]);
  return out;
}

const users = fc.constantFrom('@a:x', '@b:x', '@a:y', '', '@a:', 'a:1');
const anyJson = fc.oneof(fc.string({ maxLength: 3 }), fc.integer(), fc.constant(null), fc.constant([]), fc.dictionary(fc.constantFrom('token', 'signed'), fc.string({ maxLength: 2 })));
const selectionInput = fc.record({
  type: fc.constantFrom('m.room.member', 'm.room.message', 'm.room.create', 'm.room.power_levels'),
  stateKey: fc.option(users, { nil: undefined }),
  sender: users,
  content: fc.record(
    {
      membership: fc.oneof(fc.constantFrom('join', 'invite', 'knock', 'leave', 'ban'), anyJson),
      third_party_invite: fc.oneof(fc.record({ signed: fc.oneof(fc.record({ token: fc.oneof(fc.string({ maxLength: 4 }), anyJson) }), anyJson) }), anyJson),
      join_authorised_via_users_server: fc.oneof(users, anyJson),
    },
    { requiredKeys: [] },
  ) as fc.Arbitrary<JsonObject>,
});
const versions = fc.constantFrom(...ROOM_VERSIONS.values());

describe('auth events selection', () => {
  it('authEventTypes, authStateKeys and authPairsInto list the spec\'s pairs, in its order, in every room version', () => {
    const buffer = new AuthPairBuffer(); // one for every run: longer selections, then shorter ones
    fc.assert(
      fc.property(selectionInput, versions, fc.boolean(), (e, rules, includeCreate) => {
        const want = modelSelection(e, rules, includeCreate);
        const opts = includeCreate ? { includeCreate: true } : undefined;
        expect(authEventTypes(e, rules, opts).map(([t, k]) => [t, k])).toEqual(want);
        expect(authStateKeys(e, rules, opts)).toEqual(want.map(([t, k]) => stateKeyOf(t, k)));
        authPairsInto(e, rules, buffer, opts);
        expect(buffer.length).toBe(want.length);
        expect(want.map((_p, i) => [buffer.types[i], buffer.stateKeys[i]])).toEqual(want);
      }),
      { numRuns: 2000 },
    );
  });

  it('authStateKeys gives the right member keys past its cache\'s bound', () => {
    const rules = getRoomVersion('10');
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < MEMBER_KEY_CACHE_SIZE + 100; i += 7) {
        const sender = `@u${i}:x`;
        const keys = authStateKeys({ type: 'm.room.message', stateKey: undefined, sender, content: {} }, rules);
        if (keys[2] !== stateKeyOf('m.room.member', sender)) throw new Error(`wrong member key for ${sender}: ${String(keys[2])}`);
      }
    }
    expect(authStateKeys({ type: 'm.room.member', stateKey: '@t:x', sender: '@u7:x', content: { membership: 'join' } }, rules))
      .toEqual([stateKeyOf('m.room.create', ''), stateKeyOf('m.room.power_levels', ''), stateKeyOf('m.room.member', '@u7:x'), stateKeyOf('m.room.member', '@t:x'), stateKeyOf('m.room.join_rules', '')]);
  });
});

describe('stateEntriesOf', () => {
  const rules = getRoomVersion('10');
  const event = fc.record({ id: fc.constantFrom('$1', '$2', '$3', '$4'), type: fc.constantFrom('m.room.member', 'm.room.create', 'a', 'a:b', ''), sk: fc.option(fc.constantFrom('', '@a:x', ':', 'b'), { nil: undefined }) })
    .map(({ id, type, sk }): RoomEvent => toRoomEvent({ event_id: id, type, ...(sk !== undefined ? { state_key: sk } : {}), content: {} }, rules));
  const query = fc.tuple(fc.constantFrom('m.room.member', 'm.room.create', 'a', 'a:b', '', 'x'), fc.constantFrom('', '@a:x', ':', 'b', 'y'));

  it('answers as stateLookupOf and lists its map\'s values, for few events and many', () => {
    fc.assert(
      fc.property(fc.oneof(fc.array(event, { maxLength: 16 }), fc.array(event, { minLength: 17, maxLength: 40, size: 'max' })), fc.array(query, { maxLength: 12 }), (events, queries) => {
        const model = stateLookupOf(events);
        const got = stateEntriesOf(events);
        expect(got.entries).toEqual([...model.map.values()]);
        for (let i = 0; i < got.entries.length; i++) expect(got.entries[i]).toBe([...model.map.values()][i]);
        for (const [t, k] of queries) expect(got.get(t, k)).toBe(model.get(t, k));
        for (const e of events) if (e.stateKey !== undefined) expect(got.get(e.type, e.stateKey)).toBe(model.get(e.type, e.stateKey));
      }),
      { numRuns: 1000 },
    );
  });
});
