/**
 * The resolution engine shared by the sync and async entry points.
 *
 * The algorithms are written as generators that yield *load requests* (arrays of event IDs they
 * need) and *ticks* (`null`, a point where the async driver may yield to the event loop). A driver
 * answers load requests from a synchronous lookup or a batched async loader. Everything after a load
 * reads the in-memory event map only.
 *
 * @module
 */
import { type RoomEvent, type StateLookup, authEventTypes, stateKeyOf } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { checkStateDependentAuth } from '@roomgraph/auth';
import type { AuthChainProvider } from './chainCover.js';
import { compareCodePoints } from './compare.js';
import { StateResolutionError } from './errors.js';
import { isPowerEvent, senderPowerLevel } from './power.js';
import { sha1Hex } from './sha1.js';

/** A step yielded by the engine: IDs to load, or `null` (a point to yield to the event loop). */
export type EngineStep = readonly string[] | null;

/** Decides whether `event` passes the authorization rules against `authState`. */
export type AuthChecker = (event: RoomEvent, authState: StateLookup<RoomEvent>, rules: RoomVersionRules) => boolean;

/**
 * The default {@link AuthChecker}: `@roomgraph/auth`'s state-dependent rules only, as Synapse's
 * state resolution runs `check_state_dependent_auth_rules` (checklist G16 AMBIGUOUS: the auth
 * events list rules F3 and signatures are not re-checked).
 */
export const defaultAuthChecker: AuthChecker = (event, authState, rules) => checkStateDependentAuth(event, authState, rules).allowed;

/**
 * Memo shared across resolutions of one room (optional): loaded events and each event's sender
 * power level. Both are pure functions of immutable events, so sharing is safe.
 */
export class ResolutionCache {
  /** Events loaded so far, by ID. */
  readonly events = new Map<string, RoomEvent>();
  /** IDs the source did not have. Cleared by {@link ResolutionCache.forgetMissing}. */
  readonly missing = new Set<string>();
  /** Sender power level per event ID (checklist G13). */
  readonly senderPower = new Map<string, number>();
  /** Forgets which IDs were missing (call after the store learned new events). */
  forgetMissing(): void {
    this.missing.clear();
  }
}

/** The result of a resolution relative to the first state set. */
export interface StateDelta {
  /**
   * Keys whose resolved value differs from `stateSets[0]`: the new event ID, or `undefined` when
   * the key is absent from the resolved state.
   */
  readonly changes: Map<string, string | undefined>;
}

/** Inputs of the engine (internal). */
export interface EngineInput {
  readonly rules: RoomVersionRules;
  readonly stateSets: readonly ReadonlyMap<string, string>[];
  readonly conflictedKeys: Iterable<string> | undefined;
  readonly cache: ResolutionCache;
  readonly isRejected: (id: string) => boolean;
  readonly provider: AuthChainProvider | undefined;
  readonly check: AuthChecker;
  readonly tickEvery: number;
  /**
   * Sync entry points given a `Map`: every event, read in place (nothing is loaded or copied into
   * `cache.events`; IDs it lacks are missing).
   */
  readonly direct?: ReadonlyMap<string, RoomEvent> | undefined;
}


/** Memoised `stateKeyOf` per event object (keys reused keep V8's cached string hash). */
const keyMemo = new WeakMap<RoomEvent, string>();
function keyOfEvent(e: RoomEvent): string {
  let k = keyMemo.get(e);
  if (k === undefined) {
    k = stateKeyOf(e.type, e.stateKey ?? '');
    keyMemo.set(e, k);
  }
  return k;
}

/** Auth-relevant keys of an event; `shared[i]`: key i has an empty state key (create, PL, JR). */
interface AuthKeys {
  readonly keys: readonly string[];
  readonly shared: readonly boolean[];
}

/** Memoised auth-relevant keys per event (per rules object: the selection depends on it). */
const authKeyMemo = new WeakMap<RoomEvent, { rules: RoomVersionRules; ks: AuthKeys }>();
function authKeysFull(e: RoomEvent, rules: RoomVersionRules): AuthKeys {
  const m = authKeyMemo.get(e);
  if (m !== undefined && m.rules === rules) return m.ks;
  const types = authEventTypes(e, rules);
  const ks: AuthKeys = { keys: types.map(([t, sk]) => stateKeyOf(t, sk)), shared: types.map(([, sk]) => sk === '') };
  authKeyMemo.set(e, { rules, ks });
  return ks;
}
function authKeysOf(e: RoomEvent, rules: RoomVersionRules): readonly string[] {
  return authKeysFull(e, rules).keys;
}

// ---------------------------------------------------------------------------------------------
// Unconflicted / conflicted split (checklist G4, G10)

/** The outcome of splitting state sets. */
export interface Split {
  /** Conflicted key → the distinct event IDs found for it (sorted, code point order). */
  readonly conflicted: Map<string, string[]>;
  /**
   * Unconflicted entries whose value is not `stateSets[0]`'s (only v1, where a key missing from
   * some sets is not a conflict). Every other unconflicted entry is `stateSets[0]`'s.
   */
  readonly extraUnconflicted: Map<string, string>;
}

function splitKeys(stateSets: readonly ReadonlyMap<string, string>[], keys: Iterable<string>, missingIsConflict: boolean): Split {
  const conflicted = new Map<string, string[]>();
  const extra = new Map<string, string>();
  const first = stateSets[0] as ReadonlyMap<string, string>;
  if (stateSets.length === 2) {
    // Two sets (the common case): the same outcome with two lookups per key and no temporaries.
    const second = stateSets[1] as ReadonlyMap<string, string>;
    for (const key of keys) {
      const a = first.get(key);
      const b = second.get(key);
      if (a === b) continue;
      if (a === undefined || b === undefined) {
        if (missingIsConflict) conflicted.set(key, [(a ?? b) as string]);
        else if (a === undefined) extra.set(key, b as string);
      } else {
        conflicted.set(key, compareCodePoints(a, b) < 0 ? [a, b] : [b, a]);
      }
    }
    return { conflicted, extraUnconflicted: extra };
  }
  for (const key of keys) {
    if (conflicted.has(key)) continue;
    let value: string | undefined;
    let missing = false;
    let conflict = false;
    for (const s of stateSets) {
      const v = s.get(key);
      if (v === undefined) missing = true;
      else if (value === undefined) value = v;
      else if (v !== value) conflict = true;
    }
    if (value === undefined) continue;
    if (conflict || (missing && missingIsConflict)) {
      const vals = new Set<string>();
      for (const s of stateSets) {
        const v = s.get(key);
        if (v !== undefined) vals.add(v);
      }
      conflicted.set(key, [...vals].sort(compareCodePoints));
    } else if (first.get(key) !== value) {
      extra.set(key, value);
    }
  }
  return { conflicted, extraUnconflicted: extra };
}

/**
 * Splits state sets into conflicted keys and unconflicted entries. `missingIsConflict` is the v2
 * rule (G10: a key absent from some set is conflicted); v1 treats it as unconflicted (G4, like
 * Synapse's `_seperate`). With `conflictedKeys` only those keys are examined: the caller promises
 * every other key has the same value (or is absent) in every set — O(hint) instead of O(room).
 */
export function splitStateSets(
  stateSets: readonly ReadonlyMap<string, string>[],
  options: { readonly conflictedKeys?: Iterable<string> | undefined; readonly missingIsConflict?: boolean } = {},
): Split {
  if (stateSets.length === 0) return { conflicted: new Map(), extraUnconflicted: new Map() };
  const missingIsConflict = options.missingIsConflict ?? true;
  if (options.conflictedKeys !== undefined) return splitKeys(stateSets, options.conflictedKeys, missingIsConflict);
  if (stateSets.length === 1) return { conflicted: new Map(), extraUnconflicted: new Map() };
  // Fast path for keys of the first set: compare values directly before falling back.
  const first = stateSets[0] as ReadonlyMap<string, string>;
  const conflicted = new Map<string, string[]>();
  const extra = new Map<string, string>();
  const candidates: string[] = [];
  if (stateSets.length === 2) {
    // Sets forked from one base share its insertion order: walk both in step and hash only from
    // the first place where they stop lining up.
    const second = stateSets[1] as ReadonlyMap<string, string>;
    const it = second.entries();
    let aligned = true;
    let breakKey: string | undefined; // `second`'s entry where the walk stopped lining up
    for (const [k, v] of first) {
      if (aligned) {
        const r = it.next();
        if (r.done !== true && r.value[0] === k) {
          if (r.value[1] !== v) candidates.push(k);
          continue;
        }
        aligned = false;
        if (r.done !== true) breakKey = r.value[0];
      }
      if (second.get(k) !== v) candidates.push(k);
    }
    // `second`'s entries before the break are keys of `first`; only its tail can hold other keys.
    if (breakKey !== undefined && !first.has(breakKey)) candidates.push(breakKey);
    for (let r = it.next(); r.done !== true; r = it.next()) if (aligned || !first.has(r.value[0])) candidates.push(r.value[0]);
    return splitKeys(stateSets, candidates, missingIsConflict);
  }
  for (const [k, v] of first) {
    let same = true;
    for (let i = 1; i < stateSets.length; i++) {
      if ((stateSets[i] as ReadonlyMap<string, string>).get(k) !== v) { same = false; break; }
    }
    if (!same) candidates.push(k);
  }
  for (let i = 1; i < stateSets.length; i++) {
    for (const k of (stateSets[i] as ReadonlyMap<string, string>).keys()) if (!first.has(k)) candidates.push(k);
  }
  const r = splitKeys(stateSets, candidates, missingIsConflict);
  for (const [k, v] of r.conflicted) conflicted.set(k, v);
  for (const [k, v] of r.extraUnconflicted) extra.set(k, v);
  return { conflicted, extraUnconflicted: extra };
}

// ---------------------------------------------------------------------------------------------
// Helpers over the in-memory event map

/** Read access to the events the engine knows (a `Map`, or a view over the caller's map). */
export interface EventReader {
  get(id: string): RoomEvent | undefined;
  has(id: string): boolean;
}

/**
 * A view of a caller's `Map` of every event (sync entry points): an entry counts only when its
 * event has that ID, as a loaded event must. Reading it directly spares copying each event into
 * the cache and every load request.
 */
class CheckedMapReader implements EventReader {
  constructor(readonly map: ReadonlyMap<string, RoomEvent>) {}
  get(id: string): RoomEvent | undefined {
    const e = this.map.get(id);
    return e !== undefined && e.eventId === id ? e : undefined;
  }
  has(id: string): boolean {
    return this.get(id) !== undefined;
  }
}

/** Internal engine state over the shared event map. */
export class Engine {
  readonly events: EventReader;
  readonly missing: Set<string>;
  readonly lookup: (id: string) => RoomEvent | undefined;
  /** Every event is already at hand (`input.direct`): load requests are no-ops. */
  readonly direct: boolean;
  #ticks = 0;
  constructor(readonly input: EngineInput) {
    const events: EventReader = input.direct !== undefined ? new CheckedMapReader(input.direct) : input.cache.events;
    this.events = events;
    this.direct = input.direct !== undefined;
    this.missing = input.cache.missing;
    this.lookup = (id) => events.get(id);
  }

  /**
   * Counts one unit of work; `true` every `tickEvery` calls (the caller then yields `null`, a point
   * where the async driver may yield to the event loop). Cheaper than a `yield*` per unit.
   */
  due(): boolean {
    if (++this.#ticks >= this.input.tickEvery) {
      this.#ticks = 0;
      return true;
    }
    return false;
  }

  /** Requests the IDs among `ids` that are neither loaded nor known missing. */
  *load(ids: Iterable<string>): Generator<EngineStep, void, void> {
    if (this.direct) return;
    const want: string[] = [];
    const seen = new Set<string>();
    for (const id of ids) {
      if (!this.events.has(id) && !this.missing.has(id) && !seen.has(id)) {
        seen.add(id);
        want.push(id);
      }
    }
    if (want.length === 0) return;
    yield want;
    for (const id of want) if (!this.events.has(id)) this.missing.add(id);
  }

  /** Loads `roots` and their whole auth chains, one frontier per request. */
  *loadClosure(roots: Iterable<string>): Generator<EngineStep, void, void> {
    if (this.direct) return;
    const visited = new Set<string>();
    let frontier = [...roots];
    while (frontier.length > 0) {
      yield* this.load(frontier);
      const next: string[] = [];
      for (const id of frontier) {
        if (visited.has(id)) continue;
        visited.add(id);
        const e = this.events.get(id);
        if (e === undefined) continue;
        for (const a of e.authEvents) if (!visited.has(a)) next.push(a);
      }
      frontier = next;
      if (this.due()) yield null;
    }
  }

  senderPower(e: RoomEvent): number {
    const memo = this.input.cache.senderPower;
    let p = memo.get(e.eventId);
    if (p === undefined) {
      p = senderPowerLevel(e, this.lookup, this.input.rules);
      memo.set(e.eventId, p);
    }
    return p;
  }
}

/** Replaces the entry of `auth` with `x`'s (type, state key), or appends `x`. */
function putAuth(auth: RoomEvent[], x: RoomEvent): void {
  for (let i = 0; i < auth.length; i++) {
    const y = auth[i] as RoomEvent;
    if (y.type === x.type && y.stateKey === x.stateKey) {
      auth[i] = x;
      return;
    }
  }
  auth.push(x);
}

/** A {@link StateLookup} over a small array of auth events (rebuilt per checked event). */
class AuthArrayLookup implements StateLookup<RoomEvent> {
  constructor(readonly auth: readonly RoomEvent[]) {}
  get(type: string, stateKey: string): RoomEvent | undefined {
    const auth = this.auth;
    for (let i = 0; i < auth.length; i++) {
      const x = auth[i] as RoomEvent;
      if (x.type === type && x.stateKey === stateKey) return x;
    }
    return undefined;
  }
}

/**
 * Iterative auth checks (checklist G16) over the in-memory event map. `sortedEvents`, when given,
 * holds the event of each ID of `sorted` (or `undefined`), sparing a lookup per event.
 */
export function* iterativeAuthChecksGen(
  eng: Engine,
  sorted: readonly string[],
  get: (key: string) => string | undefined,
  set: (key: string, id: string) => void,
  sortedEvents?: readonly (RoomEvent | undefined)[],
): Generator<EngineStep, void, void> {
  const { rules, isRejected, check } = eng.input;
  const events = eng.events;
  const roomIdCreate = rules.authorization.roomIdFromCreateEvent;
  // Usable auth events by ID (null: missing, rejected or not a state event). Events cite the same
  // few auth events (create, power levels, join rules), so this small map stays hot.
  const authById = new Map<string, RoomEvent | null>();
  // The usable state event per shared auth-relevant key (create, PL, JR; null: none), valid until
  // `set` writes the key — `get` changes only through `set` during this run. Per-user keys are
  // looked up each time (most are consulted once).
  const stateEvent = new Map<string, RoomEvent | null>();
  const stateEventOf = (key: string): RoomEvent | null => {
    const sid = get(key);
    const e = sid === undefined ? undefined : events.get(sid);
    return e !== undefined && !isRejected(sid as string) && keyOfEvent(e) === key ? e : null;
  };
  for (let n = 0; n < sorted.length; n++) {
    if (eng.due()) yield null;
    const id = sorted[n] as string;
    const event = sortedEvents !== undefined ? sortedEvents[n] : events.get(id);
    if (event === undefined || event.stateKey === undefined) continue;
    // Rejected events never enter state (G2; Synapse preserves the earlier rejection).
    if (isRejected(id)) continue;
    // A handful of entries: a small array beats hashing concatenated keys.
    const auth: RoomEvent[] = [];
    // The event's own non-rejected auth events; missing ones are skipped as Synapse does.
    for (const aid of event.authEvents) {
      let a = authById.get(aid);
      if (a === undefined) {
        const x = events.get(aid);
        a = x !== undefined && x.stateKey !== undefined && !isRejected(aid) ? x : null;
        authById.set(aid, a);
      }
      if (a !== null) putAuth(auth, a);
    }
    // v12: the create event is implied by the room ID (checklist G22).
    if (roomIdCreate && event.roomId !== undefined && event.roomId.startsWith('!')) {
      const cid = '$' + event.roomId.slice(1);
      const c = events.get(cid);
      if (c !== undefined && !isRejected(cid) && c.type === 'm.room.create' && c.stateKey === '') putAuth(auth, c);
    }
    // Overlay the partially resolved state for the auth-relevant keys (Synapse's behaviour: the
    // state wins over the event's own auth events wherever it has an entry; G16 AMBIGUOUS).
    const { keys, shared } = authKeysFull(event, rules);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      let st: RoomEvent | null | undefined;
      if (shared[i] === true) {
        st = stateEvent.get(key);
        if (st === undefined) stateEvent.set(key, (st = stateEventOf(key)));
      } else {
        st = stateEventOf(key);
      }
      if (st !== null) putAuth(auth, st);
    }
    let allowed = false;
    try {
      allowed = check(event, new AuthArrayLookup(auth), rules);
    } catch {
      allowed = false; // hostile content must never abort resolution
    }
    if (allowed) {
      const key = keyOfEvent(event);
      set(key, id);
      stateEvent.delete(key);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Auth difference, conflicted state subgraph, power ordering, mainline (G11–G20)

/**
 * Auth difference (G11) as Synapse computes it: closures Ĉᵢ include the state events themselves.
 * Ĉᵢ = closure(U) ∪ closure(Xᵢ) with U the unconflicted events and Xᵢ set i's conflicted events,
 * so the difference is {e ∈ ⋃closure(Xᵢ) − ⋂closure(Xᵢ)} minus closure(U). The first part touches
 * only the conflicted events' auth chains; the second uses the provider's auth children (a
 * descendant search that stops at the first unconflicted event) or, without one, a walk of
 * closure(U), which is O(room) unless every candidate is found early.
 *
 * IDs in `known` (the conflicted events, already in the full conflicted set the caller builds) are
 * left out of the result, so they need no closure(U) check: the caller's union is unchanged, and
 * the checks that remain are for the few non-conflicted events of the conflicted auth chains.
 */
export function* authDifferenceGen(
  eng: Engine,
  perSet: readonly string[][],
  isUnconflictedEvent: (id: string, key: string) => boolean,
  iterateUnconflicted: () => Iterable<string>,
  known: ReadonlySet<string> = new Set(),
): Generator<EngineStep, Set<string>, void> {
  const n = perSet.length;
  const count = new Map<string, number>();
  for (const roots of perSet) {
    const visited = new Set<string>();
    const stack: string[] = [];
    // Roots that are `known` are never candidates, so they need no count or visited mark: push
    // their auth events directly (one reached again from another root is simply walked again).
    for (const id of roots) {
      if (known.has(id)) {
        const e = eng.events.get(id);
        if (e !== undefined) for (const a of e.authEvents) if (!visited.has(a)) stack.push(a);
      } else {
        stack.push(id);
      }
    }
    while (stack.length > 0) {
      const id = stack.pop() as string;
      if (visited.has(id)) continue;
      visited.add(id);
      if (!known.has(id)) count.set(id, (count.get(id) ?? 0) + 1);
      const e = eng.events.get(id);
      if (e !== undefined) for (const a of e.authEvents) if (!visited.has(a)) stack.push(a);
    }
    if (eng.due()) yield null;
  }
  const candidates = new Set<string>();
  for (const [id, c] of count) if (c < n && !known.has(id) && eng.events.has(id)) candidates.add(id);
  if (candidates.size === 0) return candidates;

  const provider = eng.input.provider;
  let useProvider = provider !== undefined;
  if (provider !== undefined) for (const c of candidates) if (!provider.has(c)) { useProvider = false; break; }
  if (useProvider && provider !== undefined) {
    // Descendant search: c ∈ closure(U) iff some state-event descendant (inclusive) is in U.
    const noU = new Set<string>(); // fully explored without reaching U
    const isU = (id: string): boolean => {
      const key = provider.stateKeyOf(id) ?? keyOfLoaded(eng, id);
      return key !== undefined && isUnconflictedEvent(id, key);
    };
    for (const c of [...candidates]) {
      const visited = new Set<string>();
      const stack = [c];
      let found = false;
      while (stack.length > 0 && !found) {
        const id = stack.pop() as string;
        if (visited.has(id) || noU.has(id)) continue;
        visited.add(id);
        if (isU(id)) { found = true; break; }
        for (const ch of provider.authChildren(id)) if (!visited.has(ch) && !noU.has(ch)) stack.push(ch);
      }
      if (found) candidates.delete(c);
      else for (const v of visited) noU.add(v);
      if (eng.due()) yield null;
    }
    return candidates;
  }
  // Without a provider: walk closure(U) (loading it), stopping once every candidate is found.
  let remaining = candidates.size;
  const visited = new Set<string>();
  let frontier: string[] = [];
  const flush = function* (): Generator<EngineStep, void, void> {
    while (frontier.length > 0 && remaining > 0) {
      yield* eng.load(frontier);
      const next: string[] = [];
      for (const id of frontier) {
        if (visited.has(id)) continue;
        visited.add(id);
        if (candidates.has(id)) {
          candidates.delete(id);
          remaining--;
        }
        const e = eng.events.get(id);
        if (e !== undefined) for (const a of e.authEvents) if (!visited.has(a)) next.push(a);
      }
      frontier = next;
      if (eng.due()) yield null;
    }
  };
  for (const id of iterateUnconflicted()) {
    if (remaining === 0) break;
    frontier.push(id);
    if (frontier.length >= 4096) yield* flush();
  }
  yield* flush();
  return candidates;
}

function keyOfLoaded(eng: Engine, id: string): string | undefined {
  const e = eng.events.get(id);
  return e === undefined || e.stateKey === undefined ? undefined : stateKeyOf(e.type, e.stateKey);
}

/**
 * Conflicted state subgraph (v2.1, R12 › Definitions; checklist G19): every event on an
 * `auth_events` path from one conflicted event to another, endpoints included — i.e. events that
 * are auth ancestors-or-self of a conflicted event and reach a conflicted event.
 */
export function conflictedStateSubgraphOf(conflicted: Iterable<string>, lookup: (id: string) => RoomEvent | undefined): Set<string> {
  const c = new Set(conflicted);
  // reach: id → whether it reaches (inclusive) an event of c. Iterative post-order DFS.
  const reach = new Map<string, boolean>();
  const onStack = new Set<string>();
  const out = new Set<string>();
  for (const root of c) {
    if (reach.has(root)) continue;
    const stack: Array<[string, number]> = [[root, 0]];
    onStack.add(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as [string, number];
      const [id, i] = top;
      const e = lookup(id);
      const auths = e === undefined ? [] : e.authEvents;
      if (i < auths.length) {
        top[1] = i + 1;
        const a = auths[i] as string;
        // onStack guards against auth cycles in hostile v1/v2-format input.
        if (!reach.has(a) && !onStack.has(a)) {
          onStack.add(a);
          stack.push([a, 0]);
        }
        continue;
      }
      onStack.delete(id);
      let r = c.has(id);
      for (const a of auths) if (reach.get(a) === true) r = true;
      reach.set(id, r);
      stack.pop();
    }
  }
  // Every visited event is an ancestor-or-self of a conflicted event.
  for (const [id, r] of reach) if (r && lookup(id) !== undefined) out.add(id);
  return out;
}

/** A binary min-heap over strings with a comparator. */
class Heap {
  readonly #a: string[] = [];
  constructor(readonly cmp: (x: string, y: string) => number) {}
  get size(): number {
    return this.#a.length;
  }
  push(x: string): void {
    const a = this.#a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.cmp(a[i] as string, a[p] as string) >= 0) break;
      [a[i], a[p]] = [a[p] as string, a[i] as string];
      i = p;
    }
  }
  pop(): string {
    const a = this.#a;
    const top = a[0] as string;
    const last = a.pop() as string;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.cmp(a[l] as string, a[m] as string) < 0) m = l;
        if (r < a.length && this.cmp(a[r] as string, a[m] as string) < 0) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m] as string, a[i] as string];
        i = m;
      }
    }
    return top;
  }
}

/**
 * Step 1 of v2 (G13, G17): the power events of the full conflicted set plus the events of their
 * auth chains in the full conflicted set, sorted by the reverse topological power ordering (Kahn's
 * algorithm, ties by higher sender PL, then smaller `origin_server_ts`, then smaller event ID).
 * Like Synapse, the auth chain is followed only through events of the full conflicted set.
 */
export function powerSort(eng: Engine, fullConflicted: ReadonlySet<string>): string[] {
  const graph = new Map<string, string[]>(); // event → its auth events within the set
  const stack: string[] = [];
  for (const id of fullConflicted) {
    const e = eng.events.get(id);
    if (e !== undefined && isPowerEvent(e)) stack.push(id);
  }
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (graph.has(id)) continue;
    const e = eng.events.get(id) as RoomEvent;
    const edges: string[] = [];
    for (const a of e.authEvents) {
      if (fullConflicted.has(a) && eng.events.has(a)) {
        if (!edges.includes(a)) edges.push(a);
        if (!graph.has(a)) stack.push(a);
      }
    }
    graph.set(id, edges);
  }
  return kahn(eng, graph, (x, y) => {
    const ex = eng.events.get(x) as RoomEvent;
    const ey = eng.events.get(y) as RoomEvent;
    const px = eng.senderPower(ex);
    const py = eng.senderPower(ey);
    if (px !== py) return px > py ? -1 : 1;
    if (ex.originServerTs !== ey.originServerTs) return ex.originServerTs < ey.originServerTs ? -1 : 1;
    return compareCodePoints(x, y);
  });
}

function kahn(eng: Engine, graph: ReadonlyMap<string, readonly string[]>, cmp: (x: string, y: string) => number): string[] {
  void eng;
  const pending = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  const heap = new Heap(cmp);
  for (const [id, edges] of graph) {
    pending.set(id, edges.length);
    if (edges.length === 0) heap.push(id);
    for (const a of edges) {
      const d = dependents.get(a);
      if (d === undefined) dependents.set(a, [id]);
      else d.push(id);
    }
  }
  const out: string[] = [];
  while (heap.size > 0) {
    const id = heap.pop();
    out.push(id);
    for (const d of dependents.get(id) ?? []) {
      const left = (pending.get(d) as number) - 1;
      pending.set(d, left);
      if (left === 0) heap.push(d);
    }
  }
  return out; // events on an auth cycle (impossible for valid events) are dropped
}

function plAuthEvent(eng: Engine, e: RoomEvent): RoomEvent | undefined {
  for (const a of e.authEvents) {
    const x = eng.events.get(a);
    if (x !== undefined && x.type === 'm.room.power_levels' && x.stateKey === '') return x;
  }
  return undefined;
}

/**
 * Mainline ordering (G14, G15, G18): events sorted by (mainline depth ascending — i.e. greater
 * mainline position first, events with no mainline ancestor first — then `origin_server_ts`, then
 * event ID). Depth 1 is the oldest mainline PL; 0 means "no mainline ancestor" (position ∞).
 * As in Synapse the walk starts at the event itself; for non-PL events this equals the spec's walk
 * from e₁, and PL events are always power events so never reach this step.
 */
export function* mainlineSortGen(
  eng: Engine,
  events: readonly string[],
  powerLevelsId: string | undefined,
  outEvents?: RoomEvent[],
): Generator<EngineStep, string[], void> {
  const depth = new Map<string, number>();
  if (powerLevelsId !== undefined) {
    yield* eng.loadClosure([powerLevelsId]);
    const line: string[] = [];
    let p = eng.events.get(powerLevelsId);
    const seen = new Set<string>();
    while (p !== undefined && !seen.has(p.eventId)) {
      seen.add(p.eventId);
      line.push(p.eventId);
      p = plAuthEvent(eng, p);
    }
    for (let i = 0; i < line.length; i++) depth.set(line[line.length - 1 - i] as string, i + 1);
  }
  const memo = new Map<string, number>(depth);
  const depthOf = (start: RoomEvent): number => {
    const path: string[] = [];
    let e: RoomEvent | undefined = start;
    let d = 0;
    while (e !== undefined) {
      const m = memo.get(e.eventId);
      if (m !== undefined) { d = m; break; }
      if (path.includes(e.eventId)) break;
      path.push(e.eventId);
      e = plAuthEvent(eng, e);
    }
    // Only PL events are ever reached again (through plAuthEvent); the start event is memoised
    // only when it is one, sparing a map entry per ordinary event.
    for (let i = start.type === 'm.room.power_levels' ? 0 : 1; i < path.length; i++) memo.set(path[i] as string, d);
    return d;
  };
  const keyed = events.map((id) => {
    const e = eng.events.get(id) as RoomEvent;
    return { id, e, d: depthOf(e), ts: e.originServerTs };
  });
  if (eng.due()) yield null;
  keyed.sort((x, y) => (x.d !== y.d ? x.d - y.d : x.ts !== y.ts ? (x.ts < y.ts ? -1 : 1) : compareCodePoints(x.id, y.id)));
  // `outEvents` (internal): receives the event of each returned ID, in the same order.
  if (outEvents !== undefined) for (const k of keyed) outEvents.push(k.e);
  return keyed.map((k) => k.id);
}

// ---------------------------------------------------------------------------------------------
// State resolution v2 / v2.1

/** State resolution v2 (rooms 2–11) and v2.1 (room 12): frag:v2-state-res, R12 › Algorithm. */
export function* resolveV2Gen(input: EngineInput): Generator<EngineStep, StateDelta, void> {
  const { rules, stateSets } = input;
  const eng = new Engine(input);
  const first = stateSets[0] as ReadonlyMap<string, string>;
  const split = splitStateSets(stateSets, { conflictedKeys: input.conflictedKeys, missingIsConflict: true });
  const conflictedKeys = split.conflicted;
  const U = (key: string): string | undefined => (conflictedKeys.has(key) ? undefined : first.get(key));
  const isUnconflictedEvent = (id: string, key: string): boolean => !conflictedKeys.has(key) && first.get(key) === id;
  const iterateUnconflicted = function* (): Generator<string> {
    for (const [k, v] of first) if (!conflictedKeys.has(k)) yield v;
  };

  // Conflicted state set and per-set conflicted events.
  const conflictedIds = new Set<string>();
  for (const ids of conflictedKeys.values()) for (const id of ids) conflictedIds.add(id);
  const perSet = stateSets.map((s) => {
    const out: string[] = [];
    for (const k of conflictedKeys.keys()) {
      const v = s.get(k);
      if (v !== undefined) out.push(v);
    }
    return out;
  });
  yield* eng.loadClosure(conflictedIds);

  // Full conflicted set (G12, G20), starting from the loaded conflicted events (usually all).
  let full = conflictedIds;
  for (const id of conflictedIds) {
    if (!eng.events.has(id)) {
      full = new Set<string>();
      for (const x of conflictedIds) if (eng.events.has(x)) full.add(x);
      break;
    }
  }
  const subgraphRoots = rules.stateResolution.considerConflictedStateSubgraph ? [...full] : [];
  const diff = yield* authDifferenceGen(eng, perSet, isUnconflictedEvent, iterateUnconflicted, full);
  for (const id of diff) full.add(id);
  if (rules.stateResolution.considerConflictedStateSubgraph) {
    for (const id of conflictedStateSubgraphOf(full.size > 0 ? subgraphRoots : [], eng.lookup)) full.add(id);
  }

  // Load the unconflicted events the auth checks may consult, and their auth chains (bounded by
  // the conflicted events' auth-relevant keys, not by the room).
  // (Skipped when every event is at hand: it only serves to batch loads.)
  if (!eng.direct) {
    const needed = new Set<string>();
    needed.add(stateKeyOf('m.room.power_levels', ''));
    needed.add(stateKeyOf('m.room.create', ''));
    for (const id of full) {
      for (const k of authKeysOf(eng.events.get(id) as RoomEvent, rules)) needed.add(k);
    }
    const neededIds: string[] = [];
    if (rules.authorization.roomIdFromCreateEvent) {
      // v12: the create event is named by the room ID, not listed in auth_events (G22).
      const rooms = new Set<string>();
      for (const id of full) {
        const r = (eng.events.get(id) as RoomEvent).roomId;
        if (r !== undefined && r.startsWith('!')) rooms.add(r);
      }
      for (const r of rooms) neededIds.push('$' + r.slice(1));
    }
    for (const k of needed) {
      const v = U(k);
      if (v !== undefined) neededIds.push(v);
    }
    yield* eng.loadClosure(neededIds);
  }

  // Step 1: power events and their auth ancestors in the full conflicted set, power-sorted.
  const sortedPower = powerSort(eng, full);
  if (eng.due()) yield null;

  // Step 2: iterative auth checks from the unconflicted map (v2) or an empty map (v2.1, G21).
  const emptyStart = rules.stateResolution.beginIterativeAuthChecksWithEmptyState;
  const overlay = new Map<string, string>();
  const get = (k: string): string | undefined => overlay.get(k) ?? (emptyStart ? undefined : U(k));
  const set = (k: string, id: string): void => void overlay.set(k, id);
  yield* iterativeAuthChecksGen(eng, sortedPower, get, set);

  // Step 3: the rest, by mainline order of the partially resolved power levels.
  const inPower = new Set(sortedPower);
  const leftover: string[] = [];
  for (const id of full) if (!inPower.has(id)) leftover.push(id);
  const restEvents: RoomEvent[] = [];
  const sortedRest = yield* mainlineSortGen(eng, leftover, get(stateKeyOf('m.room.power_levels', '')), restEvents);

  // Step 4: iterative auth checks on the partial state.
  yield* iterativeAuthChecksGen(eng, sortedRest, get, set, restEvents);

  // Step 5: the unconflicted map wins; express the result relative to stateSets[0].
  const changes = new Map<string, string | undefined>();
  for (const [k, id] of overlay) {
    if (U(k) !== undefined) continue;
    if (first.get(k) !== id) changes.set(k, id);
  }
  for (const k of conflictedKeys.keys()) {
    if (!overlay.has(k) && first.has(k)) changes.set(k, undefined);
  }
  return { changes };
}

// ---------------------------------------------------------------------------------------------
// State resolution v1 (room version 1 › State resolution; checklist G4–G8, matching Synapse v1.py)

/** State resolution v1 (room version 1), matching Synapse's `synapse/state/v1.py` (G8). */
export function* resolveV1Gen(input: EngineInput): Generator<EngineStep, StateDelta, void> {
  const { rules, stateSets, check } = input;
  const eng = new Engine(input);
  const first = stateSets[0] as ReadonlyMap<string, string>;
  const split = splitStateSets(stateSets, { conflictedKeys: input.conflictedKeys, missingIsConflict: false });
  const U = (key: string): string | undefined =>
    split.conflicted.has(key) ? undefined : (split.extraUnconflicted.get(key) ?? first.get(key));
  const conflictedIds = new Set<string>();
  for (const ids of split.conflicted.values()) for (const id of ids) conflictedIds.add(id);
  yield* eng.load(conflictedIds);

  // Auth events for the conflicted events, picked from the unconflicted state only.
  const authIds = new Map<string, string>();
  for (const id of conflictedIds) {
    const e = eng.events.get(id);
    if (e === undefined) continue;
    for (const [t, sk] of authEventTypes(e, rules)) {
      const k = stateKeyOf(t, sk);
      if (authIds.has(k)) continue;
      const v = U(k);
      if (v !== undefined) authIds.set(k, v);
    }
  }
  yield* eng.load(authIds.values());
  const authEvents = new Map<string, RoomEvent>();
  for (const [k, id] of authIds) {
    const e = eng.events.get(id);
    if (e !== undefined) authEvents.set(k, e);
  }

  // Conflicts whose events are mostly missing degrade: one left → unconflicted, none → dropped.
  const conflicts = new Map<string, RoomEvent[]>();
  const resolved = new Map<string, string | undefined>();
  for (const [k, ids] of split.conflicted) {
    const evs: RoomEvent[] = [];
    for (const id of ids) {
      const e = eng.events.get(id);
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
    if (eng.due()) yield null;
  }
  for (const k of sortedKeys) if (!out.has(k)) out.set(k, resolveNormal(conflicts.get(k) as RoomEvent[], authEvents));

  const changes = new Map<string, string | undefined>();
  for (const [k, v] of split.extraUnconflicted) changes.set(k, v);
  for (const [k, v] of resolved) if (first.get(k) !== v) changes.set(k, v);
  for (const [k, e] of out) if (first.get(k) !== e.eventId) changes.set(k, e.eventId);
  return { changes };
}

/** Picks the algorithm for a room version. */
export function engineFor(rules: RoomVersionRules): (input: EngineInput) => Generator<EngineStep, StateDelta, void> {
  switch (rules.stateResolution.algorithm) {
    case 'v1':
      return resolveV1Gen;
    case 'v2':
    case 'v2.1':
      return resolveV2Gen;
    default:
      throw new StateResolutionError('UNSUPPORTED_ALGORITHM', `unknown state resolution algorithm for room version ${rules.id}`);
  }
}
