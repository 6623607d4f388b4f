/**
 * Serving events to other servers (Server-Server API › Retrieving events: `GET /event/{eventId}`,
 * `POST /get_missing_events/{roomId}`; › Backfilling: `GET /backfill/{roomId}`). Only durable,
 * non-rejected events of the requested room are served, and only what `origin` (the requesting
 * server) may see (`visibility.ts`): a server the room's ACL denies is refused (403 `M_FORBIDDEN`),
 * an event it may not see is redacted (it has standing in the room) or withheld.
 *
 * @module
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import { type StoredEvent, compareTopological } from '@roomgraph/store';
import type { MissingEventsRequest } from '@roomgraph/transport';
import type { EngineContext } from '../context.js';
import { isRejectedStatus } from '../stored.js';
import { assertAclAllows } from './acl.js';
import { allInRoom, served } from './serving.js';
import { ServerView } from './visibility.js';

/**
 * `GET /event/{eventId}`: the stored PDU (outliers included), unless it was rejected; redacted or
 * withheld (`undefined`, answered as not found) when `origin` may not see it.
 */
export async function onGetEvent(ctx: EngineContext, origin: string, eventId: string): Promise<JsonObject | undefined> {
  await served(ctx);
  const e = await ctx.store.getEvent(eventId);
  if (e === undefined || isRejectedStatus(e)) return undefined;
  await assertAclAllows(ctx, e.roomId, origin);
  return new ServerView(ctx, origin, e.roomId).filter(e);
}

/** The events as `origin` may have them (in order; withheld ones left out). */
async function disclosed(ctx: EngineContext, origin: string, roomId: string, events: readonly StoredEvent[]): Promise<JsonObject[]> {
  const view = new ServerView(ctx, origin, roomId);
  const out: JsonObject[] = [];
  for (const e of events) {
    const j = await view.filter(e);
    if (j !== undefined) out.push(j);
  }
  return out;
}

/** `POST /get_missing_events/{roomId}`: events between `earliestEvents` and `latestEvents`, oldest first, bounded by `limit`. */
export async function onGetMissingEvents(ctx: EngineContext, origin: string, roomId: string, request: MissingEventsRequest): Promise<readonly JsonObject[]> {
  await served(ctx);
  await assertAclAllows(ctx, roomId, origin);
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
  return disclosed(ctx, origin, roomId, out.sort(compareTopological));
}

/** `GET /backfill/{roomId}`: the given events and their predecessors, newest first, up to `limit`. */
export async function onBackfill(ctx: EngineContext, origin: string, roomId: string, fromEventIds: readonly string[], limit: number): Promise<readonly JsonObject[]> {
  await served(ctx);
  await assertAclAllows(ctx, roomId, origin);
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
  return disclosed(ctx, origin, roomId, out.sort((a, b) => compareTopological(b, a)));
}
