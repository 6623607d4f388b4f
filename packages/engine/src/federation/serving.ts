/**
 * Refusing a federation request (Server-Server API › API standards: errors carry a Matrix
 * `errcode`). Handlers throw a {@link FederationRefusal}; the transport turns it into the answer
 * (the requesting server sees a `TRANSPORT_REJECTED` `TransportError` with the same `errcode`).
 *
 * @module
 */
import { FederationRefusal } from '@roomgraph/transport';
import type { EngineContext } from '../context.js';

/** A refusal of a federation request with a Matrix `errcode` (e.g. `M_FORBIDDEN`). */
export function refuse(ctx: EngineContext, errcode: string, message: string): FederationRefusal {
  return new FederationRefusal(ctx.serverName, errcode, message);
}

/** Before serving other servers: refuses after a failed write, and only durable events leave this server. */
export async function served(ctx: EngineContext): Promise<void> {
  await ctx.outbox.ready();
  await ctx.store.flush?.();
}

/** Whether every one of `ids` that is stored belongs to `roomId` (a request never walks into another room). */
export async function allInRoom(ctx: EngineContext, ids: readonly string[], roomId: string): Promise<boolean> {
  const got = await ctx.store.getEvents(ids);
  for (const e of got.values()) if (e.roomId !== roomId) return false;
  return true;
}
