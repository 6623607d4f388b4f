/**
 * Small readings of stored events shared by the engine's modules: whether a record counts as
 * rejected, whether an outlier may be promoted, the user a member event joins, and a state overlay
 * built from stored state events. (The spec treats a rejected event as not part of the room's
 * state: Server-Server API › Rejection.)
 *
 * @module
 */
import { compareCodePoints, isJsonObject } from '@roomgraph/canonical-json';
import { stateKeyOf } from '@roomgraph/events';
import type { StoredEvent } from '@roomgraph/store';


/** Whether a stored event was rejected (as a timeline event, or as an outlier). */
export const isRejectedStatus = (e: StoredEvent): boolean => e.status === 'rejected' || (e.status === 'outlier' && e.rejection !== undefined);

/** A stored outlier that was not rejected: a normal delivery with its state known promotes it. */
export const isPromotableOutlier = (e: StoredEvent): boolean => e.status === 'outlier' && e.rejection === undefined;

/** The user a stored member event has joined, if it is a join. */
export function joinedUser(e: StoredEvent | undefined): string | undefined {
  if (e === undefined || e.stateKey === undefined || e.type !== 'm.room.member') return undefined;
  const content = e.json['content'];
  return isJsonObject(content) && content['membership'] === 'join' ? e.stateKey : undefined;
}

/** A state overlay of stored state events (rejected ones are not state). */
export function overlayOf(events: Iterable<StoredEvent>): Map<string, string | null> {
  const overlay = new Map<string, string | null>();
  for (const e of events) if (e.stateKey !== undefined && !isRejectedStatus(e)) overlay.set(stateKeyOf(e.type, e.stateKey), e.eventId);
  return overlay;
}

/** Orders PDUs oldest first: by depth, then event ID in code point order (how fetched batches are processed). */
export function byDepthThenId(a: { readonly depth: number; readonly eventId: string }, b: { readonly depth: number; readonly eventId: string }): number {
  return a.depth - b.depth || compareCodePoints(a.eventId, b.eventId);
}

/** Orders events newest first: by depth descending, then event ID in code point order (prev events of a new event). */
export function byDepthDescThenId(a: { readonly depth: number; readonly eventId: string }, b: { readonly depth: number; readonly eventId: string }): number {
  return b.depth - a.depth || compareCodePoints(a.eventId, b.eventId);
}
