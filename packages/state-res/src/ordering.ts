/**
 * The orderings of state resolution v2 (room versions › State resolution v2 › Definitions:
 * "reverse topological power ordering" and "mainline ordering"; checklist G13–G15, G17, G18).
 *
 * @module
 */
import type { RoomEvent } from '@roomgraph/events';
import { compareCodePoints } from '@roomgraph/canonical-json';
import { isPowerEvent } from './power.js';
import type { ResolutionRun, ResolutionStep } from './run.js';
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

/** The IDs of `set` and their events (`undefined`: not at hand), in the set's order. */
function listOf(run: ResolutionRun, set: ReadonlySet<string>): { readonly ids: readonly string[]; readonly events: readonly (RoomEvent | undefined)[] } {
  const ids = [...set];
  return { ids, events: ids.map((id) => run.events.get(id)) };
}

/**
 * Step 1 of v2 (G13, G17): the power events of the full conflicted set plus the events of their
 * auth chains in the full conflicted set, sorted by the reverse topological power ordering (Kahn's
 * algorithm, ties by higher sender PL, then smaller `origin_server_ts`, then smaller event ID).
 * Like Synapse, the auth chain is followed only through events of the full conflicted set.
 */
export function powerSort(
  run: ResolutionRun,
  fullConflicted: ReadonlySet<string>,
  listed?: { readonly ids: readonly string[]; readonly events: readonly (RoomEvent | undefined)[] },
): string[] {
  const graph = new Map<string, string[]>(); // event → its auth events within the set
  const stack: string[] = [];
  // The set's IDs and their events (`undefined`: not at hand), in the set's order: `listed` when
  // the caller has them at hand, else looked up here.
  const { ids, events } = listed ?? listOf(run, fullConflicted);
  for (let i = 0; i < ids.length; i++) {
    const e = events[i];
    if (e !== undefined && isPowerEvent(e)) stack.push(ids[i] as string);
  }
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (graph.has(id)) continue;
    const e = run.events.get(id) as RoomEvent;
    const edges: string[] = [];
    const auth = e.authEvents;
    for (let i = 0; i < auth.length; i++) {
      const a = auth[i] as string;
      if (fullConflicted.has(a) && run.events.has(a)) {
        if (!edges.includes(a)) edges.push(a);
        if (!graph.has(a)) stack.push(a);
      }
    }
    graph.set(id, edges);
  }
  return kahn(graph, (x, y) => {
    const ex = run.events.get(x) as RoomEvent;
    const ey = run.events.get(y) as RoomEvent;
    const px = run.senderPower(ex);
    const py = run.senderPower(ey);
    if (px !== py) return px > py ? -1 : 1;
    if (ex.originServerTs !== ey.originServerTs) return ex.originServerTs < ey.originServerTs ? -1 : 1;
    return compareCodePoints(x, y);
  });
}

function kahn(graph: ReadonlyMap<string, readonly string[]>, cmp: (x: string, y: string) => number): string[] {
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

function plAuthEvent(run: ResolutionRun, e: RoomEvent): RoomEvent | undefined {
  const auth = e.authEvents;
  for (let i = 0; i < auth.length; i++) {
    const x = run.events.get(auth[i] as string);
    if (x !== undefined && x.type === 'm.room.power_levels' && x.stateKey === '') return x;
  }
  return undefined;
}

/** An event with its mainline sort key. */
interface MainlineKeyed {
  readonly id: string;
  readonly e: RoomEvent;
  readonly d: number;
  readonly ts: number;
}

/**
 * Sorts `keyed` by (d, ts) with one number per event and the engine's native numeric sort, when
 * that order is total: every d and ts a non-negative safe integer, the packed keys below safe,
 * and no two events with the same pair (then the event-ID tie-break never applies). Returns false,
 * leaving `keyed` as it was, otherwise. Same order as the comparator sort, without a JavaScript
 * comparator call per comparison — which is what a first resolution pays in V8's interpreter.
 *
 * Each event's number is `(d · span + (ts − min ts)) · n + i` (i its index): the sorted numbers
 * give the events' places back without a map, and a tie on (d, ts) shows as two neighbours with
 * the same quotient by n. When that number could exceed 2⁵³, the pair alone is packed and the
 * events are found again by a map from it.
 */
function sortByPackedKey(keyed: MainlineKeyed[]): boolean {
  const n = keyed.length;
  if (n < 2) return true;
  let maxD = 0;
  let maxTs = 0;
  let minTs = Number.MAX_SAFE_INTEGER;
  for (let i = 0; i < n; i++) {
    const k = keyed[i] as MainlineKeyed;
    if (!Number.isSafeInteger(k.d) || k.d < 0 || !Number.isSafeInteger(k.ts) || k.ts < 0) return false;
    if (k.d > maxD) maxD = k.d;
    if (k.ts > maxTs) maxTs = k.ts;
    if (k.ts < minTs) minTs = k.ts;
  }
  const span = maxTs - minTs + 1;
  if ((maxD + 1) * span > Number.MAX_SAFE_INTEGER) return false;
  const packed = new Float64Array(n);
  if ((maxD + 1) * span * n <= Number.MAX_SAFE_INTEGER) {
    for (let i = 0; i < n; i++) {
      const k = keyed[i] as MainlineKeyed;
      packed[i] = (k.d * span + (k.ts - minTs)) * n + i;
    }
    packed.sort();
    let prev = -1;
    for (let i = 0; i < n; i++) {
      const pair = Math.floor((packed[i] as number) / n);
      if (pair === prev) return false; // a tie on (d, ts): the event IDs decide, in the comparator sort
      prev = pair;
    }
    const before = keyed.slice();
    for (let i = 0; i < n; i++) keyed[i] = before[(packed[i] as number) % n] as MainlineKeyed;
    return true;
  }
  const byKey = new Map<number, MainlineKeyed>();
  for (let i = 0; i < n; i++) {
    const k = keyed[i] as MainlineKeyed;
    const p = k.d * span + (k.ts - minTs);
    if (byKey.has(p)) return false; // a tie on (d, ts), as above
    byKey.set(p, k);
    packed[i] = p;
  }
  packed.sort();
  for (let i = 0; i < n; i++) keyed[i] = byKey.get(packed[i] as number) as MainlineKeyed;
  return true;
}

/**
 * Mainline ordering (G14, G15, G18): events sorted by (mainline depth ascending — i.e. greater
 * mainline position first, events with no mainline ancestor first — then `origin_server_ts`, then
 * event ID). Depth 1 is the oldest mainline PL; 0 means "no mainline ancestor" (position ∞).
 * As in Synapse the walk starts at the event itself; for non-PL events this equals the spec's walk
 * from e₁, and PL events are always power events so never reach this step.
 */
export function* mainlineSortGen(
  run: ResolutionRun,
  events: readonly string[],
  powerLevelsId: string | undefined,
  outEvents?: RoomEvent[],
): Generator<ResolutionStep, string[], void> {
  const depth = new Map<string, number>();
  if (powerLevelsId !== undefined) {
    yield* run.loadClosure([powerLevelsId]);
    const line: string[] = [];
    let p = run.events.get(powerLevelsId);
    const seen = new Set<string>();
    while (p !== undefined && !seen.has(p.eventId)) {
      seen.add(p.eventId);
      line.push(p.eventId);
      p = plAuthEvent(run, p);
    }
    for (let i = 0; i < line.length; i++) depth.set(line[line.length - 1 - i] as string, i + 1);
  }
  const memo = new Map<string, number>(depth);
  const depthOf = (start: RoomEvent): number => {
    // Most events are not PL events and cite a PL event whose depth is known: their depth is
    // that one's (what the walk below finds in its second step), without the walk's path array.
    // (A non-PL event is never in `memo`: its keys are IDs of PL events.)
    if (start.type !== 'm.room.power_levels') {
      const p = plAuthEvent(run, start);
      if (p === undefined) return 0;
      const m = memo.get(p.eventId);
      if (m !== undefined) return m;
    }
    const path: string[] = [];
    let e: RoomEvent | undefined = start;
    let d = 0;
    while (e !== undefined) {
      const m = memo.get(e.eventId);
      if (m !== undefined) { d = m; break; }
      if (path.includes(e.eventId)) break;
      path.push(e.eventId);
      e = plAuthEvent(run, e);
    }
    // Only PL events are ever reached again (through plAuthEvent); the start event is memoised
    // only when it is one, sparing a map entry per ordinary event.
    for (let i = start.type === 'm.room.power_levels' ? 0 : 1; i < path.length; i++) memo.set(path[i] as string, d);
    return d;
  };
  const keyed = events.map((id): MainlineKeyed => {
    const e = run.events.get(id) as RoomEvent;
    return { id, e, d: depthOf(e), ts: e.originServerTs };
  });
  if (run.due()) yield null;
  if (!sortByPackedKey(keyed)) {
    keyed.sort((x, y) => (x.d !== y.d ? x.d - y.d : x.ts !== y.ts ? (x.ts < y.ts ? -1 : 1) : compareCodePoints(x.id, y.id)));
  }
  // `outEvents` (internal): receives the event of each returned ID, in the same order.
  if (outEvents !== undefined) for (let i = 0; i < keyed.length; i++) outEvents.push((keyed[i] as MainlineKeyed).e);
  return keyed.map((k) => k.id);
}
