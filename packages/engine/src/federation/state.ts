/**
 * Serving room state to other servers (Server-Server API › Room State: `GET /state/{roomId}` and
 * `GET /state_ids/{roomId}`): the state before an event and the auth chain of that state.
 * `origin` is the requesting server.
 *
 * @module
 */
import type { StateIdsResponse, StateResponse } from '@roomgraph/transport';
import type { EngineContext } from '../context.js';
import { served } from './serving.js';

/** `GET /state_ids/{roomId}?event_id=`: the IDs of the state before the event and of its auth chain. */
export async function onGetStateIds(ctx: EngineContext, _origin: string, roomId: string, eventId: string): Promise<StateIdsResponse> {
  await served(ctx);
  const e = await ctx.store.getEvent(eventId);
  if (e === undefined || e.stateBefore === undefined || e.roomId !== roomId) return { pduIds: [], authChainIds: [] };
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
