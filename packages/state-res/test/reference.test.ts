import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import type { RoomEvent } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { ChainCoverIndex, resolveState, resolveStateSync } from '@roomgraph/state-res';
import { eventsOf, nested, readJsonl, shuffle, stateOf } from './helpers.js';

interface Room {
  room_version: string;
  seed: number;
  events: JsonObject[];
  state_sets: string[][];
  expected: { resolved: Record<string, Record<string, string>> };
}

const rooms = readJsonl<Room>('reference-sample/stateres.jsonl.gz');

function topo(events: ReadonlyMap<string, RoomEvent>): RoomEvent[] {
  const out: RoomEvent[] = [];
  const seen = new Set<string>();
  const visit = (id: string): void => {
    if (seen.has(id)) return;
    seen.add(id);
    const e = events.get(id);
    if (e === undefined) return;
    for (const a of e.authEvents) visit(a);
    out.push(e);
  };
  for (const id of [...events.keys()].sort()) visit(id);
  return out;
}

describe('reference-sample stateres rooms (Synapse answers)', () => {
  it('has 60 rooms', () => expect(rooms.length).toBe(60));
  rooms.forEach((room, i) => {
    it(`room ${i} (v${room.room_version}, seed ${room.seed}, ${room.state_sets.length} sets)`, async () => {
      const rules = getRoomVersion(room.room_version);
      const events = eventsOf(room.events, rules);
      const sets = room.state_sets.map((ids) => stateOf(ids, events));
      const want = room.expected.resolved;
      expect(nested(resolveStateSync(rules, sets, events), events)).toEqual(want);
      expect(nested(resolveStateSync(rules, [...sets].reverse(), events), events)).toEqual(want);
      // Shuffled events, shuffled sets, async source with a chain cover index.
      const shuffled = eventsOf(shuffle(room.events, room.seed), rules);
      const index = new ChainCoverIndex();
      for (const e of topo(shuffled)) index.add(e);
      const source = { getEvents: async (ids: readonly string[]) => new Map(ids.flatMap((id) => (shuffled.has(id) ? [[id, shuffled.get(id) as RoomEvent] as const] : []))) };
      const s2 = shuffle(sets, room.seed + 1);
      expect(nested(await resolveState(rules, s2, source, { yieldEvery: 7 }), events)).toEqual(want);
      expect(nested(await resolveState(rules, s2, { ...source, authChains: index }), events)).toEqual(want);
    });
  });
});
