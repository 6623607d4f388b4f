// The ID list comparisons that decide whether checks 5 and 6 are skipped (receipt/id-sets.ts),
// against the Set and sort expressions they replace, for short lists (scanned) and long ones (by
// Sets), with repeats on either side.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RoomEvent } from '@roomgraph/events';
import { allAmong, listsEachOnce, listsEachOnceIn, sameExtremities, sameIdSet } from '../src/receipt/id-sets.js';

/** Check 6's former test: the prev events as a Set equal the forward extremities as a Set. */
function modelSameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sb].every((x) => sa.has(x));
}

/** Check 5's former test: the sorted auth events equal the sorted distinct calculated ones. */
function modelEachOnce(claimed: readonly string[], calculated: readonly string[]): boolean {
  const c = [...claimed].sort();
  const d = [...new Set(calculated)].sort();
  return c.length === d.length && c.every((x, i) => x === d[i]);
}

/** Short lists (scanned) from a few IDs; long ones (past 16: by Sets) from more. */
const ids = (max: number) => fc.constantFrom('', '$A', ...Array.from({ length: max > 16 ? 24 : 5 }, (_, i) => `$${i}`));
/**
 * Lists, and lists drawn from them (a shuffle, a part, repeats of their IDs) or unrelated, so that
 * equal sets, subsets and supersets all come up often.
 */
const pair = (max: number) => {
  const id = ids(max);
  const list = fc.array(id, { minLength: max > 16 ? 17 : 0, maxLength: max, size: 'max' });
  return list.chain((a) =>
    fc.tuple(
      fc.constant(a),
      fc.oneof(
        fc.shuffledSubarray(a),
        fc.shuffledSubarray(a, { minLength: a.length }),
        fc.array(fc.constantFrom(...(a.length > 0 ? a : ['$0'])), { maxLength: max, size: 'max' }),
        fc.tuple(fc.shuffledSubarray(a, { minLength: a.length }), id).map(([b, x]) => [...b, x]),
        list,
      ),
    ),
  );
};

describe('id sets', () => {
  for (const max of [6, 40]) {
    it(`sameIdSet is Set equality (lists up to ${max})`, () => {
      fc.assert(
        fc.property(pair(max), ([a, b]) => {
          expect(sameIdSet(a, b)).toBe(modelSameSet(a, b));
          expect(sameIdSet(b, a)).toBe(modelSameSet(a, b));
        }),
        { numRuns: 3000 },
      );
    });

    it(`listsEachOnce is the sorted comparison (lists up to ${max})`, () => {
      fc.assert(
        fc.property(pair(max), ([a, b]) => {
          expect(listsEachOnce(a, b)).toBe(modelEachOnce(a, b));
          expect(listsEachOnce(b, a)).toBe(modelEachOnce(b, a));
        }),
        { numRuns: 3000 },
      );
    });

    it(`listsEachOnceIn (the block path's, over events) is the sorted comparison (lists up to ${max})`, () => {
      const events = (xs: readonly string[]): RoomEvent[] => xs.map((eventId) => ({ eventId }) as RoomEvent);
      fc.assert(
        fc.property(pair(max), ([a, b]) => {
          expect(listsEachOnceIn(a, events(b))).toBe(modelEachOnce(a, b));
          expect(listsEachOnceIn(b, events(a))).toBe(modelEachOnce(b, a));
        }),
        { numRuns: 3000 },
      );
    });

    it(`sameExtremities and allAmong (forward extremities: no repeats) are Set equality and inclusion (lists up to ${max})`, () => {
      fc.assert(
        fc.property(pair(max), ([a, b]) => {
          const x = [...new Set(a)];
          expect(sameExtremities(x, b)).toBe(modelSameSet(x, b));
          expect(allAmong(x, b)).toBe(x.every((id) => b.includes(id)));
        }),
        { numRuns: 3000 },
      );
    });
  }

  it('decides the plain cases', () => {
    expect(sameIdSet(['$a', '$b'], ['$b', '$a', '$a'])).toBe(true);
    expect(sameIdSet(['$a'], ['$a', '$b'])).toBe(false);
    expect(sameIdSet([], [])).toBe(true);
    expect(listsEachOnce(['$b', '$a'], ['$a', '$b', '$b'])).toBe(true);
    expect(listsEachOnce(['$a', '$a'], ['$a'])).toBe(false);
    expect(listsEachOnce(['$a'], ['$a', '$b'])).toBe(false);
    const many = Array.from({ length: 30 }, (_, i) => `$${i}`);
    expect(listsEachOnce(many, [...many].reverse())).toBe(true);
    expect(listsEachOnce([...many, '$0'], many)).toBe(false);
    expect(sameIdSet(many, many.slice(1))).toBe(false);
    expect(sameExtremities(['$b', '$a'], ['$a', '$b', '$a'])).toBe(true);
    expect(sameExtremities(many, ['$0'])).toBe(false);
    expect(allAmong(['$a'], ['$b', '$a'])).toBe(true);
    expect(allAmong(['$a', '$c'], ['$b', '$a'])).toBe(false);
    expect(allAmong(many.slice(0, 3), many)).toBe(true);
    expect(allAmong(many, many.slice(0, 3))).toBe(false);
    expect(allAmong([], [])).toBe(true);
  });
});
