/**
 * Reading what the engine stored (Server-Server API › Room State: the state before/after an event
 * and the current state; the forward extremities; auth chains; the timeline). Reads never wait
 * for a room's lock: they see the last committed state.
 *
 * @module
 */
import { type RoomInfo, type StoredEvent, compareTopological } from '@roomgraph/store';
import type { EngineContext } from './context.js';
import { EngineError } from './errors.js';
import { stateAfter } from './state/after.js';
import { currentEvent } from './state/current.js';
import { materialise, stored } from './state/vstate.js';
import { RoomState } from './room-state.js';

/** An event by ID (the stored record), or `undefined`. */
export async function getEvent(ctx: EngineContext, eventId: string): Promise<StoredEvent | undefined> {
  await ctx.outbox.ready();
  return ctx.store.getEvent(eventId);
}

/**
 * The state before (default) or after an event.
 * @throws {@link EngineError} `ENGINE_UNKNOWN_EVENT` when no state is known there.
 */
export async function stateAt(ctx: EngineContext, eventId: string, options?: { readonly after?: boolean }): Promise<RoomState> {
  return RoomState.fromStateMap(await packedStateAt(ctx, eventId, options));
}

/** {@link stateAt} as the packed map the engine works with (`stateKeyOf` keys). */
export async function packedStateAt(ctx: EngineContext, eventId: string, options?: { readonly after?: boolean }): Promise<Map<string, string>> {
  await ctx.outbox.ready();
  const e = await ctx.store.getEvent(eventId);
  if (e === undefined || e.stateBefore === undefined) throw new EngineError('ENGINE_UNKNOWN_EVENT', `no state known at ${eventId}`);
  return materialise(ctx.store, options?.after === true ? stateAfter(ctx, e) : stored(e.stateBefore));
}

/**
 * The room's current state (empty while the room has none, e.g. during a join).
 * @throws {@link EngineError} `ENGINE_UNKNOWN_ROOM`.
 */
export async function currentState(ctx: EngineContext, roomId: string): Promise<RoomState> {
  const room = await knownRoom(ctx, roomId);
  return room.currentState === undefined ? RoomState.EMPTY : RoomState.fromStateMap(await materialise(ctx.store, stored(room.currentState)));
}

/**
 * The stored room, after waiting for the engine to be ready.
 * @throws {@link EngineError} `ENGINE_UNKNOWN_ROOM` when the store does not hold the room.
 */
export async function knownRoom(ctx: EngineContext, roomId: string): Promise<RoomInfo> {
  await ctx.outbox.ready();
  const room = await ctx.store.getRoom(roomId);
  if (room === undefined) throw new EngineError('ENGINE_UNKNOWN_ROOM', `unknown room ${roomId}`);
  return room;
}

/** Whether the store holds the room. */
export async function hasRoom(ctx: EngineContext, roomId: string): Promise<boolean> {
  await ctx.outbox.ready();
  return (await ctx.store.getRoom(roomId)) !== undefined;
}

/** The rooms the store holds, sorted. */
export async function rooms(ctx: EngineContext): Promise<string[]> {
  await ctx.outbox.ready();
  return [...await ctx.store.listRooms()].sort();
}

/**
 * The forward extremities of a room (sorted).
 * @throws {@link EngineError} `ENGINE_UNKNOWN_ROOM`.
 */
export async function forwardExtremities(ctx: EngineContext, roomId: string): Promise<string[]> {
  const room = await knownRoom(ctx, roomId);
  return [...room.forwardExtremities].sort();
}

/**
 * The membership of `userId` in the room's current state (`undefined` = none).
 * @throws {@link EngineError} `ENGINE_UNKNOWN_ROOM`.
 */
export async function membership(ctx: EngineContext, roomId: string, userId: string): Promise<string | undefined> {
  const room = await knownRoom(ctx, roomId);
  const m = (await currentEvent(ctx, room, ctx.versions.get(room.roomVersion), 'm.room.member', userId))?.content['membership'];
  return typeof m === 'string' ? m : undefined;
}

/** The full auth chain of events. */
export async function authChain(ctx: EngineContext, eventIds: readonly string[]): Promise<ReadonlySet<string>> {
  await ctx.outbox.ready();
  return ctx.store.getAuthChain(eventIds);
}

/**
 * Events of a room in stream (arrival) order.
 * @throws {@link EngineError} `ENGINE_UNKNOWN_ROOM`.
 */
export async function timeline(ctx: EngineContext, roomId: string, options?: { readonly from?: number; readonly limit?: number; readonly direction?: 'forwards' | 'backwards' }): Promise<readonly StoredEvent[]> {
  await knownRoom(ctx, roomId);
  return ctx.store.timeline(roomId, options);
}

/** Page size when reading a whole timeline. */
const PAGE = 1000;

/**
 * Events of a room (non-outliers) in topological order: by depth, then stream order.
 * @throws {@link EngineError} `ENGINE_UNKNOWN_ROOM`.
 */
export async function topologicalOrder(ctx: EngineContext, roomId: string): Promise<StoredEvent[]> {
  await knownRoom(ctx, roomId);
  const all: StoredEvent[] = [];
  let from: number | undefined;
  for (;;) {
    const page = await ctx.store.timeline(roomId, { ...(from !== undefined ? { from } : {}), limit: PAGE });
    all.push(...page.filter((e) => e.status !== 'outlier'));
    if (page.length < PAGE) break;
    from = (page[page.length - 1] as StoredEvent).stream + 1;
  }
  return all.sort(compareTopological);
}
