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

/**
 * The remaining events of step 3, split as the module comment describes: arrays aligned with the
 * input IDs (the shape `authCheckPass` takes, so that the independent events are checked by a
 * pass over the input as it is).
 */
export interface RestSplit {
  /** The event of each independent input ID; `undefined` for the others. */
  readonly independent: (RoomEvent | undefined)[];
  /** own(e) of each independent event (the key its check writes when it passes). */
  readonly ownKeys: string[];
  /** The auth events selection of each independent event. */
  readonly pairs: AuthPair[][];
  /** IDs of the dependent events, in the input order (to be mainline-sorted). */
  readonly dependent: string[];
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
  // (Arrays of length n written by index, and no copies into other lists: the first resolution
  // of a process runs this in V8's interpreter, where each call and push counts.)
  const evs: (RoomEvent | undefined)[] = new Array<RoomEvent | undefined>(n);
  const own: string[] = new Array<string>(n);
  const pairs: AuthPair[][] = new Array<AuthPair[]>(n);
  const dep = new Uint8Array(n);
  let anyDependent = false;
  // own key → the index of its only writer so far, or -1 once it has several (all dependent).
  const writer = new Map<string, number>();
  // The same for the keys with an empty state key, by type (usually empty: create, power levels
  // and join rules events are power events, checked in step 2).
  const sharedWriter = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const id = ids[i] as string;
    const e = events.get(id);
    if (e === undefined || e.stateKey === undefined || isRejected(id)) continue; // evs[i] stays undefined
    evs[i] = e;
    let k: string;
    if (e.stateKey === '') {
      k = sharedKeyOf(e.type);
      const w = sharedWriter.get(e.type);
      if (w === undefined) sharedWriter.set(e.type, i);
      else if (w >= 0) sharedWriter.set(e.type, -1);
    } else k = stateKeyOf(e.type, e.stateKey);
    own[i] = k;
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
  for (let i = 0; i < n; i++) {
    const e = evs[i];
    if (e === undefined) continue;
    const ps = authEventTypes(e, rules);
    pairs[i] = ps;
    for (let j = 0; j < ps.length; j++) {
      const p = ps[j] as AuthPair;
      const type = p[0];
      const sk = p[1];
      // The check of e (iterative-auth-checks.ts) reads the key of each pair. Its own key needs
      // no look-up (w === i): a second writer already made it dependent.
      let w: number | undefined;
      if (sk === '') {
        if (sharedWriter.size === 0) continue; // no remaining event writes a key with an empty state key
        w = sharedWriter.get(type);
      } else {
        if (type === e.type && sk === e.stateKey) continue;
        w = writer.get(stateKeyOf(type, sk));
      }
      if (w !== undefined && w !== i) {
        // e reads a key another event writes: both are dependent (w < 0: its writers already are).
        dep[i] = 1;
        anyDependent = true;
        if (w >= 0) dep[w] = 1;
      }
    }
  }
  const dependent: string[] = [];
  if (anyDependent) {
    for (let i = 0; i < n; i++) {
      if (dep[i] === 1) {
        dependent.push(ids[i] as string);
        evs[i] = undefined; // not checked by the pass over the independent events
      }
    }
  }
  return { independent: evs, ownKeys: own, pairs, dependent };
}
