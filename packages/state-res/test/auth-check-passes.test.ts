// One iterative-auth-checks step function over two passes (what state resolution v2 does for its
// steps 2 and 4, iterative-auth-checks.ts `authCheckerOver`) must give the state that two
// separate runs of the public `iterativeAuthChecks` give, the second starting from the first's
// result: the checker's caches (auth events by ID, the create / PL / JR state events) must not
// carry anything stale from one pass into the next.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { JsonObject } from '@roomgraph/canonical-json';
import { type RoomEvent, stateKeyOf } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { defaultAuthChecker, iterativeAuthChecks } from '@roomgraph/state-res';
import { authCheckPass, authCheckerOver } from '../src/iterative-auth-checks.js';
import { ResolutionCache, ResolutionRun } from '../src/run.js';
import { eventsOf } from './helpers.js';

const v10 = getRoomVersion('10');
const USERS = ['@a:x', '@b:x', '@c:x', '@d:x'];

interface Step {
  kind: 'pl' | 'jr' | 'join' | 'leave' | 'topic';
  sender: number;
  target: number;
  level: number;
  plAuth: number; // which earlier PL event it cites
  pass: 1 | 2;
}

/** A room: create, @a's join, PL 0 (@a: 100), public join rules, then the random steps' events. */
function roomOf(steps: readonly Step[]): { events: Map<string, RoomEvent>; initial: Map<string, string>; pass1: string[]; pass2: string[] } {
  const jsons: JsonObject[] = [];
  const ev = (id: string, type: string, sk: string, sender: string, content: JsonObject, auth: string[], ts: number): void => {
    jsons.push({ event_id: id, room_id: '!r:x', type, state_key: sk, sender, content, auth_events: auth, prev_events: [], depth: ts, origin_server_ts: ts });
  };
  ev('$create', 'm.room.create', '', '@a:x', { creator: '@a:x', room_version: '10' }, [], 1);
  ev('$ja', 'm.room.member', '@a:x', '@a:x', { membership: 'join' }, ['$create'], 2);
  ev('$pl0', 'm.room.power_levels', '', '@a:x', { users: { '@a:x': 100 }, state_default: 50 }, ['$create', '$ja'], 3);
  ev('$jr', 'm.room.join_rules', '', '@a:x', { join_rule: 'public' }, ['$create', '$ja', '$pl0'], 4);
  const pls = ['$pl0'];
  const pass1: string[] = [];
  const pass2: string[] = [];
  steps.forEach((s, i) => {
    const id = `$s${i}`;
    const sender = USERS[s.sender % USERS.length] as string;
    const target = USERS[s.target % USERS.length] as string;
    const pl = pls[s.plAuth % pls.length] as string;
    const auth = ['$create', pl, '$jr', sender === '@a:x' ? '$ja' : '$create'];
    const ts = 10 + i;
    if (s.kind === 'pl') {
      ev(id, 'm.room.power_levels', '', sender, { users: { '@a:x': 100, [target]: s.level }, state_default: 50 }, auth, ts);
      pls.push(id);
    } else if (s.kind === 'jr') ev(id, 'm.room.join_rules', '', sender, { join_rule: s.level > 50 ? 'invite' : 'public' }, auth, ts);
    else if (s.kind === 'join') ev(id, 'm.room.member', sender, sender, { membership: 'join' }, auth, ts);
    else if (s.kind === 'leave') ev(id, 'm.room.member', target, sender, { membership: 'leave' }, auth, ts);
    else ev(id, 'm.room.topic', '', sender, { topic: String(i) }, auth, ts);
    (s.pass === 1 ? pass1 : pass2).push(id);
  });
  const events = eventsOf(jsons, v10);
  const initial = new Map<string, string>([
    [stateKeyOf('m.room.create', ''), '$create'],
    [stateKeyOf('m.room.member', '@a:x'), '$ja'],
    [stateKeyOf('m.room.power_levels', ''), '$pl0'],
    [stateKeyOf('m.room.join_rules', ''), '$jr'],
  ]);
  return { events, initial, pass1, pass2 };
}

/** Both passes with one step function (as v2 runs them). */
function onePassChecker(events: Map<string, RoomEvent>, initial: ReadonlyMap<string, string>, pass1: string[], pass2: string[], withEvents: boolean): Map<string, string> {
  const run = new ResolutionRun({
    rules: v10,
    stateSets: [],
    conflictedKeys: undefined,
    cache: new ResolutionCache(),
    isRejected: () => false,
    provider: undefined,
    check: defaultAuthChecker,
    tickEvery: 1_000_000,
    direct: events,
  });
  const state = new Map(initial);
  const checkOne = authCheckerOver(run, (k) => state.get(k), (k, v) => void state.set(k, v));
  for (const _ of authCheckPass(checkOne, run, pass1)) void _;
  const pass2Events = withEvents ? pass2.map((id) => events.get(id)) : undefined;
  for (const _ of authCheckPass(checkOne, run, pass2, pass2Events)) void _;
  return state;
}

describe('iterative auth checks: one step function over two passes', () => {
  const step = fc.record({
    kind: fc.constantFrom('pl', 'jr', 'join', 'leave', 'topic'),
    sender: fc.nat({ max: 3 }),
    target: fc.nat({ max: 3 }),
    level: fc.constantFrom(0, 50, 100),
    plAuth: fc.nat({ max: 8 }),
    pass: fc.constantFrom(1, 2),
  }) as fc.Arbitrary<Step>;

  it('gives the state of two separate iterativeAuthChecks runs', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40, size: 'max' }), fc.boolean(), (steps, withEvents) => {
        const { events, initial, pass1, pass2 } = roomOf(steps);
        const first = iterativeAuthChecks(v10, pass1, initial, events);
        const expected = iterativeAuthChecks(v10, pass2, first, events);
        const got = onePassChecker(events, initial, pass1, pass2, withEvents);
        expect([...got].sort()).toEqual([...expected].sort());
      }),
      { numRuns: 400 },
    );
  });

  it('sees a PL change made in the first pass when checking the second', () => {
    // Pass 1: @a raises @b to 50 (state_default). Pass 2: @b's topic, allowed only at 50.
    const { events, initial, pass1, pass2 } = roomOf([
      { kind: 'join', sender: 1, target: 1, level: 0, plAuth: 0, pass: 1 },
      { kind: 'topic', sender: 1, target: 0, level: 0, plAuth: 0, pass: 1 }, // refused: @b at 0
      { kind: 'pl', sender: 0, target: 1, level: 50, plAuth: 0, pass: 1 },
      { kind: 'topic', sender: 1, target: 0, level: 0, plAuth: 1, pass: 2 },
    ]);
    const got = onePassChecker(events, initial, pass1, pass2, false);
    expect(got.get(stateKeyOf('m.room.power_levels', ''))).toBe('$s2');
    expect(got.get(stateKeyOf('m.room.topic', ''))).toBe('$s3');
  });
});
