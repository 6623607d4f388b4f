/**
 * Row encodings: a stored event record and a snapshot layer as compact JSON text.
 *
 * @module
 */
import { StoreError, type SnapshotLayer } from '@roomgraph/store';
import type { EventId, EventStatus, PduJson, RoomInfo, SnapshotId, StoredEvent } from '@roomgraph/store';

/** The JSON shape of an event record (short keys: the record is written once per event). */
interface EncodedEvent {
  r: string;
  j: PduJson;
  t: string;
  k?: string;
  d: number;
  p: string[];
  a: string[];
  s: EventStatus;
  x?: { rule: string; reason?: string };
  n: number;
  b?: number;
}

/** Encodes a stored event record (everything but its ID, which is the row key). */
export function encodeEvent(e: StoredEvent): string {
  const o: EncodedEvent = { r: e.roomId, j: e.json, t: e.type, d: e.depth, p: [...e.prevEvents], a: [...e.authEvents], s: e.status, n: e.stream };
  if (e.stateKey !== undefined) o.k = e.stateKey;
  if (e.rejection !== undefined) o.x = { ...e.rejection };
  if (e.stateBefore !== undefined) o.b = e.stateBefore;
  return JSON.stringify(o);
}

/** Decodes {@link encodeEvent}'s text; `STORE_CORRUPT` if it is not one. */
export function decodeEvent(id: EventId, text: string): StoredEvent {
  try {
    const o = JSON.parse(text) as EncodedEvent;
    return Object.freeze({
      eventId: id,
      roomId: o.r,
      json: o.j,
      type: o.t,
      stateKey: o.k,
      depth: o.d,
      prevEvents: Object.freeze(o.p),
      authEvents: Object.freeze(o.a),
      status: o.s,
      ...(o.x !== undefined ? { rejection: Object.freeze(o.x) } : {}),
      stream: o.n,
      stateBefore: o.b,
    });
  } catch (e) {
    throw new StoreError('STORE_CORRUPT', `event ${id}: undecodable record`, { cause: e });
  }
}

/** The JSON shape of a layer body: `s` = k0, v0, k1, v1, …; `r` = removed keys. */
interface EncodedLayer {
  s: string[];
  r: string[];
}

/** Encodes a layer's entries (its ID, parent and depth are columns). */
export function encodeLayer(l: SnapshotLayer): string {
  const s: string[] = [];
  for (const [k, v] of l.set) s.push(k, v);
  const o: EncodedLayer = { s, r: [...l.removed] };
  return JSON.stringify(o);
}

/** Decodes a layer row. */
export function decodeLayer(id: SnapshotId, parent: SnapshotId | undefined, depth: number, body: string): SnapshotLayer {
  try {
    const o = JSON.parse(body) as EncodedLayer;
    const set = new Map<string, string>();
    for (let i = 0; i < o.s.length; i += 2) set.set(o.s[i]!, o.s[i + 1]!);
    return Object.freeze({ id, parent, depth, set, removed: new Set(o.r) });
  } catch (e) {
    throw new StoreError('STORE_CORRUPT', `snapshot layer ${id}: undecodable record`, { cause: e });
  }
}

/** A `rooms` row as read. */
export interface RoomRow {
  readonly room_id: string;
  readonly room_version: string;
  readonly create_event_id: string;
  readonly current_state: string | number | null;
  readonly forward_extremities: string;
  readonly last_stream: string | number;
}

/** A room record from its row. */
export function decodeRoom(row: RoomRow): RoomInfo {
  try {
    const fx = JSON.parse(row.forward_extremities) as string[];
    return Object.freeze({
      roomId: row.room_id,
      roomVersion: row.room_version,
      createEventId: row.create_event_id,
      currentState: row.current_state === null ? undefined : Number(row.current_state),
      forwardExtremities: Object.freeze(fx),
      lastStream: Number(row.last_stream),
    });
  } catch (e) {
    throw new StoreError('STORE_CORRUPT', `room ${row.room_id}: undecodable record`, { cause: e });
  }
}
