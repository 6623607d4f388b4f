/**
 * Resolving forks: the state before an event with several prev events, and the room's current
 * state over several forward extremities, are the resolution of their states with the room
 * version's algorithm (Server-Server API › Room State; room versions › State resolution; the
 * algorithms themselves live in `@roomgraph/state-res`). This module feeds them the states in
 * place, from the store: one stored base and each state's overlay on it (from snapshot diffs), as layers.
 *
 * @module
 */
import type { RoomEvent } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { type StateLayers, resolveStateDelta } from '@roomgraph/state-res';
import type { SnapshotId } from '@roomgraph/store';
import type { EngineContext } from '../context.js';
import { isPromotableOutlier, isRejectedStatus } from '../stored.js';
import { type VState, StateView, sameVState, stored, viewOf } from './vstate.js';

/** What {@link resolveStates} tells besides the state. */
export interface ResolutionInfo {
  /**
   * Set to `false` when an event the resolution asked for was not in the store (it was left out,
   * as the algorithm does with missing events): the answer may change once the event arrives.
   */
  complete: boolean;
}

/**
 * An identity of a set of states (the same for the same states in any order or repeated): their
 * bases and overlays, sorted. Two sets with one identity resolve to the same state (the result of
 * a resolution does not depend on the order of the states; snapshots never change).
 */
export function stateSetKey(states: readonly VState[]): string {
  // Stored snapshots (most states: an extremity's state after it) by their numbers, sorted; any
  // other state as the JSON text of its base and sorted overlay (unambiguous whatever the state
  // keys hold). The two parts are told apart by the `|` between them (no JSON text or number
  // list holds one outside a string).
  const stored: number[] = [];
  const others = new Set<string>();
  for (const s of states) {
    if (s.overlay.size === 0 && s.base !== null) {
      stored.push(s.base);
      continue;
    }
    const entries = [...s.overlay].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    others.add(JSON.stringify([s.base, entries]));
  }
  stored.sort((a, b) => a - b);
  let text = '';
  for (let i = 0; i < stored.length; i++) if (i === 0 || stored[i] !== stored[i - 1]) text += (text === '' ? '' : ',') + String(stored[i]);
  return others.size === 0 ? text : text + '|' + JSON.stringify([...others].sort());
}

/**
 * Resolves several states (deduplicated) with the room's algorithm. `inFlight` is the event being
 * committed: part of its own "state after" but not stored yet. `info`, when given, learns whether
 * every event the resolution asked for was stored.
 */
export async function resolveStates(
  ctx: EngineContext, roomId: string, rules: RoomVersionRules, states: readonly VState[], inFlight?: RoomEvent, info?: ResolutionInfo,
): Promise<VState> {
  const store = ctx.store;
  // Deduplicated, comparing only states of one base (a room with many forward extremities gives
  // many states, most of them of distinct bases).
  const distinct: VState[] = [];
  const byBase = new Map<SnapshotId | null, VState[]>();
  for (const s of states) {
    const same = byBase.get(s.base);
    if (same === undefined) byBase.set(s.base, [s]);
    else if (same.some((d) => sameVState(d, s))) continue;
    else same.push(s);
    distinct.push(s);
  }
  if (distinct.length === 1) return distinct[0] as VState;
  if (distinct.length === 0) return stored(null);
  const first = distinct[0] as VState;
  let maps: ReadonlyMap<string, string>[];
  let layers: StateLayers | undefined;
  if (distinct.every((s) => s.base !== null)) {
    // Every state is a stored snapshot plus an overlay: materialise only the first base and
    // express the others as overlays on it, from the store's snapshot diffs (proportional to
    // the deltas between the snapshots). Handed to the resolution as those layers: the overlays'
    // keys are the only ones that can differ, so its split costs O(Σ overlays) — not O(room),
    // nor O(overlay keys × states) for a room with many extremities, each with a state of its own.
    const base0 = await (store.stateReader?.(first.base as SnapshotId) ?? store.loadState(first.base as SnapshotId));
    const overlays: ReadonlyMap<string, string | null>[] = [first.overlay];
    maps = [new StateView(base0, first.overlay)];
    for (const s of distinct.slice(1)) {
      const overlay = new Map<string, string | null>();
      if (s.base !== first.base) {
        for (const [k, [, b]] of await store.diffStates(first.base as SnapshotId, s.base as SnapshotId)) overlay.set(k, b ?? null);
      }
      for (const [k, v] of s.overlay) overlay.set(k, v);
      overlays.push(overlay);
      maps.push(new StateView(base0, overlay));
    }
    layers = { base: base0, overlays };
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
      if (info !== undefined && got.size + out.size < ids.length) info.complete = false;
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
  }, { cache, ...(layers !== undefined ? { layers } : {}) });
  // The result relative to the first state: its overlay plus the resolution's changes.
  const overlay = new Map(first.overlay);
  for (const [k, v] of delta.changes) overlay.set(k, v ?? null);
  return { base: first.base, overlay };
}
