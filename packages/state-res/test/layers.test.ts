// State sets given as layers (`ResolveOptions.layers`: one shared base and an overlay per set, as
// the engine has them for a room with many forward extremities): the split over the overlays must
// give what the plain split gives, and a resolution what it gives without the layers — in every
// algorithm (v1, v2, v2.1).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type JsonObject, compareCodePoints } from '@roomgraph/canonical-json';
import { type RoomEvent, authEventTypes, stateKeyOf, toRoomEvent } from '@roomgraph/events';
import { type RoomVersionRules, getRoomVersion } from '@roomgraph/room-versions';
import { type StateLayers, StateResolutionError, resolveStateDeltaSync, resolveStateSync, splitStateSets } from '@roomgraph/state-res';
import { type RootSets, splitWithPerSet } from '../src/split.js';
import { authDifferenceGen, authDifferenceOfRootSets } from '../src/auth-difference.js';
import { ResolutionCache, ResolutionRun, defaultAuthChecker } from '../src/run.js';
import { eventsOf, readJson, rulesFromCreate } from './helpers.js';

/**
 * Layers describing `sets`: `base` (default: the first set) and each set's differences from it as
 * its overlay.
 */
function layersOf(sets: readonly ReadonlyMap<string, string>[], base: ReadonlyMap<string, string> = sets[0] as ReadonlyMap<string, string>): StateLayers {
  return {
    base,
    overlays: sets.map((s) => {
      const o = new Map<string, string | null>();
      for (const [k, v] of s) if (base.get(k) !== v) o.set(k, v);
      for (const k of base.keys()) if (!s.has(k)) o.set(k, null);
      return o;
    }),
  };
}

const sorted = (xs: readonly string[]): string[] => [...xs].sort(compareCodePoints);

describe('the split over layers', () => {
  it('gives the plain split, and each set’s values at the conflicted keys', () => {
    const op = fc.tuple(fc.constantFrom('set', 'delete', 'same'), fc.integer({ min: 0, max: 14 }), fc.integer({ min: 0, max: 2 }));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 }),
        fc.array(fc.array(op, { maxLength: 6 }), { minLength: 2, maxLength: 40 }),
        fc.array(op, { maxLength: 4 }),
        (n, forks, baseOps) => {
          // The sets are forks of one state; the layers' base is another fork of it (not one of the
          // sets), so overlays both add to and remove from it, and may restate its values.
          const root = new Map(Array.from({ length: n }, (_, i) => [`k${i}`, `$${i}`] as [string, string]));
          const apply = (m: Map<string, string>, ops: readonly (readonly [string, number, number])[], o?: Map<string, string | null>): void => {
            for (const [kind, k, v] of ops) {
              const key = `k${k}`;
              if (kind === 'set') { m.set(key, `$${k}.${v}`); o?.set(key, `$${k}.${v}`); }
              else if (kind === 'delete') { m.delete(key); o?.set(key, null); }
              else if (m.has(key)) o?.set(key, m.get(key) as string); // an overlay entry equal to the base
            }
          };
          const base = new Map(root);
          apply(base, baseOps);
          const sets: Map<string, string>[] = [];
          const overlays: Map<string, string | null>[] = [];
          for (const ops of forks) {
            // The overlay: the set's differences from the base, plus the ops' own entries.
            const set = new Map(root);
            apply(set, ops);
            const o = new Map<string, string | null>();
            for (const [k, v] of set) if (base.get(k) !== v) o.set(k, v);
            for (const k of base.keys()) if (!set.has(k)) o.set(k, null);
            apply(new Map(set), ops, o);
            sets.push(set);
            overlays.push(o);
          }
          const layers = { base, overlays };
          for (const missingIsConflict of [true, false]) {
            const want = splitStateSets(sets, { missingIsConflict });
            const perSet = sets.map((): string[] => []);
            const got = splitWithPerSet(sets, { missingIsConflict, layers }, perSet);
            expect([...got.conflicted].sort()).toEqual([...want.conflicted].sort());
            expect([...got.extraUnconflicted].sort()).toEqual([...want.extraUnconflicted].sort());
            expect(splitStateSets(sets, { missingIsConflict, layers }).conflicted).toEqual(got.conflicted);
            const keys = [...got.conflicted.keys()];
            expect(perSet.map(sorted)).toEqual(sets.map((m) => sorted(keys.map((k) => m.get(k)).filter((v): v is string => v !== undefined))));
            // The same as each conflicted event's sets (bit i: set i), as state resolution v2 takes
            // them for more than two sets.
            const rootSets = new Map<string, RootSets>();
            splitWithPerSet(sets, { missingIsConflict, layers }, undefined, rootSets);
            const members = new Map<string, number[]>();
            sets.forEach((m, i) => {
              for (const k of keys) {
                const v = m.get(k);
                if (v !== undefined) members.set(v, [...(members.get(v) ?? []), i]);
              }
            });
            const bitsOf = (xs: readonly number[]): number[] => {
              const out = new Array<number>((sets.length + 31) >>> 5).fill(0);
              for (const x of xs) out[x >>> 5] = (out[x >>> 5]! | (1 << (x & 31))) >>> 0;
              return out;
            };
            expect(new Map([...rootSets].map(([id, b]) => [id, typeof b === 'number' ? bitsOf([b]) : [...b]]))).toEqual(new Map([...members].map(([id, xs]) => [id, bitsOf(xs)])));
          }
        },
      ),
      { numRuns: 800 },
    );
  });
});

describe('the auth difference from each conflicted event’s sets', () => {
  it('gives the candidates the per-set closures give, on random auth graphs (cycles too)', () => {
    const rules = getRoomVersion('10');
    const drive = <T>(gen: Generator<unknown, T, void>): T => {
      for (;;) {
        const r = gen.next();
        if (r.done === true) return r.value;
      }
    };
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.nat(), { maxLength: 4 }), { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        fc.array(fc.array(fc.nat(), { maxLength: 6 }), { minLength: 3, maxLength: 45 }),
        (parents, cycles, setsRaw) => {
          // Event i cites earlier events (any event, with `cycles`); IDs past the end are missing.
          const events = new Map<string, RoomEvent>();
          const n = parents.length;
          parents.forEach((ps, i) => {
            const auth = [...new Set(ps.map((p) => `$e${cycles ? p % (n + 2) : i === 0 ? n : p % i}`))].filter((a) => a !== `$e${i}`);
            events.set(`$e${i}`, toRoomEvent({ type: 'm.room.topic', state_key: '', sender: '@a:x', content: {}, auth_events: auth, prev_events: [] }, rules, `$e${i}`));
          });
          const perSet = setsRaw.map((xs) => [...new Set(xs.map((x) => `$e${x % (n + 1)}`))]);
          // Each event's sets: one set's index where it is one set's alone (as the split gives them).
          const rootSets = new Map<string, RootSets>();
          perSet.forEach((ids, s) => {
            for (const id of ids) {
              const x = rootSets.get(id);
              if (x === undefined) {
                rootSets.set(id, s);
                continue;
              }
              const b = typeof x === 'number' ? new Uint32Array((perSet.length + 31) >>> 5) : x;
              if (typeof x === 'number') b[x >>> 5] = (1 << (x & 31)) >>> 0;
              b[s >>> 5] = (b[s >>> 5]! | (1 << (s & 31))) >>> 0;
              rootSets.set(id, b);
            }
          });
          const known = new Set([...rootSets.keys()].filter((id) => events.has(id)));
          const run = (): ResolutionRun => new ResolutionRun({ rules, stateSets: [], conflictedKeys: undefined, cache: new ResolutionCache(), isRejected: () => false, provider: undefined, check: defaultAuthChecker, tickEvery: 7, direct: events });
          const none = (): boolean => false;
          const want = drive(authDifferenceGen(run(), perSet, none, () => [], known));
          const got = drive(authDifferenceOfRootSets(run(), rootSets, perSet.length, none, () => [], known));
          expect(sorted([...got])).toEqual(sorted([...want]));
        },
      ),
      { numRuns: 600 },
    );
  });
});

// A room whose state forks many ways from one point: each set is the base state plus one branch's
// event (a join, a leave, a ban, a topic, a join rules or power levels change) — a room with many
// forward extremities, each with a state of its own.
const ADMIN = '@admin:a.example';
const MOD = '@mod:a.example';

function forkedRoom(version: string, branches: number, seed: number): { rules: RoomVersionRules; events: Map<string, RoomEvent>; sets: Map<string, string>[]; forkedFrom: Map<string, string> } {
  const rules = getRoomVersion(version);
  const v12 = rules.authorization.roomIdFromCreateEvent;
  const roomId = v12 ? '!CREATE' : '!room:a.example';
  const events = new Map<string, RoomEvent>();
  const state = new Map<string, string>();
  let ts = 0;
  let rnd = seed;
  const next = (k: number): number => {
    rnd = (rnd * 1103515245 + 12345) % 2147483648;
    return rnd % k;
  };
  const make = (id: string, sender: string, type: string, stateKey: string, content: JsonObject, before: ReadonlyMap<string, string>): string => {
    const eventId = `$${id}`;
    const proto = toRoomEvent({ type, state_key: stateKey, sender, content, room_id: roomId }, rules, eventId);
    const auth: string[] = [];
    for (const [t, sk] of authEventTypes(proto, rules)) {
      const a = before.get(stateKeyOf(t, sk));
      if (a !== undefined && !(v12 && t === 'm.room.create')) auth.push(a);
    }
    const json: JsonObject = { type, state_key: stateKey, sender, content, room_id: roomId, origin_server_ts: ts++, auth_events: auth, prev_events: [], depth: ts };
    events.set(eventId, toRoomEvent(json, rules, eventId));
    return eventId;
  };
  const put = (id: string, sender: string, type: string, stateKey: string, content: JsonObject): void => {
    state.set(stateKeyOf(type, stateKey), make(id, sender, type, stateKey, content, state));
  };
  put('CREATE', ADMIN, 'm.room.create', '', v12 ? { room_version: version } : { creator: ADMIN, room_version: version });
  put('JA', ADMIN, 'm.room.member', ADMIN, { membership: 'join' });
  put('PL', ADMIN, 'm.room.power_levels', '', { users: v12 ? { [MOD]: 50 } : { [ADMIN]: 100, [MOD]: 50 }, kick: 50, ban: 50 });
  put('JR', ADMIN, 'm.room.join_rules', '', { join_rule: 'public' });
  put('JM', MOD, 'm.room.member', MOD, { membership: 'join' });
  for (let i = 0; i < 6; i++) put(`J${i}`, `@u${i}:b.example`, 'm.room.member', `@u${i}:b.example`, { membership: 'join' });
  const sets: Map<string, string>[] = [];
  for (let b = 0; b < branches; b++) {
    const set = new Map(state);
    const k = next(8);
    const u = `@u${next(6)}:b.example`;
    const id = `B${b}`;
    const add = (sender: string, type: string, stateKey: string, content: JsonObject): void => {
      set.set(stateKeyOf(type, stateKey), make(id, sender, type, stateKey, content, state));
    };
    if (k <= 2) add(`@n${b}:c.example`, 'm.room.member', `@n${b}:c.example`, { membership: 'join' });
    else if (k === 3) add(u, 'm.room.member', u, { membership: 'leave' });
    else if (k === 4) add(next(2) === 0 ? MOD : ADMIN, 'm.room.member', next(2) === 0 ? u : MOD, { membership: 'ban' });
    else if (k === 5) add(next(2) === 0 ? u : MOD, 'm.room.topic', '', { topic: id });
    else if (k === 6) add(next(2) === 0 ? ADMIN : MOD, 'm.room.join_rules', '', { join_rule: next(2) === 0 ? 'invite' : 'public' });
    else add(next(2) === 0 ? ADMIN : MOD, 'm.room.power_levels', '', { users: { [ADMIN]: 100, [MOD]: next(2) === 0 ? 0 : 100 }, kick: 50, ban: 50 });
    sets.push(set);
  }
  return { rules, events, sets, forkedFrom: state };
}

describe('resolution with layers', () => {
  for (const version of ['1', '2', '10', '11', '12']) {
    it(`gives the resolution without them: many forks of one state (room version ${version})`, () => {
      for (let seed = 1; seed <= 12; seed++) {
        const { rules, events, sets, forkedFrom } = forkedRoom(version, 2 + (seed % 3) * 20, seed);
        const want = resolveStateSync(rules, sets, events);
        expect(resolveStateSync(rules, sets, events, { layers: layersOf(sets) })).toEqual(want);
        // The delta too, and with a base that is none of the sets (the state all forked from:
        // every set has an overlay, as the engine gives them).
        expect(resolveStateDeltaSync(rules, sets, events, { layers: layersOf(sets, forkedFrom) })).toEqual(resolveStateDeltaSync(rules, sets, events));
      }
    });
  }

  // The ruma fixtures (MIT; see test/fixtures/ruma-state-res/LICENSE) resolved event by event,
  // every resolution with the layers of its sets as well: the same at every step.
  const dir = 'ruma-state-res/';
  for (const files of [
    ['bootstrap-public-chat', 'ban-vs-power-levels-alice', 'ban-vs-power-levels-bob'],
    ['bootstrap-public-chat', 'topic-vs-ban-common', 'topic-vs-ban-alice', 'topic-vs-ban-bob'],
    ['bootstrap-public-chat', 'join-rules-vs-join-common', 'join-rules-vs-join-alice', 'join-rules-vs-join-ella'],
    ['bootstrap-public-chat', 'concurrent-joins-charlie', 'concurrent-joins-ella'],
  ]) {
    it(`gives the resolution without them at every event of ${files.slice(1).join(', ')}`, () => {
      const jsons = files.flatMap((f) => readJson<JsonObject[]>(`${dir}fixtures/${f}.json`));
      const rules = rulesFromCreate(jsons);
      const events = eventsOf(jsons, rules);
      const after = new Map<string, Map<string, string>>();
      let compared = 0;
      const visit = (id: string): Map<string, string> => {
        const done = after.get(id);
        if (done !== undefined) return done;
        const e = events.get(id) as RoomEvent;
        const prevs = e.prevEvents.filter((p) => events.has(p)).map(visit);
        const s = new Map(prevs.length > 1 ? resolveBoth(prevs) : (prevs[0] ?? []));
        if (e.stateKey !== undefined) s.set(stateKeyOf(e.type, e.stateKey), id);
        after.set(id, s);
        return s;
      };
      const resolveBoth = (sets: Map<string, string>[]): Map<string, string> => {
        const want = resolveStateSync(rules, sets, events);
        expect(resolveStateSync(rules, sets, events, { layers: layersOf(sets) })).toEqual(want);
        expect(resolveStateSync(rules, sets, events, { layers: layersOf(sets, sets[sets.length - 1]) })).toEqual(want);
        compared++;
        return want;
      };
      // Every event, then the forward extremities (where these fixtures' forks meet).
      const referenced = new Set([...events.values()].flatMap((e) => e.prevEvents));
      for (const id of events.keys()) visit(id);
      resolveBoth([...events.keys()].filter((id) => !referenced.has(id)).sort().map(visit));
      expect(compared).toBeGreaterThan(0);
    });
  }

  it('gives the resolution without them where auth events form a cycle (hand-made input)', () => {
    for (const version of ['2', '10']) {
      const { rules, events, sets } = forkedRoom(version, 6, 3);
      // Two more topics whose auth events cite each other, in two of the sets.
      const topicOf = (id: string, other: string): RoomEvent => {
        const create = sets[0]!.get(stateKeyOf('m.room.create', ''))!;
        const pl = sets[0]!.get(stateKeyOf('m.room.power_levels', ''))!;
        const admin = sets[0]!.get(stateKeyOf('m.room.member', ADMIN))!;
        return toRoomEvent({ type: 'm.room.topic', state_key: '', sender: ADMIN, content: { topic: id }, room_id: '!room:a.example', origin_server_ts: 900, auth_events: [create, pl, admin, other], prev_events: [], depth: 900 }, rules, id);
      };
      events.set('$X', topicOf('$X', '$Y'));
      events.set('$Y', topicOf('$Y', '$X'));
      sets[1]!.set(stateKeyOf('m.room.topic', ''), '$X');
      sets[2]!.set(stateKeyOf('m.room.topic', ''), '$Y');
      const want = resolveStateSync(rules, sets, events);
      expect(resolveStateSync(rules, sets, events, { layers: layersOf(sets) })).toEqual(want);
    }
  });

  it('are checked: one overlay per state set, maps only', () => {
    const { rules, events, sets } = forkedRoom('10', 3, 1);
    const layers = layersOf(sets);
    const bad = (l: unknown): unknown => {
      try {
        resolveStateSync(rules, sets, events, { layers: l as StateLayers });
        return undefined;
      } catch (e) {
        return e instanceof StateResolutionError ? e.code : e;
      }
    };
    expect(bad({ base: layers.base, overlays: layers.overlays.slice(1) })).toBe('INVALID_INPUT');
    expect(bad({ base: {}, overlays: layers.overlays })).toBe('INVALID_INPUT');
    expect(bad({ base: layers.base, overlays: [...layers.overlays.slice(1), [['k', 'v']]] })).toBe('INVALID_INPUT');
    expect(bad({ base: layers.base })).toBe('INVALID_INPUT');
    expect(bad(null)).toBe('INVALID_INPUT');
    expect(bad(layers)).toBeUndefined();
  });
});
