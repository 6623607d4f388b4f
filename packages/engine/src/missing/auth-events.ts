/**
 * Fetching missing auth events (Server-Server API › Checks performed on receipt of a PDU, check 4
 * needs the event's auth events; › Retrieving events, `GET /event/{eventId}`): each auth event
 * not stored is asked of the server the PDU came from and stored as an outlier (checked against
 * its own auth events, which are fetched in turn, up to {@link MAX_NESTING_AUTH_FETCH} deep).
 *
 * @module
 */
import { type Pdu, type RoomEvent, parsePdu } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { type EngineContext, MAX_NESTING_AUTH_FETCH, type Nesting } from '../context.js';

/** Fetches the auth events of `event` that are not stored, storing them as outliers. */
export async function ensureAuthEvents(ctx: EngineContext, origin: string, roomId: string, rules: RoomVersionRules, event: RoomEvent, nesting: Nesting): Promise<void> {
  const t = ctx.transport;
  if (t === undefined || nesting > MAX_NESTING_AUTH_FETCH || event.authEvents.length === 0) return;
  const have = await ctx.store.hasEvents(event.authEvents);
  const missing = event.authEvents.filter((a) => !have.has(a));
  for (const m of missing) {
    const json = await t.getEvent(origin, m).catch(() => undefined);
    if (json === undefined) continue;
    let pdu: Pdu;
    try { pdu = parsePdu(json, rules); } catch { continue; }
    if (pdu.eventId !== m) continue;
    await ctx.process({ origin, pdu, rules, roomId, nesting: nesting + 1, asOutlier: true });
  }
}
