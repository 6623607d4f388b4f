// Step 4 of state resolution v2 checks the "independent" remaining events without the mainline
// ordering (src/independent-checks.ts, which proves that this gives the same state). These tests
// compare the resolution with that shortcut against the fully ordered pass on random forked
// rooms built so that the remaining events often depend on each other (few users; joins,
// self-leaves, invites, knocks, joins authorised via another member, topics; PL and join rules
// changes that move the mainline and change what a check allows; rejected events), and check
// the split itself on small hand-made cases.
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { JsonObject } from '@roomgraph/canonical-json';
import { type RoomEvent, stateKeyOf } from '@roomgraph/events';
import { type RoomVersionRules, getRoomVersion } from '@roomgraph/room-versions';
import { defaultAuthChecker, resolveStateSync } from '@roomgraph/state-res';
import { dependentIndices } from '../src/independent-checks.js';
import { authCheckPass, authCheckerOver, checkRecordOf } from '../src/iterative-auth-checks.js';
import { ResolutionCache, ResolutionRun } from '../src/run.js';
import { restSplitting } from '../src/v2.js';
import { eventsOf } from './helpers.js';

const ALICE = '@alice:x';
const USERS = ['@u0:x', '@u1:x', '@u2:x', '@u3:x', '@u4:x', '@u5:x', '@u6:x', '@u7:x'];

type Kind = 'join' | 'leave' | 'invite' | 'knock' | 'via' | 'topic' | 'pl' | 'jr' | 'kick';
interface Step {
  readonly kind: Kind;
  readonly user: number;
  readonly other: number;
  readonly level: number;
  readonly ts: number;
  readonly staleAuth: boolean; // cite the base state's events instead of the fork's
}

interface Room {
  readonly events: Map<string, RoomEvent>;
  readonly sets: Map<string, string>[];
  readonly ids: string[];
}

/**
 * A base room (create, Alice's join, power levels, join rules, some members) and forks, each a
 * sequence of steps applied to its own copy of the base state; every event cites the create,
 * power levels and join rules events and the memberships its auth events selection names, as
 * the fork's state (or, with `staleAuth`, the base state) has them.
 */
function roomOf(version: string, rules: RoomVersionRules, joinRule: string, baseMembers: number, forks: readonly (readonly Step[])[]): Room {
  const jsons: JsonObject[] = [];
  const roomId = '!create:x';
  const byId = new Map<string, { type: string; sk: string }>();
  let n = 0;
  const add = (type: string, sk: string, sender: string, content: JsonObject, auth: readonly (string | undefined)[], ts: number): string => {
    const id = `$e${n++}`;
    const j: JsonObject = { event_id: id, room_id: roomId, type, state_key: sk, sender, content, auth_events: auth.filter((a): a is string => a !== undefined), prev_events: [], depth: n, origin_server_ts: ts };
    jsons.push(j);
    byId.set(id, { type, sk });
    return id;
  };
  const v12 = version === '12';
  const create = '$create:x';
  jsons.push({ event_id: create, ...(v12 ? {} : { room_id: roomId }), type: 'm.room.create', state_key: '', sender: ALICE, content: v12 ? { room_version: version } : { creator: ALICE, room_version: version }, auth_events: [], prev_events: [], depth: 0, origin_server_ts: 1 });
  byId.set(create, { type: 'm.room.create', sk: '' });
  const authCreate = v12 ? undefined : create; // v12: implied by the room ID
  const aj = add('m.room.member', ALICE, ALICE, { membership: 'join' }, [authCreate], 2);
  const pl0 = add('m.room.power_levels', '', ALICE, { users: v12 ? {} : { [ALICE]: 100 }, invite: 0, state_default: 50 }, [authCreate, aj], 3);
  const jr0 = add('m.room.join_rules', '', ALICE, { join_rule: joinRule, ...(joinRule === 'restricted' ? { allow: [{ type: 'm.room_membership', room_id: '!other:x' }] } : {}) }, [authCreate, pl0, aj], 4);
  const base = new Map<string, string>();
  const put = (s: Map<string, string>, id: string): void => {
    const e = byId.get(id) as { type: string; sk: string };
    s.set(stateKeyOf(e.type, e.sk), id);
  };
  for (const id of [create, aj, pl0, jr0]) put(base, id);
  for (let i = 0; i < baseMembers; i++) {
    const u = USERS[i] as string;
    put(base, add('m.room.member', u, u, { membership: 'join' }, [authCreate, pl0, jr0], 5 + i));
  }
  const mem = (s: ReadonlyMap<string, string>, u: string): string | undefined => s.get(stateKeyOf('m.room.member', u));
  const PL = stateKeyOf('m.room.power_levels', '');
  const JR = stateKeyOf('m.room.join_rules', '');
  const sets = forks.map((steps) => {
    const s = new Map(base);
    for (const st of steps) {
      const u = USERS[st.user % USERS.length] as string;
      const o = USERS[st.other % USERS.length] as string;
      const a = st.staleAuth ? base : s;
      const common = [authCreate, a.get(PL), a.get(JR)];
      const ts = 100 + st.ts;
      let id: string;
      switch (st.kind) {
        case 'join':
          id = add('m.room.member', u, u, { membership: 'join' }, [...common, mem(a, u)], ts);
          break;
        case 'leave':
          id = add('m.room.member', u, u, { membership: 'leave' }, [...common, mem(a, u)], ts);
          break;
        case 'invite':
          id = add('m.room.member', u, o, { membership: 'invite' }, [...common, mem(a, o), mem(a, u)], ts);
          break;
        case 'knock':
          id = add('m.room.member', u, u, { membership: 'knock' }, [...common, mem(a, u)], ts);
          break;
        case 'via':
          id = add('m.room.member', u, u, { membership: 'join', join_authorised_via_users_server: o }, [...common, mem(a, u), mem(a, o)], ts);
          break;
        case 'topic':
          id = add('m.room.topic', '', u, { topic: String(st.ts) }, [authCreate, a.get(PL), mem(a, u)], ts);
          break;
        case 'pl':
          id = add('m.room.power_levels', '', ALICE, { users: { ...(v12 ? {} : { [ALICE]: 100 }), [u]: st.level }, invite: st.level, state_default: 50 }, [authCreate, a.get(PL), mem(a, ALICE)], ts);
          break;
        case 'jr':
          id = add('m.room.join_rules', '', ALICE, { join_rule: st.level > 50 ? 'invite' : st.level > 0 ? 'knock' : 'public' }, [authCreate, a.get(PL), mem(a, ALICE)], ts);
          break;
        case 'kick':
          id = add('m.room.member', u, o, { membership: 'leave' }, [authCreate, a.get(PL), mem(a, o), mem(a, u)], ts);
          break;
      }
      put(s, id);
    }
    return s;
  });
  return { events: eventsOf(jsons, rules), sets, ids: [...byId.keys()] };
}

const step = fc.record({
  kind: fc.constantFrom<Kind>('join', 'join', 'join', 'leave', 'invite', 'knock', 'via', 'topic', 'pl', 'jr', 'kick'),
  user: fc.nat({ max: 7 }),
  other: fc.nat({ max: 7 }),
  level: fc.constantFrom(0, 50, 100),
  ts: fc.nat({ max: 40 }),
  staleAuth: fc.boolean(),
});

/** The resolution with and without the shortcut, as sorted entries. */
function both(rules: RoomVersionRules, room: Room, rejected: ReadonlySet<string>): { fast: string[][]; ordered: string[][] } {
  const opts = { isRejected: (id: string) => rejected.has(id) };
  const sorted = (m: Map<string, string>): string[][] => [...m].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  restSplitting.enabled = true;
  const fast = sorted(resolveStateSync(rules, room.sets, room.events, opts));
  restSplitting.enabled = false;
  const ordered = sorted(resolveStateSync(rules, room.sets, room.events, opts));
  restSplitting.enabled = true;
  return { fast, ordered };
}

afterEach(() => {
  restSplitting.enabled = true;
});

describe('step 4: independent events checked without the mainline ordering', () => {
  for (const version of ['10', '12']) {
    it(`gives the state of the fully ordered pass on random forked rooms (room version ${version})`, () => {
      const rules = getRoomVersion(version);
      fc.assert(
        fc.property(
          fc.constantFrom('public', 'invite', 'knock', 'restricted'),
          fc.nat({ max: 5 }),
          fc.array(fc.array(step, { maxLength: 14 }), { minLength: 2, maxLength: 3 }),
          fc.array(fc.nat(), { maxLength: 4 }),
          (joinRule, baseMembers, forks, rejectPicks) => {
            const room = roomOf(version, rules, joinRule, baseMembers, forks);
            const rejected = new Set(rejectPicks.map((p) => room.ids[4 + (p % Math.max(1, room.ids.length - 4))] as string));
            const { fast, ordered } = both(rules, room, rejected);
            expect(fast).toEqual(ordered);
          },
        ),
        { numRuns: 500 },
      );
    });
  }
});

/** A run over `events` (direct), for a recording pass. */
function runOver(events: Map<string, RoomEvent>, rejected: ReadonlySet<string> = new Set()): ResolutionRun {
  return new ResolutionRun({
    rules: getRoomVersion('10'),
    stateSets: [],
    conflictedKeys: undefined,
    cache: new ResolutionCache(),
    isRejected: (id) => rejected.has(id),
    provider: undefined,
    check: defaultAuthChecker,
    tickEvery: 1_000_000,
    direct: events,
  });
}

/**
 * One recording pass over `ids` from an empty state, split by `dependentIndices`: the dependent
 * IDs, the event of each independent input (aligned with `ids`), the recorded own keys.
 */
function splitIndependent(run: ResolutionRun, ids: readonly string[]): { dependent: string[]; independent: (RoomEvent | undefined)[]; ownKeys: (string | undefined)[] } {
  const state = new Map<string, string>();
  const checkOne = authCheckerOver(run, (k) => state.get(k), (k, v) => void state.set(k, v));
  const record = checkRecordOf(ids.length);
  for (const _ of authCheckPass(checkOne, run, ids, undefined, record)) void _;
  const at = new Set(dependentIndices(record));
  return {
    dependent: ids.filter((_id, i) => at.has(i)),
    independent: record.events.map((e, i) => (at.has(i) ? undefined : e)),
    ownKeys: record.ownKeys,
  };
}

describe('splitting a recorded pass (dependentIndices)', () => {
  const v10 = getRoomVersion('10');
  const ev = (id: string, type: string, sk: string, sender: string, content: JsonObject): JsonObject => ({
    event_id: id, room_id: '!r:x', type, state_key: sk, sender, content, auth_events: [], prev_events: [], depth: 1, origin_server_ts: 1,
  });
  const events = eventsOf([
    ev('$j0', 'm.room.member', '@u0:x', '@u0:x', { membership: 'join' }),
    ev('$j1', 'm.room.member', '@u1:x', '@u1:x', { membership: 'join' }),
    ev('$j1b', 'm.room.member', '@u1:x', '@u1:x', { membership: 'leave' }),
    ev('$inv', 'm.room.member', '@u3:x', '@u2:x', { membership: 'invite' }), // reads @u2's key
    ev('$j2', 'm.room.member', '@u2:x', '@u2:x', { membership: 'join' }), // writes it
    ev('$via', 'm.room.member', '@u4:x', '@u4:x', { membership: 'join', join_authorised_via_users_server: '@u5:x' }),
    ev('$j5', 'm.room.member', '@u5:x', '@u5:x', { membership: 'join' }),
    ev('$topic', 'm.room.topic', '', '@u6:x', { topic: 't' }), // reads @u6's key, written by nobody
    ev('$msg', 'm.room.message', '', '@u0:x', {}),
    ev('$pl', 'm.room.power_levels', '', '@u7:x', { users: { '@u7:x': 100 } }), // reads its own key
  ].map((j) => (j['type'] === 'm.room.message' ? (({ state_key: _s, ...rest }) => rest)(j) : j)), v10);

  /** The IDs the split marks independent (its arrays are aligned with the input). */
  const independentIds = (ids: string[], rejected?: ReadonlySet<string>): string[] => {
    const s = splitIndependent(runOver(events, rejected), ids);
    return ids.filter((id, i) => {
      const e = s.independent[i];
      if (e !== undefined) expect(e.eventId).toBe(id);
      return e !== undefined;
    });
  };

  it('distinct joins are all independent', () => {
    const ids = ['$j0', '$j1', '$j2', '$j5', '$topic'];
    const s = splitIndependent(runOver(events), ids);
    expect(s.dependent).toEqual([]);
    expect(independentIds(ids)).toEqual(ids);
    expect(s.ownKeys).toEqual(ids.map((id) => {
      const e = events.get(id) as RoomEvent;
      return stateKeyOf(e.type, e.stateKey as string);
    }));
  });
  it('two writers of one key are dependent', () => {
    const s = splitIndependent(runOver(events), ['$j0', '$j1', '$j1b']);
    expect(s.dependent).toEqual(['$j1', '$j1b']);
    expect(independentIds(['$j0', '$j1', '$j1b'])).toEqual(['$j0']);
  });
  it('a reader of a key another event writes, and that writer, are dependent (either order)', () => {
    expect(splitIndependent(runOver(events), ['$inv', '$j2', '$j0']).dependent).toEqual(['$inv', '$j2']);
    expect(independentIds(['$inv', '$j2', '$j0'])).toEqual(['$j0']);
    expect(splitIndependent(runOver(events), ['$j2', '$j0', '$inv']).dependent).toEqual(['$j2', '$inv']);
    expect(splitIndependent(runOver(events), ['$j5', '$via']).dependent).toEqual(['$j5', '$via']);
  });
  // (Within a resolution the create, power levels and join rules events are power events, checked
  // in step 2, so step 4 never has one; the split itself must still see them.)
  it('an event writing the create, power levels or join rules key makes every checked event dependent', () => {
    // (Never so in a resolution — those are power events, checked in step 2 — but the split stays
    // right: every event dependent is the fully ordered pass.)
    expect(independentIds(['$pl', '$msg'])).toEqual([]);
    expect(independentIds(['$j0', '$j1'])).toEqual(['$j0', '$j1']);
    expect(splitIndependent(runOver(events), ['$j0', '$pl', '$j1']).dependent).toEqual(['$j0', '$pl', '$j1']);
  });
  it('events the check skips are in neither list', () => {
    const s = splitIndependent(runOver(events, new Set(['$j1'])), ['$msg', '$missing', '$j1', '$j1b']);
    expect(s.dependent).toEqual([]);
    expect(independentIds(['$msg', '$missing', '$j1', '$j1b'], new Set(['$j1']))).toEqual(['$j1b']);
  });
});
