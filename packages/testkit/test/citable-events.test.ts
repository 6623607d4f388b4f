// The room generator's table of citable events: pruned to what is kept, at a cost per added event
// that does not grow with the room (generateRoom on a 20k-member room was quadratic).
import { describe, expect, it } from 'vitest';
import { CitableEvents } from '../src/citable-events.ts';
import { generateRoom } from '../src/room.ts';

describe('CitableEvents', () => {
  it('keeps what the caller keeps, drops the rest once pruned', () => {
    const t = new CitableEvents<number>(4);
    for (let i = 0; i < 4; i++) t.set(`e${i}`, i);
    t.prune(() => ['e1', 'e3']);
    expect([t.get('e0'), t.get('e1'), t.get('e2'), t.get('e3')]).toEqual([undefined, 1, undefined, 3]);
    expect(t.size).toBe(2);
  });

  it('does not prune (nor ask what to keep) until the table has doubled since the last prune', () => {
    const t = new CitableEvents<number>(2);
    let asked = 0;
    const keep = (ids: string[]) => () => { asked++; return ids; };
    for (let i = 0; i < 10; i++) t.set(`e${i}`, i);
    t.prune(keep(['e0', 'e1', 'e2', 'e3', 'e4']));
    expect([t.size, asked]).toEqual([5, 1]);
    for (let i = 10; i < 14; i++) t.set(`e${i}`, i);
    t.prune(keep([]));
    expect([t.size, asked]).toEqual([9, 1]);
    t.set('e14', 14);
    t.prune(keep(['e14']));
    expect([t.size, asked, t.get('e14'), t.get('e0')]).toEqual([1, 2, 14, undefined]);
  });

  it('a growing kept set (a room of many members) costs a bounded walk per added event', () => {
    // Every added event is kept (a member's join stays in the current state), and the caller
    // prunes after each — what generateRoom does while the members join.
    const t = new CitableEvents<number>(16);
    const kept: string[] = [];
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const id = `e${i}`;
      t.set(id, i);
      kept.push(id);
      t.prune(() => kept);
    }
    expect(t.size).toBe(n);
    // Each prune walks the table once it has doubled: at most 2n entries in all (pruning after
    // every event past the minimum walked ~n²/2 = 200M).
    expect(t.visited).toBeLessThanOrEqual(2 * n);
  });
});

describe('generateRoom past the prune threshold', () => {
  it('a room of 5,000 members and forked rounds yields every event after what it cites', () => {
    const room = generateRoom({ members: 5_000, events: 5_300, forks: 3, forkLength: 2, servers: 2 });
    const seen = new Set<string>();
    let n = 0;
    for (const pdu of room.events()) {
      for (const id of [...pdu.prevEvents, ...pdu.authEvents]) expect(seen.has(id), `${pdu.eventId} cites ${id}`).toBe(true);
      seen.add(pdu.eventId);
      n++;
    }
    expect(n).toBe(5_300);
  });
});
