/**
 * What every authorization rule shares (Room versions › Authorization rules): the result type,
 * the options, and small readers of event content that never throw on malformed input.
 *
 * @module
 */
import { type JsonObject, type JsonValue, isJsonObject } from '@roomgraph/canonical-json';
import type { RoomEvent } from '@roomgraph/events';
import type { AuthRuleCode } from '../codes.js';

/** The outcome of an authorization check: allowed, or rejected by a rule (a code from {@link AUTH_RULE_CODES}) with a reason. */
export type AuthResult =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly rule: AuthRuleCode; readonly reason: string };

/** Optional inputs of {@link checkAuth}. */
export interface AuthOptions {
  /**
   * The event's own auth events as loaded (in any order). When given, the rules about the auth
   * events list run: duplicates, entries not allowed by auth events selection, rejected entries,
   * wrong room, missing create (v1–v11) — checklist F3. Only entries whose ID is listed in the
   * event's `auth_events` count; others (e.g. the v12 create event, passed for convenience) are
   * ignored by these rules.
   */
  readonly authEvents?: readonly RoomEvent[];
  /** Whether an event was rejected (for F3.3, and v12 F2 "accepted create event"). Default: nothing is rejected. */
  readonly isRejected?: (eventId: string) => boolean;
  /**
   * Public keys for verifying `join_authorised_via_users_server` signatures (F6.2). When absent, a
   * signature by that server must merely be present.
   */
  readonly serverKeys?: (serverName: string, keyId: string) => Uint8Array | undefined;
}

/** The allowing result (shared, frozen). */
export const ALLOW: AuthResult = Object.freeze({ allowed: true });

/** A rejection by `rule`. */
export function reject(rule: AuthRuleCode, reason: string): AuthResult {
  return { allowed: false, rule, reason };
}

/** `v` when it is a JSON object. */
export function asObject(v: JsonValue | undefined): JsonObject | undefined {
  return isJsonObject(v) ? v : undefined;
}

/** Whether `o` has its own property `key`. */
export function has(o: JsonObject | undefined, key: string): boolean {
  return o !== undefined && Object.hasOwn(o, key);
}

/** `o[key]` when it is an own property. */
export function own(o: JsonObject | undefined, key: string): JsonValue | undefined {
  return has(o, key) ? (o as JsonObject)[key] : undefined;
}

/** `membership` of a member event, when it is a string. */
export function membershipOf(ev: RoomEvent | undefined): string | undefined {
  const m = ev?.content['membership'];
  return typeof m === 'string' ? m : undefined;
}

/** `options.isRejected(id)`, never throwing. */
export function safeRejected(options: AuthOptions | undefined, id: string): boolean {
  if (options?.isRejected === undefined) return false;
  try {
    return options.isRejected(id) === true;
  } catch {
    return false;
  }
}


/** A rule that threw (only a caller's callback or lookup can): a rejection, never a crash. */
export function internalError(err: unknown): AuthResult {
  // Defensive: the rules never throw on malformed input; if a caller-supplied callback or lookup
  // throws, report it as a rejection rather than crash.
  return { allowed: false, rule: 'internal', reason: `auth check failed: ${err instanceof Error ? err.message : String(err)}` };
}
