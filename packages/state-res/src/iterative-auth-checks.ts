/**
 * Iterative auth checks (room versions › State resolution v2 › Algorithm, "iterative auth checks";
 * checklist G16): events in order, each checked against its auth events overlaid with the
 * partially resolved state, entering the state when it passes.
 *
 * @module
 */
import { type RoomEvent, type StateLookup, authEventTypes, stateKeyOf } from '@roomgraph/events';
import { type ResolutionRun, type ResolutionStep, sharedKeyOf } from './run.js';
/** Replaces the entry of `auth` with `x`'s (type, state key), or appends `x`. */
function putAuth(auth: RoomEvent[], x: RoomEvent): void {
  for (let i = 0; i < auth.length; i++) {
    const y = auth[i] as RoomEvent;
    if (y.type === x.type && y.stateKey === x.stateKey) {
      auth[i] = x;
      return;
    }
  }
  auth.push(x);
}

/** A {@link StateLookup} over a small array of auth events (rebuilt per checked event). */
class AuthArrayLookup implements StateLookup<RoomEvent> {
  constructor(readonly auth: readonly RoomEvent[]) {}
  get(type: string, stateKey: string): RoomEvent | undefined {
    const auth = this.auth;
    for (let i = 0; i < auth.length; i++) {
      const x = auth[i] as RoomEvent;
      if (x.type === type && x.stateKey === stateKey) return x;
    }
    return undefined;
  }
}

/**
 * Iterative auth checks (checklist G16) over the in-memory event map. `sortedEvents`, when given,
 * holds the event of each ID of `sorted` (or `undefined`), sparing a lookup per event.
 */
export function* iterativeAuthChecksGen(
  run: ResolutionRun,
  sorted: readonly string[],
  get: (key: string) => string | undefined,
  set: (key: string, id: string) => void,
  sortedEvents?: readonly (RoomEvent | undefined)[],
): Generator<ResolutionStep, void, void> {
  const { rules, isRejected, check } = run.input;
  const events = run.events;
  const roomIdCreate = rules.authorization.roomIdFromCreateEvent;
  // Usable auth events by ID (null: missing, rejected or not a state event). Events cite the same
  // few auth events (create, power levels, join rules), so this small map stays hot.
  const authById = new Map<string, RoomEvent | null>();
  // The usable state event per shared auth-relevant key (create, PL, JR; null: none), valid until
  // `set` writes the key — `get` changes only through `set` during this run. Per-user keys are
  // looked up each time (most are consulted once).
  const stateEvent = new Map<string, RoomEvent | null>();
  // (key = stateKeyOf(type, stateKey): an event has that key iff its type and state key match.)
  const stateEventOf = (key: string, type: string, stateKey: string): RoomEvent | null => {
    const sid = get(key);
    const e = sid === undefined ? undefined : events.get(sid);
    return e !== undefined && !isRejected(sid as string) && e.type === type && e.stateKey === stateKey ? e : null;
  };
  for (let n = 0; n < sorted.length; n++) {
    if (run.due()) yield null;
    const id = sorted[n] as string;
    const event = sortedEvents !== undefined ? sortedEvents[n] : events.get(id);
    if (event === undefined || event.stateKey === undefined) continue;
    // Rejected events never enter state (G2; Synapse preserves the earlier rejection).
    if (isRejected(id)) continue;
    // A handful of entries: a small array beats hashing concatenated keys.
    const auth: RoomEvent[] = [];
    // The event's own non-rejected auth events; missing ones are skipped as Synapse does.
    const authEvents = event.authEvents;
    for (let j = 0; j < authEvents.length; j++) {
      const aid = authEvents[j] as string;
      let a = authById.get(aid);
      if (a === undefined) {
        const x = events.get(aid);
        a = x !== undefined && x.stateKey !== undefined && !isRejected(aid) ? x : null;
        authById.set(aid, a);
      }
      if (a !== null) putAuth(auth, a);
    }
    // v12: the create event is implied by the room ID (checklist G22).
    if (roomIdCreate && event.roomId !== undefined && event.roomId.startsWith('!')) {
      const cid = '$' + event.roomId.slice(1);
      const c = events.get(cid);
      if (c !== undefined && !isRejected(cid) && c.type === 'm.room.create' && c.stateKey === '') putAuth(auth, c);
    }
    // Overlay the partially resolved state for the auth-relevant keys (Synapse's behaviour: the
    // state wins over the event's own auth events wherever it has an entry; G16 AMBIGUOUS).
    // Keys are built here, once per event and not memoised: each event is checked once per
    // resolution. The event's own key (a member event's sender or target) is one string for both
    // uses; the shared keys (create, PL, JR) are the same few strings for every event.
    const ownKey = event.stateKey === '' ? sharedKeyOf(event.type) : stateKeyOf(event.type, event.stateKey);
    const types = authEventTypes(event, rules);
    for (let i = 0; i < types.length; i++) {
      const [type, sk] = types[i] as readonly [string, string];
      let st: RoomEvent | null | undefined;
      if (sk === '') {
        const key = sharedKeyOf(type);
        st = stateEvent.get(key);
        if (st === undefined) stateEvent.set(key, (st = stateEventOf(key, type, sk)));
      } else {
        st = stateEventOf(type === event.type && sk === event.stateKey ? ownKey : stateKeyOf(type, sk), type, sk);
      }
      if (st !== null) putAuth(auth, st);
    }
    let allowed = false;
    try {
      allowed = check(event, new AuthArrayLookup(auth), rules);
    } catch {
      allowed = false; // hostile content must never abort resolution
    }
    if (allowed) {
      set(ownKey, id);
      stateEvent.delete(ownKey);
    }
  }
}
