/**
 * `roomgraph resolve`: state resolution of a set of room states.
 * @packageDocumentation
 */
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import { type RoomEvent, flatStateKeyOf, shareStateKey, splitStateKey, toRoomEvent } from '@roomgraph/events';
import { getRoomVersion, type RoomVersionRules } from '@roomgraph/room-versions';
import { resolveStateDeltaSync } from '@roomgraph/state-res';
import { CliError, defineJsonCommand } from '../framework.js';
import { requireObject } from './util.js';

function rulesOf(v: JsonValue | undefined): RoomVersionRules {
  if (typeof v !== 'string') throw new CliError('BAD_INPUT', 'room_version must be a string');
  // An unknown one is the library's ROOM_VERSION_UNKNOWN error.
  return getRoomVersion(v);
}

/** What a resolution runs on: the input's rules, its events by ID, its state sets. */
export interface ResolveInput {
  /** The room version's rules. */
  readonly rules: RoomVersionRules;
  /** Every input event by ID. */
  readonly events: Map<string, RoomEvent>;
  /** The state sets: state key (`stateKeyOf` of `@roomgraph/events`) → event ID. */
  readonly sets: Map<string, string>[];
}

/**
 * Builds the event views and state sets of a `roomgraph resolve` input document (the CLI's
 * `parse_ms`), with one key string per event shared by the sets. Freezes each event's
 * `prev_events` and `auth_events` arrays in `input` (the views share them).
 * @throws {@link CliError} `BAD_INPUT` / `UNKNOWN_EVENT` for a malformed document.
 */
export function resolveInputOf(input: JsonValue): ResolveInput {
  const obj = requireObject(input);
  const rules = rulesOf(obj['room_version']);
  const rawEvents = obj['events'];
  const rawSets = obj['state_sets'];
  if (!Array.isArray(rawEvents)) throw new CliError('BAD_INPUT', 'events must be an array');
  if (!Array.isArray(rawSets)) throw new CliError('BAD_INPUT', 'state_sets must be an array');
  // (Indexed loops here: this runs once per process, in V8's interpreter, where each `for…of`
  // step allocates an iterator result — garbage the young generation then has to make room for.)
  const events = new Map<string, RoomEvent>();
  for (let r = 0; r < rawEvents.length; r++) {
    const j = requireObject(rawEvents[r] as JsonValue);
    if (typeof j['event_id'] !== 'string') throw new CliError('BAD_INPUT', 'every event needs a string event_id');
    // The reference lists frozen in place: a view then shares a frozen list of ID strings instead
    // of copying it (two lists per event fewer to make, and to keep).
    const prev = j['prev_events'];
    const auth = j['auth_events'];
    if (Array.isArray(prev)) Object.freeze(prev);
    if (Array.isArray(auth)) Object.freeze(auth);
    const e = toRoomEvent(j, rules);
    events.set(e.eventId, e);
  }
  // One key string per event (flat: `flatStateKeyOf`), shared by every set that names it, and the
  // event's own ID string as the value: the sets then hold the same key and ID objects as each
  // other and as the views (hashes computed once; comparing two sets' entries, or an entry with an
  // event's ID, is a pointer comparison).
  const entryOf = new Map<string, { readonly key: string; readonly id: string; readonly event: RoomEvent; named: number }>();
  const sets = rawSets.map((set, i) => {
    if (!Array.isArray(set)) throw new CliError('BAD_INPUT', `state_sets[${i}] must be an array of event IDs`);
    const m = new Map<string, string>();
    for (let k = 0; k < set.length; k++) {
      const id: unknown = set[k];
      if (typeof id !== 'string') throw new CliError('BAD_INPUT', `state_sets[${i}] must hold event ID strings`);
      let entry = entryOf.get(id);
      if (entry === undefined) {
        const e = events.get(id);
        if (e === undefined) throw new CliError('UNKNOWN_EVENT', `state_sets[${i}] names ${id}, which is not in events`);
        if (e.stateKey === undefined) throw new CliError('BAD_INPUT', `state_sets[${i}] names ${id}, which is not a state event`);
        entry = { key: flatStateKeyOf(e.type, e.stateKey), id: e.eventId, event: e, named: 0 };
        entryOf.set(id, entry);
      }
      if (entry.named === i) entry.named = i + 1; // (a set naming an event twice counts once)
      m.set(entry.key, entry.id);
    }
    return m;
  });
  // The events some set does not name are the ones state resolution may check and look up by
  // their own key: that key is the sets' string (compared by reference, not character by
  // character). Only those: registering every event would cost the views more than it saves.
  if (sets.length > 1) {
    entryOf.forEach((entry) => {
      if (entry.named < sets.length) shareStateKey(entry.event, entry.key);
    });
  }
  return { rules, events, sets };
}

/**
 * `roomgraph resolve`: input `{"room_version","events":[PDU + event_id...],"state_sets":[["$id"...]...]}`
 * (events trusted as given) → `{"resolved":{"<type>":{"<state_key>":"$id"}}}`; `--timings` adds
 * `{"timings":{"parse_ms","resolve_ms"}}`.
 */
export const command = defineJsonCommand({
  lenientInput: true,
  name: 'resolve',
  usage: `
Input: {"room_version":"10","events":[<PDU with "event_id">, ...],"state_sets":[["$a","$b"],["$a","$c"]]}
 - events: every event the resolution may need (the state sets' events and their auth chains), each
   with its event_id (trusted as given);
 - state_sets: each a list of state event IDs (one per (type, state_key)).
Output: {"resolved":{"<type>":{"<state_key>":"$id"}}}; --timings adds {"timings":{"parse_ms","resolve_ms"}}.
Example:
  roomgraph resolve < case.json
`,
  summary: 'state resolution: {"room_version","events","state_sets"} -> {"resolved":{type:{state_key:event_id}}}',
  flags: { timings: { type: 'boolean', description: 'add {"timings":{"parse_ms","resolve_ms"}}' } },
  run: (input, flags) => {
    const t0 = performance.now();
    const { rules, events, sets } = resolveInputOf(input);
    const t1 = performance.now();
    // The resolution's answer relative to the first set (the same state resolveStateSync returns,
    // without copying the first set into a new map): the output below reads it in place.
    const delta = resolveStateDeltaSync(rules, sets, events);
    const t2 = performance.now();
    const out: Record<string, Record<string, string>> = {};
    const put = (id: string | undefined, key: string): void => {
      if (id === undefined) return;
      const [type, sk] = splitStateKey(key);
      (out[type] ??= {})[sk] = id;
    };
    const changes = delta.changes;
    if (sets.length > 0) {
      (sets[0] as Map<string, string>).forEach((id, key) => {
        if (!changes.has(key)) put(id, key);
      });
    }
    changes.forEach(put);
    const plain: JsonObject = { resolved: out };
    if (flags['timings'] !== true) return plain;
    const timed: JsonObject = { resolved: out, timings: { parse_ms: Math.round(t1 - t0), resolve_ms: Math.round(t2 - t1) } };
    return timed;
  },
});
