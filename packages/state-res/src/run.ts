/**
 * One resolution's working state, shared by the algorithms (room versions › State resolution):
 * the event map they read (loaded on demand), the load protocol, and small memos.
 *
 * The algorithms are written as generators that yield *load requests* (arrays of event IDs they
 * need) and *ticks* (`null`, a point where the async driver may yield to the event loop). A driver
 * (`api.ts`) answers load requests from a synchronous lookup or a batched async loader. Everything
 * after a load reads the in-memory event map only.
 *
 * @module
 */
import { type RoomEvent, type StateLookup, authEventTypes, stateKeyOf, stateKeyOfEvent } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { checkStateDependentAuth } from '@roomgraph/auth';
import type { AuthChainProvider } from './chainCover.js';
import { StateResolutionError } from './errors.js';
import type { StateLayers } from './split.js';
import { senderPowerLevel } from './power.js';
/** A step yielded by an algorithm: IDs to load, or `null` (a point to yield to the event loop). */
export type ResolutionStep = readonly string[] | null;

/**
 * Decides whether `event` passes the authorization rules against `authState`. Must be a pure
 * function of its arguments: a resolution may call it in another order than the algorithm's
 * sorted order, and more than once for an event (state resolution v2's step 4 checks the events
 * that no other remaining event touches in their given order, then those that interact again, in
 * the mainline order — the result is the ordered pass's).
 */
export type AuthChecker = (event: RoomEvent, authState: StateLookup<RoomEvent>, rules: RoomVersionRules) => boolean;

/**
 * The default {@link AuthChecker}: `@roomgraph/auth`'s state-dependent rules only, as Synapse's
 * state resolution runs `check_state_dependent_auth_rules` (checklist G16 AMBIGUOUS: the auth
 * events list rules F3 and signatures are not re-checked).
 */
export const defaultAuthChecker: AuthChecker = (event, authState, rules) => checkStateDependentAuth(event, authState, rules).allowed;

/** Default bound of a {@link ResolutionCache}: events (and sender power levels) kept between resolutions. */
export const DEFAULT_RESOLUTION_CACHE_EVENTS = 50_000;

/** Options of a {@link ResolutionCache}. */
export interface ResolutionCacheOptions {
  /**
   * Events (and, separately, sender power levels) kept between resolutions (default
   * {@link DEFAULT_RESOLUTION_CACHE_EVENTS}). A resolution may hold more while it runs — it needs
   * what it loaded — and the oldest are forgotten once no resolution is using the cache.
   */
  readonly maxEvents?: number;
}

/**
 * Memo shared across resolutions of one room (optional): loaded events and each event's sender
 * power level. Both are pure functions of immutable events, so sharing is safe. Bounded: once the
 * last resolution using it ends, the oldest entries beyond `maxEvents` are forgotten (they are
 * loaded again when needed).
 */
export class ResolutionCache {
  /** Events loaded so far, by ID (oldest first). */
  readonly events = new Map<string, RoomEvent>();
  /** IDs the source did not have. Cleared by {@link ResolutionCache.forgetMissing}. */
  readonly missing = new Set<string>();
  /** Sender power level per event ID (checklist G13). */
  readonly senderPower = new Map<string, number>();
  /** Entries kept between resolutions (of `events`, and of `senderPower`). */
  readonly maxEvents: number;
  #active = 0;

  /** @param options - the bound. */
  constructor(options: ResolutionCacheOptions = {}) {
    const max = options.maxEvents ?? DEFAULT_RESOLUTION_CACHE_EVENTS;
    if (!Number.isInteger(max) || max < 0) throw new StateResolutionError('INVALID_INPUT', `maxEvents must be a non-negative integer, not ${String(max)}`);
    this.maxEvents = max;
  }

  /** Forgets which IDs were missing (call after the store learned new events). */
  forgetMissing(): void {
    this.missing.clear();
  }

  /**
   * Runs `fn` as one resolution using this cache: entries are only forgotten when no resolution
   * is using the cache (what a running resolution loaded stays until it ends).
   */
  async using<T>(fn: () => Promise<T>): Promise<T> {
    this.#active++;
    try {
      return await fn();
    } finally {
      this.#release();
    }
  }

  /** {@link ResolutionCache.using} for a synchronous resolution. */
  usingSync<T>(fn: () => T): T {
    this.#active++;
    try {
      return fn();
    } finally {
      this.#release();
    }
  }

  #release(): void {
    if (--this.#active > 0) return;
    trimOldest(this.events, this.maxEvents);
    trimOldest(this.senderPower, this.maxEvents);
    this.missing.clear();
  }
}

/** Deletes the oldest entries of `m` (insertion order) beyond `max`. */
function trimOldest<K, V>(m: Map<K, V>, max: number): void {
  let excess = m.size - max;
  if (excess <= 0) return;
  for (const k of m.keys()) {
    if (excess-- <= 0) break;
    m.delete(k);
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

/** Inputs of one resolution (internal). */
export interface ResolutionInput {
  readonly rules: RoomVersionRules;
  readonly stateSets: readonly ReadonlyMap<string, string>[];
  readonly conflictedKeys: Iterable<string> | undefined;
  /** The state sets as a shared base and an overlay per set (validated against their count). */
  readonly layers?: StateLayers | undefined;
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


/** Auth-relevant keys of an event; `shared[i]`: key i has an empty state key (create, PL, JR). */
export interface AuthKeys {
  readonly keys: readonly string[];
  readonly shared: readonly boolean[];
}

/** `stateKeyOf(type, '')`, one string per type (hashed once when used as a map key). */
const sharedKeys = new Map<string, string>();
export function sharedKeyOf(type: string): string {
  let k = sharedKeys.get(type);
  if (k === undefined) {
    k = stateKeyOf(type, '');
    // Bounded: only the auth-relevant types with an empty state key come here (create, PL, JR).
    if (sharedKeys.size < 64) sharedKeys.set(type, k);
  }
  return k;
}

/** Memoised auth-relevant keys per event (per rules object: the selection depends on it). */
const authKeyMemo = new WeakMap<RoomEvent, { rules: RoomVersionRules; ks: AuthKeys }>();
export function authKeysFull(e: RoomEvent, rules: RoomVersionRules): AuthKeys {
  const m = authKeyMemo.get(e);
  if (m !== undefined && m.rules === rules) return m.ks;
  const types = authEventTypes(e, rules);
  const keys: string[] = [];
  const shared: boolean[] = [];
  for (let i = 0; i < types.length; i++) {
    const [t, sk] = types[i] as readonly [string, string];
    // The shared keys (create, PL, JR) are the same few strings for every event; the event's own
    // key (a member event's sender or target) is the one `stateKeyOfEvent` gives (the caller's
    // state map key when it registered one).
    keys.push(sk === '' ? sharedKeyOf(t) : t === e.type && sk === e.stateKey ? stateKeyOfEvent(e) : stateKeyOf(t, sk));
    shared.push(sk === '');
  }
  const ks: AuthKeys = { keys, shared };
  authKeyMemo.set(e, { rules, ks });
  return ks;
}
export function authKeysOf(e: RoomEvent, rules: RoomVersionRules): readonly string[] {
  return authKeysFull(e, rules).keys;
}
// Helpers over the in-memory event map

/** Read access to the events the resolution knows (a `Map`, or a view over the caller's map). */
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

/** One resolution's working state over the shared event map (was `Engine`). */
export class ResolutionRun {
  readonly events: EventReader;
  readonly missing: Set<string>;
  readonly lookup: (id: string) => RoomEvent | undefined;
  /** Every event is already at hand (`input.direct`): load requests are no-ops. */
  readonly direct: boolean;
  #ticks = 0;
  constructor(readonly input: ResolutionInput) {
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
  *load(ids: Iterable<string>): Generator<ResolutionStep, void, void> {
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
  *loadClosure(roots: Iterable<string>): Generator<ResolutionStep, void, void> {
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
