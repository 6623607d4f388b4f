import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { type RoomEvent, stateKeyOf, toRoomEvent } from '@roomgraph/events';
import type { JsonObject } from '@roomgraph/canonical-json';
import { type RoomVersionRules, getRoomVersion } from '@roomgraph/room-versions';
import { resolveStateSync, type ResolveSyncOptions } from '@roomgraph/state-res';

/** The repository's test fixtures (test/fixtures/, see its README for sources and licences). */
export const fixtures = new URL('../../../test/fixtures/', import.meta.url);

export function readJson<T>(rel: string): T {
  return JSON.parse(readFileSync(new URL(rel, fixtures), 'utf8')) as T;
}

export function readJsonl<T>(rel: string): T[] {
  return gunzipSync(readFileSync(new URL(rel, fixtures)))
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

export function eventsOf(jsons: readonly JsonObject[], rules: RoomVersionRules): Map<string, RoomEvent> {
  const out = new Map<string, RoomEvent>();
  for (const j of jsons) {
    const e = toRoomEvent(j, rules);
    out.set(e.eventId, e);
  }
  return out;
}

/** State map from a list of event IDs. */
export function stateOf(ids: readonly string[], events: ReadonlyMap<string, RoomEvent>): Map<string, string> {
  const m = new Map<string, string>();
  for (const id of ids) {
    const e = events.get(id);
    if (e === undefined || e.stateKey === undefined) throw new Error(`unknown state event ${id}`);
    m.set(stateKeyOf(e.type, e.stateKey), id);
  }
  return m;
}

/** {type: {state_key: id}} from a state map. */
export function nested(state: ReadonlyMap<string, string>, events: ReadonlyMap<string, RoomEvent>): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  const entries = [...state.values()].map((id) => events.get(id) as RoomEvent).sort((a, b) => (a.type + '\u0000' + (a.stateKey ?? '') < b.type + '\u0000' + (b.stateKey ?? '') ? -1 : 1));
  for (const e of entries) (out[e.type] ??= {})[e.stateKey as string] = e.eventId;
  return out;
}

/**
 * Resolves a whole DAG: state before each event = resolution of the states after its prev events;
 * returns the resolution of the states after the forward extremities.
 */
export function resolveDag(rules: RoomVersionRules, events: ReadonlyMap<string, RoomEvent>, options: ResolveSyncOptions = {}): Map<string, string> {
  const after = new Map<string, Map<string, string>>();
  const referenced = new Set<string>();
  for (const e of events.values()) for (const p of e.prevEvents) referenced.add(p);
  const visit = (id: string): Map<string, string> => {
    const done = after.get(id);
    if (done !== undefined) return done;
    const e = events.get(id) as RoomEvent;
    const prevs = e.prevEvents.filter((p) => events.has(p)).map(visit);
    const before = prevs.length === 0 ? new Map<string, string>() : resolveStateSync(rules, prevs, events, options);
    const s = new Map(before);
    if (e.stateKey !== undefined) s.set(stateKeyOf(e.type, e.stateKey), id);
    after.set(id, s);
    return s;
  };
  const tips = [...events.keys()].filter((id) => !referenced.has(id)).sort();
  return resolveStateSync(rules, tips.map(visit), events, options);
}

export function rulesFromCreate(jsons: readonly JsonObject[]): RoomVersionRules {
  const create = jsons.find((j) => j['type'] === 'm.room.create');
  const v = (create?.['content'] as JsonObject | undefined)?.['room_version'];
  return getRoomVersion(typeof v === 'string' ? v : '1');
}

export function shuffle<T>(xs: readonly T[], seed: number): T[] {
  const a = [...xs];
  let s = seed >>> 0 || 1;
  for (let i = a.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}
