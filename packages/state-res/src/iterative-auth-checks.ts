/**
 * Iterative auth checks (room versions › State resolution v2 › Algorithm, "iterative auth checks";
 * checklist G16): events in order, each checked against its auth events overlaid with the
 * partially resolved state, entering the state when it passes.
 *
 * @module
 */
import { AuthPairBuffer, type RoomEvent, type StateLookup, authPairsInto, stateKeyOf, stateKeyOfEvent } from '@roomgraph/events';
import { type ResolutionRun, type ResolutionStep, defaultAuthChecker, sharedKeyOf } from './run.js';
/** Slots of {@link AuthSlots}: the three auth-relevant events with an empty state key, and the rest. */
const CREATE = 0;
const POWER_LEVELS = 1;
const JOIN_RULES = 2;
const OTHER = 3;

/** The slot of a (type, state key). */
function slotOf(type: string, stateKey: string | undefined): number {
  if (stateKey !== '') return OTHER;
  if (type === 'm.room.create') return CREATE;
  if (type === 'm.room.power_levels') return POWER_LEVELS;
  if (type === 'm.room.join_rules') return JOIN_RULES;
  return OTHER;
}

/**
 * The auth state of one checked event (rebuilt per event): at most one event per (type, state
 * key), the first one given staying. The authorization rules read the create, power
 * levels and join rules events on every check: those have their own fields, so a lookup compares
 * the (usually internalised) type once instead of scanning every entry; the rest (members, third
 * party invites) are a short list.
 */
class AuthSlots implements StateLookup<RoomEvent> {
  create: RoomEvent | undefined = undefined;
  powerLevels: RoomEvent | undefined = undefined;
  joinRules: RoomEvent | undefined = undefined;
  /** The rest: entries `0 … count − 1` (those beyond are left over from an earlier event). */
  readonly others: RoomEvent[] = [];
  count = 0;

  /** Adds `x` (whose slot is `slot`) unless an entry with its (type, state key) is there already. */
  fill(x: RoomEvent, slot: number): void {
    if (slot === CREATE) {
      if (this.create === undefined) this.create = x;
    } else if (slot === POWER_LEVELS) {
      if (this.powerLevels === undefined) this.powerLevels = x;
    } else if (slot === JOIN_RULES) {
      if (this.joinRules === undefined) this.joinRules = x;
    } else {
      const others = this.others;
      const n = this.count;
      for (let i = 0; i < n; i++) {
        const y = others[i] as RoomEvent;
        if (y.stateKey === x.stateKey && y.type === x.type) return;
      }
      others[n] = x;
      this.count = n + 1;
    }
  }

  /**
   * Empties the state (for the next event, when the checker keeps no reference to it). The
   * entries beyond the count stay referenced until overwritten: events of the resolution's own
   * map, no longer than the checker lives.
   */
  reset(): void {
    this.create = undefined;
    this.powerLevels = undefined;
    this.joinRules = undefined;
    this.count = 0;
  }

  get(type: string, stateKey: string): RoomEvent | undefined {
    if (stateKey === '') {
      if (type === 'm.room.create') return this.create;
      if (type === 'm.room.power_levels') return this.powerLevels;
      if (type === 'm.room.join_rules') return this.joinRules;
    }
    const others = this.others;
    const n = this.count;
    for (let i = 0; i < n; i++) {
      const x = others[i] as RoomEvent;
      if (x.stateKey === stateKey && x.type === type) return x;
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
  yield* authCheckPass(authCheckerOver(run, get, set), run, sorted, sortedEvents);
}

/**
 * Runs one pass of iterative auth checks with `checkOne` (from {@link authCheckerOver}) over
 * `sorted` (`sortedEvents`: as for {@link iterativeAuthChecksGen}); with `record`, keeps what
 * each check computed (see {@link CheckRecord}).
 */
export function* authCheckPass(
  checkOne: AuthCheckStep,
  run: ResolutionRun,
  sorted: readonly string[],
  sortedEvents?: readonly (RoomEvent | undefined)[],
  record?: CheckRecord,
): Generator<ResolutionStep, void, void> {
  for (let n = 0; n < sorted.length; n++) {
    if (run.due()) yield null;
    checkOne(sorted, sortedEvents, n, record);
  }
}

/**
 * What a pass kept of the event at each index of its input (arrays aligned with it): the event
 * checked, its own key (the key its check writes when it passes) and the keys with a non-empty
 * state key its check reads other than its own (`undefined`: none; the check also reads the
 * create, power levels and join rules keys — see `independent-checks.ts`). Entries stay
 * `undefined` for the events the check skips (missing, not state events, rejected).
 * `independent-checks.ts` splits a pass by these.
 */
export interface CheckRecord {
  readonly events: (RoomEvent | undefined)[];
  readonly ownKeys: (string | undefined)[];
  readonly reads: (readonly string[] | undefined)[];
}

/** An empty {@link CheckRecord} for a pass over `n` events. */
export function checkRecordOf(n: number): CheckRecord {
  return { events: new Array<RoomEvent | undefined>(n), ownKeys: new Array<string | undefined>(n), reads: new Array<readonly string[] | undefined>(n) };
}

/**
 * Checks event `n` of `sorted` (see {@link authCheckerOver}), keeping what it computed in
 * `record` when given. `forget` drops the step's cached state events after the caller changed
 * the state behind its back (the step itself keeps them valid through its own writes).
 */
export interface AuthCheckStep {
  (sorted: readonly string[], sortedEvents: readonly (RoomEvent | undefined)[] | undefined, n: number, record: CheckRecord | undefined): void;
  readonly forget: () => void;
}

/**
 * The per-event step of the iterative auth checks over the partial state `get` / `set`: one
 * function for every pass over that state (state resolution v2 makes two, steps 2 and 4), so
 * that V8's type feedback and optimised code for it are shared by both passes rather than
 * gathered anew for a second closure; its caches (auth events by ID, the create / PL / JR state
 * events) stay valid across passes because the state changes only through its own `set`.
 */
export function authCheckerOver(
  run: ResolutionRun,
  get: (key: string) => string | undefined,
  set: (key: string, id: string) => void,
): AuthCheckStep {
  const { rules, isRejected, check } = run.input;
  const events = run.events;
  const roomIdCreate = rules.authorization.roomIdFromCreateEvent;
  // Usable auth events by ID (null: missing, rejected or not a state event). Events cite the same
  // few auth events (create, power levels, join rules), so this small map stays hot.
  const authById = new Map<string, RoomEvent | null>();
  // The usable state event per auth-relevant key with an empty state key (null: none), valid
  // until `set` writes the key — `get` changes only through `set` while this step function is in
  // use (over every pass it runs): the create,
  // PL and JR events (asked for by almost every event) in variables, any other in the map.
  // Per-user keys are looked up each time (most are consulted once).
  let createSt: RoomEvent | null | undefined;
  let powerLevelsSt: RoomEvent | null | undefined;
  let joinRulesSt: RoomEvent | null | undefined;
  const stateEvent = new Map<string, RoomEvent | null>();
  // The default checker keeps no reference to the auth state: one object serves every event.
  const reuse = check === defaultAuthChecker ? new AuthSlots() : undefined;
  const pairs = new AuthPairBuffer(); // each event's auth events selection in turn
  // (key = stateKeyOf(type, stateKey): an event has that key iff its type and state key match.)
  const stateEventOf = (key: string, type: string, stateKey: string): RoomEvent | null => {
    const sid = get(key);
    const e = sid === undefined ? undefined : events.get(sid);
    return e !== undefined && !isRejected(sid as string) && e.type === type && e.stateKey === stateKey ? e : null;
  };
  // One event's check: a plain function called per event rather than the generator's own loop
  // body (a generator's long loop is slow to get optimised code; this function gets it as any
  // function called thousands of times does).
  const step = (sorted: readonly string[], sortedEvents: readonly (RoomEvent | undefined)[] | undefined, n: number, record: CheckRecord | undefined): void => {
    const id = sorted[n] as string;
    const event = sortedEvents !== undefined ? sortedEvents[n] : events.get(id);
    if (event === undefined || event.stateKey === undefined) return;
    // Rejected events never enter state (G2; Synapse preserves the earlier rejection).
    if (isRejected(id)) return;
    // A handful of entries: a small array beats hashing concatenated keys.
    let auth: AuthSlots;
    if (reuse !== undefined) {
      auth = reuse;
      auth.reset();
    } else {
      auth = new AuthSlots();
    }
    // The auth state: the partially resolved state at the auth-relevant keys, and the event's own
    // non-rejected auth events where the state has no entry (Synapse's behaviour: the state wins
    // over the event's own auth events wherever it has one; G16 AMBIGUOUS). The state is filled
    // in first and the auth events then only fill what it left empty, so an auth event the state
    // replaces costs no write.
    // The event's own key (a member event's sender or target) is `stateKeyOfEvent`'s: the
    // caller's state map key object when the caller registered it (`shareStateKey`; then each
    // look-up of it compares by reference), else built here. The shared keys (create, PL, JR) are
    // the same few strings for every event. Other keys are built here, once per use: most are
    // looked up once.
    const ownKey = event.stateKey === '' ? sharedKeyOf(event.type) : stateKeyOfEvent(event);
    authPairsInto(event, rules, pairs);
    const types = pairs.types;
    const stateKeys = pairs.stateKeys;
    let reads: string[] | undefined; // (recorded) keys read with a state key, other than ownKey
    for (let i = 0; i < pairs.length; i++) {
      const type = types[i] as string;
      const sk = stateKeys[i] as string;
      let st: RoomEvent | null | undefined;
      if (sk !== '') {
        let key = ownKey;
        if (type !== event.type || sk !== event.stateKey) {
          key = stateKeyOf(type, sk);
          if (record !== undefined) (reads ??= []).push(key);
        }
        st = stateEventOf(key, type, sk);
        // (The selection's keys are distinct: nothing to replace.)
        if (st !== null) auth.others[auth.count++] = st;
      } else if (type === 'm.room.create') {
        st = createSt;
        if (st === undefined) createSt = st = stateEventOf(sharedKeyOf(type), type, sk);
        if (st !== null) auth.create = st;
      } else if (type === 'm.room.power_levels') {
        st = powerLevelsSt;
        if (st === undefined) powerLevelsSt = st = stateEventOf(sharedKeyOf(type), type, sk);
        if (st !== null) auth.powerLevels = st;
      } else if (type === 'm.room.join_rules') {
        st = joinRulesSt;
        if (st === undefined) joinRulesSt = st = stateEventOf(sharedKeyOf(type), type, sk);
        if (st !== null) auth.joinRules = st;
      } else {
        const key = sharedKeyOf(type);
        st = stateEvent.get(key);
        if (st === undefined) stateEvent.set(key, (st = stateEventOf(key, type, sk)));
        if (st !== null) auth.fill(st, OTHER);
      }
    }
    // v12: the create event is implied by the room ID (checklist G22), unless the state has one.
    if (roomIdCreate && auth.create === undefined && event.roomId !== undefined && event.roomId.startsWith('!')) {
      const cid = '$' + event.roomId.slice(1);
      const c = events.get(cid);
      if (c !== undefined && !isRejected(cid) && c.type === 'm.room.create' && c.stateKey === '') auth.create = c;
    }
    // The auth events, last first (of two with one key the later counts); missing ones are
    // skipped as Synapse does.
    const authEvents = event.authEvents;
    for (let j = authEvents.length - 1; j >= 0; j--) {
      const aid = authEvents[j] as string;
      let a = authById.get(aid);
      if (a === undefined) {
        const x = events.get(aid);
        a = x !== undefined && x.stateKey !== undefined && !isRejected(aid) ? x : null;
        authById.set(aid, a);
      }
      if (a !== null) auth.fill(a, slotOf(a.type, a.stateKey));
    }
    if (record !== undefined) {
      record.events[n] = event;
      record.ownKeys[n] = ownKey;
      record.reads[n] = reads;
    }
    let allowed = false;
    try {
      allowed = check(event, auth, rules);
    } catch {
      allowed = false; // hostile content must never abort resolution
    }
    if (allowed) {
      set(ownKey, id);
      if (event.stateKey === '') {
        const type = event.type;
        if (type === 'm.room.create') createSt = undefined;
        else if (type === 'm.room.power_levels') powerLevelsSt = undefined;
        else if (type === 'm.room.join_rules') joinRulesSt = undefined;
        else stateEvent.delete(ownKey);
      }
    }
  };
  const forget = (): void => {
    createSt = undefined;
    powerLevelsSt = undefined;
    joinRulesSt = undefined;
    stateEvent.clear();
  };
  return Object.assign(step, { forget });
}
