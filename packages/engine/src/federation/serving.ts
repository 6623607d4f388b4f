/**
 * Refusing a federation request (Server-Server API › API standards: errors carry a Matrix
 * `errcode`). Handlers throw this; the transport turns it into the HTTP answer.
 *
 * @module
 */
import { TransportError } from '@roomgraph/transport';
import type { EngineContext } from '../context.js';

/** A `TRANSPORT_REJECTED` error answering a federation request with a Matrix `errcode`. */
export function refuse(ctx: EngineContext, errcode: string, message: string): TransportError {
  return new TransportError('TRANSPORT_REJECTED', ctx.serverName, message, errcode);
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
