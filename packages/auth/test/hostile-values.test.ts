/**
 * Content values that are not JSON — a BigInt, a cycle, nesting 100k deep — reach `checkAuth`
 * through the library API (a caller's own event objects). The rules reject them by their own
 * rule; describing the value in the rejection message must never turn that into rule `internal`.
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import { ALL, FRANK, Room, outcome } from './helpers.js';

function deep(n: number): unknown {
  let v: unknown = 'x';
  for (let i = 0; i < n; i++) v = [v];
  return v;
}
function cyclic(): unknown {
  const o: Record<string, unknown> = { a: 1 };
  o['self'] = o;
  return o;
}
const HOSTILE: readonly [string, () => unknown][] = [
  ['a BigInt', () => 10n ** 30n],
  ['a cyclic object', cyclic],
  ['a 100k-deep array', () => deep(100_000)],
];
const j = (v: unknown): JsonValue => v as JsonValue;

describe.each(ALL)('room version %s: hostile content values are rejected by their own rule', (v) => {
  it.each(HOSTILE)('%s', (_name, make) => {
    const r = new Room(v);
    // membership (F6: unknown membership)
    expect(outcome(r.check(r.member(FRANK, j(make())), r.state()))).toBe('member.unknown_membership');
    // join_rule of the room (F6.3: the join rule does not allow joining)
    expect(outcome(r.check(r.member(FRANK, 'join'), r.state({ joinRule: j(make()) })))).toBe('member.join.join_rule');
    // room_version of a create event (F1.3)
    const c = r.create({ room_version: j(make()) } as JsonObject);
    const res = r.check(c, []);
    expect(res.allowed).toBe(false);
    expect(outcome(res)).not.toBe('internal');
    // The message names the value, bounded.
    if (!res.allowed) expect(res.reason.length).toBeLessThan(500);
  });
});
