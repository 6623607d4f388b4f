/**
 * The unconflicted / conflicted split of state sets (room versions › State resolution: v1 and
 * v2's "unconflicted state map" and "conflicted state set"; checklist G4, G10).
 *
 * @module
 */
import { compareCodePoints } from '@roomgraph/canonical-json';
// Unconflicted / conflicted split (checklist G4, G10)

/**
 * State sets given as one shared base and a small overlay per set (see {@link ResolveOptions}'s
 * `layers`): set `i` is `base` with `overlays[i]` applied, a `null` value removing the key.
 */
export interface StateLayers {
  /** The state every set builds on. */
  readonly base: ReadonlyMap<string, string>;
  /** One per state set, in the order of the sets: state key → event ID, or `null` (absent). */
  readonly overlays: readonly ReadonlyMap<string, string | null>[];
}

/**
 * The state sets among `n` whose value at a key is a given event: a bitset (bit `i`: set `i`), or
 * one set's index when it is that set's alone.
 */
export type RootSets = Uint32Array | number;

/** A bitset with bits `0 … n − 1` set (the sets of {@link RootSets}: every set). */
export function fullMask(n: number): Uint32Array {
  const words = (n + 31) >>> 5;
  const m = new Uint32Array(words);
  for (let w = 0; w < words; w++) {
    const width = Math.min(32, n - w * 32);
    m[w] = width === 32 ? 0xffffffff : 2 ** width - 1;
  }
  return m;
}

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

/**
 * Files a key whose values in two sets differ (`a` in the first, `b` in the second; `undefined`:
 * absent) into `conflicted` or `extra`, and its values into `perSet` (see {@link splitKeys}).
 */
function twoSetSplit(
  conflicted: Map<string, string[]>,
  extra: Map<string, string>,
  missingIsConflict: boolean,
  perSet: [string[], string[]] | undefined,
): (key: string, a: string | undefined, b: string | undefined) => void {
  return (key, a, b) => {
    if (a === undefined || b === undefined) {
      if (missingIsConflict) {
        conflicted.set(key, [(a ?? b) as string]);
        if (perSet !== undefined) (a === undefined ? perSet[1] : perSet[0]).push((a ?? b) as string);
      } else if (a === undefined) extra.set(key, b as string);
    } else {
      conflicted.set(key, compareCodePoints(a, b) < 0 ? [a, b] : [b, a]);
      if (perSet !== undefined) {
        perSet[0].push(a);
        perSet[1].push(b);
      }
    }
  };
}

/**
 * `perSet` (two sets only; internal): receives, for each set, its values at the conflicted keys in
 * the order of `conflicted` — what state resolution v2 would otherwise look up again per key and
 * set. The keys of `keyList` must then be distinct.
 */
function splitKeys(stateSets: readonly ReadonlyMap<string, string>[], keyList: Iterable<string>, missingIsConflict: boolean, perSet?: [string[], string[]]): Split {
  const conflicted = new Map<string, string[]>();
  const extra = new Map<string, string>();
  const first = stateSets[0] as ReadonlyMap<string, string>;
  const keys: readonly string[] = Array.isArray(keyList) ? (keyList as readonly string[]) : [...keyList];
  if (stateSets.length === 2) {
    // Two sets (the common case): the same outcome with two lookups per key and no temporaries.
    const second = stateSets[1] as ReadonlyMap<string, string>;
    const into = twoSetSplit(conflicted, extra, missingIsConflict, perSet);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const a = first.get(key);
      const b = second.get(key);
      if (a !== b) into(key, a, b);
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
 * {@link splitKeys} over layered sets ({@link StateLayers}): only a key some overlay names can
 * differ between the sets, and its values are the overlays' plus the base's (for the sets whose
 * overlay does not name it) — O(Σ overlay sizes) instead of O(keys × sets). With `perSet` (one
 * list per set) it also gives each set's values at the conflicted keys (a set's missing values
 * left out; the overlay's first, then the base's).
 */
function splitLayers(layers: StateLayers, missingIsConflict: boolean, perSet: string[][] | undefined, rootSets: Map<string, RootSets> | undefined): Split {
  const { base, overlays } = layers;
  const n = overlays.length;
  const conflicted = new Map<string, string[]>();
  const extra = new Map<string, string>();
  // Per key an overlay names: how many overlays name it, whether one removes it, and the values
  // they give (repeats included).
  const named = new Map<string, { count: number; removed: boolean; values: string[]; sets: number[] }>();
  for (let s = 0; s < n; s++) {
    (overlays[s] as ReadonlyMap<string, string | null>).forEach((v, k) => {
      let r = named.get(k);
      if (r === undefined) named.set(k, (r = { count: 0, removed: false, values: [], sets: [] }));
      r.count++;
      r.sets.push(s);
      if (v === null) r.removed = true;
      else r.values.push(v);
    });
  }
  const first = overlays[0] as ReadonlyMap<string, string | null>;
  // The conflicted keys where some set takes the base's value, and that value.
  const fromBase: [string, string][] = [];
  named.forEach((r, key) => {
    const values = r.values;
    let missing = r.removed;
    let baseValue: string | undefined;
    if (r.count < n) {
      baseValue = base.get(key);
      if (baseValue === undefined) missing = true;
      else values.push(baseValue);
    }
    if (values.length === 0) return; // absent from every set
    let distinct = values;
    if (values.length > 1) {
      values.sort(compareCodePoints);
      distinct = [values[0] as string];
      for (let i = 1; i < values.length; i++) if (values[i] !== values[i - 1]) distinct.push(values[i] as string);
    }
    if (distinct.length > 1 || (missing && missingIsConflict)) {
      conflicted.set(key, distinct);
      if (baseValue !== undefined) fromBase.push([key, baseValue]);
    } else {
      const value = distinct[0] as string;
      const f = first.has(key) ? (first.get(key) ?? undefined) : base.get(key);
      if (f !== value) extra.set(key, value);
    }
  });
  if (rootSets !== undefined) {
    // Each conflicted event's sets as a bitset: the base's value at a key for every set whose
    // overlay does not name the key, an overlay's value for its set.
    const words = (n + 31) >>> 5;
    const full = fullMask(n);
    const entry = (id: string): Uint32Array => {
      const x = rootSets.get(id);
      if (typeof x === 'object') return x;
      const b = new Uint32Array(words);
      if (x !== undefined) b[x >>> 5] = (1 << (x & 31)) >>> 0;
      rootSets.set(id, b);
      return b;
    };
    for (let i = 0; i < fromBase.length; i++) {
      const [k, v] = fromBase[i] as [string, string];
      const b = entry(v);
      const naming = (named.get(k) as { sets: number[] }).sets;
      const not = new Uint32Array(words);
      for (let j = 0; j < naming.length; j++) {
        const x = naming[j] as number;
        not[x >>> 5] = (not[x >>> 5] as number) | (1 << (x & 31));
      }
      for (let w = 0; w < words; w++) b[w] = ((b[w] as number) | ((full[w] as number) & ~(not[w] as number))) >>> 0;
    }
    for (let s = 0; s < n; s++) {
      (overlays[s] as ReadonlyMap<string, string | null>).forEach((v, k) => {
        if (v === null || !conflicted.has(k)) return;
        const x = rootSets.get(v);
        if (x === undefined || x === s) {
          rootSets.set(v, s); // (most overlay values are one set's: no bitset)
          return;
        }
        const b = entry(v);
        b[s >>> 5] = ((b[s >>> 5] as number) | (1 << (s & 31))) >>> 0;
      });
    }
  }
  if (perSet !== undefined) {
    for (let s = 0; s < n; s++) {
      const o = overlays[s] as ReadonlyMap<string, string | null>;
      const out = perSet[s] as string[];
      o.forEach((v, k) => {
        if (v !== null && conflicted.has(k)) out.push(v);
      });
      for (let i = 0; i < fromBase.length; i++) {
        const [k, v] = fromBase[i] as [string, string];
        if (!o.has(k)) out.push(v);
      }
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
  options: { readonly conflictedKeys?: Iterable<string> | undefined; readonly missingIsConflict?: boolean; readonly layers?: StateLayers | undefined } = {},
): Split {
  return splitWithPerSet(stateSets, options, undefined);
}

/**
 * {@link splitStateSets}; with `layers` and `rootSets`, it fills `rootSets` with each conflicted
 * event (a set's value at a conflicted key) and the sets that have it ({@link RootSets}). With
 * `layers`, or with two sets and no `conflictedKeys`, it also fills `perSet` (when given: one list
 * per set) with each set's values at the conflicted keys (a set's missing values left out; with
 * two sets in the order of `conflicted`); otherwise it leaves `perSet` as it is (internal: state
 * resolution v2). `layers` (which must describe `stateSets`) takes precedence over
 * `conflictedKeys`.
 */
export function splitWithPerSet(
  stateSets: readonly ReadonlyMap<string, string>[],
  options: { readonly conflictedKeys?: Iterable<string> | undefined; readonly missingIsConflict?: boolean; readonly layers?: StateLayers | undefined },
  perSet: string[][] | undefined,
  rootSets?: Map<string, RootSets>,
): Split {
  if (stateSets.length === 0) return { conflicted: new Map(), extraUnconflicted: new Map() };
  const missingIsConflict = options.missingIsConflict ?? true;
  if (options.layers !== undefined) return splitLayers(options.layers, missingIsConflict, perSet, rootSets);
  if (options.conflictedKeys !== undefined) return splitKeys(stateSets, options.conflictedKeys, missingIsConflict);
  if (stateSets.length === 1) return { conflicted: new Map(), extraUnconflicted: new Map() };
  // Fast path for keys of the first set: compare values directly before falling back.
  const first = stateSets[0] as ReadonlyMap<string, string>;
  const conflicted = new Map<string, string[]>();
  const extra = new Map<string, string>();
  if (stateSets.length === 2) {
    // Sets forked from one base share its insertion order: compare both in step and hash only
    // from the first place where they stop lining up. The keys and values are taken as arrays
    // (a builtin copy each) and walked by index: in V8's interpreter, where a first resolution
    // runs, each iterator step would allocate a result and an entry pair and cost several calls.
    // Each differing key is filed as it is found (its values are at hand).
    const second = stateSets[1] as ReadonlyMap<string, string>;
    const into = twoSetSplit(conflicted, extra, missingIsConflict, perSet as [string[], string[]] | undefined);
    const ka = [...first.keys()];
    const va = [...first.values()];
    const kb = [...second.keys()];
    const vb = [...second.values()];
    const na = ka.length;
    const nb = kb.length;
    let i = 0;
    for (; i < na && i < nb; i++) {
      const k = ka[i] as string;
      if (k !== kb[i]) break;
      const a = va[i];
      const b = vb[i];
      if (a !== b) into(k, a, b);
    }
    // From the break on: `first`'s keys by lookup in `second`, and `second`'s keys not in `first`
    // (its entries before the break are keys of `first`).
    for (let j = i; j < na; j++) {
      const k = ka[j] as string;
      const a = va[j] as string;
      const b = second.get(k);
      if (a !== b) into(k, a, b);
    }
    for (let j = i; j < nb; j++) {
      const k = kb[j] as string;
      if (!first.has(k)) into(k, undefined, vb[j] as string);
    }
    return { conflicted, extraUnconflicted: extra };
  }
  const candidates: string[] = [];
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
