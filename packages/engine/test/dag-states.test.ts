// The engine's states against testkit's generated rooms, whose states are computed independently
// with `resolveStateSync` over plain maps: the state after every event, and the current state over
// the forward extremities. The engine resolves forks from stored snapshots as layers (one base and
// an overlay per state; `state/resolve.ts`), counts the auth difference of more than two states by
// bitsets, and keeps the current state it resolved while the extremities' states stay the same
// (`receipt/commit.ts`) — all must give what the plain resolution gives.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stateKeyOf } from '@roomgraph/events';
import { resolveStateSync } from '@roomgraph/state-res';
import { createMemoryStore } from '@roomgraph/store-memory';
import { propertyRuns, roomDag } from '@roomgraph/testkit';
import { StaticKeySource } from '@roomgraph/transport';
import { RoomEngine } from '../src/index.js';
import { withoutCommitMany } from './harness.js';

/** A state as a map keyed by `stateKeyOf`. */
function flat(state: Iterable<{ readonly type: string; readonly stateKey: string; readonly eventId: string }>): Map<string, string> {
  const m = new Map<string, string>();
  for (const { type, stateKey, eventId } of state) m.set(stateKeyOf(type, stateKey), eventId);
  return m;
}

describe('the engine’s states equal the plain resolution’s on generated forked rooms', () => {
  for (const [i, v] of ['1', '10', '12'].entries()) {
    it(`room version ${v}: the state after every event, and the current state`, async () => {
      let widest = 0;
      await fc.assert(fc.asyncProperty(roomDag({ roomVersions: v, ids: 'real', maxActions: 40, maxForks: 6 }), async (dag) => {
        const engine = await RoomEngine.open({ ownsStore: true, serverName: 'z.example', store: withoutCommitMany(createMemoryStore()), keys: new StaticKeySource({}) });
        try {
          for (const e of dag.events) {
            const o = await engine.receivePdus('a.example', [dag.pdus!.get(e.eventId)!.json], { trusted: true });
            expect(['accepted', 'soft-failed']).toContain(o[0]!.status);
            widest = Math.max(widest, (await engine.forwardExtremities(dag.roomId)).length);
          }
          for (const e of dag.events) expect(flat(await engine.stateAt(e.eventId, { after: true }))).toEqual(new Map(dag.stateAfter.get(e.eventId)!));
          const extremities = await engine.forwardExtremities(dag.roomId);
          const states = extremities.map((x) => dag.stateAfter.get(x)!);
          const want = states.length === 1 ? new Map(states[0]!) : resolveStateSync(dag.rules, states, dag.eventsById);
          expect(flat(await engine.currentState(dag.roomId))).toEqual(want);
        } finally {
          await engine.close();
        }
      }), { numRuns: propertyRuns(25), seed: 2100 + i });
      // Some room had more than two extremities (the resolution's many-set path).
      expect(widest).toBeGreaterThan(2);
    }, 120_000);
  }
});
