/**
 * Reading a room's current state (Server-Server API › Room State: the resolution of the states
 * after the forward extremities, kept as a snapshot by the store): one entry, as an event.
 *
 * @module
 */
import { type RoomEvent, stateKeyOf } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import type { RoomInfo } from '@roomgraph/store';
import type { EngineContext } from '../context.js';

/** The current-state event of `(type, stateKey)` in `room`, if any. */
export async function currentEvent(ctx: EngineContext, room: RoomInfo, rules: RoomVersionRules, type: string, stateKey: string): Promise<RoomEvent | undefined> {
  if (room.currentState === undefined) return undefined;
  const [id] = await ctx.store.getStateEntries(room.currentState, [stateKeyOf(type, stateKey)]);
  const e = id === undefined ? undefined : await ctx.store.getEvent(id);
  return e === undefined ? undefined : ctx.caches.view(e, rules);
}
