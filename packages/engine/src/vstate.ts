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

/** The overlay that turns `base` (a full map) into `target` (a full map). */
export function overlayBetween(base: ReadonlyMap<string, string>, target: ReadonlyMap<string, string>): Map<string, string | null> {
  const overlay = new Map<string, string | null>();
  for (const [k, v] of target) if (base.get(k) !== v) overlay.set(k, v);
  for (const k of base.keys()) if (!target.has(k)) overlay.set(k, null);
  return overlay;
}
