/**
 * Check 4 on receipt of a PDU: auth against the event's own auth events (Server-Server API ›
 * Checks performed on receipt of a PDU: "Passes authorization rules based on the event's auth
 * events, otherwise it is rejected"). Auth events not stored are fetched first (as outliers); if
 * some still cannot be had, the event is not judged but parked (see `parked.ts`).
 *
 * @module
 */
import { checkAuth } from '@roomgraph/auth';
import { type RoomEvent, stateEntriesOf } from '@roomgraph/events';
import type { RoomInfo } from '@roomgraph/store';
import type { EngineContext, ProcessRequest } from '../context.js';
import { ensureAuthEvents } from '../missing/auth-events.js';
import { isRejectedStatus } from '../stored.js';
import type { PduOutcome } from '../types.js';
import { type Verdict, verdictOf } from './outcome.js';
import { park } from './parked.js';
import { authorisingKeys } from './signatures.js';

/** The keys a restricted join's authorising signature is checked with (see `signatures.ts`). */
export type ServerKeys = Awaited<ReturnType<typeof authorisingKeys>>;

/** Check 4's result: the event parked (auth events missing), or judged. */
export type AuthEventsCheck =
  | { readonly parked: PduOutcome }
  | { readonly parked?: undefined; readonly rejection: Verdict | undefined; readonly serverKeys: ServerKeys };

/** Check 4: fetches missing auth events, then checks `event` against them. */
export async function checkAuthEvents(ctx: EngineContext, req: ProcessRequest, event: RoomEvent, room: RoomInfo | undefined): Promise<AuthEventsCheck> {
  const { store } = ctx;
  const { rules } = req;
  await ensureAuthEvents(ctx, req.origin, req.roomId, rules, event, req.nesting);
  const authStored = await store.getEvents(event.authEvents);
  const authViews: RoomEvent[] = [];
  for (const a of authStored.values()) authViews.push(ctx.caches.view(a, rules));
  // Room version 12: the create event is an auth event of every event without being listed.
  if (rules.authorization.roomIdFromCreateEvent && room !== undefined && !event.authEvents.includes(room.createEventId)) {
    const c = await store.getEvent(room.createEventId);
    if (c !== undefined) authViews.push(ctx.caches.view(c, rules));
  }
  const rejectedIds = new Set<string>();
  for (const a of authStored.values()) if (isRejectedStatus(a)) rejectedIds.add(a.eventId);
  const serverKeys = await authorisingKeys(ctx, event, rules);
  const missingAuth = event.authEvents.filter((a) => !authStored.has(a));
  if (missingAuth.length > 0) {
    // Auth events that cannot be found do not make the event invalid — they may exist — so it is
    // not stored as rejected (Synapse ignores it: federation_event.py
    // `_load_or_fetch_auth_events_for_event`). It is parked and retried when they arrive; an
    // outlier is not stored.
    return { parked: await park(ctx, req, `auth events not available: ${missingAuth.join(', ')}`, 'auth_events.missing') };
  }
  const r = checkAuth(event, stateEntriesOf(authViews), rules, { authEvents: authViews, isRejected: (x) => rejectedIds.has(x), serverKeys });
  return { rejection: verdictOf(r), serverKeys };
}
