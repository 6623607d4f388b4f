/**
 * Ready-made state-resolution properties over generated room DAGs, for any resolver.
 *
 * @module
 */
import fc from 'fast-check';
import { checkAuth } from '@roomgraph/auth';
import { stateKeyOf, type RoomEvent, type StateLookup } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { isPowerEvent, resolveStateSync } from '@roomgraph/state-res';
import { describeDag, eventName, roomDag, stateSetsOf, type RoomDag, type RoomDagOptions } from './dag.js';

/**
 * A state resolver under test: resolves `stateSets` (maps `stateKeyOf(type, state_key)` → event
 * ID) of a room of version `roomVersion`; `events` holds every event of the room.
 */
export type Resolver = (
  roomVersion: string,
  stateSets: ReadonlyMap<string, string>[],
  events: ReadonlyMap<string, RoomEvent>,
) => Map<string, string> | Promise<Map<string, string>>;

/** roomgraph's own resolver (`resolveStateSync` of `@roomgraph/state-res`) as a {@link Resolver}. */
export const roomgraphResolver: Resolver = (roomVersion, stateSets, events) => resolveStateSync(roomVersion, stateSets, events);

/** A DAG plus the events whose states are resolved. */
export interface ResolutionCase {
  /** The room. */
  readonly dag: RoomDag;
  /** The events whose "state after" are the state sets (forward extremities plus a few picked events). */
  readonly tips: readonly string[];
  /** `stateSetsOf(dag, tips)`. */
  readonly stateSets: readonly ReadonlyMap<string, string>[];
}

/** Options of the `check*` properties. */
export interface CheckOptions extends RoomDagOptions {
  /**
   * How many extra events (beyond the forward extremities) may be picked whose state is resolved
   * too (default 2). Any states of one room may be resolved together, so this adds conflicts.
   */
  readonly extraStates?: number;
}

/** Describes a resolution case: the DAG, then the events whose states are resolved. */
export function describeCase(c: ResolutionCase): string {
  return `${describeDag(c.dag)}\n  resolving the states after: ${c.tips.map((t) => eventName(c.dag, t)).join(', ')}`;
}

/**
 * An arbitrary {@link ResolutionCase}: a valid DAG ({@link roomDag}) and the states to resolve —
 * after every forward extremity plus up to `extraStates` other events. Shrinks with the DAG.
 */
export function resolutionCase(options: CheckOptions = {}): fc.Arbitrary<ResolutionCase> {
  return fc.tuple(roomDag(options), fc.array(fc.nat(), { maxLength: options.extraStates ?? 2 })).map(([dag, picks]) => {
    const tips = [...new Set([...dag.extremities, ...picks.map((p) => dag.events[p % dag.events.length]!.eventId)])];
    const c: ResolutionCase = { dag, tips, stateSets: stateSetsOf(dag, tips) };
    Object.defineProperty(c, fc.toStringMethod, { value: () => describeCase(c), enumerable: false });
    return c;
  });
}

/** Whether two state maps hold the same entries. */
export function sameState(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** The entries on which two state maps differ, readable (`type|state_key: a → b`). */
export function diffStates(dag: RoomDag, a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): string {
  const keys = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort();
  return keys
    .map((k) => {
      const colon = k.indexOf(':');
      const len = Number(k.slice(0, colon));
      const type = k.slice(colon + 1, colon + 1 + len);
      const sk = k.slice(colon + 1 + len);
      const name = (v: string | undefined): string => (v === undefined ? '(absent)' : eventName(dag, v));
      return `    ${type}|${sk}: ${name(a.get(k))} vs ${name(b.get(k))}`;
    })
    .join('\n');
}

function fail(c: ResolutionCase, what: string, detail = ''): never {
  throw new Error(`${what}\n${describeCase(c)}${detail === '' ? '' : `\n${detail}`}`);
}

/** The number of runs the testkit's own suite uses: `ROOMGRAPH_PROPERTY_RUNS` or `fallback`. */
export function propertyRuns(fallback: number): number {
  const env = typeof process !== 'undefined' ? process.env['ROOMGRAPH_PROPERTY_RUNS'] : undefined;
  const n = env === undefined ? NaN : Number(env);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/**
 * Resolving the same state sets in any order gives the same result (every algorithm sorts its
 * inputs; room version 1, room version 2 › State resolution: the resolution is a function of the *set* of states).
 */
export function checkOrderIndependence(resolver: Resolver, options: CheckOptions = {}): fc.IAsyncPropertyWithHooks<[ResolutionCase, number[]]> {
  return fc.asyncProperty(resolutionCase(options), fc.array(fc.nat(), { minLength: 6, maxLength: 6 }), async (c, keys) => {
    const sets = [...c.stateSets];
    const order = sets.map((_, i) => i).sort((x, y) => (keys[x % keys.length]! - keys[y % keys.length]!) || x - y);
    const permuted = order.map((i) => sets[i]!);
    const a = await resolver(c.dag.roomVersion, sets, c.dag.eventsById);
    const b = await resolver(c.dag.roomVersion, permuted, c.dag.eventsById);
    if (!sameState(a, b)) fail(c, `order independence: resolving the states in order [${order.join(', ')}] gives a different result`, diffStates(c.dag, a, b));
  });
}

/**
 * Resolving one state gives it back, and so does resolving it twice ([S] → S, [S, S] → S): with no
 * conflicts the result is the unconflicted state map (room version 2 › State resolution step 5; v1 "R starts as
 * the union of the unconflicted states").
 */
export function checkIdempotence(resolver: Resolver, options: CheckOptions = {}): fc.IAsyncPropertyWithHooks<[ResolutionCase]> {
  return fc.asyncProperty(resolutionCase(options), async (c) => {
    for (const [i, s] of c.stateSets.entries()) {
      const one = await resolver(c.dag.roomVersion, [s], c.dag.eventsById);
      if (!sameState(one, s)) fail(c, `idempotence: resolving [S] for the state after ${eventName(c.dag, c.tips[i]!)} does not give S`, diffStates(c.dag, s, one));
      const two = await resolver(c.dag.roomVersion, [s, s], c.dag.eventsById);
      if (!sameState(two, s)) fail(c, `idempotence: resolving [S, S] for the state after ${eventName(c.dag, c.tips[i]!)} does not give S`, diffStates(c.dag, s, two));
    }
  });
}

/**
 * State resolution v2 and v2.1 (room versions 2–12): a key with the same event in every state set
 * keeps that event (step 5 of room version 2 › State resolution and room version 12 › Algorithm: "replacing any
 * event with the event with the same key from the unconflicted state map"; v2.1 starts the
 * iterative auth checks from an empty map but keeps this final step). Holds trivially (is skipped)
 * for room version 1, whose algorithm is not checked by this property.
 */
export function checkUnconflictedPreserved(resolver: Resolver, options: CheckOptions = {}): fc.IAsyncPropertyWithHooks<[ResolutionCase]> {
  return fc.asyncProperty(resolutionCase(options), async (c) => {
    if (c.dag.rules.stateResolution.algorithm === 'v1') return;
    const result = await resolver(c.dag.roomVersion, [...c.stateSets], c.dag.eventsById);
    const [first, ...rest] = c.stateSets;
    for (const [k, v] of first ?? new Map<string, string>()) {
      if (!rest.every((s) => s.get(k) === v)) continue;
      if (result.get(k) !== v) fail(c, `unconflicted state lost: every set has ${eventName(c.dag, v)} but the result has ${result.get(k) === undefined ? 'nothing' : eventName(c.dag, result.get(k)!)}`);
    }
  });
}

/**
 * What the spec guarantees about a resolved state, for every algorithm:
 * - it contains the room's `m.room.create` event (which every state set of the room shares);
 * - every entry is well-formed: the value is an event of the room whose (type, state_key) is the key;
 * - every entry comes from the inputs: v1 picks among the state sets' values (room version 1); v2 and
 *   v2.1 among the state sets' values and the full conflicted set, i.e. the auth chains of the
 *   state sets (room version 2 › State resolution, room version 12);
 * - (v2, v2.1) a key present in no state set and in no auth chain cannot appear.
 *
 * It deliberately does **not** claim that resolved events pass the authorization rules against the
 * resolved state: the iterative auth checks test each event against the *partially* resolved state
 * at its turn, and a later event (a demotion, a ban, the unconflicted overlay of step 5) may change
 * that. See {@link powerEventsAuthorisedAgainstResult} to measure how often it happens.
 */
export function checkResolvedStateIsAuthorised(resolver: Resolver, options: CheckOptions = {}): fc.IAsyncPropertyWithHooks<[ResolutionCase]> {
  return fc.asyncProperty(resolutionCase(options), async (c) => {
    const { dag } = c;
    const result = await resolver(dag.roomVersion, [...c.stateSets], dag.eventsById);
    const createKey = stateKeyOf('m.room.create', '');
    const create = dag.events[0]!.eventId;
    if (result.get(createKey) !== create) fail(c, `the resolved state lacks the create event ${eventName(dag, create)}`);
    const allowed = new Set<string>();
    for (const s of c.stateSets) for (const v of s.values()) allowed.add(v);
    if (dag.rules.stateResolution.algorithm !== 'v1') {
      const stack = [...allowed];
      while (stack.length > 0) {
        const e = dag.eventsById.get(stack.pop()!);
        for (const a of e?.authEvents ?? []) if (!allowed.has(a)) (allowed.add(a), stack.push(a));
      }
    }
    for (const [k, v] of result) {
      const e = dag.eventsById.get(v);
      if (e === undefined || e.stateKey === undefined) fail(c, `resolved ${k} → ${v}, which is not a state event of the room`);
      if (stateKeyOf(e.type, e.stateKey) !== k) fail(c, `resolved key ${k} holds ${eventName(dag, v)}, an event of another key`);
      if (!allowed.has(v)) fail(c, `resolved state holds ${eventName(dag, v)}, which is neither in a state set nor in their auth chains`);
    }
  });
}

/**
 * Measures (does not assert) the stronger, *not guaranteed* claim "each power event of the result
 * passes `checkAuth` against the result with its own entry replaced by its auth event of that key":
 * returns the power events that fail. Useful to explore a resolver; the spec gives no such promise.
 */
export function powerEventsAuthorisedAgainstResult(dag: RoomDag, result: ReadonlyMap<string, string>): string[] {
  const rules = getRoomVersion(dag.roomVersion);
  const failing: string[] = [];
  const lookup = (id: string): RoomEvent | undefined => dag.eventsById.get(id);
  for (const [k, v] of result) {
    const e = dag.eventsById.get(v);
    if (e === undefined || !isPowerEvent(e)) continue;
    // The state "before" e: the result, with e's own key taken from e's auth events.
    const own = e.authEvents.map(lookup).find((a) => a !== undefined && a.stateKey !== undefined && stateKeyOf(a.type, a.stateKey) === k);
    const state: StateLookup<RoomEvent> = {
      get: (type, sk) => {
        const key = stateKeyOf(type, sk);
        if (key === k) return own;
        const id = result.get(key);
        return id === undefined ? undefined : lookup(id);
      },
    };
    if (!checkAuth(e, state, rules).allowed) failing.push(v);
  }
  return failing;
}

/**
 * Differential check: two resolvers give the same result on the same state sets (e.g. yours
 * against {@link roomgraphResolver}). The failure message shows the DAG and the differing entries.
 */
export function checkAgreement(resolverA: Resolver, resolverB: Resolver, options: CheckOptions = {}): fc.IAsyncPropertyWithHooks<[ResolutionCase]> {
  return fc.asyncProperty(resolutionCase(options), async (c) => {
    const a = await resolverA(c.dag.roomVersion, [...c.stateSets], c.dag.eventsById);
    const b = await resolverB(c.dag.roomVersion, [...c.stateSets], c.dag.eventsById);
    if (!sameState(a, b)) fail(c, 'the resolvers disagree (first vs second):', diffStates(c.dag, a, b));
  });
}

/** Options of {@link assertProperty}. */
export interface AssertOptions {
  /** Number of runs (default `propertyRuns(100)`, i.e. `ROOMGRAPH_PROPERTY_RUNS` when set). */
  readonly numRuns?: number;
  /** Seed to replay a failure. */
  readonly seed?: number;
  /** Path to replay a failure (with `seed`). */
  readonly path?: string;
}

/**
 * Runs one of the `check*` properties with `fc.assert`; rejects with fast-check's report (seed,
 * shrunk counterexample printed with {@link describeDag}, and the property's message).
 */
export async function assertProperty<T extends unknown[]>(property: fc.IAsyncPropertyWithHooks<T>, options: AssertOptions = {}): Promise<void> {
  await fc.assert(property, {
    numRuns: options.numRuns ?? propertyRuns(100),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.path !== undefined ? { path: options.path } : {}),
  });
}

