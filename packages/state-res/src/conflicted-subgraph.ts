/**
 * The conflicted state subgraph (room version 12 › State resolution v2.1 › Definitions; checklist
 * G19).
 *
 * @module
 */
import type { RoomEvent } from '@roomgraph/events';
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
