/**
 * Virtual states: a stored snapshot plus a small overlay of changes not yet written. The engine
 * reasons about "state before / after an event" with these, and turns them into snapshot
 * references inside the event's single commit.
 *
 * @module
 */
import type { NewSnapshot, RoomStore, SnapshotId, SnapshotRef } from '@roomgraph/store';

/** A state = a stored snapshot (or empty) with changes on top (`null` removes a key). */
export interface VState {
  /** The stored snapshot this state builds on; `null` = the empty state. */
  readonly base: SnapshotId | null;
  /** Changes over the base: state key → event ID, or `null` for a removed key. */
  readonly overlay: ReadonlyMap<string, string | null>;
}

const EMPTY: ReadonlyMap<string, string | null> = new Map();

/** A state that is exactly a stored snapshot. */
export function stored(id: SnapshotId | null): VState {
  return { base: id, overlay: EMPTY };
}

/** `state` with one more entry. */
export function withEntry(state: VState, key: string, eventId: string): VState {
  const overlay = new Map(state.overlay);
  overlay.set(key, eventId);
  return { base: state.base, overlay };
}

/** Whether two virtual states are the same by construction (same base, same overlay). */
export function sameVState(a: VState, b: VState): boolean {
  if (a.base !== b.base || a.overlay.size !== b.overlay.size) return false;
  for (const [k, v] of a.overlay) if (b.overlay.get(k) !== v) return false;
  return true;
}

/** Looks up keys: overlay first, then the stored snapshot's point lookups. */
export async function lookup(store: RoomStore, state: VState, keys: readonly string[]): Promise<(string | undefined)[]> {
  const out: (string | undefined)[] = new Array<string | undefined>(keys.length);
  const missing: string[] = [];
  const at: number[] = [];
  keys.forEach((k, i) => {
    const o = state.overlay.get(k);
    if (o !== undefined) out[i] = o ?? undefined;
    else if (state.overlay.has(k)) out[i] = undefined;
    else if (state.base === null) out[i] = undefined;
    else { missing.push(k); at.push(i); }
  });
  if (missing.length > 0 && state.base !== null) {
    const got = await store.getStateEntries(state.base, missing);
    got.forEach((v, j) => { out[at[j] as number] = v; });
  }
  return out;
}

/**
 * `state` as an overlay on the stored snapshot `onto` (the same state): the keys where they differ.
 * Costs the store's diff of the two bases and a point look-up per overlay key the diff does not
 * name. (A room's new current state resolved over many extremities is expressed on the new
 * event's state; on the previous current state it is usually a few entries, where on the event's
 * state it holds every other branch's changes — a new snapshot that size per event.)
 */
export async function rebase(store: RoomStore, state: VState, onto: SnapshotId): Promise<VState> {
  // (On the empty state nothing is shared: the overlay is the whole state already.)
  if (state.base === onto || state.base === null) return state;
  const diff = await store.diffStates(state.base, onto);
  return { base: onto, overlay: await overlayOnto(store, diff, state.overlay, onto) };
}

/**
 * The overlay on `onto` of the state base + `overlay`, where `diff` is the diff from that base to
 * `onto` (`[in base, in onto]` per differing key).
 */
async function overlayOnto(
  store: RoomStore, diff: ReadonlyMap<string, readonly [string | undefined, string | undefined]>,
  overlay: ReadonlyMap<string, string | null>, onto: SnapshotId,
): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  // Keys the diff names: the state's value is the overlay's, else the base's (the diff's first).
  for (const [k, [inBase, inOnto]] of diff) {
    const o = overlay.get(k); // (an overlay's values are IDs or null, never undefined)
    const mine = o !== undefined ? (o ?? undefined) : inBase;
    if (mine !== inOnto) out.set(k, mine ?? null);
  }
  // Overlay keys the diff does not name: `onto` holds the base's value there.
  const rest: string[] = [];
  for (const k of overlay.keys()) if (!diff.has(k)) rest.push(k);
  if (rest.length > 0) {
    const there = await store.getStateEntries(onto, rest);
    for (let i = 0; i < rest.length; i++) {
      const k = rest[i] as string;
      const mine = overlay.get(k) ?? undefined;
      if (mine !== there[i]) out.set(k, mine ?? null);
    }
  }
  return out;
}

/** The full state as a map (O(state); cached by the store for the base). */
export async function materialise(store: RoomStore, state: VState): Promise<Map<string, string>> {
  const base = state.base === null ? new Map<string, string>() : new Map(await store.loadState(state.base));
  for (const [k, v] of state.overlay) {
    if (v === null) base.delete(k);
    else base.set(k, v);
  }
  return base;
}

/** Collects the new snapshots of one commit and hands out references to them. */
export class SnapshotPlan {
  readonly snapshots: NewSnapshot[] = [];
  #n = 0;

  /** A reference to `state` for the commit: the stored ID when there is no overlay, else a new snapshot. */
  ref(state: VState): SnapshotRef {
    if (state.overlay.size === 0 && state.base !== null) return state.base;
    const set: [string, string][] = [];
    const remove: string[] = [];
    for (const [k, v] of state.overlay) {
      if (v === null) remove.push(k);
      else set.push([k, v]);
    }
    const ref = `s${this.#n++}`;
    this.snapshots.push({ ref, parent: state.base, changes: { set, remove } });
    return { ref };
  }
}

/**
 * A read-only view of a virtual state as a map, without copying the stored base (a 100k-entry
 * state is read in place; only the small overlay is consulted first).
 */
export class StateView implements ReadonlyMap<string, string> {
  readonly #base: ReadonlyMap<string, string>;
  readonly #overlay: ReadonlyMap<string, string | null>;
  #size: number | undefined;

  constructor(base: ReadonlyMap<string, string>, overlay: ReadonlyMap<string, string | null>) {
    this.#base = base;
    this.#overlay = overlay;
  }

  get(key: string): string | undefined {
    // (An overlay's values are event IDs or `null`, never `undefined`: one look-up tells.)
    const o = this.#overlay.get(key);
    if (o !== undefined) return o ?? undefined;
    return this.#base.get(key);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  get size(): number {
    if (this.#size === undefined) {
      let n = this.#base.size;
      for (const [k, v] of this.#overlay) {
        const inBase = this.#base.has(k);
        if (v === null && inBase) n--;
        else if (v !== null && !inBase) n++;
      }
      this.#size = n;
    }
    return this.#size;
  }

  *entries(): MapIterator<[string, string]> {
    for (const [k, v] of this.#base) {
      if (this.#overlay.has(k)) {
        const o = this.#overlay.get(k);
        if (o !== null && o !== undefined) yield [k, o];
      } else {
        yield [k, v];
      }
    }
    for (const [k, v] of this.#overlay) if (v !== null && !this.#base.has(k)) yield [k, v];
  }

  *keys(): MapIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): MapIterator<string> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[string, string]> {
    return this.entries();
  }

  forEach(fn: (value: string, key: string, map: ReadonlyMap<string, string>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
}

/** A map view of `state` (the stored base is read in place, never copied). */
export async function viewOf(store: RoomStore, state: VState): Promise<StateView> {
  const base = state.base === null ? new Map<string, string>() : await store.loadState(state.base);
  return new StateView(base, state.overlay);
}
