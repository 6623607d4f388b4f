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
 * the full ordered pass does. In the common case of many concurrent joins by distinct users
 * (each reads the shared create / power levels / join rules keys, which no remaining event
 * writes — they are power events, checked in step 2 — and its own membership key) every event is
 * independent and the mainline ordering is skipped. The test
 * `test/independent-checks.test.ts` compares this with the ordered pass on random rooms.
 *
 * @module
 */
import { type RoomEvent, authEventTypes, stateKeyOf } from '@roomgraph/events';
import { type ResolutionRun, sharedKeyOf } from './run.js';

/** A (type, state_key) pair of the auth events selection. */
export type AuthPair = readonly [type: string, stateKey: string];

/** The remaining events of step 3, split as the module comment describes. */
export interface RestSplit {
  /** IDs of the dependent events, in the input order (to be mainline-sorted). */
  readonly dependent: string[];
  /** IDs of the independent events, in the input order. */
  readonly independentIds: string[];
  /** The event of each ID of `independentIds`. */
  readonly independent: RoomEvent[];
  /** own(e) of each independent event (the key its check writes when it passes). */
  readonly ownKeys: string[];
  /** The auth events selection of each independent event ... */
  readonly pairs: AuthPair[][];
  /** ... and the key of each of its pairs. */
  readonly pairKeys: string[][];
}

/**
 * Splits the remaining events `ids` (step 3's input) into dependent and independent events (see
 * the module comment). Events the check skips (missing, not state events, rejected) are in
 * neither list: they change nothing wherever they are checked.
 */
export function splitIndependent(run: ResolutionRun, ids: readonly string[]): RestSplit {
  const { rules, isRejected } = run.input;
  const events = run.events;
  const n = ids.length;
  const evs: (RoomEvent | undefined)[] = [];
  const own: string[] = [];
  const dep: boolean[] = [];
  // own key → the index of its only writer so far, or -1 once it has several (all dependent).
  const writer = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const id = ids[i] as string;
    const e = events.get(id);
    dep.push(false);
    if (e === undefined || e.stateKey === undefined || isRejected(id)) {
      evs.push(undefined);
      own.push('');
      continue;
    }
    evs.push(e);
    const k = e.stateKey === '' ? sharedKeyOf(e.type) : stateKeyOf(e.type, e.stateKey);
    own.push(k);
    const w = writer.get(k);
    if (w === undefined) writer.set(k, i);
    else {
      dep[i] = true;
      if (w >= 0) {
        dep[w] = true;
        writer.set(k, -1);
      }
    }
  }
  const pairs: AuthPair[][] = [];
  const pairKeys: string[][] = [];
  for (let i = 0; i < n; i++) {
    const e = evs[i];
    if (e === undefined) {
      pairs.push([]);
      pairKeys.push([]);
      continue;
    }
    const ownKey = own[i] as string;
    const ps = authEventTypes(e, rules);
    const ks: string[] = [];
    for (let j = 0; j < ps.length; j++) {
      const p = ps[j] as AuthPair;
      const type = p[0];
      const sk = p[1];
      // The same strings the ordered check builds (iterative-auth-checks.ts), so that a key
      // given to it is the key it would have made.
      const k = sk === '' ? sharedKeyOf(type) : type === e.type && sk === e.stateKey ? ownKey : stateKeyOf(type, sk);
      ks.push(k);
      if (k === ownKey) continue; // e reads its own key: a second writer already made it dependent
      const w = writer.get(k);
      if (w !== undefined) {
        // e reads a key another event writes: both are dependent (w < 0: its writers already are).
        dep[i] = true;
        if (w >= 0) dep[w] = true;
      }
    }
    pairs.push(ps);
    pairKeys.push(ks);
  }
  const out: RestSplit = { dependent: [], independentIds: [], independent: [], ownKeys: [], pairs: [], pairKeys: [] };
  for (let i = 0; i < n; i++) {
    const e = evs[i];
    if (e === undefined) continue;
    if (dep[i] === true) out.dependent.push(ids[i] as string);
    else {
      out.independentIds.push(ids[i] as string);
      out.independent.push(e);
      out.ownKeys.push(own[i] as string);
      out.pairs.push(pairs[i] as AuthPair[]);
      out.pairKeys.push(pairKeys[i] as string[]);
    }
  }
  return out;
}
