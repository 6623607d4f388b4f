/**
 * Typed errors of the events package.
 *
 * @module
 */
import { type JsonObject, isJsonObject } from '@roomgraph/canonical-json';
import { RoomgraphError, type RoomgraphErrorOptions } from '@roomgraph/errors';

/** Stable codes of {@link EventsError}. */
export type EventsErrorCode =
  /** A PDU failed validation for its room version; see {@link PduFormatError.problems}. */
  | 'PDU_FORMAT'
  /** An argument to a builder or helper was unusable (e.g. a v1 reference given as a bare ID without its hash). */
  | 'EVENTS_INVALID_ARGUMENT'
  /** The event cannot be encoded as canonical JSON (lone surrogate, non-finite number...). */
  | 'EVENTS_NOT_ENCODABLE';

/** Base class of every error thrown by `@roomgraph/events`: a stable `code` and a message. */
export class EventsError extends RoomgraphError<EventsErrorCode> {
  override readonly name: string = 'EventsError';
  /** @param code - stable code; @param message - human-readable description; @param options - `cause`. */
  constructor(code: EventsErrorCode, message: string, options?: RoomgraphErrorOptions) {
    super(code, message, options);
  }
}

/**
 * `event`, if it is a JSON object: the hashes and IDs are defined for events only, and a caller's
 * string or number must get a typed error, not a TypeError from deep inside.
 * @throws {@link EventsError} `EVENTS_INVALID_ARGUMENT`.
 */
export function requireObject(event: unknown): JsonObject {
  if (!isJsonObject(event)) {
    throw new EventsError('EVENTS_INVALID_ARGUMENT', `an event must be a JSON object, not ${event === null ? 'null' : Array.isArray(event) ? 'an array' : typeof event}`);
  }
  return event;
}

/**
 * Stable codes of the problems {@link PduFormatError} lists (one per rule of
 * checklist §h H3–H5/H10 and §d).
 */
export type PduProblemCode =
  /** The PDU (or the text's top-level value) is not a JSON object. */
  | 'NOT_AN_OBJECT'
  /** Text input is not JSON (syntax error, duplicate key, invalid UTF-8, trailing data). */
  | 'INVALID_JSON'
  /** A required field is absent (pdu:components-pdu_base and the per-version schemas). */
  | 'MISSING_FIELD'
  /** A field has the wrong JSON type. */
  | 'WRONG_TYPE'
  /** A value JSON cannot represent: undefined, a function, a class instance, NaN/Infinity, an array hole. */
  | 'INVALID_JSON_VALUE'
  /** A string or key with an unpaired UTF-16 surrogate (not encodable as UTF-8; checklist A7). */
  | 'LONE_SURROGATE'
  /** A non-integral number in a room version with strict canonical JSON (v6+; checklist A9/H10). */
  | 'FLOAT_NOT_ALLOWED'
  /** An integer outside [-(2^53)+1, 2^53-1] in a room version with strict canonical JSON (v6+). */
  | 'INTEGER_OUT_OF_RANGE'
  /** Arrays/objects nested more deeply than the parser allows. */
  | 'NESTING_TOO_DEEP'
  /** The whole PDU is larger than 65536 bytes of canonical JSON (CS › Size limits; H4). */
  | 'EVENT_TOO_LARGE'
  /** `sender`, `room_id`, `state_key`, `type` or `event_id` is longer than 255 bytes (H4). */
  | 'FIELD_TOO_LONG'
  /** `sender` is not a user ID, even under the historical grammar (APP › User Identifiers; D7). */
  | 'INVALID_USER_ID'
  /** `room_id` does not have the room ID form of the room version (APP › Room IDs; D4/D5). */
  | 'INVALID_ROOM_ID'
  /** An event ID (`event_id`, a reference, `redacts`) does not have the room version's form (D1–D3, D6). */
  | 'INVALID_EVENT_ID'
  /** A v1–v2 `prev_events`/`auth_events` entry is not an `[event_id, {sha256}]` pair (pdu:pdu_v1). */
  | 'INVALID_EVENT_REFERENCE'
  /** More than 20 `prev_events` (pdu schemas; H5). */
  | 'TOO_MANY_PREV_EVENTS'
  /** More than 10 `auth_events` (pdu schemas; H5). */
  | 'TOO_MANY_AUTH_EVENTS'
  /** `depth` is negative or above the room version's maximum (H6). */
  | 'DEPTH_OUT_OF_RANGE'
  /** `origin_server_ts` is not an integer in the allowed range. */
  | 'TIMESTAMP_OUT_OF_RANGE';

/** One validation problem: where (JSONPath from `$`), what (stable code) and a readable message. */
export interface PduProblem {
  /** JSONPath of the offending value, e.g. `$.prev_events[3]`, `$.content.users["@a:b"]`. */
  readonly path: string;
  /** Stable code. */
  readonly code: PduProblemCode;
  /** Human-readable description. */
  readonly message: string;
}

/**
 * A PDU is not valid for its room version (checklist H1 step 1: such events are dropped).
 * `problems` lists every problem found, not only the first.
 */
export class PduFormatError extends EventsError {
  override readonly name: string = 'PduFormatError';
  /** Every problem found, in document order. Frozen. */
  readonly problems: readonly PduProblem[];
  /** @param problems - at least one problem. */
  constructor(problems: readonly PduProblem[]) {
    const first = problems[0];
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
    super('PDU_FORMAT', first === undefined ? 'invalid PDU' : `invalid PDU: ${first.message} at ${first.path}${more}`);
    this.problems = Object.freeze(problems.map((p) => Object.freeze({ ...p })));
  }
}
