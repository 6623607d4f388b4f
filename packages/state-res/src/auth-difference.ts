/**
 * The auth difference (room versions › State resolution v2 › Definitions, "auth difference";
 * checklist G11).
 *
 * @module
 */
import { type RoomEvent, stateKeyOf } from '@roomgraph/events';
import type { ResolutionRun, ResolutionStep } from './run.js';

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
