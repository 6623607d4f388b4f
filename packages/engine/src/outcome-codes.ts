/**
 * The engine's own outcome codes: the `rule` of a {@link PduOutcome} when it was not an
 * authorization rule that decided (those are `@roomgraph/auth`'s {@link AUTH_RULE_CODES}). Together
 * they are the whole vocabulary of `PduOutcome.rule` (Server-Server API › Checks performed on
 * receipt of a PDU: which check dropped, rejected or parked the event), documented in one table in
 * `docs/errors.md` (Library › Outcome codes).
 *
 * @module
 */
import type { AuthRuleCode } from '@roomgraph/auth';

/** Every engine outcome code, with what it means. The codes are stable. */
export const ENGINE_OUTCOME_CODES = Object.freeze({
  format: 'Check 1: the PDU is not valid for its room version (not an object, a missing or malformed field, too large); dropped.',
  room_version: 'Check 1: a create event names a room version this server does not support; dropped.',
  unknown_room: 'Check 1: the PDU is of a room this server does not know (and it is not the room\'s create event); dropped.',
  room_id: 'The event is not of the room it was fetched for (backfill), or a create event is not the one of the room; dropped.',
  'signature.missing-signature': 'Check 2: a server that must sign the event (the sender\'s, …) did not; dropped.',
  'signature.missing-key': 'Check 2: a required signature is by a key that could not be found, or one not valid at the event\'s time; dropped.',
  'signature.bad-signature': 'Check 2: a required signature does not verify; dropped.',
  'auth_events.missing': 'Check 4: auth events could not be had from the sending server; parked (an outlier: dropped) until they arrive.',
  'park.full': 'Checks 4–5: the event would be parked (its auth or prev events could not be had), but its room already holds `limits.maxParkedPerRoom` (default 10,000) parked events; dropped.',
  'create.duplicate': 'A second create event for a room that has one; stored as a rejected outlier.',
} as const);

/** One of {@link ENGINE_OUTCOME_CODES}. */
export type EngineOutcomeCode = keyof typeof ENGINE_OUTCOME_CODES;

/** Any `PduOutcome.rule`: an authorization rule code or an engine outcome code. */
export type OutcomeRule = AuthRuleCode | EngineOutcomeCode;
