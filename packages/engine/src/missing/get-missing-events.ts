/**
 * Filling a gap with `get_missing_events` (Server-Server API › Checks performed on receipt of a
 * PDU: missing prev events; › Retrieving events, `POST /get_missing_events/{roomId}`): the events
 * between the room's forward extremities and a received PDU, asked of the server that sent it
 * (at most `limits.maxMissingEvents`), each processed oldest first before the PDU itself. Only a
 * PDU handed to the engine fetches ({@link MAX_NESTING_GET_MISSING}); the fetched ones do not.
 *
 * @module
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import { type Pdu, type RoomEvent, parsePdu } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import type { RoomInfo } from '@roomgraph/store';
import { type EngineContext, MAX_NESTING_GET_MISSING, type Nesting } from '../context.js';
import { byDepthThenId } from '../stored.js';

/** Fetches and processes the events missing between the room's extremities and `event`. */
export async function fetchMissingEvents(ctx: EngineContext, origin: string, roomId: string, rules: RoomVersionRules, event: RoomEvent, room: RoomInfo, nesting: Nesting): Promise<void> {
  const t = ctx.transport;
  if (t === undefined || nesting > MAX_NESTING_GET_MISSING) return;
  const got = await t.getMissingEvents(origin, roomId, {
    earliestEvents: room.forwardExtremities, latestEvents: [event.eventId], limit: ctx.limits.maxMissingEvents, minDepth: 0,
  }).catch(() => [] as readonly JsonObject[]);
  const pdus: Pdu[] = [];
  for (const j of got) {
    try { pdus.push(parsePdu(j, rules)); } catch { /* dropped */ }
  }
  pdus.sort(byDepthThenId);
  for (const p of pdus) {
    if (p.eventId === event.eventId) continue;
    await ctx.process({ origin, pdu: p, rules, roomId, nesting: nesting + 1 });
  }
}
