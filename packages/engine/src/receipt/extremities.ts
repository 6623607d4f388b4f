/**
 * Forward extremities after an event (Server-Server API › Room State: the room's current state is
 * the resolution of the states after its forward extremities). The spec does not say how they
 * move; this follows Synapse's persist_events `_calculate_new_extremities`: an accepted event
 * joins them and retires its prev events; where a prev event was soft-failed or rejected, the
 * extremities that chain was built on are retired too (no dangling extremities). Rejected and
 * soft-failed events never become extremities, nor does an event that already has an accepted
 * child (Synapse's `_get_events_which_are_prevs`).
 *
 * @module
 */
import { type RoomEvent, distinctIds } from '@roomgraph/events';
import type { EventStatus, RoomInfo } from '@roomgraph/store';
import { type EngineContext, MAX_CHILD_WALK } from '../context.js';

/** What the extremity walks read of an event. */
export interface EventLinks {
  readonly prevEvents: readonly string[];
  readonly status: EventStatus;
  readonly depth: number;
}

/**
 * The walks' reading of the events `ids`: those known, by ID (unknown ones left out) — at hand
 * (the block path's own records, `import-block.ts`: no await) or as a promise (a store read).
 */
export type LinksLookup = (ids: readonly string[]) => ReadonlyMap<string, EventLinks> | Promise<ReadonlyMap<string, EventLinks>>;

/**
 * Whether an accepted event has `x` among its prev events. The store keeps no child index, so
 * this walks back from the forward extremities `extremities`, expanding only events deeper than
 * `x` (children of `x` are deeper), at most {@link MAX_CHILD_WALK} events. For a live event
 * (deeper than the extremities) it reads the extremities only.
 */
export async function hasAcceptedChild(extremities: readonly string[], x: RoomEvent, lookup: LinksLookup): Promise<boolean> {
  const seen = new Set<string>(extremities);
  let frontier = [...extremities];
  let visited = 0;
  while (frontier.length > 0 && visited < MAX_CHILD_WALK) {
    const read = lookup(frontier);
    const got = 'then' in read ? await read : read;
    const next: string[] = [];
    for (const e of got.values()) {
      visited++;
      if (e.prevEvents.includes(x.eventId) && e.status === 'accepted') return true;
      if (e.depth <= x.depth + 1) continue;
      for (const p of e.prevEvents) {
        if (seen.has(p)) continue;
        seen.add(p);
        next.push(p);
      }
    }
    frontier = next;
  }
  return false;
}

/**
 * The forward extremities `extremities` after an accepted `event` (sorted), reading events
 * through `lookup` (the store's, or the block path's over its own records).
 */
export async function extremitiesAfter(extremities: readonly string[], event: RoomEvent, lookup: LinksLookup): Promise<string[]> {
  const result = new Set(extremities);
  // An event may already have children: events accepted with state from state_ids while it was
  // missing or an outlier (a gap filled later, e.g. by backfill, or a promoted outlier). Then it
  // is not an extremity.
  if (!(await hasAcceptedChild(extremities, event, lookup))) result.add(event.eventId);
  for (const p of event.prevEvents) result.delete(p);
  // Walk up through soft-failed / rejected prev events.
  const seen = new Set<string>();
  let frontier = [...event.prevEvents];
  while (frontier.length > 0) {
    const read = lookup(frontier);
    const got = 'then' in read ? await read : read;
    const next: string[] = [];
    for (const e of got.values()) {
      if (e.status === 'outlier') continue;
      if (e.status === 'soft-failed' || e.status === 'rejected') {
        for (const pp of e.prevEvents) {
          if (seen.has(pp)) continue;
          seen.add(pp);
          result.delete(pp);
          next.push(pp);
        }
      }
    }
    frontier = next;
  }
  return [...result].sort();
}

/** {@link LinkNow}'s answer for an event known to exist but not at hand (it must be read). */
export const NOT_AT_HAND: unique symbol = Symbol('not at hand');

/**
 * One event's links read without waiting: the links, `undefined` for an event not known (as
 * {@link LinksLookup} leaves it out), or {@link NOT_AT_HAND} when it would have to be read.
 */
export type LinkNow = (id: string) => EventLinks | undefined | typeof NOT_AT_HAND;

/**
 * {@link extremitiesAfter} computed synchronously, one event at a time through `now` — the same
 * answer (the walks visit the same events: only the order within a round of a walk differs, and
 * neither answer depends on it), without the maps and sets of the general walks in the usual case
 * (the event's prev events are accepted and no deeper than it): {@link NOT_AT_HAND} as soon as an
 * event it reads is not at hand (the caller reads that event and asks again, or runs
 * {@link extremitiesAfter}).
 */
export function extremitiesAfterNow(extremities: readonly string[], event: RoomEvent, now: LinkNow): string[] | typeof NOT_AT_HAND {
  const child = hasAcceptedChildNow(extremities, event, now);
  if (child === NOT_AT_HAND) return NOT_AT_HAND;
  const prevs = event.prevEvents;
  // The extremities but the prev events (and repeats), then the event unless it has a child.
  const result: string[] = [];
  for (let i = 0; i < extremities.length; i++) {
    const x = extremities[i] as string;
    if (!prevs.includes(x) && !result.includes(x)) result.push(x);
  }
  if (!child && !prevs.includes(event.eventId) && !result.includes(event.eventId)) result.push(event.eventId);
  // Walk up through soft-failed / rejected prev events (rounds as in `extremitiesAfter`).
  let seen: Set<string> | undefined;
  let frontier = distinctIds(prevs); // (a repeat read once, as the lookup's map holds it once)
  while (frontier.length > 0) {
    let next: string[] | undefined;
    for (let i = 0; i < frontier.length; i++) {
      const id = frontier[i] as string;
      const e = now(id);
      if (e === NOT_AT_HAND) return NOT_AT_HAND;
      if (e === undefined || (e.status !== 'soft-failed' && e.status !== 'rejected')) continue;
      for (const pp of e.prevEvents) {
        seen ??= new Set<string>();
        if (seen.has(pp)) continue;
        seen.add(pp);
        const at = result.indexOf(pp);
        if (at >= 0) result.splice(at, 1);
        (next ??= []).push(pp);
      }
    }
    frontier = next ?? [];
  }
  return result.length > 1 ? result.sort() : result;
}

/** {@link hasAcceptedChild} computed synchronously through `now` (see {@link extremitiesAfterNow}). */
function hasAcceptedChildNow(extremities: readonly string[], x: RoomEvent, now: LinkNow): boolean | typeof NOT_AT_HAND {
  let seen: Set<string> | undefined;
  let frontier = distinctIds(extremities);
  let visited = 0;
  while (frontier.length > 0 && visited < MAX_CHILD_WALK) {
    let next: string[] | undefined;
    for (let i = 0; i < frontier.length; i++) {
      const id = frontier[i] as string;
      const e = now(id);
      if (e === NOT_AT_HAND) return NOT_AT_HAND;
      if (e === undefined) continue;
      visited++;
      if (e.prevEvents.includes(x.eventId) && e.status === 'accepted') return true;
      if (e.depth <= x.depth + 1) continue;
      seen ??= new Set<string>(extremities);
      for (const p of e.prevEvents) {
        if (seen.has(p)) continue;
        seen.add(p);
        (next ??= []).push(p);
      }
    }
    frontier = next ?? [];
  }
  return false;
}

/** New forward extremities after `event` with `status` (sorted), or `undefined` when they do not change. */
export async function newExtremities(ctx: EngineContext, room: RoomInfo | undefined, event: RoomEvent, status: EventStatus): Promise<string[] | undefined> {
  if (status !== 'accepted') return undefined;
  // No room yet (its create event): no extremities, so no child to look for.
  return extremitiesAfter(room?.forwardExtremities ?? [], event, (ids) => ctx.store.getEvents(ids));
}
