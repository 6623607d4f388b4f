/**
 * Serving room state to other servers (Server-Server API › Room State: `GET /state/{roomId}` and
 * `GET /state_ids/{roomId}`): the state before an event and the auth chain of that state.
 * `origin` is the requesting server: refused (403 `M_FORBIDDEN`) when the room's ACL denies it,
 * or when it has no joined member now and may not see the event (`visibility.ts`).
 *
 * @module
 */
import type { StateIdsResponse, StateResponse } from '@roomgraph/transport';
import type { EngineContext } from '../context.js';
import { assertAclAllows } from './acl.js';
import { refuse, served } from './serving.js';
import { ServerView } from './visibility.js';

/** `GET /state_ids/{roomId}?event_id=`: the IDs of the state before the event and of its auth chain. */
export async function onGetStateIds(ctx: EngineContext, origin: string, roomId: string, eventId: string): Promise<StateIdsResponse> {
  await served(ctx);
  await assertAclAllows(ctx, roomId, origin);
  const e = await ctx.store.getEvent(eventId);
  if (e === undefined || e.stateBefore === undefined || e.roomId !== roomId) return { pduIds: [], authChainIds: [] };
  const view = new ServerView(ctx, origin, roomId);
  if (!(await view.now()).joined && !(await view.visible(e))) throw refuse(ctx, 'M_FORBIDDEN', `${origin} may not see the state at ${eventId}`);
  const state = await ctx.store.loadState(e.stateBefore);
  const pduIds = [...state.values()];
  const chain = await ctx.store.getAuthChain(pduIds);
  return { pduIds, authChainIds: [...chain] };
}

/** `GET /state/{roomId}?event_id=`: the state before the event and its auth chain, as PDUs. */
export async function onGetState(ctx: EngineContext, origin: string, roomId: string, eventId: string): Promise<StateResponse> {
  const ids = await onGetStateIds(ctx, origin, roomId, eventId);
  const pdus = await ctx.store.getEvents(ids.pduIds);
  const chain = await ctx.store.getEvents(ids.authChainIds);
  return { pdus: [...pdus.values()].map((e) => e.json), authChain: [...chain.values()].map((e) => e.json) };
}
