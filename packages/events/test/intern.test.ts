// The identifier table (src/intern.ts) may answer an earlier equal string instead of its input; it
// must never answer a different one — whatever collides in its slots, however long or odd the
// strings (astral, lone surrogates, empty, longer than any identifier), and however full it is.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { intern, knownType, SLOTS } from '../src/intern.js';

describe('intern', () => {
  it('answers a string equal to its input, for any sequence of strings', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.constantFrom('$a', '@u1:x', '!r:x', '', 'm.room.member', 'm.room.membe', 'm.room.member ', 'M.room.member', 'm.room.create\0')), { maxLength: 200 }), (xs) => {
        for (const x of xs) expect(intern(x)).toBe(x);
        for (const x of [...xs].reverse()) expect(intern(x)).toBe(x);
      }),
      { numRuns: 300 },
    );
  });

  it('stays correct past its capacity, with strings that differ only where its hash does not look', () => {
    // Long strings that differ in one character: the hash samples every 16th character of them.
    const base = 'x'.repeat(200);
    const near = Array.from({ length: 64 }, (_, i) => base.slice(0, 101) + String.fromCharCode(65 + (i % 26)) + base.slice(102) + String(i));
    for (let round = 0; round < 3; round++) for (const s of near) expect(intern(s)).toBe(s);
    // More distinct identifiers than slots.
    for (let i = 0; i < SLOTS * 2; i++) {
      const id = `$event${i}`;
      if (intern(id) !== id) throw new Error(`intern(${id}) answered another string`);
    }
    expect(intern('$event7')).toBe('$event7');
  });

  it('answers known event types, and only equal strings, through knownType', () => {
    // (A string's identity is not observable from JavaScript: what can be checked is equality.)
    const json = JSON.stringify({ type: 'm.room.power_levels' });
    const parsed = json.slice(9, 9 + 'm.room.power_levels'.length);
    expect(knownType(parsed)).toBe('m.room.power_levels');
    expect(intern(parsed)).toBe('m.room.power_levels');
    fc.assert(fc.property(fc.string({ maxLength: 30 }), (t) => {
      expect(knownType(t)).toBe(t);
    }), { numRuns: 300 });
    for (const t of ['m.room.member', 'm.room.third_party_invite', 'm.room.history_visibility', 'm.room.memberx', 'm.room', 'org.example']) {
      expect(knownType(t)).toBe(t);
      expect(intern(t)).toBe(t);
    }
  });
});
