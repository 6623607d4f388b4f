// checkAuth reads power levels through a memo (the last answer, then weak maps per power levels
// event, create event and room version): in any order of checks, each answer must be the one for
// its own power levels event, create event and room version.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import { type RoomEvent, stateLookupOf, toRoomEvent } from '@roomgraph/events';
import { type RoomVersionRules, getRoomVersion } from '@roomgraph/room-versions';
import { checkAuth } from '../src/index.js';

const A = '@a:x';
const B = '@b:x';
const V9 = getRoomVersion('9');
const V10 = getRoomVersion('10');
const ev = (rules: RoomVersionRules, id: string, type: string, sender: string, content: JsonObject, stateKey: string): RoomEvent =>
  toRoomEvent({ event_id: id, room_id: '!r:x', type, sender, state_key: stateKey, content, prev_events: [], auth_events: [], depth: 1, origin_server_ts: 1 }, rules);

/** A check of A's topic change: which power levels event, create event and version, and whether it is allowed. */
interface Case { readonly name: string; readonly rules: RoomVersionRules; readonly create: string; readonly pl: string | undefined; readonly allowed: boolean }
const CASES: readonly Case[] = [
  // No power levels event: the creator has 100, anyone else 0; state needs 50.
  { name: 'creator, no power levels', rules: V10, create: 'c1', pl: undefined, allowed: true },
  { name: 'not the creator, no power levels', rules: V10, create: 'c2', pl: undefined, allowed: false },
  { name: 'A at 100', rules: V10, create: 'c1', pl: 'p100', allowed: true },
  { name: 'A at 0', rules: V10, create: 'c1', pl: 'p0', allowed: false },
  // A string level counts in v1–v9 only.
  { name: 'A at "100", v9', rules: V9, create: 'c1', pl: 'pString', allowed: true },
  { name: 'A at "100", v10', rules: V10, create: 'c1', pl: 'pString', allowed: false },
];

/** The events of every case, the same objects in both versions (what the memo is keyed by). */
function eventsOf(rules: RoomVersionRules): Map<string, RoomEvent> {
  return new Map([
    ['c1', ev(rules, '$c1', 'm.room.create', A, { creator: A }, '')],
    ['c2', ev(rules, '$c2', 'm.room.create', B, { creator: B }, '')],
    ['p100', ev(rules, '$p100', 'm.room.power_levels', A, { users: { [A]: 100 } }, '')],
    ['p0', ev(rules, '$p0', 'm.room.power_levels', A, { users: { [A]: 0 } }, '')],
    ['pString', ev(rules, '$pString', 'm.room.power_levels', A, { users: { [A]: '100' } }, '')],
    ['member', ev(rules, '$m', 'm.room.member', A, { membership: 'join' }, A)],
    ['topic', ev(rules, '$t', 'm.room.topic', A, { topic: 't' }, '')],
  ]);
}
const EVENTS = eventsOf(V10);

function run(c: Case): boolean {
  const state = [EVENTS.get(c.create), EVENTS.get('member'), ...(c.pl !== undefined ? [EVENTS.get(c.pl)] : [])] as RoomEvent[];
  return checkAuth(EVENTS.get('topic') as RoomEvent, stateLookupOf(state), c.rules).allowed;
}

describe('power levels memo', () => {
  it('answers each check for its own power levels, create event and version, in any order', () => {
    for (const c of CASES) expect(run(c), c.name).toBe(c.allowed);
    // Every ordered pair of cases, one right after the other.
    for (const x of CASES) for (const y of CASES) {
      expect(run(x), x.name).toBe(x.allowed);
      expect(run(y), `${y.name} after ${x.name}`).toBe(y.allowed);
    }
    fc.assert(fc.property(fc.array(fc.constantFrom(...CASES), { maxLength: 30 }), (cs) => {
      for (const c of cs) expect(run(c), c.name).toBe(c.allowed);
    }));
  });
});
