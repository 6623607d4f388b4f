/**
 * The auth difference (room versions › State resolution v2 › Definitions, "auth difference";
 * checklist G11).
 *
 * @module
 */
import { type RoomEvent, stateKeyOf } from '@roomgraph/events';
import type { ResolutionRun, ResolutionStep } from './run.js';
import { type RootSets, fullMask } from './split.js';

/**
 * Auth difference (G11) as Synapse computes it: closures Ĉᵢ include the state events themselves.
 * Ĉᵢ = closure(U) ∪ closure(Xᵢ) with U the unconflicted events and Xᵢ set i's conflicted events,
 * so the difference is {e ∈ ⋃closure(Xᵢ) − ⋂closure(Xᵢ)} minus closure(U). The first part touches
 * only the conflicted events' auth chains; the second uses the provider's auth children (a
 * descendant search that stops at the first unconflicted event) or, without one, a walk of
 * closure(U), which is O(room) unless every candidate is found early.
 *
 * `perSetEvents`, when given, holds the event of each root of `perSet` (`undefined`: not at hand),
 * sparing a look-up per root. IDs in `known` (the conflicted events, already in the full
 * conflicted set the caller builds) are left out of the result, so they need no closure(U)
 * check: the caller's union is unchanged, and the checks that remain are for the few
 * non-conflicted events of the conflicted auth chains.
 */
export function* authDifferenceGen(
  run: ResolutionRun,
  perSet: readonly string[][],
  isUnconflictedEvent: (id: string, key: string) => boolean,
  iterateUnconflicted: () => Iterable<string>,
  known: ReadonlySet<string> = new Set(),
  perSetEvents?: readonly (readonly (RoomEvent | undefined)[])[],
): Generator<ResolutionStep, Set<string>, void> {
  const n = perSet.length;
  const count = new Map<string, number>();
  for (let s = 0; s < n; s++) {
    const roots = perSet[s] as readonly string[];
    const rootEvents = perSetEvents?.[s];
    // An ID is marked visited when it is pushed, so each is pushed once (the auth events the
    // roots share, such as the create, PL and JR events, are not pushed again per root).
    const visited = new Set<string>();
    const stack: string[] = [];
    // Roots that are `known` are never candidates, so they need no count or visited mark: push
    // their auth events directly (one reached again from another root is simply walked again).
    for (let i = 0; i < roots.length; i++) {
      const id = roots[i] as string;
      if (known.has(id)) {
        const e = rootEvents !== undefined ? rootEvents[i] : run.events.get(id);
        if (e !== undefined) pushUnvisited(stack, e.authEvents, visited);
      } else if (!visited.has(id)) {
        visited.add(id);
        stack.push(id);
      }
    }
    while (stack.length > 0) {
      const id = stack.pop() as string;
      if (!known.has(id)) count.set(id, (count.get(id) ?? 0) + 1);
      const e = run.events.get(id);
      if (e !== undefined) pushUnvisited(stack, e.authEvents, visited);
    }
    if (run.due()) yield null;
  }
  const candidates = new Set<string>();
  count.forEach((c, id) => {
    if (c < n && !known.has(id) && run.events.has(id)) candidates.add(id);
  });
  return yield* outsideUnconflicted(run, candidates, isUnconflictedEvent, iterateUnconflicted);
}

/**
 * {@link authDifferenceGen} for many state sets given by their conflicted events' memberships
 * (`rootSets`: each conflicted event and the sets among `n` whose value at its key it is — what
 * the split over layers gives). Counting each set's closure separately costs sets ×
 * (conflicted events + shared history); here the closure of all conflicted events is walked once,
 * each event after every event citing it, and each event gets the union of the memberships of
 * the conflicted events whose auth chains hold it: it is in every set's closure iff that union
 * has every set. The same candidates as the per-set counts (an event a set's closure holds is in
 * the auth chain of one of that set's conflicted events), at O(closure edges × sets / 32). An
 * auth cycle (impossible among hashed event IDs, possible in hand-made input) breaks the
 * ordering: then the per-set count runs instead.
 */
export function* authDifferenceOfRootSets(
  run: ResolutionRun,
  rootSets: ReadonlyMap<string, RootSets>,
  n: number,
  isUnconflictedEvent: (id: string, key: string) => boolean,
  iterateUnconflicted: () => Iterable<string>,
  known: ReadonlySet<string>,
): Generator<ResolutionStep, Set<string>, void> {
  // Post-order of the closure (every event after its auth events), by an explicit stack.
  const order: string[] = [];
  const mark = new Map<string, boolean>(); // false: on the stack; true: done
  const stack: string[] = [];
  const at: number[] = [];
  let cyclic = false;
  for (const root of rootSets.keys()) {
    if (mark.has(root)) continue;
    mark.set(root, false);
    stack.push(root);
    at.push(0);
    while (stack.length > 0) {
      const top = stack.length - 1;
      const id = stack[top] as string;
      const auth = run.events.get(id)?.authEvents;
      const i = at[top] as number;
      if (auth !== undefined && i < auth.length) {
        at[top] = i + 1;
        const a = auth[i] as string;
        const m = mark.get(a);
        if (m === undefined) {
          mark.set(a, false);
          stack.push(a);
          at.push(0);
        } else if (!m) cyclic = true;
      } else {
        stack.pop();
        at.pop();
        mark.set(id, true);
        order.push(id);
      }
    }
    if (run.due()) yield null;
  }
  if (cyclic) {
    const perSet: string[][] = Array.from({ length: n }, () => []);
    rootSets.forEach((bits, id) => {
      if (typeof bits === 'number') (perSet[bits] as string[]).push(id);
      else for (let s = 0; s < n; s++) if ((((bits[s >>> 5] as number) >>> (s & 31)) & 1) === 1) (perSet[s] as string[]).push(id);
    });
    return yield* authDifferenceGen(run, perSet, isUnconflictedEvent, iterateUnconflicted, known);
  }
  // Memberships pushed from each event to its auth events, citing events first: the sets that
  // reached the event, and its own sets when it is a conflicted event.
  const words = (n + 31) >>> 5;
  const reached = new Map<string, Uint32Array>(); // an event → the sets whose closure holds it
  const into = (a: string): Uint32Array => {
    let b = reached.get(a);
    if (b === undefined) reached.set(a, (b = new Uint32Array(words)));
    return b;
  };
  for (let j = order.length - 1; j >= 0; j--) {
    const id = order[j] as string;
    const e = run.events.get(id);
    if (e === undefined || e.authEvents.length === 0) continue;
    const own = rootSets.get(id);
    const via = reached.get(id);
    const auth = e.authEvents;
    for (let i = 0; i < auth.length; i++) {
      const b = into(auth[i] as string);
      if (via !== undefined) for (let w = 0; w < words; w++) b[w] = ((b[w] as number) | (via[w] as number)) >>> 0;
      if (typeof own === 'number') b[own >>> 5] = ((b[own >>> 5] as number) | (1 << (own & 31))) >>> 0;
      else if (own !== undefined) for (let w = 0; w < words; w++) b[w] = ((b[w] as number) | (own[w] as number)) >>> 0;
    }
    if (run.due()) yield null;
  }
  const full = fullMask(n);
  const candidates = new Set<string>();
  reached.forEach((bits, id) => {
    if (known.has(id) || !run.events.has(id)) return;
    for (let w = 0; w < words; w++) {
      if (bits[w] !== full[w]) {
        candidates.add(id);
        return;
      }
    }
  });
  return yield* outsideUnconflicted(run, candidates, isUnconflictedEvent, iterateUnconflicted);
}

/**
 * The auth difference's candidates (events in some but not every closure of the conflicted
 * events) that are not in closure(U), U the unconflicted events (see {@link authDifferenceGen}).
 */
function* outsideUnconflicted(
  run: ResolutionRun,
  candidates: Set<string>,
  isUnconflictedEvent: (id: string, key: string) => boolean,
  iterateUnconflicted: () => Iterable<string>,
): Generator<ResolutionStep, Set<string>, void> {
  if (candidates.size === 0) return candidates;

  const provider = run.input.provider;
  let useProvider = provider !== undefined;
  if (provider !== undefined) for (const c of candidates) if (!provider.has(c)) { useProvider = false; break; }
  if (useProvider && provider !== undefined) {
    // Descendant search: c ∈ closure(U) iff some state-event descendant (inclusive) is in U.
    const noU = new Set<string>(); // fully explored without reaching U
    const isU = (id: string): boolean => {
      const key = provider.stateKeyOf(id) ?? keyOfLoaded(run, id);
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
      if (run.due()) yield null;
    }
    return candidates;
  }
  // Without a provider: walk closure(U) (loading it), stopping once every candidate is found.
  let remaining = candidates.size;
  const visited = new Set<string>();
  let frontier: string[] = [];
  const flush = function* (): Generator<ResolutionStep, void, void> {
    while (frontier.length > 0 && remaining > 0) {
      yield* run.load(frontier);
      const next: string[] = [];
      for (const id of frontier) {
        if (visited.has(id)) continue;
        visited.add(id);
        if (candidates.has(id)) {
          candidates.delete(id);
          remaining--;
        }
        const e = run.events.get(id);
        if (e !== undefined) for (const a of e.authEvents) if (!visited.has(a)) next.push(a);
      }
      frontier = next;
      if (run.due()) yield null;
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

/**
 * Pushes the IDs of `ids` not in `visited`, marking them visited (an indexed loop: cheap in V8's
 * interpreter too).
 */
function pushUnvisited(stack: string[], ids: readonly string[], visited: Set<string>): void {
  for (let i = 0; i < ids.length; i++) {
    const a = ids[i] as string;
    if (!visited.has(a)) {
      visited.add(a);
      stack.push(a);
    }
  }
}

function keyOfLoaded(run: ResolutionRun, id: string): string | undefined {
  const e = run.events.get(id);
  return e === undefined || e.stateKey === undefined ? undefined : stateKeyOf(e.type, e.stateKey);
}
