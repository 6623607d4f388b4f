/**
 * Outcomes of the receipt checks (Server-Server API › Checks performed on receipt of a PDU): a
 * PDU ends dropped (format, signatures), rejected (auth events, state before), soft-failed
 * (current state), accepted, stored as an outlier, or parked (waiting for events it cites).
 *
 * @module
 */
import type { AuthResult } from '@roomgraph/auth';
import type { StoredEvent } from '@roomgraph/store';
import type { EngineOutcomeCode, OutcomeRule } from '../outcome-codes.js';
import type { PduOutcome } from '../types.js';

/** The rule that rejected or soft-failed an event, and why. */
export interface Verdict {
  /** The rule code (an auth rule, or an engine outcome code). */
  readonly rule: OutcomeRule;
  /** Human-readable reason. */
  readonly reason: string;
}

/** The verdict of an authorization check: `undefined` where it allows the event, else the rule that failed and why. */
export function verdictOf(r: AuthResult): Verdict | undefined {
  return r.allowed ? undefined : { rule: r.rule, reason: r.reason };
}

/** A dropped PDU's outcome (nothing stored). */
export function dropped(rule: EngineOutcomeCode, reason: string, eventId = ''): PduOutcome {
  return { eventId, status: 'dropped', rule, reason };
}

/** The outcome a stored record stands for (`duplicate` for a re-delivery). */
export function outcomeOf(e: StoredEvent, duplicate: boolean, redactedOnReceipt = false): PduOutcome {
  const status = e.status === 'outlier' && e.rejection !== undefined ? 'rejected' : e.status;
  return {
    eventId: e.eventId, status,
    ...(e.rejection !== undefined ? { rule: e.rejection.rule as OutcomeRule, ...(e.rejection.reason !== undefined ? { reason: e.rejection.reason } : {}) } : {}),
    ...(duplicate ? { duplicate: true } : {}),
    ...(redactedOnReceipt ? { redactedOnReceipt: true } : {}),
  };
}
