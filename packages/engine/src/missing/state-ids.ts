/**
 * The state before an event as a remote reports it (Server-Server API › Room State, `GET
 * /state_ids/{roomId}`; › Checks performed on receipt of a PDU: where prev events are still
 * missing, the state before the event is taken from a server that has it): the IDs, then each
 * event not stored fetched and stored as an outlier. Asked for PDUs up to
 * {@link MAX_NESTING_STATE_IDS} deep — the oldest event of a fetched window smaller than the gap
 * needs it (Synapse does the same in `_get_missing_events_for_pdu` / `_process_pulled_event`).
 *
 * @module
 */
import { type Pdu, type RoomEvent, parsePdu } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import type { StateIdsResponse } from '@roomgraph/transport';
import { type EngineContext, MAX_NESTING_STATE_IDS, type Nesting } from '../context.js';
import type { VState } from '../state/vstate.js';
import { byDepthThenId, overlayOf } from '../stored.js';

/** The state before `event` as `origin` reports it (its events stored as outliers), or `undefined`. */
export async function remoteStateBefore(ctx: EngineContext, origin: string, roomId: string, rules: RoomVersionRules, event: RoomEvent, nesting: Nesting): Promise<VState | undefined> {
  const t = ctx.transport;
  if (t === undefined || nesting > MAX_NESTING_STATE_IDS) return undefined;
  let ids: StateIdsResponse;
  try {
    ids = await t.getStateIds(origin, roomId, event.eventId);
  } catch {
    return undefined;
  }
  // A room's state always holds at least the create event: an empty answer means the remote
  // does not know the state there (e.g. it has the event only as an outlier), not "no state".
  if (ids.pduIds.length === 0) return undefined;
  const all = [...new Set([...ids.authChainIds, ...ids.pduIds])];
  const have = await ctx.store.hasEvents(all);
  const fetched: Pdu[] = [];
  for (const id of all) {
    if (have.has(id)) continue;
    const json = await t.getEvent(origin, id).catch(() => undefined);
    if (json === undefined) continue;
    try {
      const p = parsePdu(json, rules);
      if (p.eventId === id) fetched.push(p);
    } catch { /* skip */ }
  }
  fetched.sort(byDepthThenId);
  for (const p of fetched) await ctx.process({ origin, pdu: p, rules, roomId, nesting: nesting + 1, asOutlier: true });
  const got = await ctx.store.getEvents(ids.pduIds);
  // A state with events that could not be had is not the state: judging the event against what
  // is left (e.g. no create event) would reject it wrongly. It waits (parks) instead.
  if (ids.pduIds.some((x) => !got.has(x))) return undefined;
  return { base: null, overlay: overlayOf(got.values()) };
}
