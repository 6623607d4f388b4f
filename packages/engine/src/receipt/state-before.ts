/**
 * Check 5 on receipt of a PDU: auth against the state before the event (Server-Server API ›
 * Checks performed on receipt of a PDU: "Passes authorization rules based on the state before the
 * event, otherwise it is rejected"). The state before is the resolution of the states after its
 * prev events (› Room State); where prev events are still missing after `get_missing_events`, the
 * state the sending server reports (`state_ids`) joins the resolution; where that cannot be had
 * either, the event is parked.
 *
 * @module
 */
import { checkAuth } from '@roomgraph/auth';
import type { RoomEvent } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import type { RoomInfo, StoredEvent } from '@roomgraph/store';
import type { EngineContext, ProcessRequest } from '../context.js';
import { remoteStateBefore } from '../missing/state-ids.js';
import { loadAuthState } from '../state/auth-state.js';
import { stateAfter } from '../state/after.js';
import { resolveStates } from '../state/resolve.js';
import { type VState, stored } from '../state/vstate.js';
import type { PduOutcome } from '../types.js';
import type { ServerKeys } from './auth-events.js';
import { listsEachOnce } from './id-sets.js';
import { type Verdict, verdictOf } from './outcome.js';
import { park } from './parked.js';

/** The state before `event`, or the outcome of parking it (its state cannot be had). */
export async function computeStateBefore(
  ctx: EngineContext, req: ProcessRequest, event: RoomEvent, isCreate: boolean,
  prevStored: ReadonlyMap<string, StoredEvent>, missingPrev: readonly string[], room: RoomInfo | undefined,
): Promise<VState | PduOutcome> {
  const states: VState[] = [];
  for (const p of event.prevEvents) {
    const e = prevStored.get(p);
    if (e !== undefined && e.status !== 'outlier') states.push(stateAfter(ctx, e));
  }
  if (missingPrev.length > 0 && room !== undefined) {
    const remote = await remoteStateBefore(ctx, req.origin, req.roomId, req.rules, event, req.nesting);
    if (remote === undefined) return park(ctx, req, `missing prev_events: ${missingPrev.join(', ')}`, undefined, true);
    states.push(remote);
  }
  if (isCreate) return stored(null);
  return req.knownStateBefore ?? await resolveStates(ctx, req.roomId, req.rules, states);
}

/**
 * Check 5: auth against the state before. Skipped when the event's auth events are exactly the
 * ones that state selects (check 4 already judged the same inputs).
 */
export async function checkStateBefore(ctx: EngineContext, rules: RoomVersionRules, before: VState, event: RoomEvent, serverKeys: ServerKeys): Promise<Verdict | undefined> {
  const stateAuth = await loadAuthState(ctx, rules, before, event);
  if (listsEachOnce(event.authEvents, stateAuth.entries.map((e) => e.eventId))) return undefined;
  const r = checkAuth(event, stateAuth, rules, { serverKeys });
  return verdictOf(r);
}
