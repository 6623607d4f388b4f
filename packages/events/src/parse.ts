/**
 * Parsing and validating PDUs from untrusted input (checklist H1 step 1, H3–H5, H10; §d).
 *
 * One pass over the input checks that it is plain JSON (for v6+ also the strict canonical JSON
 * value rules) and makes a deep-frozen copy; then the fields are checked against the room version's
 * schema (pdu:pdu_v1 … pdu_v12), identifier grammars and size limits. Every problem is collected.
 *
 * @module
 */
import { encodeCanonicalJson, isJsonObject } from '@roomgraph/canonical-json';
import {
  CanonicalJsonError,
  MAX_SAFE_CANONICAL_INTEGER,
  parseCanonicalJson,
  type JsonObject,
  type JsonValue,
} from '@roomgraph/canonical-json';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { PduFormatError, type PduProblem, type PduProblemCode } from './errors.js';
import { setOwn } from './freeze.js';
import { hasLoneSurrogate, isValidEventId, isValidRoomId, isValidUserId } from './grammar.js';
import { canonicalSize } from './hashes.js';
import { intern } from './intern.js';
import { eventId as computeEventId } from './ids.js';
import {
  MAX_AUTH_EVENTS,
  MAX_DEPTH_V1,
  MAX_DEPTH_V6,
  MAX_FIELD_BYTES,
  MAX_NESTING,
  MAX_PDU_BYTES,
  MAX_PREV_EVENTS,
  utf8ByteLength,
} from './limits.js';
import type { EventHashes, EventSignatures, Pdu } from './types.js';

/** Options of {@link parsePdu} and {@link validatePdu}. */
export interface ParsePduOptions {
  /**
   * Skip the `prev_events` ≤ 20 / `auth_events` ≤ 10 limits: events in `/backfill` responses MUST
   * NOT be validated against them (api:backfill; checklist H5). Default `false`.
   */
  readonly skipReferenceLimits?: boolean;
  /**
   * Use this event ID instead of computing it (for events from a trusted store that already know
   * their ID). Ignored for v1–v2, whose ID is the `event_id` field.
   */
  readonly eventId?: string;
  /**
   * A trusted PDU, whose content hash and signatures will not be checked: the canonical JSON
   * texts parsing makes of it for those checks (see `contentHash`, `redactedSigningBytes`) are
   * not kept for them. The result is the same; a check made later anyway encodes the event again.
   * Default `false`.
   */
  readonly trusted?: boolean;
}

/** Result of {@link validatePdu}. */
export type PduValidation =
  | { readonly ok: true; readonly pdu: Pdu }
  | { readonly ok: false; readonly problems: readonly PduProblem[] };

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return IDENT.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

class Problems {
  readonly list: PduProblem[] = [];
  add(path: string, code: PduProblemCode, message: string): void {
    this.list.push({ path, code, message });
  }
}

const objectProto = Object.prototype;

/**
 * Copies and freezes plain JSON data, reporting values JSON cannot hold and (strict) numbers the
 * canonical JSON value rules forbid. Returns `undefined` for a value that cannot be copied.
 */
function copyJson(value: unknown, path: string, strict: boolean, depth: number, p: Problems, onPath: Set<object>): JsonValue | undefined {
  switch (typeof value) {
    case 'string':
      if (hasLoneSurrogate(value)) p.add(path, 'LONE_SURROGATE', 'string contains an unpaired UTF-16 surrogate');
      return value;
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) {
        p.add(path, 'INVALID_JSON_VALUE', `${value} is not a JSON number`);
        return undefined;
      }
      if (strict) {
        if (!Number.isInteger(value)) p.add(path, 'FLOAT_NOT_ALLOWED', `non-integral number ${value} (room version requires strict canonical JSON)`);
        else if (value > MAX_SAFE_CANONICAL_INTEGER || value < -MAX_SAFE_CANONICAL_INTEGER) p.add(path, 'INTEGER_OUT_OF_RANGE', `integer ${value} outside [-(2^53)+1, 2^53-1]`);
      }
      return Object.is(value, -0) ? 0 : value;
    case 'object': {
      if (value === null) return null;
      if (depth >= MAX_NESTING) {
        p.add(path, 'NESTING_TOO_DEEP', `nested more than ${MAX_NESTING} levels`);
        return undefined;
      }
      if (onPath.has(value)) {
        p.add(path, 'INVALID_JSON_VALUE', 'the value contains itself');
        return undefined;
      }
      onPath.add(value);
      try {
        if (Array.isArray(value)) {
          const out: JsonValue[] = new Array<JsonValue>(value.length);
          for (let i = 0; i < value.length; i++) {
            if (!(i in value)) {
              p.add(child(path, i), 'INVALID_JSON_VALUE', 'array hole');
              out[i] = null;
              continue;
            }
            const v = copyJson(value[i], child(path, i), strict, depth + 1, p, onPath);
            out[i] = v === undefined ? null : v;
          }
          return Object.freeze(out);
        }
        const proto: unknown = Object.getPrototypeOf(value);
        if (proto !== objectProto && proto !== null) {
          p.add(path, 'INVALID_JSON_VALUE', 'not a plain object');
          return undefined;
        }
        const out: Record<string, JsonValue> = {};
        for (const k of Object.keys(value)) {
          const cp = child(path, k);
          if (hasLoneSurrogate(k)) p.add(cp, 'LONE_SURROGATE', 'key contains an unpaired UTF-16 surrogate');
          const v = copyJson((value as Record<string, unknown>)[k], cp, strict, depth + 1, p, onPath);
          if (v !== undefined) setOwn(out, k, v);
        }
        return Object.freeze(out);
      } finally {
        onPath.delete(value);
      }
    }
    default:
      p.add(path, 'INVALID_JSON_VALUE', `${typeof value} is not a JSON value`);
      return undefined;
  }
}

/** Returned by {@link fastCopy} when the value has any problem (the careful copy then reports it). */
const FAIL: unique symbol = Symbol('fail');

/** `String.prototype.isWellFormed` (ES2024; Node ≥ 20): no unpaired surrogate. */
const isWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;
const wellFormed: (s: string) => boolean = isWellFormed !== undefined ? (s) => isWellFormed.call(s) : (s) => !hasLoneSurrogate(s);

/**
 * The common case of {@link copyJson}: valid JSON copied and frozen without building paths or
 * tracking cycles (a cycle exceeds the nesting limit and fails). Any problem returns `FAIL`, and the
 * caller redoes the copy with {@link copyJson} to report every problem with its path.
 */
function fastCopy(value: unknown, strict: boolean, depth: number): JsonValue | typeof FAIL {
  switch (typeof value) {
    case 'string':
      return wellFormed(value) ? value : FAIL;
    case 'boolean':
      return value;
    case 'number':
      if (strict ? !Number.isSafeInteger(value) : !Number.isFinite(value)) return FAIL;
      return value === 0 ? 0 : value; // -0 → 0
    case 'object': {
      if (value === null) return null;
      if (depth >= MAX_NESTING) return FAIL;
      if (Array.isArray(value)) {
        const n = value.length;
        const out: JsonValue[] = new Array<JsonValue>(n);
        for (let i = 0; i < n; i++) {
          if (!(i in value)) return FAIL;
          const v = fastCopy(value[i], strict, depth + 1);
          if (v === FAIL) return FAIL;
          out[i] = v;
        }
        return Object.freeze(out);
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== objectProto && proto !== null) return FAIL;
      const out: Record<string, JsonValue> = {};
      for (const k of Object.keys(value)) {
        if (!wellFormed(k)) return FAIL;
        const v = fastCopy((value as Record<string, unknown>)[k], strict, depth + 1);
        if (v === FAIL) return FAIL;
        setOwn(out, k, v);
      }
      return Object.freeze(out);
    }
    default:
      return FAIL;
  }
}

/**
 * The top-level object of a parsed PDU: a plain object (its prototype is `Object.prototype`) made
 * by a constructor, which V8 gives room for its first fields in the object itself — 10 once its
 * slack tracking has run, where an object literal `{}` holds 4 and keeps every further field in
 * a separate property array (grown as fields are added): one more object per parsed PDU, for as
 * long as the PDU is kept (a memory store keeps every event's JSON).
 */
const PduObject = function PduObject(): void {} as unknown as new () => Record<string, JsonValue>;
(PduObject as unknown as { prototype: object }).prototype = objectProto;

/** Top-level string fields that repeat across a room's PDUs: shared through {@link intern}. */
const INTERNED_FIELDS: ReadonlySet<string> = new Set(['room_id', 'sender', 'type', 'state_key', 'event_id', 'redacts']);

/**
 * {@link fastCopy} of `prev_events` / `auth_events`, the event IDs shared through {@link intern}
 * (each ID recurs in many PDUs); the `[event_id, hashes]` pairs of v1–v2 share their ID too.
 */
function copyRefs(value: unknown, strict: boolean): JsonValue | typeof FAIL {
  if (!Array.isArray(value)) return fastCopy(value, strict, 1);
  const n = value.length;
  const out: JsonValue[] = new Array<JsonValue>(n);
  for (let i = 0; i < n; i++) {
    if (!(i in value)) return FAIL;
    const item: unknown = value[i];
    if (typeof item === 'string') {
      if (!wellFormed(item)) return FAIL;
      out[i] = intern(item);
    } else if (Array.isArray(item) && item.length === 2 && typeof item[0] === 'string') {
      if (!wellFormed(item[0])) return FAIL;
      const h = fastCopy(item[1], strict, 3);
      if (h === FAIL) return FAIL;
      out[i] = Object.freeze([intern(item[0]), h]);
    } else {
      const v = fastCopy(item, strict, 2);
      if (v === FAIL) return FAIL;
      out[i] = v;
    }
  }
  return Object.freeze(out);
}

function typeName(v: JsonValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number';
  return `a ${typeof v}`;
}

/** Checks the PDU fields of an already copied object; returns nothing, records problems. */
/**
 * The path of entry `i` of a reference list, for a problem found there. (A function of its own,
 * not a closure made per entry: a closure over the loop index is allocated with a context of
 * its own for every entry of every PDU parsed.)
 */
function refPath(k: string, i: number): string {
  return child(child('$', k), i);
}

/** A field of the PDU that is present (own property), or `undefined`. */
function fieldOf(json: JsonObject, k: string): JsonValue | undefined {
  return Object.hasOwn(json, k) ? json[k] : undefined;
}

/**
 * Field `k` if present and of `kind`; else `undefined`, with a problem when it is required or
 * of another kind. (Module functions rather than closures made per PDU: `checkFields` allocates
 * nothing for a well-formed PDU but what its checks need.)
 */
function need(json: JsonObject, p: Problems, k: string, kind: 'string' | 'object' | 'integer' | 'array', required: boolean): JsonValue | undefined {
  const v = fieldOf(json, k);
  if (v === undefined) {
    if (required) p.add(child('$', k), 'MISSING_FIELD', `required field "${k}" is missing`);
    return undefined;
  }
  const ok =
    kind === 'string' ? typeof v === 'string'
    : kind === 'object' ? isJsonObject(v)
    : kind === 'array' ? Array.isArray(v)
    : typeof v === 'number' && Number.isInteger(v);
  if (!ok) {
    p.add(child('$', k), 'WRONG_TYPE', `"${k}" must be ${kind === 'integer' ? 'an integer' : kind === 'object' ? 'an object' : kind === 'array' ? 'an array' : 'a string'}, not ${typeName(v)}`);
    return undefined;
  }
  return v;
}

/** Whether string field `k` is within {@link MAX_FIELD_BYTES} (else a problem). */
function limit(p: Problems, k: string, v: string): boolean {
  // A UTF-16 code unit is at most 3 UTF-8 bytes: short strings cannot exceed the limit.
  if (v.length * 3 > MAX_FIELD_BYTES && utf8ByteLength(v) > MAX_FIELD_BYTES) {
    p.add(child('$', k), 'FIELD_TOO_LONG', `"${k}" is longer than ${MAX_FIELD_BYTES} bytes`);
    return false;
  }
  return true;
}

/** The entries of `prev_events` / `auth_events`: count, form and event IDs. */
function checkRefs(json: JsonObject, rules: RoomVersionRules, options: ParsePduOptions | undefined, p: Problems, k: 'prev_events' | 'auth_events', max: number, code: PduProblemCode): void {
  const ef = rules.eventFormat;
  const list = need(json, p, k, 'array', true);
  if (!Array.isArray(list)) return;
  const arr = list as readonly JsonValue[];
  if (!options?.skipReferenceLimits && arr.length > max) p.add(child('$', k), code, `"${k}" has ${arr.length} entries, more than ${max}`);
  for (let i = 0; i < arr.length; i++) {
    const item = arr[i] as JsonValue;
    let id: JsonValue | undefined = item;
    if (ef.eventReferences === 'id-and-hash') {
      const pair = Array.isArray(item) ? (item as readonly JsonValue[]) : undefined;
      const h = pair?.[1];
      if (pair === undefined || pair.length !== 2 || typeof pair[0] !== 'string' || !isJsonObject(h) || typeof h['sha256'] !== 'string') {
        p.add(refPath(k, i), 'INVALID_EVENT_REFERENCE', 'an event reference must be [event_id, {"sha256": hash}]');
        continue;
      }
      id = pair[0];
    } else if (typeof item !== 'string') {
      p.add(refPath(k, i), 'WRONG_TYPE', `an event reference must be an event ID string, not ${typeName(item)}`);
      continue;
    }
    if (!isValidEventId(id as string, rules)) p.add(ef.eventReferences === 'id-and-hash' ? `${refPath(k, i)}[0]` : refPath(k, i), 'INVALID_EVENT_ID', `${JSON.stringify(id)} is not an event ID of room version ${rules.id}`);
  }
}

function checkFields(json: JsonObject, rules: RoomVersionRules, options: ParsePduOptions | undefined, p: Problems): void {
  const ef = rules.eventFormat;

  // pdu:components-pdu_base
  const type = need(json, p, 'type', 'string', true);
  if (typeof type === 'string') limit(p, 'type', type);
  const sender = need(json, p, 'sender', 'string', true);
  if (typeof sender === 'string' && limit(p, 'sender', sender) && !isValidUserId(sender)) {
    p.add('$.sender', 'INVALID_USER_ID', `"sender" ${JSON.stringify(sender)} is not a user ID`);
  }
  const ts = need(json, p, 'origin_server_ts', 'integer', true);
  if (typeof ts === 'number' && Math.abs(ts) > MAX_DEPTH_V1) {
    p.add('$.origin_server_ts', 'TIMESTAMP_OUT_OF_RANGE', '"origin_server_ts" is outside the 64-bit integer range');
  }
  const sk = need(json, p, 'state_key', 'string', false);
  if (typeof sk === 'string') limit(p, 'state_key', sk);
  need(json, p, 'content', 'object', true);
  const depth = need(json, p, 'depth', 'integer', true);
  if (typeof depth === 'number') {
    const max = ef.limitDepth ? MAX_DEPTH_V6 : MAX_DEPTH_V1;
    if (depth < 0 || depth > max) p.add('$.depth', 'DEPTH_OUT_OF_RANGE', `"depth" ${depth} is outside [0, ${ef.limitDepth ? '2^53-1' : '2^63-1'}]`);
  }
  const hashes = need(json, p, 'hashes', 'object', true);
  if (isJsonObject(hashes)) {
    const h = hashes['sha256'];
    if (h === undefined) p.add('$.hashes.sha256', 'MISSING_FIELD', 'required field "hashes.sha256" is missing');
    else if (typeof h !== 'string') p.add('$.hashes.sha256', 'WRONG_TYPE', `"hashes.sha256" must be a string, not ${typeName(h)}`);
  }
  const sigs = need(json, p, 'signatures', 'object', true);
  if (isJsonObject(sigs)) {
    for (const server of Object.keys(sigs)) {
      const perServer = sigs[server] as JsonValue;
      if (!isJsonObject(perServer)) {
        p.add(child('$.signatures', server), 'WRONG_TYPE', `signatures of a server must be an object, not ${typeName(perServer)}`);
        continue;
      }
      for (const keyId of Object.keys(perServer)) {
        const s = perServer[keyId] as JsonValue;
        if (typeof s !== 'string') p.add(child(child('$.signatures', server), keyId), 'WRONG_TYPE', `a signature must be a string, not ${typeName(s)}`);
      }
    }
  }
  need(json, p, 'unsigned', 'object', false);

  // room_id: pdu:components-room_id_before_v12 / components-room_id_v12 (omitted on create; a
  // create that has one is rejected by auth rule 1.2, not here).
  const isCreate = type === 'm.room.create';
  const roomId = need(json, p, 'room_id', 'string', ef.createEventHasRoomId || !isCreate);
  if (typeof roomId === 'string' && limit(p, 'room_id', roomId) && !isValidRoomId(roomId, rules)) {
    p.add('$.room_id', 'INVALID_ROOM_ID', `"room_id" ${JSON.stringify(roomId)} is not a room ID of room version ${rules.id}`);
  }

  // event_id: required in v1–v2 (pdu:pdu_v1); for v3+ it is not part of the PDU and was dropped.
  if (ef.eventIdFormat === 'server-assigned') {
    const id = need(json, p, 'event_id', 'string', true);
    if (typeof id === 'string' && limit(p, 'event_id', id) && !isValidEventId(id, rules)) {
      p.add('$.event_id', 'INVALID_EVENT_ID', `"event_id" ${JSON.stringify(id)} is not an event ID of room version ${rules.id}`);
    }
  }

  // prev_events / auth_events (pdu:pdu_v1, components-auth_events_prev_events_v4)
  checkRefs(json, rules, options, p, 'prev_events', MAX_PREV_EVENTS, 'TOO_MANY_PREV_EVENTS');
  checkRefs(json, rules, options, p, 'auth_events', MAX_AUTH_EVENTS, 'TOO_MANY_AUTH_EVENTS');

  // Top-level `redacts` (v1–v10; pdu:pdu_v1/v3/v4/v6). From v11 it lives in content and a top-level
  // key is just an unknown key (ignored, like Synapse).
  if (!ef.redactsInContent) {
    const r = need(json, p, 'redacts', 'string', false);
    if (typeof r === 'string' && !isValidEventId(r, rules)) p.add('$.redacts', 'INVALID_EVENT_ID', `"redacts" ${JSON.stringify(r)} is not an event ID of room version ${rules.id}`);
  }
}

function refIds(v: JsonValue | undefined, pairs: boolean): readonly string[] {
  // v3+: the validated, frozen array of ID strings is the list itself (no copy per event).
  if (!pairs && Array.isArray(v) && Object.isFrozen(v)) return v as readonly string[];
  const out: string[] = [];
  for (const item of (v ?? []) as readonly JsonValue[]) out.push(pairs ? ((item as readonly JsonValue[])[0] as string) : (item as string));
  return Object.freeze(out);
}

/** Builds the frozen {@link Pdu} view over already validated, frozen JSON (internal). */
export function makePdu(json: JsonObject, rules: RoomVersionRules, id: string): Pdu {
  const pairs = rules.eventFormat.eventReferences === 'id-and-hash';
  const content = json['content'] as JsonObject;
  const redacts = rules.eventFormat.redactsInContent ? content['redacts'] : json['redacts'];
  const sk = json['state_key'];
  const roomId = json['room_id'];
  const unsigned = json['unsigned'];
  return Object.freeze({
    eventId: id,
    roomId: typeof roomId === 'string' ? roomId : undefined,
    type: json['type'] as string,
    stateKey: typeof sk === 'string' ? sk : undefined,
    sender: json['sender'] as string,
    originServerTs: json['origin_server_ts'] as number,
    depth: json['depth'] as number,
    content,
    prevEvents: refIds(json['prev_events'], pairs),
    authEvents: refIds(json['auth_events'], pairs),
    redacts: typeof redacts === 'string' ? redacts : undefined,
    json,
    roomVersion: rules.id,
    rules,
    hashes: json['hashes'] as EventHashes,
    signatures: json['signatures'] as EventSignatures,
    unsigned: isJsonObject(unsigned) ? unsigned : undefined,
  });
}

const UNENCODABLE: ReadonlySet<PduProblemCode> = new Set<PduProblemCode>(['LONE_SURROGATE', 'INVALID_JSON_VALUE', 'NESTING_TOO_DEEP']);

/** The PDU size the slow way: encode the whole (possibly invalid) copy leniently. */
function measureSize(json: JsonObject, p: Problems): void {
  let size = 0;
  try {
    // The byte length of the canonical text, without materialising the bytes.
    size = utf8ByteLength(encodeCanonicalJson(json, { strict: false }));
  } catch (e) {
    p.add('$', 'INVALID_JSON_VALUE', (e as Error).message);
  }
  if (size > MAX_PDU_BYTES) p.add('$', 'EVENT_TOO_LARGE', `the PDU is ${size} bytes of canonical JSON, more than ${MAX_PDU_BYTES}`);
}

function validateInto(input: unknown, rules: RoomVersionRules, options: ParsePduOptions | undefined, p: Problems): Pdu | undefined {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    p.add('$', 'NOT_AN_OBJECT', 'a PDU must be a JSON object');
    return undefined;
  }
  const dropEventId = rules.eventFormat.eventIdFormat !== 'server-assigned';
  const strict = rules.canonicalJson.strict;
  const proto: unknown = Object.getPrototypeOf(input);
  if (proto !== objectProto && proto !== null) {
    p.add('$', 'NOT_AN_OBJECT', 'a PDU must be a plain JSON object');
    return undefined;
  }
  let json: Record<string, JsonValue> = new PduObject();
  let clean = true;
  for (const k of Object.keys(input)) {
    // v3+: `event_id` is not part of the PDU (a convenience copy may be present): ignore it (C6).
    if (dropEventId && k === 'event_id') continue;
    const raw = (input as Record<string, unknown>)[k];
    const v = !wellFormed(k) ? FAIL : INTERNED_FIELDS.has(k) && typeof raw === 'string' ? (wellFormed(raw) ? intern(raw) : FAIL)
      : (k === 'prev_events' || k === 'auth_events') ? copyRefs(raw, strict)
      : fastCopy(raw, strict, 1);
    if (v === FAIL) {
      clean = false;
      break;
    }
    setOwn(json, k, v);
  }
  if (!clean) {
    // Something is wrong: copy again carefully, reporting every problem with its path.
    json = {};
    const onPath = new Set<object>([input]);
    for (const k of Object.keys(input)) {
      if (dropEventId && k === 'event_id') continue;
      const cp = child('$', k);
      if (hasLoneSurrogate(k)) p.add(cp, 'LONE_SURROGATE', 'key contains an unpaired UTF-16 surrogate');
      const v = copyJson((input as Record<string, unknown>)[k], cp, strict, 1, p, onPath);
      if (v !== undefined) setOwn(json, k, v);
    }
  }
  Object.freeze(json);
  checkFields(json, rules, options, p);

  // CS › Size limits: the whole event in federation format, including signatures, as canonical JSON
  // (H4). For v3+ that form has no `event_id` (already dropped). Measured whenever the copy is
  // encodable at all (lenient encoding: identical bytes for valid events, and it still measures an
  // event whose only problems are strict-number ones).
  if (p.list.length === 0) {
    // A valid event: its size from the member encodings that its content hash and reference hash
    // reuse (each member of the PDU is encoded once per receipt).
    const size = canonicalSize(json, rules, rules.eventFormat.eventIdFormat !== 'server-assigned' && options?.eventId === undefined, options?.trusted !== true, MAX_PDU_BYTES);
    if (size === undefined) measureSize(json, p);
    else if (size > MAX_PDU_BYTES) p.add('$', 'EVENT_TOO_LARGE', `the PDU is ${size} bytes of canonical JSON, more than ${MAX_PDU_BYTES}`);
  } else if (!p.list.some((x) => UNENCODABLE.has(x.code))) {
    measureSize(json, p);
  }
  if (p.list.length > 0) return undefined;
  let id: string;
  try {
    id = intern(rules.eventFormat.eventIdFormat === 'server-assigned' ? (json['event_id'] as string) : (options?.eventId ?? computeEventId(json, rules)));
  } catch (e) {
    p.add('$', 'INVALID_JSON_VALUE', (e as Error).message);
    return undefined;
  }
  return makePdu(json, rules, id);
}

/**
 * Validates untrusted PDU JSON against a room version and returns the outcome without throwing:
 * the frozen {@link Pdu}, or every problem found.
 */
export function validatePdu(input: unknown, rules: RoomVersionRules, options?: ParsePduOptions): PduValidation {
  const p = new Problems();
  const pdu = validateInto(input, rules, options, p);
  return pdu !== undefined ? { ok: true, pdu } : { ok: false, problems: Object.freeze(p.list.map((x) => Object.freeze(x))) };
}

/**
 * Validates untrusted PDU JSON (already parsed) for a room version and returns a deep-frozen
 * {@link Pdu}; the input is never modified (the PDU holds a frozen copy).
 *
 * Checks (checklist H3–H5, H10, §d): plain JSON values only (no lone surrogates; v6+ strict
 * canonical JSON: no floats, integers within ±(2^53-1)); required fields and their types per
 * pdu:pdu_v1 … pdu_v12; `sender` a user ID (historical grammar accepted, APP › Historical User
 * IDs); `room_id` a room ID of the version's form (absent allowed only on a v12 `m.room.create`);
 * v1–v2 `event_id` and every referenced event ID of the version's form; `sender`, `room_id`,
 * `state_key`, `type`, `event_id` ≤ 255 bytes; `depth` in [0, 2^63-1] (v6+: 2^53-1); ≤ 20
 * `prev_events` and ≤ 10 `auth_events` (unless `skipReferenceLimits`); the whole PDU ≤ 65536 bytes
 * of canonical JSON.
 *
 * Not checked here: content hash (`checkContentHash`), signatures (`verifyEventSignatures`), auth
 * rules (including v12's "create has no `room_id`" and "no create in `auth_events`").
 *
 * The event ID is `event_id` for v1–v2; from v3 on it is computed from the reference hash and any
 * `event_id` key in the input is ignored (it is not part of the PDU).
 *
 * @throws {@link PduFormatError} listing every problem.
 */
export function parsePdu(input: unknown, rules: RoomVersionRules, options?: ParsePduOptions): Pdu {
  const r = validatePdu(input, rules, options);
  if (!r.ok) throw new PduFormatError(r.problems);
  return r.pdu;
}

function problemOfJsonError(e: unknown): PduProblem {
  if (e instanceof CanonicalJsonError) {
    const code: PduProblemCode =
      e.code === 'JSON_FLOAT' ? 'FLOAT_NOT_ALLOWED'
      : e.code === 'JSON_INTEGER_RANGE' ? 'INTEGER_OUT_OF_RANGE'
      : e.code === 'JSON_DEPTH' ? 'NESTING_TOO_DEEP'
      : e.code === 'JSON_LONE_SURROGATE' ? 'LONE_SURROGATE'
      : 'INVALID_JSON';
    return { path: e.path, code, message: e.message };
  }
  return { path: '$', code: 'INVALID_JSON', message: String((e as Error)?.message ?? e) };
}

/**
 * Parses PDU text or UTF-8 bytes with the canonical JSON parser (strict for v6+, so `1.0` and `1e3`
 * tokens are rejected like Synapse does; duplicate keys are always rejected), then validates like
 * {@link parsePdu}. When the strict parse fails on a number, the text is re-read leniently so
 * that the other problems are reported too.
 *
 * @throws {@link PduFormatError} listing every problem.
 */
export function parsePduText(text: string | Uint8Array, rules: RoomVersionRules, options?: ParsePduOptions): Pdu {
  const strict = rules.canonicalJson.strict;
  let value: JsonValue;
  try {
    value = parseCanonicalJson(text, { strict, maxDepth: MAX_NESTING });
  } catch (e) {
    const first = problemOfJsonError(e);
    if (strict && (first.code === 'FLOAT_NOT_ALLOWED' || first.code === 'INTEGER_OUT_OF_RANGE')) {
      let lenient: JsonValue | undefined;
      try {
        lenient = parseCanonicalJson(text, { strict: false, maxDepth: MAX_NESTING });
      } catch {
        lenient = undefined;
      }
      if (lenient !== undefined) {
        const r = validatePdu(lenient, rules, options);
        const rest = r.ok ? [] : r.problems.filter((x) => x.path !== first.path);
        throw new PduFormatError([first, ...rest]);
      }
    }
    throw new PduFormatError([first]);
  }
  return parsePdu(value, rules, options);
}
