/**
 * Resolving forks: the state before an event with several prev events, and the room's current
 * state over several forward extremities, are the resolution of their states with the room
 * version's algorithm (Server-Server API › Room State; room versions › State resolution; the
 * algorithms themselves live in `@roomgraph/state-res`). This module feeds them the states in
 * place, from the store, with the conflicted keys computed from snapshot diffs.
 *
 * @module
 */
import type { RoomEvent } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { resolveStateDelta } from '@roomgraph/state-res';
import type { SnapshotId } from '@roomgraph/store';
import type { EngineContext } from '../context.js';
import { isPromotableOutlier, isRejectedStatus } from '../stored.js';
import { type VState, StateView, sameVState, stored, viewOf } from './vstate.js';

/**
 * Resolves several states (deduplicated) with the room's algorithm. `inFlight` is the event being
 * committed: part of its own "state after" but not stored yet.
 */
export async function resolveStates(ctx: EngineContext, roomId: string, rules: RoomVersionRules, states: readonly VState[], inFlight?: RoomEvent): Promise<VState> {
  const store = ctx.store;
  const distinct: VState[] = [];
  for (const s of states) if (!distinct.some((d) => sameVState(d, s))) distinct.push(s);
  if (distinct.length === 1) return distinct[0] as VState;
  if (distinct.length === 0) return stored(null);
  const first = distinct[0] as VState;
  let maps: ReadonlyMap<string, string>[];
  let conflictedKeys: Set<string> | undefined;
  if (distinct.every((s) => s.base !== null)) {
    // Every state is a stored snapshot plus an overlay: materialise only the first base and
    // express the others as overlays on it, from the store's snapshot diffs (proportional to
    // the deltas between the snapshots). Those diffs and overlays are also the only keys that
    // can differ, so the resolution's split costs O(conflict), not O(room).
    const base0 = await (store.stateReader?.(first.base as SnapshotId) ?? store.loadState(first.base as SnapshotId));
    conflictedKeys = new Set<string>(first.overlay.keys());
    maps = [new StateView(base0, first.overlay)];
    for (const s of distinct.slice(1)) {
      const overlay = new Map<string, string | null>();
      if (s.base !== first.base) {
        for (const [k, [, b]] of await store.diffStates(first.base as SnapshotId, s.base as SnapshotId)) overlay.set(k, b ?? null);
      }
      for (const [k, v] of s.overlay) overlay.set(k, v);
      for (const k of overlay.keys()) conflictedKeys.add(k);
      maps.push(new StateView(base0, overlay));
    }
  } else {
    maps = await Promise.all(distinct.map((s) => viewOf(store, s)));
  }
  // Which loaded events were rejected is kept with the room's resolution cache: an event loaded by
  // an earlier resolution (and kept in the cache) must still answer as rejected.
  const { cache, rejected, unsettled } = ctx.caches.resolutionOf(roomId);
  const delta = await resolveStateDelta(rules, maps, {
    async getEvents(ids: readonly string[]): Promise<ReadonlyMap<string, RoomEvent>> {
      const got = await store.getEvents(ids);
      const out = new Map<string, RoomEvent>();
      if (inFlight !== undefined && ids.includes(inFlight.eventId)) out.set(inFlight.eventId, inFlight);
      for (const [id, e] of got) {
        if (isRejectedStatus(e)) rejected.add(id);
        else rejected.delete(id);
        // A promotion may still reject an outlier (see EngineCaches.forgetRoomFacts).
        if (isPromotableOutlier(e)) unsettled.add(id);
        else unsettled.delete(id);
        out.set(id, ctx.caches.view(e, rules));
      }
      return out;
    },
    isRejected: (id: string) => rejected.has(id),
  }, { cache, ...(conflictedKeys !== undefined ? { conflictedKeys } : {}) });
  // The result relative to the first state: its overlay plus the resolution's changes.
  const overlay = new Map(first.overlay);
  for (const [k, v] of delta.changes) overlay.set(k, v ?? null);
  return { base: first.base, overlay };
}
