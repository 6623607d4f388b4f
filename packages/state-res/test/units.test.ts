import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import type { JsonObject } from '@roomgraph/canonical-json';
import { type RoomEvent, toRoomEvent } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { parsePowerLevelValue, powerLevelsOf } from '@roomgraph/auth';
import {
  ChainCoverIndex,
  authChainOf,
  authDifference,
  compareCodePoints,
  conflictedStateSubgraph,
  isPowerEvent,
  mainlineOrder,
  parsePowerLevel,
  senderPowerLevel,
  resolveStateSync,
  reverseTopologicalPowerOrder,
  sha1Hex,
  splitStateSets,
  StateResolutionError,
} from '@roomgraph/state-res';
import { eventsOf, readJsonl, stateOf } from './helpers.js';
import { splitWithPerSet } from '../src/split.js';

const v10 = getRoomVersion('10');
const ev = (id: string, auth: string[], extra: JsonObject = {}): RoomEvent =>
  toRoomEvent({ type: 'x', state_key: id, sender: '@a:x', auth_events: auth, prev_events: [], content: {}, ...extra }, v10, id);

describe('compareCodePoints', () => {
  it('orders by code point, not UTF-16 unit', () => {
    expect(compareCodePoints('\uffff', '😀')).toBeLessThan(0); // U+FFFF < U+1F600
    expect('\uffff' < '😀').toBe(false); // what plain < would say
    expect(compareCodePoints('a', 'b')).toBeLessThan(0);
    expect(compareCodePoints('ab', 'a')).toBeGreaterThan(0);
    expect(compareCodePoints('x', 'x')).toBe(0);
  });
  it('agrees with comparing code point arrays', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        const ca = [...a].map((c) => c.codePointAt(0)!);
        const cb = [...b].map((c) => c.codePointAt(0)!);
        let want = 0;
        for (let i = 0; i < Math.min(ca.length, cb.length) && want === 0; i++) want = Math.sign(ca[i]! - cb[i]!);
        if (want === 0) want = Math.sign(ca.length - cb.length);
        expect(Math.sign(compareCodePoints(a, b))).toBe(want);
      }),
    );
  });
});

describe('sha1Hex', () => {
  it('matches node:crypto', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
      expect(sha1Hex(s)).toBe(createHash('sha1').update(s, 'utf8').digest('hex'));
    }));
  });
});

describe('splitStateSets', () => {
  const a = new Map([['k1', '$1'], ['k2', '$2'], ['k3', '$3']]);
  const b = new Map([['k1', '$1'], ['k2', '$9']]);
  it('v2: a key missing from some set is conflicted (G10)', () => {
    const s = splitStateSets([a, b]);
    expect([...s.conflicted]).toEqual([['k2', ['$2', '$9']], ['k3', ['$3']]]);
  });
  it('v1: a key missing from some set is unconflicted (G4)', () => {
    const s = splitStateSets([b, a], { missingIsConflict: false });
    expect([...s.conflicted]).toEqual([['k2', ['$2', '$9']]]);
    expect([...s.extraUnconflicted]).toEqual([['k3', '$3']]);
  });
  it('conflictedKeys hint examines only the hinted keys', () => {
    expect([...splitStateSets([a, b], { conflictedKeys: ['k2'] }).conflicted.keys()]).toEqual(['k2']);
  });
  it('matches a naive split for forks of one base (any insertion order, 2 or 3 sets)', () => {
    // Naive reference: every key of every set, values compared across all sets.
    const naive = (sets: ReadonlyMap<string, string>[], missingIsConflict: boolean) => {
      const keys = new Set(sets.flatMap((s) => [...s.keys()]));
      const conflicted: Array<[string, string[]]> = [];
      const extra: Array<[string, string]> = [];
      for (const k of keys) {
        const vals = sets.map((s) => s.get(k));
        const present = [...new Set(vals.filter((v): v is string => v !== undefined))].sort(compareCodePoints);
        if (present.length > 1 || (missingIsConflict && vals.includes(undefined))) conflicted.push([k, present]);
        else if (sets[0]?.get(k) !== present[0]) extra.push([k, present[0] as string]);
      }
      return { conflicted: conflicted.sort(), extra: extra.sort() };
    };
    const op = fc.tuple(fc.constantFrom('set', 'delete'), fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 3 }));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 }), fc.array(fc.array(op, { maxLength: 8 }), { minLength: 2, maxLength: 3 }), fc.boolean(), (n, forks, shuffle) => {
        const base = new Map(Array.from({ length: n }, (_, i) => [`k${i}`, `$${i}`] as [string, string]));
        const sets = forks.map((ops, f) => {
          const m = new Map(shuffle && f === 1 ? [...base].reverse() : base);
          for (const [kind, k, v] of ops) kind === 'set' ? m.set(`k${k}`, `$${k}.${v}`) : m.delete(`k${k}`);
          return m;
        });
        for (const missingIsConflict of [true, false]) {
          const want = naive(sets, missingIsConflict);
          for (const hint of [undefined, [...new Set(sets.flatMap((s) => [...s.keys()]))]]) {
            const got = splitStateSets(sets, { missingIsConflict, conflictedKeys: hint });
            expect([...got.conflicted].sort()).toEqual(want.conflicted);
            expect([...got.extraUnconflicted].sort()).toEqual(want.extra);
          }
          // State resolution v2's internal variant: the same split, and with two sets and no hint
          // each set's values at the conflicted keys, in the order of `conflicted`.
          const perSet: [string[], string[]] = [[], []];
          const got = splitWithPerSet(sets, { missingIsConflict }, perSet);
          expect([...got.conflicted].sort()).toEqual(want.conflicted);
          expect([...got.extraUnconflicted].sort()).toEqual(want.extra);
          if (sets.length === 2) {
            const keys = [...got.conflicted.keys()];
            expect(perSet).toEqual(sets.map((m) => keys.map((k) => m.get(k)).filter((v) => v !== undefined)));
          } else if (sets.length !== 2) expect(perSet).toEqual([[], []]);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('power events (G9)', () => {
  it('classifies', () => {
    const m = (membership: string, sender: string, sk: string) => toRoomEvent({ type: 'm.room.member', state_key: sk, sender, content: { membership } }, v10, '$m');
    expect(isPowerEvent(m('ban', '@a:x', '@b:x'))).toBe(true);
    expect(isPowerEvent(m('leave', '@b:x', '@b:x'))).toBe(false);
    expect(isPowerEvent(m('join', '@a:x', '@b:x'))).toBe(false);
    expect(isPowerEvent(toRoomEvent({ type: 'm.room.power_levels', state_key: '', sender: '@a:x' }, v10, '$p'))).toBe(true);
    expect(isPowerEvent(toRoomEvent({ type: 'm.room.power_levels', state_key: 'x', sender: '@a:x' }, v10, '$p'))).toBe(false);
    expect(isPowerEvent(toRoomEvent({ type: 'm.room.topic', state_key: '', sender: '@a:x' }, v10, '$p'))).toBe(false);
  });
});

describe('auth chains, difference, subgraph', () => {
  // A diamond plus a tail: A ← B ← D, A ← C ← D, D ← E; F alone on A.
  const events = new Map(
    [ev('A', []), ev('B', ['A']), ev('C', ['A']), ev('D', ['B', 'C']), ev('E', ['D']), ev('F', ['A'])].map((e) => [e.eventId, e]),
  );
  it('authChainOf', () => {
    expect([...authChainOf('E', events)].sort()).toEqual(['A', 'B', 'C', 'D']);
  });
  it('authDifference includes each set’s own events (Synapse)', () => {
    expect([...authDifference([['E'], ['F']], events)].sort()).toEqual(['B', 'C', 'D', 'E', 'F']);
    expect([...authDifference([['E'], ['D']], events)].sort()).toEqual(['E']);
  });
  it('conflicted state subgraph: paths between conflicted events (G19)', () => {
    expect([...conflictedStateSubgraph(['E', 'A'], events)].sort()).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect([...conflictedStateSubgraph(['E', 'F'], events)].sort()).toEqual(['E', 'F']);
    expect([...conflictedStateSubgraph(['E', 'B'], events)].sort()).toEqual(['B', 'D', 'E']);
  });
  it('ChainCoverIndex agrees with plain walks', () => {
    const idx = new ChainCoverIndex();
    for (const id of 'ABCDEF') idx.add(events.get(id)!);
    for (const id of 'ABCDEF') expect([...idx.authChain(id)].sort()).toEqual([...authChainOf(id, events)].sort());
    expect(idx.reaches('E', 'A')).toBe(true);
    expect(idx.reaches('F', 'B')).toBe(false);
    expect(idx.authChildren('A')).toEqual(['B', 'C', 'F']);
    expect([...idx.authChainDifference([['E'], ['F']])].sort()).toEqual(['B', 'C', 'D', 'E', 'F']);
  });
  it('ChainCoverIndex agrees on random DAGs', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.nat(), { maxLength: 4 }), { minLength: 1, maxLength: 40 }), fc.array(fc.array(fc.nat(), { maxLength: 5 }), { minLength: 1, maxLength: 4 }), (parents, setsRaw) => {
        const evs = new Map<string, RoomEvent>();
        const idx = new ChainCoverIndex();
        parents.forEach((ps, i) => {
          const e = ev(`e${i}`, i === 0 ? [] : [...new Set(ps.map((p) => `e${p % i}`))]);
          evs.set(e.eventId, e);
          idx.add(e);
        });
        for (const id of evs.keys()) expect([...idx.authChain(id)].sort()).toEqual([...authChainOf(id, evs)].sort());
        const sets = setsRaw.map((s) => s.map((n) => `e${n % parents.length}`));
        expect([...idx.authChainDifference(sets)].sort()).toEqual([...authDifference(sets, evs)].sort());
      }),
      { numRuns: 200 },
    );
  });
});

describe('reverse topological power ordering (G13): the event-ID tie-break', () => {
  // Conflicted power events with no auth path between them: ordered by the sender's power level
  // (higher first), then origin_server_ts (earlier first), then event ID (lexicographically smaller
  // first) — the last key decides only when the first two tie.
  const alice = '@alice:x';
  const bob = '@bob:x';
  const mk = (id: string, type: string, sk: string, sender: string, auth: string[], ts: number, content: JsonObject = {}): RoomEvent =>
    toRoomEvent({ type, state_key: sk, sender, auth_events: auth, prev_events: [], content, origin_server_ts: ts }, v10, id);
  const base = [
    mk('$create', 'm.room.create', '', alice, [], 1, { creator: alice, room_version: '10' }),
    mk('$ja', 'm.room.member', alice, alice, ['$create'], 2, { membership: 'join' }),
    mk('$pl', 'm.room.power_levels', '', alice, ['$create', '$ja'], 3, { users: { [alice]: 100, [bob]: 50 } }),
    mk('$jb', 'm.room.member', bob, bob, ['$create', '$pl'], 4, { membership: 'join' }),
  ];
  const order = (extra: RoomEvent[]): string[] => {
    const events = new Map([...base, ...extra].map((e) => [e.eventId, e] as const));
    return reverseTopologicalPowerOrder('10', extra.map((e) => e.eventId), events);
  };
  const auth = ['$create', '$pl', '$ja'];
  it('equal power and timestamp: the smaller event ID first, whatever the input order', () => {
    const a = mk('$a-jr', 'm.room.join_rules', '', alice, auth, 10, { join_rule: 'public' });
    const b = mk('$b-jr', 'm.room.join_rules', '', alice, auth, 10, { join_rule: 'invite' });
    expect(order([a, b])).toEqual(['$a-jr', '$b-jr']);
    expect(order([b, a])).toEqual(['$a-jr', '$b-jr']);
    // Code-unit order, not locale order: "$B" < "$a".
    const upper = mk('$B-jr', 'm.room.join_rules', '', alice, auth, 10, { join_rule: 'knock' });
    expect(order([a, upper])).toEqual(['$B-jr', '$a-jr']);
  });
  it('the ID decides only after the timestamp and the power level', () => {
    const early = mk('$z-jr', 'm.room.join_rules', '', alice, auth, 9, { join_rule: 'public' });
    const late = mk('$a-jr', 'm.room.join_rules', '', alice, auth, 10, { join_rule: 'invite' });
    expect(order([late, early])).toEqual(['$z-jr', '$a-jr']);
    // A less powerful sender comes after, even with the smaller ID and the earlier timestamp.
    const weak = mk('$0-jr', 'm.room.join_rules', '', bob, ['$create', '$pl', '$jb'], 1, { join_rule: 'knock' });
    expect(order([weak, late, early])).toEqual(['$z-jr', '$a-jr', '$0-jr']);
  });
});

describe('mainline ordering (G14/G15)', () => {
  it('orders by mainline position, then ts, then ID', () => {
    const p = (id: string, auth: string[]) => toRoomEvent({ type: 'm.room.power_levels', state_key: '', sender: '@a:x', auth_events: auth }, v10, id);
    const t = (id: string, auth: string[], ts: number) => toRoomEvent({ type: 'm.room.topic', state_key: '', sender: '@a:x', auth_events: auth, origin_server_ts: ts }, v10, id);
    const events = new Map([p('P0', []), p('P1', ['P0']), p('P2', ['P1']), p('Q', ['P0']), t('a', ['P2'], 1), t('b', ['P1'], 5), t('c', ['Q'], 9), t('d', [], 3), t('e', ['P1'], 5)].map((e) => [e.eventId, e]));
    // d: no PL (∞ → first); c: via Q → P0 (pos 2); b, e: P1 (pos 1, ts tie → ID); a: P2 (pos 0).
    expect(mainlineOrder(['a', 'b', 'c', 'd', 'e'], 'P2', events)).toEqual(['d', 'c', 'b', 'e', 'a']);
  });
  it('agrees with a comparator sort by (mainline position, ts, ID), for small and huge timestamps and with ties', () => {
    // Mainline P1 ← … ← Pk; each event cites one of them (or no PL event: position ∞, first).
    // Timestamps from a small range (ties on (position, ts) happen: the IDs decide) or spread
    // over the whole safe range (the packed sort keys cannot hold the events' indexes then).
    const ts = fc.oneof(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(1_700_000_000_000, 1_700_000_000_001));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.record({ pl: fc.integer({ min: 0, max: 6 }), ts, id: fc.string({ minLength: 1, maxLength: 3 }) }), { maxLength: 60 }),
        (k, specs) => {
          const pls = Array.from({ length: k }, (_, i) =>
            toRoomEvent({ type: 'm.room.power_levels', state_key: '', sender: '@a:x', auth_events: i === 0 ? [] : [`P${i}`] }, v10, `P${i + 1}`));
          const seen = new Set<string>();
          const evs = specs.filter((x) => !seen.has(x.id) && seen.add(x.id)).map((x) =>
            toRoomEvent({ type: 'm.room.topic', state_key: '', sender: '@a:x', auth_events: x.pl >= 1 && x.pl <= k ? [`P${x.pl}`] : [], origin_server_ts: x.ts }, v10, `$${x.id}`));
          const events = new Map([...pls, ...evs].map((e) => [e.eventId, e]));
          const pos = (e: RoomEvent): number => (e.authEvents.length === 0 ? 0 : Number(e.authEvents[0]!.slice(1)));
          const want = [...evs].sort((x, y) => pos(x) - pos(y) || (x.originServerTs < y.originServerTs ? -1 : x.originServerTs > y.originServerTs ? 1 : compareCodePoints(x.eventId, y.eventId))).map((e) => e.eventId);
          expect(mainlineOrder(evs.map((e) => e.eventId), `P${k}`, events)).toEqual(want);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('resolution properties (G3, G23)', () => {
  interface Room { room_version: string; events: JsonObject[]; state_sets: string[][] }
  const rooms = readJsonl<Room>('reference-sample/stateres.jsonl.gz');
  it('[S] → S and [S, S] → S, for every reference state set', () => {
    for (const room of rooms) {
      const rules = getRoomVersion(room.room_version);
      const events = eventsOf(room.events, rules);
      for (const ids of room.state_sets.slice(0, 3)) {
        const s = stateOf(ids, events);
        expect(resolveStateSync(rules, [s], events)).toEqual(s);
        expect(new Map([...resolveStateSync(rules, [s, s], events)].sort())).toEqual(new Map([...s].sort()));
      }
    }
  });
  it('is independent of the order of state sets', () => {
    const picked = rooms.filter((r) => r.state_sets.length >= 3).slice(0, 12);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: picked.length - 1 }), fc.integer(), (i, seed) => {
        const room = picked[i]!;
        const rules = getRoomVersion(room.room_version);
        const events = eventsOf(room.events, rules);
        const sets = room.state_sets.map((ids) => stateOf(ids, events));
        const perm = fc.sample(fc.shuffledSubarray(sets, { minLength: sets.length }), { seed, numRuns: 1 })[0]!;
        const sort = (m: Map<string, string>) => new Map([...m].sort());
        expect(sort(resolveStateSync(rules, perm, events))).toEqual(sort(resolveStateSync(rules, sets, events)));
      }),
      { numRuns: 30 },
    );
  });
  it('conflictedKeys hint gives the same answer as the full split', () => {
    for (const room of rooms) {
      const rules = getRoomVersion(room.room_version);
      const events = eventsOf(room.events, rules);
      const sets = room.state_sets.map((ids) => stateOf(ids, events));
      const keys = splitStateSets(sets, { missingIsConflict: rules.stateResolution.algorithm !== 'v1' });
      const hint = [...keys.conflicted.keys(), ...keys.extraUnconflicted.keys()];
      const sort = (m: Map<string, string>) => new Map([...m].sort());
      expect(sort(resolveStateSync(rules, sets, events, { conflictedKeys: hint }))).toEqual(sort(resolveStateSync(rules, sets, events)));
    }
  });
  it('unknown room versions are a typed error', () => {
    expect(() => resolveStateSync('nope', [new Map(), new Map()], new Map())).toThrow();
    // The specific typed error: the room-versions registry's ROOM_VERSION_UNKNOWN, naming the version.
    expect(() => resolveStateSync('nope', [new Map(), new Map()], new Map())).toThrow(expect.objectContaining({ name: 'RoomVersionError', code: 'ROOM_VERSION_UNKNOWN', message: expect.stringContaining('"nope"') }));
    expect(new StateResolutionError('ABORTED', 'x').code).toBe('ABORTED');
  });
  it('a state set that is not a map (a hole, undefined, an array) is INVALID_INPUT (fuzz finding: a TypeError from inside)', () => {
    const sparse: Map<string, string>[] = [new Map()];
    sparse[2] = new Map();
    for (const sets of [sparse, [new Map(), undefined], [new Map(), [['k', '$x']]], [null, new Map()]] as unknown as Map<string, string>[][]) {
      expect(() => resolveStateSync('10', sets, new Map())).toThrow(expect.objectContaining({ name: 'StateResolutionError', code: 'INVALID_INPUT' }));
    }
  });
});

describe('power levels are read as the authorization rules read them', () => {
  // One parser (auth's parsePowerLevelValue) serves both; these odd values once disagreed.
  const odd: (string | number)[] = ['\u00a05', '\u20005', '\ufeff5', '\u200b5', '\x1c7', '1_0', '\u0663', ' +007 ', '-0', -0.5, 50.57, -1.5, '5.0'];
  it('parsePowerLevel is the auth parser', () => {
    for (const version of ['1', '6', '9', '10', '12']) {
      const rules = getRoomVersion(version);
      for (const v of odd) expect(Object.is(parsePowerLevel(v, rules), parsePowerLevelValue(v, rules)), `${version} ${JSON.stringify(v)}`).toBe(true);
    }
  });
  it("a sender's power in state resolution equals its auth level, for odd user levels", () => {
    for (const version of ['1', '6', '9', '10']) {
      const rules = getRoomVersion(version);
      for (const level of odd) {
        const create = toRoomEvent({ type: 'm.room.create', state_key: '', sender: '@c:x', room_id: '!r:x', auth_events: [], prev_events: [], content: { creator: '@c:x' } }, rules, '$create');
        const pl = toRoomEvent({ type: 'm.room.power_levels', state_key: '', sender: '@c:x', room_id: '!r:x', auth_events: ['$create'], prev_events: [], content: { users: { '@a:x': level }, users_default: 3 } }, rules, '$pl');
        const msg = toRoomEvent({ type: 'm.room.topic', state_key: '', sender: '@a:x', room_id: '!r:x', auth_events: ['$create', '$pl'], prev_events: [], content: {} }, rules, '$t');
        const byId = new Map([[create.eventId, create], [pl.eventId, pl]]);
        const inStateRes = senderPowerLevel(msg, (id) => byId.get(id), rules);
        const inAuth = powerLevelsOf(pl, create, rules).userLevel('@a:x');
        // A level that does not parse (no accepted power levels event holds one: F11.3) falls back
        // to users_default in auth and to 0 in state resolution; every parsable one reads the same.
        if (parsePowerLevelValue(level, rules) !== undefined) expect(inStateRes, `${version} ${JSON.stringify(level)}`).toBe(inAuth);
        expect(Object.is(inStateRes, -0)).toBe(false);
      }
    }
  });
});
