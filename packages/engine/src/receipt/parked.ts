/**
 * Parked events: a PDU whose auth events or prev events cannot be had now is not judged (it may
 * be valid — Synapse too ignores such an event rather than rejecting it,
 * `_load_or_fetch_auth_events_for_event`) but kept in the store's park and retried, in the room's
 * lock, after each event of its room that is stored. The spec is silent on waiting for missing
 * events; this is the engine's answer to Server-Server API › Checks performed on receipt of a PDU
 * when the events a check needs are not available.
 *
 * @module
 */
import { type Pdu, domainOf, parsePdu } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { type EngineContext, MAX_PARKED_RETRY_ROUNDS, NESTING_FETCHED, PARK_NESTING, type ProcessRequest } from '../context.js';
import type { EngineOutcomeCode } from '../outcome-codes.js';
import type { PduOutcome } from '../types.js';

/**
 * Parks the request's PDU when the store can and the request is not nested (else only reports
 * it), with `rule`/`reason` as the outcome. Outliers are never parked (they are reported dropped);
 * local events only when `parkLocal` (a local event citing prev events that are missing).
 */
export async function park(ctx: EngineContext, req: ProcessRequest, reason: string, rule?: EngineOutcomeCode, parkLocal = false): Promise<PduOutcome> {
  const outcome: PduOutcome = { eventId: req.pdu.eventId, status: req.asOutlier === true ? 'dropped' : 'parked', ...(rule !== undefined ? { rule } : {}), reason };
  if (req.asOutlier !== true && (parkLocal || req.local !== true) && ctx.store.supports.parkedEvents && req.nesting === PARK_NESTING) {
    await ctx.store.parkEvents([{ eventId: req.pdu.eventId, roomId: req.roomId, json: req.pdu.json, origin: req.origin, receivedTs: ctx.now() }]);
    ctx.caches.noParked.delete(req.roomId);
  }
  return outcome;
}

/** Retries the room's parked events whose auth and prev events are all stored now. */
export async function retryParked(ctx: EngineContext, roomId: string, rules: RoomVersionRules): Promise<void> {
  const store = ctx.store;
  if (!store.supports.parkedEvents) return;
  // Rooms known to have nothing parked skip the store scan (parking goes through this engine;
  // a room's first check after start-up reads the store). With a store shared by several
  // processes, the entry is forgotten whenever the room's lock is taken anew: another process may
  // have parked an event since (EngineCaches.forgetRoomFacts).
  if (ctx.caches.noParked.get(roomId) !== undefined) return;
  for (let round = 0; round < MAX_PARKED_RETRY_ROUNDS; round++) {
    const parked = await store.listParkedEvents(roomId);
    if (parked.length === 0) {
      ctx.caches.noParked.set(roomId, true);
      return;
    }
    let progressed = false;
    for (const p of parked) {
      let pdu: Pdu;
      try { pdu = parsePdu(p.json, rules); } catch {
        await store.deleteParkedEvents(roomId, [p.eventId]);
        continue;
      }
      const needed = [...new Set([...pdu.prevEvents, ...pdu.authEvents])];
      const have = await store.hasEvents(needed);
      if (have.size < needed.length) continue;
      // The park record goes only after the event's own commit (the store orders the delete
      // after it), so a crash in between leaves the event parked, not lost. An event parked
      // again has just replaced its record.
      const outcome = await ctx.process({ origin: p.origin ?? domainOf(pdu.sender) ?? '', pdu, rules, roomId, nesting: NESTING_FETCHED });
      if (outcome.status !== 'parked') await store.deleteParkedEvents(roomId, [p.eventId]);
      progressed = true;
    }
    if (!progressed) return;
  }
}
