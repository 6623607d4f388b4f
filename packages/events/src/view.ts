/**
 * The read-only event view that authorization, state resolution, stores and the engine share.
 *
 * Any object with these fields is a {@link RoomEvent}: a parsed PDU, a store's row type or a test
 * double. Views are frozen and safe to share.
 *
 * @module
 */
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { knownType } from './intern.js';

/** Read-only view of a PDU: what auth, state resolution and the engine read. */
export interface RoomEvent {
  /** The event ID (given in v1–v2 PDUs, computed from the reference hash from v3 on). */
  readonly eventId: string;
  /** The room ID; `undefined` only for a v12 `m.room.create` event. */
  readonly roomId: string | undefined;
  /** The event type. */
  readonly type: string;
  /** The state key; `undefined` for a non-state event. */
  readonly stateKey: string | undefined;
  /** The sender's user ID. */
  readonly sender: string;
  /** `origin_server_ts` (0 when absent or malformed in a trusted import). */
  readonly originServerTs: number;
  /** `depth` (0 when absent or malformed in a trusted import). */
  readonly depth: number;
  /** The event content (an empty object when absent or not an object). */
  readonly content: JsonObject;
  /** IDs of `prev_events` (for v1–v2, the first element of each pair). */
  readonly prevEvents: readonly string[];
  /** IDs of `auth_events` (for v1–v2, the first element of each pair). */
  readonly authEvents: readonly string[];
  /** The redacted event's ID for `m.room.redaction` (top level v1–v10, `content.redacts` v11+). */
  readonly redacts: string | undefined;
  /** The full PDU as JSON (possibly redacted), used for signatures and re-serving. */
  readonly json: JsonObject;
}

/** Whether the event is a state event (has a `state_key`). */
export function isStateEvent(event: RoomEvent): boolean {
  return event.stateKey !== undefined;
}

/**
 * The key of a state entry: one string for the pair (type, state_key). The type's length prefix
 * makes the encoding injective for any strings (no separator can collide).
 */
export function stateKeyOf(type: string, stateKey: string): string {
  return `${type.length}:${type}${stateKey}`;
}

/**
 * {@link stateKeyOf} built as one flat string. (V8 makes `a + b` of 13 or more characters a
 * rope of its parts, flattened only when something needs it flat — possibly long after, and then
 * far from where it was made. For keys stored in large maps and looked up many times, one flat
 * string from the start makes each look-up cheaper.) Equal to `stateKeyOf(type, stateKey)`.
 */
export function flatStateKeyOf(type: string, stateKey: string): string {
  return [type.length, ':', type, stateKey].join('');
}

/** The key strings given to event views with {@link shareStateKey} (dropped with the view). */
const eventKeys = new WeakMap<RoomEvent, string>();

/**
 * The key ({@link stateKeyOf}) of an event's own (type, state_key): the string registered for this
 * view with {@link shareStateKey} when there is one — a state map's own key object, which that
 * map's look-ups then compare by reference instead of character by character — else a new string
 * (not remembered: registering every event would cost more than most callers save). For an event
 * without a state key, the key of (type, '').
 */
export function stateKeyOfEvent(event: RoomEvent): string {
  return eventKeys.get(event) ?? stateKeyOf(event.type, event.stateKey ?? '');
}

/**
 * Registers `key` as the string {@link stateKeyOfEvent} returns for `event`, when the event has
 * none yet and `key` is its key (equal to `stateKeyOf(type, state_key)`): for a caller that built
 * a state map's keys itself and will have the event's key looked up in it (state resolution looks
 * up the keys of the events some state set does not name). Returns whether `key` is now the
 * event's key string.
 */
export function shareStateKey(event: RoomEvent, key: string): boolean {
  const had = eventKeys.get(event);
  if (had !== undefined) return had === key;
  if (key !== stateKeyOf(event.type, event.stateKey ?? '')) return false;
  eventKeys.set(event, key);
  return true;
}

/** Splits a key made by {@link stateKeyOf} back into (type, state_key). */
export function splitStateKey(key: string): readonly [type: string, stateKey: string] {
  const colon = key.indexOf(':');
  const len = Number(key.slice(0, colon));
  return [key.slice(colon + 1, colon + 1 + len), key.slice(colon + 1 + len)];
}

/** (type, state_key) → value lookup: the auth events, the state before an event, or current state. */
export interface StateLookup<E = RoomEvent> {
  /** The entry for (type, state_key), or `undefined`. */
  get(type: string, stateKey: string): E | undefined;
}

/** A state map keyed by {@link stateKeyOf}. */
export type StateMap<V = string> = ReadonlyMap<string, V>;

/** Builds a {@link StateLookup} over events (later events with the same key win). */
export function stateLookupOf<E extends RoomEvent>(events: Iterable<E>): StateLookup<E> & { readonly map: ReadonlyMap<string, E> } {
  const map = new Map<string, E>();
  for (const e of events) if (e.stateKey !== undefined) map.set(stateKeyOf(e.type, e.stateKey), e);
  return { map, get: (type, sk) => map.get(stateKeyOf(type, sk)) };
}

/** A {@link StateLookup} that also lists the events it answers with. */
export interface StateEntries<E = RoomEvent> extends StateLookup<E> {
  /**
   * The events the lookup answers with: per (type, state_key), the last event given with it, in
   * the order the keys were first given (the values of {@link stateLookupOf}'s `map`).
   */
  readonly entries: readonly E[];
}

/** Up to this many events, {@link stateEntriesOf} scans them instead of building a map of key strings. */
const SMALL_LOOKUP = 16;

/** {@link stateEntriesOf} for a few events: a list scanned per lookup, no key strings. */
class SmallStateLookup<E extends RoomEvent> implements StateEntries<E> {
  readonly entries: E[] = [];

  constructor(events: readonly E[]) {
    const entries = this.entries;
    next: for (let i = 0; i < events.length; i++) {
      const e = events[i] as E;
      if (e.stateKey === undefined) continue;
      for (let j = 0; j < entries.length; j++) {
        const d = entries[j] as E;
        if (d.type === e.type && d.stateKey === e.stateKey) {
          entries[j] = e;
          continue next;
        }
      }
      entries.push(e);
    }
  }

  get(type: string, stateKey: string): E | undefined {
    const entries = this.entries;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as E;
      if (e.type === type && e.stateKey === stateKey) return e;
    }
    return undefined;
  }
}

/**
 * The lookup {@link stateLookupOf} builds (same answers: later events with the same key win),
 * with its events as a list; a few events (an event's auth events or auth state) are scanned per
 * lookup rather than keyed by {@link stateKeyOf} strings.
 */
export function stateEntriesOf<E extends RoomEvent>(events: readonly E[]): StateEntries<E> {
  if (events.length <= SMALL_LOOKUP) return new SmallStateLookup(events);
  const { map, get } = stateLookupOf(events);
  return { entries: [...map.values()], get };
}

/** Up to this many IDs, {@link distinctIds} scans the list instead of building a Set. */
const SMALL_IDS = 16;

/**
 * `ids` without repeats, each ID where it first occurs — `ids` itself when nothing repeats (the
 * usual case: a PDU's `prev_events` / `auth_events`), so no copy is made then. Short lists are
 * scanned, longer ones go by a Set.
 */
export function distinctIds(ids: readonly string[]): readonly string[] {
  if (ids.length > SMALL_IDS) {
    const set = new Set(ids);
    return set.size === ids.length ? ids : [...set];
  }
  // Pairs compared in place (no builtin call per entry: `lastIndexOf` is not inlined).
  for (let i = 1; i < ids.length; i++) {
    const id = ids[i] as string;
    for (let j = 0; j < i; j++) if (ids[j] === id) return ids.filter((x, k) => ids.indexOf(x) === k);
  }
  return ids;
}

function refIds(value: JsonValue | undefined, pairs: boolean): readonly string[] {
  if (!Array.isArray(value)) return [];
  // A frozen list of ID strings (a parsed PDU's) is the list itself: no copy per view.
  if (!pairs && Object.isFrozen(value) && (value as readonly JsonValue[]).every((x) => typeof x === 'string')) return value as readonly string[];
  // (An indexed loop: views are often made in bulk by code V8 has not optimised yet, where each
  // `for…of` step allocates an iterator result.)
  const items = value as readonly JsonValue[];
  const out: string[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (typeof item === 'string') out.push(item);
    else if (pairs && Array.isArray(item) && typeof item[0] === 'string') out.push(item[0]);
  }
  return out;
}

const freezeIds = (ids: readonly string[]): readonly string[] => (Object.isFrozen(ids) ? ids : Object.freeze(ids));

/**
 * Makes a {@link RoomEvent} view over PDU JSON **without validating it** (trusted input: test data,
 * events from one's own store). Missing or mistyped fields become neutral values; use `parsePdu`
 * for untrusted input.
 *
 * @param json - the PDU object.
 * @param rules - the room version (decides reference format and where `redacts` lives).
 * @param eventId - the event ID; defaults to `json.event_id` when it is a string, else `""`.
 */
export function toRoomEvent(json: JsonObject, rules: RoomVersionRules, eventId?: string): RoomEvent {
  const pairs = rules.eventFormat.eventReferences === 'id-and-hash';
  const content = json['content'];
  const contentObj: JsonObject = content !== null && typeof content === 'object' && !Array.isArray(content) ? (content as JsonObject) : {};
  const redactsRaw = rules.eventFormat.redactsInContent ? contentObj['redacts'] : json['redacts'];
  const sk = json['state_key'];
  const roomId = json['room_id'];
  const ts = json['origin_server_ts'];
  const depth = json['depth'];
  const sender = json['sender'];
  const type = json['type'];
  const given = json['event_id'];
  // Known event types become the library's literals (`knownType`): the rules compare `type` with
  // them all the time, a pointer comparison then instead of the characters of a parsed slice.
  // A state key equal to the sender is the sender's string, for the same reason (the membership
  // rules compare the two, and the auth events selection and state keys are built from both).
  return Object.freeze({
    eventId: eventId ?? (typeof given === 'string' ? given : ''),
    roomId: typeof roomId === 'string' ? roomId : undefined,
    type: typeof type === 'string' ? knownType(type) : '',
    stateKey: typeof sk === 'string' ? (sk === sender ? sender : sk) : undefined,
    sender: typeof sender === 'string' ? sender : '',
    originServerTs: typeof ts === 'number' ? ts : 0,
    depth: typeof depth === 'number' ? depth : 0,
    content: contentObj,
    prevEvents: freezeIds(refIds(json['prev_events'], pairs)),
    authEvents: freezeIds(refIds(json['auth_events'], pairs)),
    redacts: typeof redactsRaw === 'string' ? redactsRaw : undefined,
    json,
  });
}

/** The server name part of a user, room or event ID: everything after the first `:` (checklist D8). */
export function domainOf(id: string): string | undefined {
  const i = id.indexOf(':');
  return i < 0 ? undefined : id.slice(i + 1);
}
