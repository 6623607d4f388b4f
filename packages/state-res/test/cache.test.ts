/**
 * `ResolutionCache` is bounded: shared across many resolutions (as the engine shares one per room),
 * it keeps at most `maxEvents` events and sender power levels between resolutions, and a small
 * bound never changes an answer (what a resolution loaded stays while it runs; what was forgotten
 * is loaded again). Checked on the reference-sample rooms (Synapse's answers).
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import type { RoomEvent } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { DEFAULT_RESOLUTION_CACHE_EVENTS, ResolutionCache, StateResolutionError, resolveState, resolveStateSync } from '@roomgraph/state-res';
import { eventsOf, nested, readJsonl, stateOf } from './helpers.js';

interface Room { room_version: string; events: JsonObject[]; state_sets: string[][]; expected: { resolved: Record<string, Record<string, string>> } }
const rooms = readJsonl<Room>('reference-sample/stateres.jsonl.gz');

describe('ResolutionCache', () => {
  it('defaults to a bound and refuses a bound that is not a non-negative integer', () => {
    expect(new ResolutionCache().maxEvents).toBe(DEFAULT_RESOLUTION_CACHE_EVENTS);
    for (const bad of [-1, 1.5, Number.NaN]) expect(() => new ResolutionCache({ maxEvents: bad })).toThrow(StateResolutionError);
  });

  it.each([0, 3, 40])('shared by every reference room with maxEvents %i: the same answers, and never more than the bound kept', async (max) => {
    const cache = new ResolutionCache({ maxEvents: max });
    let loadedMost = 0;
    for (const room of rooms.slice(0, 20)) {
      const rules = getRoomVersion(room.room_version);
      const events = eventsOf(room.events, rules);
      const sets = room.state_sets.map((ids) => stateOf(ids, events));
      const lookup = (id: string): RoomEvent | undefined => events.get(id);
      // A lookup function (not a Map): the resolution loads events into the shared cache.
      expect(nested(resolveStateSync(rules, sets, lookup, { cache }), events)).toEqual(room.expected.resolved);
      const source = {
        getEvents: async (ids: readonly string[]) => {
          const got = new Map(ids.flatMap((id) => (events.has(id) ? [[id, events.get(id) as RoomEvent] as const] : [])));
          loadedMost = Math.max(loadedMost, cache.events.size + got.size);
          return got;
        },
      };
      expect(nested(await resolveState(rules, sets, source, { cache, yieldEvery: 5 }), events)).toEqual(room.expected.resolved);
      expect(cache.events.size).toBeLessThanOrEqual(max);
      expect(cache.senderPower.size).toBeLessThanOrEqual(max);
      expect(cache.missing.size).toBe(0);
    }
    // The resolutions did load more than the bound while they ran.
    expect(loadedMost).toBeGreaterThan(max);
  });

  it('concurrent resolutions sharing a cache: nothing is forgotten until the last one ends', async () => {
    const cache = new ResolutionCache({ maxEvents: 0 });
    const room = rooms[0]!;
    const rules = getRoomVersion(room.room_version);
    const events = eventsOf(room.events, rules);
    const sets = room.state_sets.map((ids) => stateOf(ids, events));
    let sizeWhileBothRan = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let calls = 0;
    const source = {
      getEvents: async (ids: readonly string[]) => {
        if (++calls === 1) await gate; // the first resolution waits at its first load
        return new Map(ids.flatMap((id) => (events.has(id) ? [[id, events.get(id) as RoomEvent] as const] : [])));
      },
    };
    const first = resolveState(rules, sets, source, { cache });
    const second = await resolveState(rules, sets, source, { cache });
    sizeWhileBothRan = cache.events.size; // the second ended, the first still runs: kept
    release();
    expect(nested(await first, events)).toEqual(room.expected.resolved);
    expect(nested(second, events)).toEqual(room.expected.resolved);
    expect(sizeWhileBothRan).toBeGreaterThan(0);
    expect(cache.events.size).toBe(0);
  });
});
