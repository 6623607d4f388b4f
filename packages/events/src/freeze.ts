/**
 * Deep freezing and defensive copies (internal).
 *
 * @module
 */
import { DEFAULT_MAX_DEPTH, type JsonObject, type JsonValue } from '@roomgraph/canonical-json';
import { EventsError } from './errors.js';

/** Freezes `value` and everything reachable from it; returns it. Already-frozen subtrees are skipped. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}

/** Sets `key` on a fresh object even when the key is `__proto__` (JSON.parse makes it an own key). */
export function setOwn(target: Record<string, JsonValue>, key: string, value: JsonValue): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * A deep-frozen deep copy of JSON data; frozen subtrees are shared rather than copied.
 *
 * A value that contains itself, or nests deeper than the canonical JSON encoder's default limit, is
 * refused with the typed error the hashing and signing functions give for it (the encoder's
 * `CANONICAL_JSON_CYCLE` / `CANONICAL_JSON_DEPTH`, as `EVENTS_NOT_ENCODABLE`) instead of
 * overflowing the stack: such a value could never be encoded, hashed or signed anyway.
 *
 * @throws {@link EventsError} `EVENTS_NOT_ENCODABLE`
 */
export function frozenCopy(value: JsonValue): JsonValue {
  return copy(value, [], 0);
}

function copy(value: JsonValue, ancestors: object[], depth: number): JsonValue {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  for (let i = 0; i < depth; i++) {
    if (ancestors[i] === value) throw new EventsError('EVENTS_NOT_ENCODABLE', 'event is not encodable as canonical JSON: a value contains itself (CANONICAL_JSON_CYCLE)');
  }
  if (depth >= DEFAULT_MAX_DEPTH) throw new EventsError('EVENTS_NOT_ENCODABLE', `event is not encodable as canonical JSON: nesting deeper than ${DEFAULT_MAX_DEPTH} (CANONICAL_JSON_DEPTH)`);
  ancestors[depth] = value;
  if (Array.isArray(value)) return Object.freeze((value as readonly JsonValue[]).map((x) => copy(x, ancestors, depth + 1)));
  const out: Record<string, JsonValue> = {};
  for (const k of Object.keys(value)) setOwn(out, k, copy((value as JsonObject)[k] as JsonValue, ancestors, depth + 1));
  return Object.freeze(out);
}
