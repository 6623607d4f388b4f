/**
 * Check 6 on receipt of a PDU: soft failure (Server-Server API › Checks performed on receipt of a
 * PDU: "Passes authorization rules based on the current state of the room, otherwise it is
 * soft failed"; › Soft failure). Skipped when the event's prev events are the room's forward
 * extremities (its state before is the current state, already checked by check 5).
 *
 * @module
 */
import { checkAuth } from '@roomgraph/auth';
import type { RoomEvent } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import type { RoomInfo } from '@roomgraph/store';
import type { EngineContext } from '../context.js';
import { loadAuthState } from '../state/auth-state.js';
import { stateAfter } from '../state/after.js';
import { resolveStates } from '../state/resolve.js';
import { type VState, stored } from '../state/vstate.js';
import type { ServerKeys } from './auth-events.js';
import { sameExtremities } from './id-sets.js';
import { type Verdict, verdictOf } from './outcome.js';

/**
 * Check 6: auth against the room's current state. Where prev events were missing (the event
 * arrived with a remote's state), the current state is re-resolved with the state before it.
 */
export async function checkSoftFail(
  ctx: EngineContext, roomId: string, rules: RoomVersionRules, room: RoomInfo, event: RoomEvent,
  before: VState, prevsWereMissing: boolean, serverKeys: ServerKeys,
): Promise<Verdict | undefined> {
  if (sameExtremities(room.forwardExtremities, event.prevEvents)) return undefined;
  let current: VState = stored(room.currentState ?? null);
  if (prevsWereMissing) {
    const extStates: VState[] = [];
    const ext = await ctx.store.getEvents(room.forwardExtremities);
    for (const e of ext.values()) extStates.push(stateAfter(ctx, e));
    current = await resolveStates(ctx, roomId, rules, [...extStates, before]);
  }
  const curAuth = await loadAuthState(ctx, rules, current, event);
  const r = checkAuth(event, curAuth, rules, { serverKeys });
  return verdictOf(r);
}
