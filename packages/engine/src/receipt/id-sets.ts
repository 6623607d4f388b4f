/**
 * The comparisons of event ID lists that decide whether checks 5 and 6 on receipt of a PDU
 * (Server-Server API › Checks performed on receipt of a PDU) can be skipped: the event's auth
 * events against the ones the state before it selects, its prev events against the forward
 * extremities. The lists are short (a PDU cites at most 20 prev and 10 auth events): they are
 * scanned, without Sets or sorted copies; long ones (trusted input is not held to the limits)
 * go by Sets.
 *
 * @module
 */
import { distinctIds } from '@roomgraph/events';

/** Lists longer than this are compared by Sets. */
const SMALL = 16;

/** Whether `a` and `b` hold the same IDs, repeats ignored (`new Set(a)` equals `new Set(b)`). */
export function sameIdSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length > SMALL || b.length > SMALL) {
    const sa = new Set(a);
    const sb = new Set(b);
    if (sa.size !== sb.size) return false;
    for (const x of sa) if (!sb.has(x)) return false;
    return true;
  }
  for (let i = 0; i < a.length; i++) if (!b.includes(a[i] as string)) return false;
  for (let i = 0; i < b.length; i++) if (!a.includes(b[i] as string)) return false;
  return true;
}

/**
 * Whether `claimed` lists each of the distinct IDs of `calculated` exactly once and nothing else
 * (the sorted `claimed` equals the sorted distinct `calculated`).
 */
export function listsEachOnce(claimed: readonly string[], calculated: readonly string[]): boolean {
  // `distinctIds` answers the list itself exactly when nothing in it repeats.
  return distinctIds(claimed) === claimed && sameIdSet(claimed, calculated);
}
