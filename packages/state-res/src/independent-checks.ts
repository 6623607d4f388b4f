/**
 * Steps 3 and 4 of state resolution v2 (room versions › State resolution v2 › Algorithm: "the
 * remaining events … sorted by mainline ordering … iterative auth checks"; checklist G16, G18):
 * which of the remaining events can be checked without the mainline ordering, because no other
 * remaining event can change what their check reads or is changed by what they write.
 *
 * **Why the order does not matter for those events.** Step 4 checks the events of R (the full
 * conflicted set minus step 1's events) one by one in the mainline order σ, against a partial
 * state S that changes only when an event e passes: then S[own(e)] := e, own(e) being e's
 * (type, state_key). The check of e reads S only at the keys of its auth events selection, A(e)
 * (`authEventTypes`: create, power levels, join rules, the sender's and target's membership,
 * a third party invite, the authorising user's membership); everything else it reads — e itself,
 * its `auth_events`, the rejections, the event map — is fixed during the pass. Events that are
 * missing, not state events or rejected are skipped by the check: they read and write nothing.
 *
 * Call e **independent** when no other event f of R has own(f) ∈ A(e) ∪ {own(e)} and no other
 * event f of R has own(e) ∈ A(f); otherwise **dependent**. Then:
 *
 * 1. When an independent e is checked, S agrees with the pass's starting state S₀ on A(e): every
 *    write before it is to own(f) for some f ≠ e, and own(f) ∉ A(e).
 * 2. A dependent e reads no key an independent event f writes (own(f) ∈ A(e) would make f
 *    dependent), so S on A(e) is S₀ changed by the writes of the dependent events before e —
 *    the same in σ and in σ restricted to the dependent events, which is the mainline order of
 *    those events alone (the mainline order sorts by a key of each event on its own: mainline
 *    depth, timestamp, event ID).
 * 3. The final S at a key written by an independent e is e's write (it is the key's only writer);
 *    at a key written by dependent events only, the last of their writes in σ, i.e. in σ
 *    restricted to them.
 *
 * So checking the independent events in any order against S₀, then the dependent ones in their
 * mainline order (or the other way round), leaves every check's outcome and the final state as
 * the full ordered pass does.
 *
 * **One pass first, in the given order.** Which events are independent is only known once every
 * event's own key and auth events selection are — and the check of each event computes exactly
 * those. So step 4 checks every remaining event once in the order it has (recording the keys),
 * splits by the record, and then:
 *
 * 4. The independent events' outcomes of that pass stand: by (1), whatever was checked before an
 *    independent e (dependent events included) wrote no key of A(e).
 * 5. The state after the pass differs from "S₀, then the independent events" only at the own keys
 *    of dependent events (no independent event writes one: that would make it dependent). Putting
 *    S₀'s value back at those keys gives that state; the dependent events are then checked in
 *    their mainline order against it, as (2) and (3) require.
 *
 * **What the record keeps of A(e).** Every selection holds the keys with an empty state key —
 * create and power levels, and join rules for joins, invites and knocks — and otherwise only
 * member and third party invite keys. The pass records, per event, its own key and the keys of
 * A(e) with a non-empty state key other than own(e) (usually none: a join's sender is its
 * target). The empty-state-key keys are written only by create, power levels and join rules
 * events, which are power events (sorted in step 1, checked in step 2) and never in R; should one be in R all the
 * same, every event counts as dependent (the fully ordered pass, always right).
 *
 * In the common case of many concurrent joins by distinct users (each reads the shared create /
 * power levels / join rules keys and its own membership key) every event is independent and the
 * mainline ordering is skipped. The test `test/independent-checks.test.ts` compares this with the
 * ordered pass on random rooms.
 *
 * @module
 */
import type { CheckRecord } from './iterative-auth-checks.js';

/**
 * The indices of the dependent events of a pass over the remaining events (step 3's input), by
 * what the pass recorded (see the module comment), in input order. The events the check skipped
 * (no record) are neither dependent nor independent: they change nothing wherever they are
 * checked. Every other index is independent.
 */
export function dependentIndices(record: CheckRecord): number[] {
  const { events, ownKeys, reads } = record;
  const n = events.length;
  // (Indexed loops and no copies: the first resolution of a process runs this in V8's
  // interpreter, where each call and push counts.)
  const dep = new Uint8Array(n);
  let anyDependent = false;
  let sharedWritten = false;
  // own key → the index of its only writer so far, or -1 once it has several (all dependent).
  const writer = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const e = events[i];
    if (e === undefined) continue;
    if (e.stateKey === '' && (e.type === 'm.room.create' || e.type === 'm.room.power_levels' || e.type === 'm.room.join_rules')) sharedWritten = true;
    const k = ownKeys[i] as string;
    const w = writer.get(k);
    if (w === undefined) writer.set(k, i);
    else {
      dep[i] = 1;
      anyDependent = true;
      if (w >= 0) {
        dep[w] = 1;
        writer.set(k, -1);
      }
    }
  }
  const dependent: number[] = [];
  if (sharedWritten) {
    // Every check reads the create and power levels keys: all dependent (module comment).
    for (let i = 0; i < n; i++) if (events[i] !== undefined) dependent.push(i);
    return dependent;
  }
  for (let i = 0; i < n; i++) {
    const ks = reads[i];
    if (ks === undefined || events[i] === undefined) continue;
    for (let j = 0; j < ks.length; j++) {
      // The check of e reads this key: when another event writes it, both are dependent (w < 0:
      // its writers already are).
      const w = writer.get(ks[j] as string);
      if (w !== undefined && w !== i) {
        dep[i] = 1;
        anyDependent = true;
        if (w >= 0) dep[w] = 1;
      }
    }
  }
  if (anyDependent) {
    for (let i = 0; i < n; i++) if (dep[i] === 1) dependent.push(i);
  }
  return dependent;
}
