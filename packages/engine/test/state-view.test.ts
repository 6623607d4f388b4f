import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StateView } from '../src/state/vstate.js';

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
