/**
 * Serving events to other servers (Server-Server API › Retrieving events: `GET /event/{eventId}`,
 * `POST /get_missing_events/{roomId}`; › Backfilling: `GET /backfill/{roomId}`). Only durable,
 * non-rejected events of the requested room are served. `origin` is the requesting server.
 *
 * @module
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import type { StoredEvent } from '@roomgraph/store';
import type { MissingEventsRequest } from '@roomgraph/transport';
import type { EngineContext } from '../context.js';
import { isRejectedStatus } from '../stored.js';
import { allInRoom, served } from './serving.js';

/** `GET /event/{eventId}`: the stored PDU (outliers included), unless it was rejected. */
export async function onGetEvent(ctx: EngineContext, _origin: string, eventId: string): Promise<JsonObject | undefined> {
  await served(ctx);
  const e = await ctx.store.getEvent(eventId);
  return e === undefined || isRejectedStatus(e) ? undefined : e.json;
}

/** `POST /get_missing_events/{roomId}`: events between `earliestEvents` and `latestEvents`, oldest first, bounded by `limit`. */
export async function onGetMissingEvents(ctx: EngineContext, _origin: string, roomId: string, request: MissingEventsRequest): Promise<readonly JsonObject[]> {
  await served(ctx);
  if (!(await allInRoom(ctx, request.latestEvents, roomId))) return [];
  const earliest = new Set(request.earliestEvents);
  const seen = new Set<string>(request.latestEvents);
  const out: StoredEvent[] = [];
  let frontier = [...request.latestEvents];
  while (frontier.length > 0 && out.length < request.limit) {
    const got = await ctx.store.getEvents(frontier);
    const next: string[] = [];
    for (const id of frontier) {
      const e = got.get(id);
      if (e === undefined) continue;
      for (const p of e.prevEvents) {
        if (seen.has(p) || earliest.has(p)) continue;
        seen.add(p);
        next.push(p);
      }
    }
    const nextGot = await ctx.store.getEvents(next);
    for (const id of next) {
      const e = nextGot.get(id);
      if (e !== undefined && e.status !== 'outlier' && !isRejectedStatus(e) && e.depth >= (request.minDepth ?? 0) && out.length < request.limit) out.push(e);
    }
    frontier = next;
  }
  return out.sort((a, b) => a.depth - b.depth || a.stream - b.stream).map((e) => e.json);
}

/** `GET /backfill/{roomId}`: the given events and their predecessors, newest first, up to `limit`. */
export async function onBackfill(ctx: EngineContext, _origin: string, roomId: string, fromEventIds: readonly string[], limit: number): Promise<readonly JsonObject[]> {
  await served(ctx);
  if (!(await allInRoom(ctx, fromEventIds, roomId))) return [];
  const seen = new Set<string>();
  const out: StoredEvent[] = [];
  let frontier = [...fromEventIds];
  while (frontier.length > 0 && out.length < limit) {
    const got = await ctx.store.getEvents(frontier.filter((x) => !seen.has(x)));
    const next: string[] = [];
    for (const id of frontier) {
      if (seen.has(id)) continue;
      seen.add(id);
      const e = got.get(id);
      if (e === undefined || e.status === 'outlier' || isRejectedStatus(e)) continue;
      if (out.length < limit) out.push(e);
      next.push(...e.prevEvents);
    }
    frontier = next;
  }
  return out.sort((a, b) => b.depth - a.depth || b.stream - a.stream).map((e) => e.json);
}
