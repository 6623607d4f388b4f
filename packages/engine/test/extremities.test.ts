// The block path's synchronous extremity walk (`extremitiesAfterNow`, receipt/extremities.ts)
// against the general one (`extremitiesAfter`): on random event graphs — any statuses, depths that
// do and do not stop the child walk, repeated and unknown IDs among the extremities and the prev
// events — both give the same forward extremities; where an event it reads is not at hand, the
// synchronous walk answers NOT_AT_HAND or the same answer.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RoomEvent } from '@roomgraph/events';
import type { EventStatus } from '@roomgraph/store';
import { propertyRuns } from '@roomgraph/testkit';
import { type EventLinks, NOT_AT_HAND, extremitiesAfter, extremitiesAfterNow } from '../src/receipt/extremities.js';

const STATUSES: readonly EventStatus[] = ['accepted', 'accepted', 'soft-failed', 'rejected', 'outlier'];

interface Graph {
  readonly events: ReadonlyMap<string, EventLinks>;
  readonly extremities: readonly string[];
  readonly event: RoomEvent;
  /** IDs the synchronous walk finds not at hand. */
  readonly away: ReadonlySet<string>;
}

/** Event `i` cites earlier events (and sometimes an unknown one or a repeat); `x` is the new event. */
const graph: fc.Arbitrary<Graph> = fc
  .record({
    nodes: fc.array(
      fc.record({
        prevs: fc.array(fc.nat({ max: 40 }), { maxLength: 4 }),
        status: fc.constantFrom(...STATUSES),
        depth: fc.nat({ max: 12 }),
      }),
      { minLength: 1, maxLength: 30, size: 'max' },
    ),
    extremities: fc.array(fc.nat({ max: 40 }), { maxLength: 6 }),
    prevs: fc.array(fc.nat({ max: 40 }), { maxLength: 5 }),
    depth: fc.nat({ max: 12 }),
    // The new event cites itself, or an extremity cites it (a child stored before it).
    selfCite: fc.boolean(),
    away: fc.array(fc.nat({ max: 40 }), { maxLength: 3 }),
  })
  .map(({ nodes, extremities, prevs, depth, selfCite, away }) => {
    const id = (i: number): string => (i === 40 ? '$x' : `$e${i}`);
    const events = new Map<string, EventLinks>();
    nodes.forEach((n, i) => {
      // Earlier events only, or (index 35+: never an event) unknown IDs; 40 is the new event.
      const prevEvents = n.prevs.map((p) => (p < i || p >= 35 ? id(p) : id(p % Math.max(1, i))));
      events.set(id(i), { prevEvents, status: n.status, depth: n.depth });
    });
    const prevEvents = prevs.map((p) => id(p));
    if (selfCite) prevEvents.push('$x');
    const event = { eventId: '$x', prevEvents, depth } as unknown as RoomEvent;
    return { events, extremities: extremities.map((x) => id(x)), event, away: new Set(away.map((a) => id(a))) };
  });

/** The general walk's lookup: the known events among `ids`. */
function lookupOf(events: ReadonlyMap<string, EventLinks>) {
  return (ids: readonly string[]): ReadonlyMap<string, EventLinks> => {
    const got = new Map<string, EventLinks>();
    for (const i of ids) {
      const e = events.get(i);
      if (e !== undefined) got.set(i, e);
    }
    return got;
  };
}

describe('extremitiesAfterNow', () => {
  it('gives the forward extremities extremitiesAfter gives', async () => {
    await fc.assert(
      fc.asyncProperty(graph, async (g) => {
        const expected = await extremitiesAfter(g.extremities, g.event, lookupOf(g.events));
        const now = extremitiesAfterNow(g.extremities, g.event, (i) => g.events.get(i));
        expect(now).toEqual(expected);
      }),
      { numRuns: propertyRuns(500) },
    );
  });

  it('answers NOT_AT_HAND, or the same, when events it reads are not at hand', async () => {
    await fc.assert(
      fc.asyncProperty(graph, async (g) => {
        const expected = await extremitiesAfter(g.extremities, g.event, lookupOf(g.events));
        const now = extremitiesAfterNow(g.extremities, g.event, (i) => (g.away.has(i) ? NOT_AT_HAND : g.events.get(i)));
        if (now !== NOT_AT_HAND) expect(now).toEqual(expected);
      }),
      { numRuns: propertyRuns(300) },
    );
  });

  it('decides the plain cases', () => {
    const links = new Map<string, EventLinks>([
      ['$a', { prevEvents: [], status: 'accepted', depth: 1 }],
      ['$b', { prevEvents: ['$a'], status: 'soft-failed', depth: 2 }],
      ['$c', { prevEvents: ['$x'], status: 'accepted', depth: 4 }],
    ]);
    const ev = (prevEvents: string[]) => ({ eventId: '$x', prevEvents, depth: 3 }) as unknown as RoomEvent;
    const now = (i: string) => links.get(i);
    // Built on the one extremity: the event replaces it.
    expect(extremitiesAfterNow(['$a'], ev(['$a']), now)).toEqual(['$x']);
    // On a soft-failed event: the extremity under it goes too.
    expect(extremitiesAfterNow(['$a', '$z'], ev(['$b']), now)).toEqual(['$x', '$z']);
    // An accepted child already stored: not an extremity.
    expect(extremitiesAfterNow(['$c'], ev(['$a']), now)).toEqual(['$c']);
    // Not at hand.
    expect(extremitiesAfterNow(['$a'], ev(['$a']), () => NOT_AT_HAND)).toBe(NOT_AT_HAND);
  });
});
