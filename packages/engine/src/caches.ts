/**
 * Every cache of the engine, in one place, each bounded (the store keeps its own: see
 * `docs/architecture.md` › Caches). None is needed for correctness: each holds what can be read
 * again from the store.
 *
 * | cache | key → value | bound |
 * |---|---|---|
 * | `views` | event ID → parsed {@link RoomEvent} | `limits.eventCacheSize` (default 50,000) |
 * | `stateAfter` | event ID → snapshot of the state after it (where one was written) | {@link STATE_AFTER_CACHE_SIZE} |
 * | `resolution` | room ID → state resolution's event cache | {@link RESOLUTION_CACHE_ROOMS} rooms |
 * | `serverCounts` | room ID → joined members per server at a snapshot | {@link SERVER_COUNTS_CACHE_ROOMS} rooms |
 * | `noParked` | room IDs known to have no parked events | {@link NO_PARKED_ROOMS} rooms |
 *
 * @module
 */
import { type RoomEvent, toRoomEvent } from '@roomgraph/events';
import type { JsonObject } from '@roomgraph/canonical-json';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { ResolutionCache } from '@roomgraph/state-res';
import { LruCache, type SnapshotId } from '@roomgraph/store';
import type { EngineLimits } from './types.js';

/** Default bound of the parsed-event cache. */
export const DEFAULT_EVENT_CACHE_SIZE = 50_000;
/** Bound of the event → state-after snapshot cache. */
export const STATE_AFTER_CACHE_SIZE = 200_000;
/** Rooms whose state-resolution cache is kept. */
export const RESOLUTION_CACHE_ROOMS = 1_000;
/** Rooms whose per-server member counts are kept. */
export const SERVER_COUNTS_CACHE_ROOMS = 1_000;
/** Rooms remembered as having nothing parked. */
export const NO_PARKED_ROOMS = 100_000;

/** Joined members per server of a room, as of one current-state snapshot. */
export interface ServerCounts {
  /** The snapshot the counts describe. */
  snapshot: SnapshotId;
  /** Server name → joined members. */
  readonly counts: Map<string, number>;
}

/** The engine's caches (see the module comment for the list and bounds). */
/** Invites remembered (the newest; an older one can still be rejected with an explicit `via`). */
export const INVITES_KEPT = 10_000;

/** An invite for a local user received over federation (`PUT /v2/invite`), as countersigned. */
export interface ReceivedInvite {
  /** The room invited to. */
  readonly roomId: string;
  /** The invited local user. */
  readonly userId: string;
  /** Who invited (a user of the inviting server). */
  readonly sender: string;
  /** The invite event's ID. */
  readonly eventId: string;
  /** The room's version. */
  readonly roomVersion: string;
  /** The invite event, with this server's signature added. */
  readonly event: JsonObject;
  /** The stripped state the inviting server sent (`invite_room_state`). */
  readonly inviteRoomState: readonly JsonObject[];
}

export class EngineCaches {
  /** event ID → parsed event. */
  readonly views: LruCache<string, RoomEvent>;
  /** event ID → snapshot holding the state after it (only where one was written). */
  readonly stateAfter = new LruCache<string, SnapshotId>(STATE_AFTER_CACHE_SIZE);
  /** room ID → state resolution's cache. */
  readonly resolution = new LruCache<string, ResolutionCache>(RESOLUTION_CACHE_ROOMS);
  /** room ID → joined members per server (see `federation/servers.ts`). */
  readonly serverCounts = new LruCache<string, ServerCounts>(SERVER_COUNTS_CACHE_ROOMS);
  /** Rooms with no parked events (so the store need not be scanned after every event). */
  readonly noParked = new LruCache<string, true>(NO_PARKED_ROOMS);
  /** Invites received for local users of rooms this server may not be in (`join/invite.ts`), by `roomId\0userId`. */
  readonly invites = new Map<string, ReceivedInvite>();

  /** Remembers an invite (the oldest is forgotten past {@link INVITES_KEPT}). */
  rememberInvite(invite: ReceivedInvite): void {
    const key = `${invite.roomId}\u0000${invite.userId}`;
    this.invites.delete(key);
    this.invites.set(key, invite);
    if (this.invites.size > INVITES_KEPT) this.invites.delete(this.invites.keys().next().value!);
  }

  constructor(limits?: EngineLimits) {
    this.views = new LruCache(limits?.eventCacheSize ?? DEFAULT_EVENT_CACHE_SIZE);
  }

  /** The parsed view of a stored event. */
  view(e: { readonly eventId: string; readonly json: JsonObject }, rules: RoomVersionRules): RoomEvent {
    let v = this.views.get(e.eventId);
    if (v === undefined) {
      v = toRoomEvent(e.json, rules, e.eventId);
      this.views.set(e.eventId, v);
    }
    return v;
  }

  /** The room's resolution cache, forgetting which events were missing (they may have arrived). */
  resolutionOf(roomId: string): ResolutionCache {
    let c = this.resolution.get(roomId);
    if (c === undefined) {
      c = new ResolutionCache();
      this.resolution.set(roomId, c);
    }
    c.forgetMissing();
    return c;
  }
}
