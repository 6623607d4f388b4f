import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BloomFilter } from '../src/bloom.js';

describe('BloomFilter (stored event IDs)', () => {
  it('never answers "absent" for an added string', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.string({ maxLength: 60 }), { maxLength: 3000 }), (items) => {
      const f = new BloomFilter(items.length);
      for (const s of items) f.add(s);
      for (const s of items) expect(f.mayContain(s)).toBe(true);
    }), { numRuns: 50 });
  });
  it('keeps false positives near 1% at capacity', () => {
    const f = new BloomFilter(50_000);
    for (let i = 0; i < 50_000; i++) f.add(`$event${i}:example.org`);
    let fp = 0;
    for (let i = 0; i < 50_000; i++) if (f.mayContain(`$other${i}:example.org`)) fp++;
    expect(fp / 50_000).toBeLessThan(0.02);
  });
});
