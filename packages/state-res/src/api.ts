/**
 * Public entry points: async and sync resolution, and the algorithm's building blocks.
 *
 * @module
 */
import type { RoomEvent } from '@roomgraph/events';
import { type RoomVersionRules, getRoomVersion, isRoomVersionRules } from '@roomgraph/room-versions';
import type { AuthChainProvider } from './chainCover.js';
import { algorithmFor } from './algorithms.js';
import { conflictedStateSubgraphOf } from './conflicted-subgraph.js';
import { iterativeAuthChecksGen } from './iterative-auth-checks.js';
import { mainlineSortGen, powerSort } from './ordering.js';
import {
  type AuthChecker,
  type ResolutionInput,
  type ResolutionStep,
  type StateDelta,
  ResolutionRun,
  ResolutionCache,
  defaultAuthChecker,
} from './run.js';
import { StateResolutionError } from './errors.js';
import type { StateLayers } from './split.js';

/** Where the resolver gets events from. */
export interface StateResolutionSource {
  /** Batched event loader (may be sync or async); missing IDs are simply absent from the result. */
  getEvents(ids: readonly string[]): ReadonlyMap<string, RoomEvent> | Promise<ReadonlyMap<string, RoomEvent>>;
  /** Optional: whether an event was rejected (rejected events are excluded as the spec says). */
  isRejected?(id: string): boolean;
  /** Optional fast path: an auth-chain index the store maintains (see {@link ChainCoverIndex}). */
  readonly authChains?: AuthChainProvider;
}

/** Options of {@link resolveState} and friends. */
export interface ResolveOptions {
  /**
   * Fast path for huge rooms: the only keys that may differ between the state sets. The caller
   * promises every other key has the same event (or is absent) in every set — e.g. the keys
   * touched since the sets' common base. Makes the split O(hint) instead of O(room).
   */
  readonly conflictedKeys?: Iterable<string>;
  /**
   * Fast path for many state sets that share most of their state (a room with many forward
   * extremities): the sets as one shared base plus a small overlay per set — the caller promises
   * that `stateSets[i].get(k)` is `overlays[i].get(k)` where that overlay names `k` (`null`:
   * absent) and `base.get(k)` elsewhere. The split then costs O(Σ overlay sizes) instead of
   * O(keys × sets). Takes precedence over `conflictedKeys` (the overlays' keys are the only ones
   * that may differ).
   */
  readonly layers?: StateLayers;
  /** Memo of loaded events and sender power levels shared across calls for one room. */
  readonly cache?: ResolutionCache;
  /** Async only: yield to the event loop after this many units of work (default 2000). */
  readonly yieldEvery?: number;
  /** Replaces the authorization check (tests, instrumentation; a pure function: see {@link AuthChecker}). Defaults to `@roomgraph/auth`. */
  readonly checkAuth?: AuthChecker;
  /** Async only: aborts between steps (rejects with `StateResolutionError` code `ABORTED`). */
  readonly signal?: AbortSignal;
}

/** A synchronous event lookup: a map or a function. */
export type SyncEventLookup = ReadonlyMap<string, RoomEvent> | ((id: string) => RoomEvent | undefined);

/** Synchronous-source options: {@link ResolveOptions} plus rejection and index hooks. */
export interface ResolveSyncOptions extends ResolveOptions {
  /** Whether an event was rejected. */
  readonly isRejected?: (id: string) => boolean;
  /** Optional auth-chain index. */
  readonly authChains?: AuthChainProvider;
}

function rulesOf(v: string | RoomVersionRules): RoomVersionRules {
  return isRoomVersionRules(v) ? v : getRoomVersion(v);
}

function inputOf(
  rules: RoomVersionRules,
  stateSets: readonly ReadonlyMap<string, string>[],
  options: ResolveOptions,
  isRejected: ((id: string) => boolean) | undefined,
  provider: AuthChainProvider | undefined,
): ResolutionInput {
  // A hole or a non-map among the state sets is the caller's mistake: a typed error, not a
  // TypeError from inside the algorithm.
  for (let i = 0; i < stateSets.length; i++) {
    const s = stateSets[i] as Partial<ReadonlyMap<string, string>> | undefined;
    if (s === null || typeof s !== 'object' || typeof s.get !== 'function' || typeof s.keys !== 'function') {
      throw new StateResolutionError('INVALID_INPUT', `state set ${i} is not a map of state keys to event IDs`);
    }
  }
  const layers = options.layers;
  if (layers !== undefined) {
    const maps = layers === null || typeof layers !== 'object' ? undefined : [layers.base, ...(Array.isArray(layers.overlays) ? layers.overlays : [undefined])];
    const bad = maps === undefined || maps.some((m) => m === null || typeof m !== 'object' || typeof (m as Partial<ReadonlyMap<string, unknown>>).get !== 'function' || typeof (m as Partial<ReadonlyMap<string, unknown>>).forEach !== 'function' || typeof (m as Partial<ReadonlyMap<string, unknown>>).has !== 'function');
    if (bad) throw new StateResolutionError('INVALID_INPUT', 'layers must be { base: Map, overlays: Map[] }');
    if (layers.overlays.length !== stateSets.length) {
      throw new StateResolutionError('INVALID_INPUT', `layers has ${layers.overlays.length} overlays for ${stateSets.length} state sets`);
    }
  }
  return {
    rules,
    stateSets,
    conflictedKeys: options.conflictedKeys,
    layers,
    cache: options.cache ?? new ResolutionCache(),
    isRejected: isRejected ?? (() => false),
    provider,
    check: options.checkAuth ?? defaultAuthChecker,
    tickEvery: Math.max(1, options.yieldEvery ?? 2000),
  };
}

function applyDelta(first: ReadonlyMap<string, string> | undefined, delta: StateDelta): Map<string, string> {
  const out = new Map(first ?? []);
  for (const [k, v] of delta.changes) {
    if (v === undefined) out.delete(k);
    else out.set(k, v);
  }
  return out;
}

function lookupFn(lookup: SyncEventLookup): (id: string) => RoomEvent | undefined {
  return typeof lookup === 'function' ? lookup : (id) => lookup.get(id);
}

function runSync<T>(gen: Generator<ResolutionStep, T, void>, cache: ResolutionCache, lookup: (id: string) => RoomEvent | undefined): T {
  for (;;) {
    const r = gen.next();
    if (r.done === true) return r.value;
    if (r.value !== null) {
      for (const id of r.value) {
        const e = lookup(id);
        if (e !== undefined && e.eventId === id) cache.events.set(id, e);
      }
    }
  }
}

/**
 * Resolves state sets synchronously, returning only the changes relative to `stateSets[0]`
 * (O(conflicted) with `conflictedKeys` and an auth-chain index). See {@link resolveStateSync}.
 */
export function resolveStateDeltaSync(
  roomVersion: string | RoomVersionRules,
  stateSets: readonly ReadonlyMap<string, string>[],
  lookup: SyncEventLookup,
  options: ResolveSyncOptions = {},
): StateDelta {
  const rules = rulesOf(roomVersion);
  if (stateSets.length <= 1) return { changes: new Map() }; // G3
  const base = inputOf(rules, stateSets, options, options.isRejected, options.authChains);
  // A Map holds every event already: the resolution reads it in place instead of loading.
  const input: ResolutionInput = typeof lookup === 'function' ? base : { ...base, direct: lookup };
  return input.cache.usingSync(() => runSync(algorithmFor(rules)(input), input.cache, lookupFn(lookup)));
}

/**
 * Resolves state sets synchronously when every event is at hand. Maps are keyed by
 * `stateKeyOf(type, state_key)` and hold event IDs. The result does not depend on the order of
 * `stateSets` or of events.
 */
export function resolveStateSync(
  roomVersion: string | RoomVersionRules,
  stateSets: readonly ReadonlyMap<string, string>[],
  lookup: SyncEventLookup,
  options: ResolveSyncOptions = {},
): Map<string, string> {
  if (stateSets.length === 0) return new Map();
  return applyDelta(stateSets[0], resolveStateDeltaSync(roomVersion, stateSets, lookup, options));
}

async function runAsync<T>(gen: Generator<ResolutionStep, T, void>, cache: ResolutionCache, source: StateResolutionSource, signal: AbortSignal | undefined): Promise<T> {
  for (;;) {
    if (signal?.aborted === true) throw new StateResolutionError('ABORTED', 'state resolution aborted');
    const r = gen.next();
    if (r.done === true) return r.value;
    if (r.value === null) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      continue;
    }
    const got = await source.getEvents(r.value);
    for (const id of r.value) {
      const e = got.get(id);
      if (e !== undefined && e.eventId === id) cache.events.set(id, e);
    }
  }
}

/**
 * Resolves state sets (asynchronously), returning only the changes relative to `stateSets[0]`.
 * With `options.conflictedKeys` and `source.authChains`, cost grows with the conflicted set and the
 * auth chains it touches, not with the room.
 */
export async function resolveStateDelta(
  roomVersion: string | RoomVersionRules,
  stateSets: readonly ReadonlyMap<string, string>[],
  source: StateResolutionSource,
  options: ResolveOptions = {},
): Promise<StateDelta> {
  const rules = rulesOf(roomVersion);
  if (stateSets.length <= 1) return { changes: new Map() };
  const input = inputOf(rules, stateSets, options, source.isRejected?.bind(source), source.authChains);
  return input.cache.using(() => runAsync(algorithmFor(rules)(input), input.cache, source, options.signal));
}

/**
 * Resolves a set of room states (room version 1, frag:v2-state-res, room version 12 › State resolution)
 * into one. Maps are keyed by `stateKeyOf(type, state_key)` → event ID. Events are fetched through
 * `source.getEvents` in batches; the algorithm follows the room version's `stateResolution` rules.
 */
export async function resolveState(
  roomVersion: string | RoomVersionRules,
  stateSets: readonly ReadonlyMap<string, string>[],
  source: StateResolutionSource,
  options: ResolveOptions = {},
): Promise<Map<string, string>> {
  if (stateSets.length === 0) return new Map();
  return applyDelta(stateSets[0], await resolveStateDelta(roomVersion, stateSets, source, options));
}

// ---------------------------------------------------------------------------------------------
// Building blocks over a synchronous lookup

function runOver(rules: RoomVersionRules, lookup: SyncEventLookup, options: ResolveSyncOptions): { run: ResolutionRun; fn: (id: string) => RoomEvent | undefined } {
  // (No state sets here: `layers`, which describes state sets, does not apply.)
  const input = inputOf(rules, [], { ...options, layers: undefined }, options.isRejected, options.authChains);
  return { run: new ResolutionRun(input), fn: lookupFn(lookup) };
}

/** The auth chain of an event (G11): its auth events, recursively (not the event itself). */
export function authChainOf(eventId: string, lookup: SyncEventLookup): Set<string> {
  const fn = lookupFn(lookup);
  const out = new Set<string>();
  const stack = [...(fn(eventId)?.authEvents ?? [])];
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (out.has(id)) continue;
    out.add(id);
    const e = fn(id);
    if (e !== undefined) for (const a of e.authEvents) if (!out.has(a)) stack.push(a);
  }
  return out;
}

/**
 * Auth difference (G11) of state sets given as event IDs: ⋃Ĉᵢ − ⋂Ĉᵢ, where Ĉᵢ is the set's events
 * with their auth chains (Synapse's reading: the state events count as part of their own set's
 * chain; only matters for events that are already conflicted).
 */
export function authDifference(stateSets: readonly Iterable<string>[], lookup: SyncEventLookup): Set<string> {
  const count = new Map<string, number>();
  for (const s of stateSets) {
    const seen = new Set<string>();
    for (const id of s) {
      if (seen.has(id)) continue;
      seen.add(id);
      for (const a of authChainOf(id, lookup)) seen.add(a);
    }
    for (const id of seen) count.set(id, (count.get(id) ?? 0) + 1);
  }
  const out = new Set<string>();
  for (const [id, c] of count) if (c < stateSets.length) out.add(id);
  return out;
}

/** Conflicted state subgraph (v2.1, G19) of a set of conflicted event IDs. */
export function conflictedStateSubgraph(conflicted: Iterable<string>, lookup: SyncEventLookup): Set<string> {
  return conflictedStateSubgraphOf(conflicted, lookupFn(lookup));
}

/**
 * Step 1 of v2 (G13/G17.1): power events of `fullConflictedSet` plus their auth ancestors within
 * it, in reverse topological power order.
 */
export function reverseTopologicalPowerOrder(
  roomVersion: string | RoomVersionRules,
  fullConflictedSet: Iterable<string>,
  lookup: SyncEventLookup,
): string[] {
  const rules = rulesOf(roomVersion);
  const { run, fn } = runOver(rules, lookup, {});
  const ids = new Set(fullConflictedSet);
  return run.input.cache.usingSync(() => {
    runSync(run.loadClosure(ids), run.input.cache, fn);
    return powerSort(run, ids);
  });
}

/** Mainline ordering (G14/G15) of `eventIds` based on the power levels event `powerLevelsId`. */
export function mainlineOrder(eventIds: Iterable<string>, powerLevelsId: string | undefined, lookup: SyncEventLookup): string[] {
  const { run, fn } = runOver(getRoomVersion('10'), lookup, {});
  const ids = [...eventIds];
  return run.input.cache.usingSync(() => {
    runSync(run.loadClosure(ids), run.input.cache, fn);
    return runSync(mainlineSortGen(run, ids.filter((id) => run.events.has(id)), powerLevelsId), run.input.cache, fn);
  });
}

/**
 * Iterative auth checks (G16): applies each event of `sorted` to a copy of `initial` when it passes
 * the authorization rules against its auth events overlaid with the current state.
 */
export function iterativeAuthChecks(
  roomVersion: string | RoomVersionRules,
  sorted: readonly string[],
  initial: ReadonlyMap<string, string>,
  lookup: SyncEventLookup,
  options: ResolveSyncOptions = {},
): Map<string, string> {
  const rules = rulesOf(roomVersion);
  const { run, fn } = runOver(rules, lookup, options);
  const state = new Map(initial);
  const ids = [...sorted, ...state.values()];
  run.input.cache.usingSync(() => {
    runSync(run.loadClosure(ids), run.input.cache, fn);
    runSync(iterativeAuthChecksGen(run, sorted, (k) => state.get(k), (k, v) => void state.set(k, v)), run.input.cache, fn);
  });
  return state;
}
