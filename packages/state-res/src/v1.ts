/**
 * State resolution v1 (room version 1 › State resolution; checklist G4–G8), matching Synapse's
 * `synapse/state/v1.py` where the spec is loose (G8).
 *
 * @module
 */
import { type RoomEvent, authEventTypes, stateKeyOf } from '@roomgraph/events';
import { compareCodePoints } from '@roomgraph/canonical-json';
import { ResolutionRun, type ResolutionInput, type ResolutionStep, type StateDelta } from './run.js';
import { sha1Hex } from './sha1.js';
import { splitStateSets } from './split.js';
/** State resolution v1 (room version 1), matching Synapse's `synapse/state/v1.py` (G8). */
export function* resolveV1Gen(input: ResolutionInput): Generator<ResolutionStep, StateDelta, void> {
  const { rules, stateSets, check } = input;
  const run = new ResolutionRun(input);
  const first = stateSets[0] as ReadonlyMap<string, string>;
  const split = splitStateSets(stateSets, { conflictedKeys: input.conflictedKeys, missingIsConflict: false, layers: input.layers });
  // The unconflicted state map's value of a key (`undefined`: conflicted or absent).
  const unconflictedValue = (key: string): string | undefined =>
    split.conflicted.has(key) ? undefined : (split.extraUnconflicted.get(key) ?? first.get(key));
  const conflictedIds = new Set<string>();
  for (const ids of split.conflicted.values()) for (const id of ids) conflictedIds.add(id);
  yield* run.load(conflictedIds);

  // Auth events for the conflicted events, picked from the unconflicted state only.
  const authIds = new Map<string, string>();
  for (const id of conflictedIds) {
    const e = run.events.get(id);
    if (e === undefined) continue;
    for (const [t, sk] of authEventTypes(e, rules)) {
      const k = stateKeyOf(t, sk);
      if (authIds.has(k)) continue;
      const v = unconflictedValue(k);
      if (v !== undefined) authIds.set(k, v);
    }
  }
  yield* run.load(authIds.values());
  const authEvents = new Map<string, RoomEvent>();
  for (const [k, id] of authIds) {
    const e = run.events.get(id);
    if (e !== undefined) authEvents.set(k, e);
  }

  // Conflicts whose events are mostly missing degrade: one left → unconflicted, none → dropped.
  const conflicts = new Map<string, RoomEvent[]>();
  const resolved = new Map<string, string | undefined>();
  for (const [k, ids] of split.conflicted) {
    const evs: RoomEvent[] = [];
    for (const id of ids) {
      const e = run.events.get(id);
      if (e !== undefined) evs.push(e);
    }
    if (evs.length > 1) conflicts.set(k, evs);
    else resolved.set(k, evs.length === 1 ? (evs[0] as RoomEvent).eventId : undefined);
  }

  const sha = new Map<string, string>();
  const shaOf = (id: string): string => {
    let h = sha.get(id);
    if (h === undefined) sha.set(id, (h = sha1Hex(id)));
    return h;
  };
  // Highest depth first, then lowest sha1(event_id) (G5, G7).
  const ordered = (evs: readonly RoomEvent[]): RoomEvent[] =>
    [...evs].sort((a, b) => (a.depth !== b.depth ? b.depth - a.depth : compareCodePoints(shaOf(a.eventId), shaOf(b.eventId))));
  const passes = (e: RoomEvent, auth: ReadonlyMap<string, RoomEvent>): boolean => {
    try {
      return check(e, { get: (t, sk) => auth.get(stateKeyOf(t, sk)) }, rules);
    } catch {
      return false;
    }
  };
  // G5: ascending depth / descending sha1; take the first, then each next while it passes auth
  // against the auth events with the last accepted event in place.
  const resolveAuthEvents = (evs: readonly RoomEvent[], auth: ReadonlyMap<string, RoomEvent>): RoomEvent => {
    const list = ordered(evs).reverse();
    const local = new Map<string, RoomEvent>();
    for (const e of evs) {
      for (const [t, sk] of authEventTypes(e, rules)) {
        const k = stateKeyOf(t, sk);
        const a = auth.get(k);
        if (a !== undefined) local.set(k, a);
      }
    }
    let prev = list[0] as RoomEvent;
    for (let i = 1; i < list.length; i++) {
      const e = list[i] as RoomEvent;
      local.set(stateKeyOf(prev.type, prev.stateKey ?? ''), prev);
      if (!passes(e, local)) return prev;
      prev = e;
    }
    return prev;
  };
  // G7: the first (highest depth, lowest sha1) that passes; if none, the last tried (Synapse).
  const resolveNormal = (evs: readonly RoomEvent[], auth: ReadonlyMap<string, RoomEvent>): RoomEvent => {
    const list = ordered(evs);
    for (const e of list) if (passes(e, auth)) return e;
    return list[list.length - 1] as RoomEvent;
  };

  const out = new Map<string, RoomEvent>();
  const plKey = stateKeyOf('m.room.power_levels', '');
  const plConflict = conflicts.get(plKey);
  if (plConflict !== undefined) out.set(plKey, resolveAuthEvents(plConflict, authEvents));
  for (const [k, e] of out) authEvents.set(k, e);
  const sortedKeys = [...conflicts.keys()].sort(compareCodePoints);
  for (const phase of ['m.room.join_rules', 'm.room.member']) {
    for (const k of sortedKeys) {
      const evs = conflicts.get(k) as RoomEvent[];
      if ((evs[0] as RoomEvent).type === phase) out.set(k, resolveAuthEvents(evs, authEvents));
    }
    for (const [k, e] of out) authEvents.set(k, e);
    if (run.due()) yield null;
  }
  for (const k of sortedKeys) if (!out.has(k)) out.set(k, resolveNormal(conflicts.get(k) as RoomEvent[], authEvents));

  const changes = new Map<string, string | undefined>();
  for (const [k, v] of split.extraUnconflicted) changes.set(k, v);
  for (const [k, v] of resolved) if (first.get(k) !== v) changes.set(k, v);
  for (const [k, e] of out) if (first.get(k) !== e.eventId) changes.set(k, e.eventId);
  return { changes };
}
