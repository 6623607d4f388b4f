/**
 * What a JSON object is, once for every package: a plain object (prototype `Object.prototype` or
 * `null`) — not `null`, not an array, not a class instance (a `Map`, a `Date`, a `Uint8Array`),
 * which canonical JSON cannot encode as an object either (APP › Canonical JSON).
 *
 * @module
 */
import type { JsonObject } from './types.js';

const { getPrototypeOf } = Object;
const objectProto = Object.prototype;

/** Whether `v` is a JSON object (a plain object). */
export function isJsonObject(v: unknown): v is JsonObject {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const p: unknown = getPrototypeOf(v);
  return p === objectProto || p === null;
}
