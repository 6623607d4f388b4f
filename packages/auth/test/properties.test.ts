/** Property tests: checkAuth never throws, and does not depend on the order of options.authEvents. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import { stateLookupOf, toRoomEvent, type RoomEvent } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { checkAuth, parsePowerLevelValue, powerLevelsOf } from '@roomgraph/auth';
import { ALICE, ALL, BOB, CAROL, Room } from './helpers.js';
import { loadAuthFixtures } from './fixtures.js';

const json = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<JsonValue>;
const users = fc.constantFrom(ALICE, BOB, CAROL, '@x:y', 'not-a-user', '');
const types = fc.constantFrom('m.room.create', 'm.room.member', 'm.room.power_levels', 'm.room.join_rules', 'm.room.third_party_invite', 'm.room.aliases', 'm.room.redaction', 'm.room.message', 'm.room.name');
const contentKeys = fc.constantFrom(
  'membership', 'join_rule', 'users', 'users_default', 'events', 'events_default', 'state_default', 'ban', 'kick', 'invite', 'redact',
  'notifications', 'creator', 'room_version', 'additional_creators', 'm.federate', 'third_party_invite', 'join_authorised_via_users_server',
  'public_key', 'public_keys', 'redacts',
);
const content: fc.Arbitrary<JsonObject> = fc.dictionary(contentKeys, json, { maxKeys: 6 }) as fc.Arbitrary<JsonObject>;
const memberships = fc.constantFrom('join', 'invite', 'leave', 'ban', 'knock', 'x');

/** An arbitrary (mostly malformed) PDU. */
const pdu = (roomId: string): fc.Arbitrary<JsonObject> =>
  fc.record({
    event_id: fc.constantFrom('$a', '$b', '$c', '$create', '$d:a.org'),
    room_id: fc.oneof(fc.constant(roomId), json),
    type: fc.oneof(types, json),
    sender: fc.oneof(users, json),
    state_key: fc.oneof(users, fc.constant(''), json),
    content: fc.oneof(
      content,
      memberships.chain((m) => content.map((c) => ({ ...c, membership: m }))),
      json,
    ),
    prev_events: fc.oneof(fc.constant(['$create']), json),
    auth_events: fc.oneof(fc.constant(['$a', '$b', '$c', '$create']), json),
    redacts: json,
    signatures: json,
  }, { requiredKeys: ['event_id', 'type'] }) as fc.Arbitrary<JsonObject>;

describe('checkAuth properties', () => {
  for (const v of ALL) {
    it(`never throws on malformed events and states (v${v})`, () => {
      const rules = getRoomVersion(v);
      const roomId = rules.authorization.roomIdFromCreateEvent ? '!create' : '!room:a.org';
      fc.assert(
        fc.property(pdu(roomId), fc.array(pdu(roomId), { maxLength: 8 }), fc.boolean(), (e, auth, rejected) => {
          const event = toRoomEvent(e, rules);
          const authEvents = auth.map((a) => toRoomEvent(a, rules));
          const r = checkAuth(event, stateLookupOf(authEvents), rules, {
            authEvents,
            isRejected: () => rejected,
            serverKeys: () => new Uint8Array(32),
          });
          expect(typeof r.allowed).toBe('boolean');
          if (!r.allowed) {
            expect(typeof r.rule).toBe('string');
            expect(r.rule).not.toBe('internal');
          }
        }),
        { numRuns: 300 },
      );
    });
  }

  it('never throws with well-formed rooms and fuzzed power levels / join rules / memberships', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ALL), content, content, memberships, users, users, (v, plContent, newContent, m, sender, target) => {
        const r = new Room(v);
        const state: RoomEvent[] = [...r.state(), r.ev('m.room.power_levels', ALICE, plContent, '')];
        for (const ev of [r.ev('m.room.power_levels', sender, newContent, ''), r.member(target, m, sender, newContent), r.ev('m.room.message', sender, newContent)]) {
          const res = r.check(ev, state);
          expect(typeof res.allowed).toBe('boolean');
          if (!res.allowed) expect(res.rule).not.toBe('internal');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('does not depend on the order of options.authEvents (fixture events, shuffled)', () => {
    const fixtures = loadAuthFixtures().filter((_, i) => i % 5 === 0);
    fc.assert(
      fc.property(fc.constantFrom(...fixtures), fc.integer(), fc.boolean(), (f, seed, extraDup) => {
        const rules = getRoomVersion(f.room_version);
        const event = toRoomEvent(f.event, rules, f.event['event_id'] as string);
        const authEvents = f.auth_events.map((e) => toRoomEvent(e, rules, e['event_id'] as string));
        if (extraDup && authEvents.length > 1) {
          // A second event for an existing (type, state_key), listed in auth_events: a duplicate.
          const dup = toRoomEvent({ ...f.auth_events[authEvents.length - 1]!, event_id: '$dup', origin_server_ts: 1 }, rules, '$dup');
          authEvents.push(dup);
        }
        const ev: RoomEvent = extraDup ? { ...event, authEvents: [...event.authEvents, '$dup'] } : event;
        const shuffled = shuffle(authEvents, seed);
        const a = checkAuth(ev, stateLookupOf(authEvents), rules, { authEvents });
        const b = checkAuth(ev, stateLookupOf(authEvents), rules, { authEvents: shuffled });
        expect(b).toEqual(a);
      }),
      { numRuns: 300 },
    );
  });
});

function shuffle<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('power levels helper', () => {
  const v1 = getRoomVersion('1');
  const v6 = getRoomVersion('6');
  const v10 = getRoomVersion('10');
  it('parses values per room version (F0.5–F0.7)', () => {
    expect(parsePowerLevelValue(50, v1)).toBe(50);
    expect(parsePowerLevelValue(' +0050 ', v1)).toBe(50);
    expect(parsePowerLevelValue('-7', v6)).toBe(-7);
    expect(parsePowerLevelValue('5.0', v1)).toBeUndefined();
    // Python's int() (the reference homeserver's reader) takes single underscores between digits.
    expect(parsePowerLevelValue('1_000', v1)).toBe(1000);
    expect(parsePowerLevelValue('', v1)).toBeUndefined();
    expect(parsePowerLevelValue(50.57, v1)).toBe(50);
    expect(parsePowerLevelValue(51146.98, v1)).toBe(51146);
    expect(parsePowerLevelValue(-1.5, v1)).toBe(-1);
    expect(parsePowerLevelValue(50.5, v6)).toBeUndefined();
    expect(parsePowerLevelValue(Infinity, v1)).toBeUndefined();
    expect(parsePowerLevelValue('50', v10)).toBeUndefined();
    expect(parsePowerLevelValue(true, v1)).toBeUndefined();
    expect(parsePowerLevelValue(null, v1)).toBeUndefined();
  });
  it('reads odd v1–v9 strings and -0.5 as the reference homeserver (Python int()) does', () => {
    // [value, v1–v9 reading]: Python str.isspace() whitespace is stripped (Unicode spaces, the
    // ASCII separators U+001C–U+001F), a byte order mark or a zero-width space is not whitespace,
    // any script's decimal digits count, single underscores separate digits, and -0 is 0.
    const table: [string | number, number | undefined][] = [
      ['\u00a05', 5], ['\u20005\u3000', 5], ['\u1680-3', -3], ['\u2028 7 \u2029', 7], ['\x1c7\x1f', 7], ['\x857', 7],
      ['\ufeff5', undefined], ['5\ufeff', undefined], ['\u200b5', undefined], ['\u180e5', undefined],
      ['\u0663', 3], ['\uff13\uff12', 32], ['\u0967\u0966', 10], ['1_0', 10], ['1__0', undefined], ['_1', undefined], ['1_', undefined],
      ['-0', 0], ['+0', 0], ['--1', undefined], ['0x10', undefined], ['1e3', undefined], [' ', undefined],
    ];
    for (const [value, want] of table) {
      for (const v of [v1, v6]) expect(parsePowerLevelValue(value, v), JSON.stringify(value)).toBe(want);
      expect(parsePowerLevelValue(value, v10), JSON.stringify(value)).toBeUndefined();
    }
    expect(Object.is(parsePowerLevelValue(-0.5, v1), 0)).toBe(true);
    expect(Object.is(parsePowerLevelValue(-0, v10), 0)).toBe(true);
    expect(Object.is(parsePowerLevelValue('-0', v1), 0)).toBe(true);
  });
  it('answers user, event and named levels with defaults (F0.1–F0.3)', () => {
    for (const v of ALL) {
      const r = new Room(v);
      const none = powerLevelsOf(undefined, r.create(), r.rules);
      expect(none.userLevel(ALICE)).toBe(r.rules.authorization.privilegedCreators ? Infinity : 100);
      expect(none.userLevel(BOB)).toBe(0);
      expect([none.invite, none.kick, none.ban, none.redact, none.stateDefault, none.eventsDefault]).toEqual([0, 50, 50, 50, 50, 0]);
      expect(none.eventLevel('m.room.name', true)).toBe(50);
      expect(none.eventLevel('m.room.message', false)).toBe(0);
      expect(none.notificationLevel('room')).toBe(50);
      const pls = powerLevelsOf(r.pl({ users_default: 5, events: { 'm.room.name': 20 }, notifications: { room: 10 }, kick: 1 }), r.create(), r.rules);
      expect(pls.userLevel(CAROL)).toBe(5);
      expect(pls.userLevel(BOB)).toBe(50);
      expect(pls.eventLevel('m.room.name', true)).toBe(20);
      expect(pls.kick).toBe(1);
      expect(pls.notificationLevel('room')).toBe(10);
      expect(pls.isPrivilegedCreator(ALICE)).toBe(v === '12');
    }
  });
  it('never throws on malformed power levels content', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ALL), content, json, (v, c, u) => {
        const r = new Room(v);
        const pls = powerLevelsOf(r.ev('m.room.power_levels', ALICE, { ...c, users: u as JsonValue }, ''), r.create({ additional_creators: u as JsonValue }), r.rules);
        for (const x of [pls.userLevel(BOB), pls.eventLevel('m.room.name', true), pls.ban, pls.notificationLevel('room')]) expect(typeof x).toBe('number');
      }),
      { numRuns: 300 },
    );
  });
});
