import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RoomStore } from '@roomgraph/store';
import { type VState, StateView, rebase } from '../src/state/vstate.js';
import { stateSetKey } from '../src/state/resolve.js';
import { EngineCaches } from '../src/caches.js';

// The engine hands state resolution map views (a stored base read in place plus an overlay); they
// must behave exactly like the materialised map.
describe('StateView', () => {
  it('behaves like the materialised map', () => {
    const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
    fc.assert(fc.property(fc.dictionary(key, fc.string()), fc.dictionary(key, fc.option(fc.string(), { nil: null })), (base, overlay) => {
      const b = new Map(Object.entries(base));
      const o = new Map(Object.entries(overlay));
      const want = new Map(b);
      for (const [k, v] of o) (v === null ? want.delete(k) : want.set(k, v));
      const view = new StateView(b, o);
      expect(new Map(view)).toEqual(want);
      expect(view.size).toBe(want.size);
      for (const k of ['a', 'b', 'c', 'd', 'e', 'f', 'z']) {
        expect(view.get(k)).toBe(want.get(k));
        expect(view.has(k)).toBe(want.has(k));
      }
      expect([...view.keys()].sort()).toEqual([...want.keys()].sort());
      expect([...view.values()].sort()).toEqual([...want.values()].sort());
      const seen: [string, string][] = [];
      view.forEach((v, k) => seen.push([k, v]));
      expect(new Map(seen)).toEqual(want);
    }), { numRuns: 300 });
  });
});

// The identity of a set of states under which the engine remembers the current state resolved
// from them (receipt/commit.ts): equal exactly when the sets hold the same states, whatever the
// order, repeats, or the characters of the state keys and event IDs.
describe('stateSetKey', () => {
  it('is equal exactly for the same set of states', () => {
    const str = fc.constantFrom('a', 'b', '\u0000', '\u0001', '"', ',', 'a\u0000b', '[', '\ud800');
    const state = fc.record({
      base: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }),
      overlay: fc.array(fc.tuple(str, fc.option(str, { nil: null })), { maxLength: 3 }).map((es) => new Map(es)),
    });
    const same = (x: VState, y: VState): boolean => x.base === y.base && x.overlay.size === y.overlay.size && [...x.overlay].every(([k, v]) => y.overlay.has(k) && y.overlay.get(k) === v);
    const sameSets = (xs: readonly VState[], ys: readonly VState[]): boolean => xs.every((x) => ys.some((y) => same(x, y))) && ys.every((y) => xs.some((x) => same(x, y)));
    fc.assert(fc.property(fc.array(state, { maxLength: 4 }), fc.array(state, { maxLength: 4 }), fc.integer(), (xs, ys, seed) => {
      expect(stateSetKey(xs) === stateSetKey(ys)).toBe(sameSets(xs, ys));
      // Reordered, repeated, overlays built in another order: the same identity.
      const shuffled = fc.sample(fc.shuffledSubarray([...xs, ...xs], { minLength: 2 * xs.length }), { seed, numRuns: 1 })[0]!
        .map((s) => ({ base: s.base, overlay: new Map([...s.overlay].reverse()) }));
      expect(stateSetKey(shuffled)).toBe(stateSetKey(xs));
    }), { numRuns: 500 });
    // Sets a joined text would confuse.
    const pairs: [VState[], VState[]][] = [
      [[{ base: 1, overlay: new Map([['a\u0000b', 'c']]) }], [{ base: 1, overlay: new Map([['a', 'b\u0000c']]) }]],
      [[{ base: 1, overlay: new Map([['a', null]]) }], [{ base: 1, overlay: new Map([['a', 'null']]) }]],
      [[{ base: null, overlay: new Map() }], [{ base: 0, overlay: new Map() }]],
      [[{ base: 1, overlay: new Map([['a', 'b'], ['c', 'd']]) }], [{ base: 1, overlay: new Map([['a', 'b\u0001c\u0000d']]) }]],
      [[{ base: 1, overlay: new Map() }, { base: 2, overlay: new Map() }], [{ base: 12, overlay: new Map() }]],
    ];
    for (const [x, y] of pairs) expect(stateSetKey(x)).not.toBe(stateSetKey(y));
  });
});

describe('the remembered current state', () => {
  it('is forgotten when an outlier of its room is promoted', () => {
    const caches = new EngineCaches();
    caches.resolutionOf('!r:x');
    caches.resolvedCurrent('!r:x', 'k', 7);
    expect(caches.resolution.peek('!r:x')?.current).toEqual({ key: 'k', snapshot: 7 });
    caches.resolvedCurrent('!other:x', 'k', 8); // (no resolution cache for that room: nothing kept)
    expect(caches.resolution.peek('!other:x')).toBeUndefined();
    caches.settled('!r:x', '$promoted', false);
    expect(caches.resolution.peek('!r:x')?.current).toBeUndefined();
  });
});

// A state re-expressed as an overlay on another stored snapshot (receipt/commit.ts writes a new
// current state as a change of the previous one): the same state, whatever the two bases and the
// overlay hold.
describe('rebase', () => {
  it('gives the same state as an overlay on the other snapshot', async () => {
    const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
    const val = fc.constantFrom('$1', '$2', '$3');
    await fc.assert(fc.asyncProperty(
      fc.dictionary(key, val), fc.dictionary(key, val), fc.dictionary(key, fc.option(val, { nil: null })),
      async (a, b, o) => {
        const snapshots = new Map<number, Map<string, string>>([[1, new Map(Object.entries(a))], [2, new Map(Object.entries(b))]]);
        // The two reads `rebase` makes, over the maps (a store answers them from its snapshots).
        const store = {
          async diffStates(x: number, y: number) {
            const sx = snapshots.get(x)!;
            const sy = snapshots.get(y)!;
            const d = new Map<string, readonly [string | undefined, string | undefined]>();
            for (const k of new Set([...sx.keys(), ...sy.keys()])) if (sx.get(k) !== sy.get(k)) d.set(k, [sx.get(k), sy.get(k)]);
            return d;
          },
          async getStateEntries(s: number, keys: readonly string[]) {
            return keys.map((k) => snapshots.get(s)!.get(k));
          },
        } as unknown as RoomStore;
        const overlay = new Map(Object.entries(o));
        const apply = (base: ReadonlyMap<string, string>, ov: ReadonlyMap<string, string | null>): Map<string, string> => {
          const m = new Map(base);
          for (const [k, v] of ov) (v === null ? m.delete(k) : m.set(k, v));
          return m;
        };
        const want = apply(snapshots.get(1)!, overlay);
        const got = await rebase(store, { base: 1, overlay }, 2);
        expect(got.base).toBe(2);
        expect(apply(snapshots.get(2)!, got.overlay)).toEqual(want);
        // Only the keys where the other snapshot differs from the state.
        for (const [k, v] of got.overlay) expect(snapshots.get(2)!.get(k)).not.toBe(v ?? undefined);
        // Onto its own base, or from the empty state: unchanged.
        expect(await rebase(store, { base: 2, overlay }, 2)).toEqual({ base: 2, overlay });
        expect((await rebase(store, { base: null, overlay }, 2)).base).toBeNull();
      },
    ), { numRuns: 400 });
  });
});
