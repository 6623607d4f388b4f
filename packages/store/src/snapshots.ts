/**
 * The shared state-snapshot core: immutable snapshots stored as layered deltas with bounded depth
 * (architecture §5.4, Conduit's layered diffs with a size-ratio compaction rule).
 *
 * A snapshot is a chain of layers: layer 0 (a *base*) holds a full state; each higher layer holds a
 * delta (`set` / `removed`) over its parent. A new snapshot is stacked on its parent when the parent
 * is shallower than `maxDepth` and the new delta is at most `1/deltaRatio` of the parent's layer
 * (`1/baseRatio` for a base); otherwise it is merged into the parent's delta and placed one level
 * lower, recursively; merging into a base writes a new base. So point lookups probe at most
 * `maxDepth + 1` hash maps, and the amortised copy cost per change stays a small multiple of the
 * ratios, not O(room state).
 *
 * Everything here is pure over {@link SnapshotLayer} values; stores supply layers.
 *
 * @module
 */
import type { EventId, SnapshotId, StateDiffEntry, StateKey } from './interfaces.js';

/** One stored layer of a snapshot. Immutable. */
export interface SnapshotLayer {
  /** The snapshot ID this layer represents. */
  readonly id: SnapshotId;
  /** The parent layer, `undefined` for a base. */
  readonly parent: SnapshotId | undefined;
  /** 0 for a base, parent depth + 1 otherwise. */
  readonly depth: number;
  /** Base: all entries. Delta: entries set (added or changed) over the parent state. */
  readonly set: ReadonlyMap<StateKey, EventId>;
  /** Delta: keys present in the parent state and absent here. Always empty for a base. */
  readonly removed: ReadonlySet<StateKey>;
}

/** A snapshot's layers from the snapshot itself (index 0) down to its base (last). */
export type LayerChain = readonly SnapshotLayer[];

/** Tuning of the layer rule. */
export interface SnapshotPolicy {
  /** Maximum delta layers above a base (default 4). */
  readonly maxDepth: number;
  /** A delta is stacked on a delta layer only if `size × deltaRatio ≤ parent layer size` (default 4). */
  readonly deltaRatio: number;
  /** A delta is stacked on a base only if `size × baseRatio ≤ base size` (default 8). */
  readonly baseRatio: number;
}

/** The default {@link SnapshotPolicy}: depth ≤ 4, ratios 4 (delta) and 8 (base). */
export const DEFAULT_SNAPSHOT_POLICY: SnapshotPolicy = Object.freeze({ maxDepth: 4, deltaRatio: 4, baseRatio: 8 });

const EMPTY_SET: ReadonlySet<StateKey> = new Set();

/** Number of entries held by a layer (its storage weight). */
export function layerSize(layer: SnapshotLayer): number {
  return layer.set.size + layer.removed.size;
}

/** Looks up one key in a chain (≤ chain.length map probes). */
export function lookupInChain(chain: LayerChain, key: StateKey, from = 0): EventId | undefined {
  for (let i = from; i < chain.length; i++) {
    const layer = chain[i]!;
    const v = layer.set.get(key);
    if (v !== undefined) return v;
    if (layer.depth === 0 || layer.removed.has(key)) return undefined;
  }
  return undefined;
}

/** Materialises the full state of a chain (base copy + layers applied bottom-up). */
export function materialiseChain(chain: LayerChain, start?: { readonly index: number; readonly state: ReadonlyMap<StateKey, EventId> }): Map<StateKey, EventId> {
  let i = chain.length - 1;
  let out: Map<StateKey, EventId>;
  if (start !== undefined) {
    out = new Map(start.state);
    i = start.index - 1;
  } else {
    out = copyMap(chain[i]!.set);
    i--;
  }
  for (; i >= 0; i--) {
    const layer = chain[i]!;
    for (const k of layer.removed) out.delete(k);
    for (const [k, v] of layer.set) out.set(k, v);
  }
  return out;
}

/**
 * A copy of a map. (`new Map(m)` reads `m` through its iterator: an entry array and an iterator
 * result per entry, a base layer of thousands of entries at a time.)
 */
function copyMap<K, V>(m: ReadonlyMap<K, V>): Map<K, V> {
  const out = new Map<K, V>();
  m.forEach((v, k) => out.set(k, v));
  return out;
}

/** A delta being placed. */
interface Delta {
  set: Map<StateKey, EventId>;
  removed: Set<StateKey>;
}

/**
 * Drops entries that do not change the state of `chain` from `from` on (sets to the same value,
 * removes of absent keys), into new maps (`delta` is only read).
 */
function normalise(delta: { readonly set: ReadonlyMap<StateKey, EventId>; readonly removed: ReadonlySet<StateKey> }, chain: LayerChain, from: number): Delta {
  const set = new Map<StateKey, EventId>();
  const removed = new Set<StateKey>();
  // (forEach: no entry array or iterator result per entry.)
  delta.set.forEach((v, k) => {
    if (lookupInChain(chain, k, from) !== v) set.set(k, v);
  });
  delta.removed.forEach((k) => {
    if (lookupInChain(chain, k, from) !== undefined) removed.add(k);
  });
  return { set, removed };
}

/**
 * Plans a new snapshot = state(parentChain) + changes.
 *
 * @param parentChain - the parent's chain, or `undefined` to start from empty state.
 * @param set - entries to set.
 * @param removed - keys to remove.
 * @param allocate - returns a fresh snapshot ID (called at most once).
 * @returns `{ id, layer }`: `layer` is the new layer to store, or `undefined` when the changes are
 * no-ops and `id` is the parent's ID (no new snapshot needed).
 */
export function planSnapshot(
  parentChain: LayerChain | undefined,
  set: ReadonlyMap<StateKey, EventId>,
  removed: ReadonlySet<StateKey>,
  allocate: () => SnapshotId,
  policy: SnapshotPolicy = DEFAULT_SNAPSHOT_POLICY,
): { readonly id: SnapshotId; readonly layer: SnapshotLayer | undefined } {
  if (parentChain === undefined || parentChain.length === 0) {
    const id = allocate();
    return { id, layer: Object.freeze({ id, parent: undefined, depth: 0, set: new Map(set), removed: EMPTY_SET }) };
  }
  let d = normalise({ set, removed }, parentChain, 0);
  if (d.set.size === 0 && d.removed.size === 0) return { id: parentChain[0]!.id, layer: undefined };
  let i = 0;
  for (;;) {
    const p = parentChain[i]!;
    const size = d.set.size + d.removed.size;
    if (p.depth === 0) {
      if (size * policy.baseRatio <= p.set.size && policy.maxDepth > 0) {
        const id = allocate();
        return { id, layer: Object.freeze({ id, parent: p.id, depth: 1, set: d.set, removed: d.removed }) };
      }
      const base = copyMap(p.set);
      for (const k of d.removed) base.delete(k);
      for (const [k, v] of d.set) base.set(k, v);
      const id = allocate();
      return { id, layer: Object.freeze({ id, parent: undefined, depth: 0, set: base, removed: EMPTY_SET }) };
    }
    if (p.depth < policy.maxDepth && size * policy.deltaRatio <= layerSize(p)) {
      const id = allocate();
      return { id, layer: Object.freeze({ id, parent: p.id, depth: p.depth + 1, set: d.set, removed: d.removed }) };
    }
    // Merge d into p's delta; the result is a delta over p's parent.
    const mergedSet = copyMap(p.set);
    const mergedRemoved = new Set(p.removed);
    for (const k of d.removed) {
      mergedSet.delete(k);
      mergedRemoved.add(k);
    }
    for (const [k, v] of d.set) {
      mergedSet.set(k, v);
      mergedRemoved.delete(k);
    }
    d = normalise({ set: mergedSet, removed: mergedRemoved }, parentChain, i + 1);
    i++;
    if (d.set.size === 0 && d.removed.size === 0) {
      // The merged state equals p's parent: reuse it.
      return { id: parentChain[i]!.id, layer: undefined };
    }
  }
}

/**
 * Keys whose values differ between two snapshots. When the chains share a layer, only keys
 * touched in the layers above it are examined; otherwise `full` is called to compare materialised
 * states.
 */
export function diffChains(
  a: LayerChain,
  b: LayerChain,
  full: () => readonly [ReadonlyMap<StateKey, EventId>, ReadonlyMap<StateKey, EventId>],
): Map<StateKey, StateDiffEntry> {
  const out = new Map<StateKey, StateDiffEntry>();
  if (a[0]!.id === b[0]!.id) return out;
  const indexB = new Map<SnapshotId, number>();
  for (let j = 0; j < b.length; j++) indexB.set(b[j]!.id, j);
  let ia = -1;
  let ib = -1;
  for (let i = 0; i < a.length; i++) {
    const j = indexB.get(a[i]!.id);
    if (j !== undefined) {
      ia = i;
      ib = j;
      break;
    }
  }
  if (ia < 0) {
    const [sa, sb] = full();
    for (const [k, v] of sa) {
      const w = sb.get(k);
      if (w !== v) out.set(k, [v, w]);
    }
    for (const [k, w] of sb) if (!sa.has(k)) out.set(k, [undefined, w]);
    return out;
  }
  const keys = new Set<StateKey>();
  for (let i = 0; i < ia; i++) {
    for (const k of a[i]!.set.keys()) keys.add(k);
    for (const k of a[i]!.removed) keys.add(k);
  }
  for (let j = 0; j < ib; j++) {
    for (const k of b[j]!.set.keys()) keys.add(k);
    for (const k of b[j]!.removed) keys.add(k);
  }
  for (const k of keys) {
    const va = lookupInChain(a, k);
    const vb = lookupInChain(b, k);
    if (va !== vb) out.set(k, [va, vb]);
  }
  return out;
}

/** A node of {@link LruCache}'s recency list. */
interface LruNode<K, V> {
  readonly key: K;
  value: V;
  weight: number;
  /** Towards the least recently used end. */
  older: LruNode<K, V> | undefined;
  /** Towards the most recently used end. */
  newer: LruNode<K, V> | undefined;
}

/**
 * A least-recently-used cache bounded by total weight: a `Map` from keys to the nodes of a
 * doubly linked recency list. A hit only relinks its node; the map changes on inserts and
 * evictions alone. (Keeping recency in the map itself — delete and re-insert on each hit — is
 * quadratic in V8 for frequently read keys: a deleted entry stays in its hash chain as a hole
 * until the table is rehashed, so a hot key's chain grows with every refresh; measured ~45 µs per
 * lookup mix at 50k entries.)
 */
export class LruCache<K, V> {
  readonly #map = new Map<K, LruNode<K, V>>();
  readonly #weightOf: (v: V) => number;
  #weight = 0;
  /** Least recently used. */
  #oldest: LruNode<K, V> | undefined;
  /** Most recently used. */
  #newest: LruNode<K, V> | undefined;

  /**
   * @param capacity - maximum total weight kept.
   * @param weightOf - weight of a value (default 1 each).
   */
  constructor(
    readonly capacity: number,
    weightOf?: (v: V) => number,
  ) {
    this.#weightOf = weightOf ?? (() => 1);
  }

  #unlink(n: LruNode<K, V>): void {
    if (n.older !== undefined) n.older.newer = n.newer;
    else this.#oldest = n.newer;
    if (n.newer !== undefined) n.newer.older = n.older;
    else this.#newest = n.older;
    n.older = undefined;
    n.newer = undefined;
  }

  #append(n: LruNode<K, V>): void {
    n.older = this.#newest;
    n.newer = undefined;
    if (this.#newest !== undefined) this.#newest.newer = n;
    else this.#oldest = n;
    this.#newest = n;
  }

  /** The value, now the most recently used. */
  get(key: K): V | undefined {
    const n = this.#map.get(key);
    if (n === undefined) return undefined;
    if (n !== this.#newest) {
      this.#unlink(n);
      this.#append(n);
    }
    return n.value;
  }

  /** The value without refreshing recency. */
  peek(key: K): V | undefined {
    return this.#map.get(key)?.value;
  }

  /** Inserts or replaces (as the most recently used); evicts least-recently used entries above capacity. */
  set(key: K, value: V): void {
    if (this.capacity <= 0) return;
    const weight = this.#weightOf(value);
    let n = this.#map.get(key);
    if (n !== undefined) {
      this.#weight += weight - n.weight;
      n.value = value;
      n.weight = weight;
      if (n !== this.#newest) {
        this.#unlink(n);
        this.#append(n);
      }
    } else {
      n = { key, value, weight, older: undefined, newer: undefined };
      this.#map.set(key, n);
      this.#append(n);
      this.#weight += weight;
    }
    while (this.#weight > this.capacity && this.#oldest !== undefined && this.#oldest !== this.#newest) {
      const old = this.#oldest;
      this.#unlink(old);
      this.#map.delete(old.key);
      this.#weight -= old.weight;
    }
  }

  /** Removes one entry (no-op when absent). */
  delete(key: K): void {
    const n = this.#map.get(key);
    if (n === undefined) return;
    this.#unlink(n);
    this.#map.delete(key);
    this.#weight -= n.weight;
  }

  /** Removes everything. */
  clear(): void {
    this.#map.clear();
    this.#oldest = undefined;
    this.#newest = undefined;
    this.#weight = 0;
  }

  /** Number of entries. */
  get size(): number {
    return this.#map.size;
  }
}
