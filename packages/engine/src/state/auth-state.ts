/**
 * The auth state of an event: the entries of a state that the authorization rules read for it
 * (Server-Server API › Auth events selection; the create event included in every version), as a
 * lookup for `checkAuth`. Used for check 5 (the state before the event), check 6 (the current
 * state) and for choosing a new event's auth events.
 *
 * @module
 */
import { type RoomEvent, type StateEntries, authStateKeys, stateEntriesOf } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import type { EngineContext } from '../context.js';
import { type VState, lookup } from './vstate.js';

/** The auth-relevant entries of `state` for `event` (create included in every version), as a lookup. */
export async function loadAuthState(
  ctx: EngineContext, rules: RoomVersionRules, state: VState, event: RoomEvent,
): Promise<StateEntries<RoomEvent>> {
  const keys = authStateKeys(event, rules, { includeCreate: true });
  const ids = await lookup(ctx.store, state, keys);
  const want = [...new Set(ids.filter((x): x is string => x !== undefined))];
  const events = await ctx.store.getEvents(want);
  return stateEntriesOf([...events.values()].map((e) => ctx.caches.view(e, rules)));
}
