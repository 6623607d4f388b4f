/**
 * Deep freezing and defensive copies (internal).
 *
 * @module
 */
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';

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

/** A deep-frozen deep copy of JSON data; frozen subtrees are shared rather than copied. */
export function frozenCopy(value: JsonValue): JsonValue {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  if (Array.isArray(value)) return Object.freeze((value as readonly JsonValue[]).map(frozenCopy));
  const out: Record<string, JsonValue> = {};
  for (const k of Object.keys(value)) setOwn(out, k, frozenCopy((value as JsonObject)[k] as JsonValue));
  return Object.freeze(out);
}
