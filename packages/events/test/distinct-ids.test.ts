// distinctIds: a list of event IDs without repeats, first occurrences in order — the list itself
// (no copy) exactly when nothing repeats; short lists scanned, long ones by a Set.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { distinctIds } from '@roomgraph/events';

describe('distinctIds', () => {
  it('equals the Set of the list in first-occurrence order, and is the list itself exactly when nothing repeats', () => {
    const seen = { short: 0, long: 0, repeats: 0, none: 0 };
    fc.assert(
      fc.property(fc.array(fc.constantFrom('$a', '$b', '$c', '$d', '', '$e:x', ...Array.from({ length: 30 }, (_, i) => `$${i}`)), { maxLength: 40, size: 'max' }), (ids) => {
        const got = distinctIds(ids);
        expect(got).toEqual([...new Set(ids)]);
        const repeats = new Set(ids).size !== ids.length;
        expect(got === ids).toBe(!repeats);
        seen[ids.length > 16 ? 'long' : 'short']++;
        seen[repeats ? 'repeats' : 'none']++;
      }),
      { numRuns: 1000 },
    );
    for (const n of Object.values(seen)) expect(n).toBeGreaterThan(50);
  });
});
