/**
 * State resolution v2 (room versions 2–11 › State resolution v2 › Algorithm) and v2.1 (room
 * version 12 › State resolution v2.1: the conflicted state subgraph joins the full conflicted set
 * and the iterative auth checks begin from an empty state).
 *
 * @module
 */
import { type RoomEvent, stateKeyOf } from '@roomgraph/events';
import { authDifferenceGen, authDifferenceOfRootSets } from './auth-difference.js';
import { conflictedStateSubgraphOf } from './conflicted-subgraph.js';
import { dependentIndices } from './independent-checks.js';
import { authCheckPass, authCheckerOver, checkRecordOf } from './iterative-auth-checks.js';
import { mainlineSortGen, powerSort } from './ordering.js';
import { ResolutionRun, type ResolutionInput, type ResolutionStep, type StateDelta, authKeysOf } from './run.js';
import { type RootSets, splitWithPerSet } from './split.js';
// State resolution v2 / v2.1

/**
 * Whether step 4 checks the independent remaining events without the mainline ordering
 * (independent-checks.ts). Internal, not exported by the package: tests turn it off to compare
 * with the fully ordered pass.
 */
export const restSplitting = { enabled: true };

/** State resolution v2 (rooms 2–11) and v2.1 (room 12): frag:v2-state-res, R12 › Algorithm. */
export function* resolveV2Gen(input: ResolutionInput): Generator<ResolutionStep, StateDelta, void> {
  const { rules, stateSets } = input;
  const run = new ResolutionRun(input);
  const first = stateSets[0] as ReadonlyMap<string, string>;
  // With layers for more than two sets, the split gives each conflicted event's sets (a bitset:
  // the sets' lists would repeat the base's values at the conflicted keys in every set); with
  // layers for two, or with two sets and no hint, each set's conflicted events.
  const rootSets = input.layers !== undefined && stateSets.length > 2 ? new Map<string, RootSets>() : undefined;
  const perSetFilled = rootSets === undefined && (input.layers !== undefined || (stateSets.length === 2 && input.conflictedKeys === undefined));
  const perSetOfSplit: string[][] = [];
  if (rootSets === undefined) for (let s = 0; s < stateSets.length; s++) perSetOfSplit.push([]);
  const split = splitWithPerSet(stateSets, { conflictedKeys: input.conflictedKeys, missingIsConflict: true, layers: input.layers }, rootSets === undefined ? perSetOfSplit : undefined, rootSets);
  const conflictedKeys = split.conflicted;
  // The unconflicted state map's value of a key (`undefined`: conflicted or absent).
  const unconflictedValue = (key: string): string | undefined => (conflictedKeys.has(key) ? undefined : first.get(key));
  const isUnconflictedEvent = (id: string, key: string): boolean => !conflictedKeys.has(key) && first.get(key) === id;
  const iterateUnconflicted = function* (): Generator<string> {
    for (const [k, v] of first) if (!conflictedKeys.has(k)) yield v;
  };

  // Conflicted state set and per-set conflicted events.
  // (Callbacks and indexed loops here and below: the first resolution of a process runs in V8's
  // interpreter, where each `for…of` step and `[k, v]` destructuring costs several calls.)
  const conflictedIds = new Set<string>();
  if (rootSets !== undefined) {
    rootSets.forEach((_sets, id) => conflictedIds.add(id));
  } else if (perSetFilled) {
    // Each set's values at the conflicted keys: every conflicted event, read from the sets' lists.
    for (let s = 0; s < perSetOfSplit.length; s++) {
      const ids = perSetOfSplit[s] as string[];
      for (let i = 0; i < ids.length; i++) conflictedIds.add(ids[i] as string);
    }
  } else {
    conflictedKeys.forEach((ids) => {
      for (let i = 0; i < ids.length; i++) conflictedIds.add(ids[i] as string);
    });
  }
  const perSet = perSetFilled || rootSets !== undefined ? perSetOfSplit : stateSets.map((s) => {
    const out: string[] = [];
    conflictedKeys.forEach((_ids, k) => {
      const v = s.get(k);
      if (v !== undefined) out.push(v);
    });
    return out;
  });
  yield* run.loadClosure(conflictedIds);

  // Full conflicted set (G12, G20), starting from the loaded conflicted events (usually all).
  // Its events are looked up once here and kept in lists (`fullIds` / `fullEvents`, in the order
  // of `full`), which the steps below walk instead of looking each ID up again.
  const fullIds: string[] = [];
  const fullEvents: (RoomEvent | undefined)[] = [];
  conflictedIds.forEach((id) => {
    const e = run.events.get(id);
    if (e !== undefined) {
      fullIds.push(id);
      fullEvents.push(e);
    }
  });
  const full = fullIds.length === conflictedIds.size ? conflictedIds : new Set(fullIds);
  const addToFull = (id: string): void => {
    const n = full.size;
    full.add(id);
    if (full.size !== n) {
      fullIds.push(id);
      fullEvents.push(run.events.get(id));
    }
  };
  // Each set's conflicted events (`undefined`: not at hand), for the auth difference's roots.
  const perSetEvents = perSet.map((ids) => {
    const out = new Array<RoomEvent | undefined>(ids.length);
    for (let i = 0; i < ids.length; i++) out[i] = run.events.get(ids[i] as string);
    return out;
  });
  const subgraphRoots = rules.stateResolution.considerConflictedStateSubgraph ? [...full] : [];
  const diff = rootSets !== undefined
    ? yield* authDifferenceOfRootSets(run, rootSets, stateSets.length, isUnconflictedEvent, iterateUnconflicted, full)
    : yield* authDifferenceGen(run, perSet, isUnconflictedEvent, iterateUnconflicted, full, perSetEvents);
  diff.forEach(addToFull);
  if (rules.stateResolution.considerConflictedStateSubgraph) {
    for (const id of conflictedStateSubgraphOf(full.size > 0 ? subgraphRoots : [], run.lookup)) addToFull(id);
  }

  // Load the unconflicted events the auth checks may consult, and their auth chains (bounded by
  // the conflicted events' auth-relevant keys, not by the room).
  // (Skipped when every event is at hand: it only serves to batch loads.)
  if (!run.direct) {
    const needed = new Set<string>();
    needed.add(stateKeyOf('m.room.power_levels', ''));
    needed.add(stateKeyOf('m.room.create', ''));
    for (const e of fullEvents) {
      if (e !== undefined) for (const k of authKeysOf(e, rules)) needed.add(k);
    }
    const neededIds: string[] = [];
    if (rules.authorization.roomIdFromCreateEvent) {
      // v12: the create event is named by the room ID, not listed in auth_events (G22).
      const rooms = new Set<string>();
      for (const e of fullEvents) {
        const r = e?.roomId;
        if (r !== undefined && r.startsWith('!')) rooms.add(r);
      }
      for (const r of rooms) neededIds.push('$' + r.slice(1));
    }
    for (const k of needed) {
      const v = unconflictedValue(k);
      if (v !== undefined) neededIds.push(v);
    }
    yield* run.loadClosure(neededIds);
  }

  // Step 1: power events and their auth ancestors in the full conflicted set, power-sorted.
  const sortedPower = powerSort(run, full, { ids: fullIds, events: fullEvents });
  if (run.due()) yield null;

  // Step 2: iterative auth checks from the unconflicted map (v2) or an empty map (v2.1, G21).
  const emptyStart = rules.stateResolution.beginIterativeAuthChecksWithEmptyState;
  const overlay = new Map<string, string>();
  const get = (k: string): string | undefined => {
    const v = overlay.get(k);
    return v !== undefined || emptyStart ? v : unconflictedValue(k);
  };
  const set = (k: string, id: string): void => void overlay.set(k, id);
  // One checker for steps 2 and 4 (both over this partial state).
  const checkOne = authCheckerOver(run, get, set);
  yield* authCheckPass(checkOne, run, sortedPower);

  // Step 3: the rest, by mainline order of the partially resolved power levels.
  const inPower = new Set(sortedPower);
  const leftover: string[] = [];
  const leftoverEvents: (RoomEvent | undefined)[] = [];
  for (let i = 0; i < fullIds.length; i++) {
    const id = fullIds[i] as string;
    if (!inPower.has(id)) {
      leftover.push(id);
      leftoverEvents.push(fullEvents[i]);
    }
  }
  // Step 4: iterative auth checks on the partial state. The events whose check reads no key
  // another remaining event writes, and whose key no other remaining event reads or writes, give
  // the same outcome at any place in the order and leave the same state (independent-checks.ts
  // proves it). So every remaining event is checked once in the order it has, recording the keys
  // each check reads and writes; the outcomes of the independent events stand, the keys the
  // others wrote get the pass's starting state back, and only those others are mainline-sorted
  // and checked again.
  if (restSplitting.enabled) {
    const start = new Map(overlay); // the pass's starting state, where it differs from the fallback
    const record = checkRecordOf(leftover.length);
    yield* authCheckPass(checkOne, run, leftover, leftoverEvents, record);
    const dependentAt = dependentIndices(record);
    if (dependentAt.length > 0) {
      const dependent: string[] = new Array<string>(dependentAt.length);
      for (let j = 0; j < dependentAt.length; j++) {
        const i = dependentAt[j] as number;
        dependent[j] = leftover[i] as string;
        const k = record.ownKeys[i] as string;
        const v = start.get(k);
        if (v !== undefined) overlay.set(k, v);
        else overlay.delete(k);
      }
      checkOne.forget(); // the step's cached create / PL / JR events: the state changed behind it
      const restEvents: RoomEvent[] = [];
      const sortedRest = yield* mainlineSortGen(run, dependent, get(stateKeyOf('m.room.power_levels', '')), restEvents);
      yield* authCheckPass(checkOne, run, sortedRest, restEvents);
    }
  } else {
    const restEvents: RoomEvent[] = [];
    const sortedRest = yield* mainlineSortGen(run, leftover, get(stateKeyOf('m.room.power_levels', '')), restEvents);
    yield* authCheckPass(checkOne, run, sortedRest, restEvents);
  }

  // Step 5: the unconflicted map wins; express the result relative to stateSets[0].
  const changes = new Map<string, string | undefined>();
  // (One look-up of the first set per entry: an entry equal to it changes nothing, whether its
  // key is conflicted or not; an unequal one at a key the first set has counts only if conflicted.)
  overlay.forEach((id, k) => {
    const f = first.get(k);
    if (f === id || (f !== undefined && !conflictedKeys.has(k))) return;
    changes.set(k, id);
  });
  conflictedKeys.forEach((_ids, k) => {
    if (!overlay.has(k) && first.has(k)) changes.set(k, undefined);
  });
  return { changes };
}
