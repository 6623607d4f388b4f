/**
 * Row encodings: the text of ID columns ({@link toText} / {@link fromText}), a stored event record
 * and a snapshot layer as compact JSON text.
 *
 * @module
 */
import { StoreError, type SnapshotLayer } from '@roomgraph/store';
import type { EventId, EventStatus, PduJson, RoomInfo, SnapshotId, StoredEvent } from '@roomgraph/store';

// ---------------------------------------------------------------- ID columns

/*
 * PostgreSQL `text` cannot hold U+0000 (and, being UTF-8, no unpaired UTF-16 surrogate either),
 * yet an ID column may be handed either: JSON's "\u0000" is legal in Matrix canonical JSON, the
 * store API takes any string, and the other stores keep both. JSON columns (records, layer
 * bodies, extremities) need nothing: `JSON.stringify` writes both as `\uXXXX` escapes. Every
 * value of a raw text column (event, room and create-event IDs, room versions, server names, key
 * IDs) therefore goes through one injective escape, with U+0001 as the escape character:
 *
 *   U+0000           → U+0001 U+0001
 *   U+0001           → U+0001 U+0002
 *   lone surrogate X → U+0001 U+0003 and X's 4 lower-case hex digits
 *
 * Every other string — every ID the engine ever sees in practice — is stored as itself, so the
 * rows stay readable in psql, lookups compare plain text (the indexes work unchanged) and the
 * common case costs one regular-expression test. The escape keeps the code-point order of
 * strings without lone surrogates (U+0000 < U+0001 < every other character, also escaped), so
 * `ORDER BY … COLLATE "C"` orders as before.
 *
 * (Storing UTF-8 bytes in `bytea` columns was the alternative: it holds U+0000 but still no lone
 * surrogate, doubles every ID on the wire (hex in the text protocol) and converts every ID both
 * ways, where this converts almost none.)
 */

/** Whether a string may need escaping (U+0000, U+0001 or any surrogate). */
const MAY_ESCAPE = /[\u0000\u0001\ud800-\udfff]/;
/** What is escaped: U+0000, U+0001, an unpaired surrogate. */
const ESCAPED = /[\u0000\u0001]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function escapeChar(c: string): string {
  if (c === '\u0000') return '\u0001\u0001';
  if (c === '\u0001') return '\u0001\u0002';
  return `\u0001\u0003${c.charCodeAt(0).toString(16)}`;
}

/** A string as stored in a text column (see above; identity for strings without U+0000, U+0001 or a lone surrogate). */
export function toText(s: string): string {
  return MAY_ESCAPE.test(s) ? s.replace(ESCAPED, escapeChar) : s;
}

/** {@link toText}'s inverse; `STORE_CORRUPT` for text no {@link toText} wrote. */
export function fromText(t: string): string {
  let i = t.indexOf('\u0001');
  if (i < 0) return t;
  let out = '';
  let from = 0;
  while (i >= 0) {
    out += t.slice(from, i);
    const c = t[i + 1];
    if (c === '\u0001') {
      out += '\u0000';
      from = i + 2;
    } else if (c === '\u0002') {
      out += '\u0001';
      from = i + 2;
    } else if (c === '\u0003' && /^d[89a-f][0-9a-f]{2}$/.test(t.slice(i + 2, i + 6))) {
      out += String.fromCharCode(parseInt(t.slice(i + 2, i + 6), 16));
      from = i + 6;
    } else {
      throw new StoreError('STORE_CORRUPT', `undecodable escape in stored text ${JSON.stringify(t)}`);
    }
    i = t.indexOf('\u0001', from);
  }
  return out + t.slice(from);
}

/** {@link toText} of each string. */
export function toTexts(ss: readonly string[]): string[] {
  return ss.map(toText);
}

// ---------------------------------------------------------------- records

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

/** A `rooms` row as read (text columns as stored: see {@link toText}). */
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
      roomId: fromText(row.room_id),
      roomVersion: fromText(row.room_version),
      createEventId: fromText(row.create_event_id),
      currentState: row.current_state === null ? undefined : Number(row.current_state),
      forwardExtremities: Object.freeze(fx),
      lastStream: Number(row.last_stream),
    });
  } catch (e) {
    throw new StoreError('STORE_CORRUPT', `room ${row.room_id}: undecodable record`, { cause: e });
  }
}
