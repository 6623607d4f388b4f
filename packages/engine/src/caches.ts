/**
 * Every cache of the engine, in one place, each bounded (the store keeps its own: see
 * `docs/architecture.md` › Caches). None is needed for correctness: each holds what can be read
 * again from the store. The bounds are {@link EngineCacheSizes}, set with
 * `RoomEngineOptions.limits.caches` (defaults: {@link DEFAULT_ENGINE_CACHE_SIZES}).
 *
 * | cache | key → value | bound |
 * |---|---|---|
 * | `views` | event ID → parsed {@link RoomEvent} | `events` (default 50,000; `limits.eventCacheSize` also sets it) |
 * | `stateAfter` | event ID → snapshot of the state after it (where one was written) | `stateAfter` (default 200,000) |
 * | `resolution` | room ID → state resolution's cache (events, sender power, rejected events) | `resolutionRooms` (default 100) rooms × `resolutionEventsPerRoom` (default 10,000) events |
 * | `serverCounts` | room ID → joined members per server at a snapshot | `serverCountsRooms` (default 1,000) rooms |
 * | `noParked` | room IDs known to have no parked events | `noParkedRooms` (default 100,000) rooms |
 * | `invites` | room and user → an invite received for a local user | `invites` (default 10,000) |
 *
 * @module
 */
import { type RoomEvent, toRoomEvent } from '@roomgraph/events';
import type { JsonObject } from '@roomgraph/canonical-json';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { ResolutionCache } from '@roomgraph/state-res';
import { LruCache, type SnapshotId } from '@roomgraph/store';
import { EngineError } from './errors.js';
import type { EngineCacheSizes, EngineLimits } from './types.js';

/** The default bounds of the engine's caches (see {@link EngineCacheSizes}). */
export const DEFAULT_ENGINE_CACHE_SIZES: Readonly<Required<EngineCacheSizes>> = Object.freeze({
  events: 50_000,
  stateAfter: 200_000,
  resolutionRooms: 100,
  resolutionEventsPerRoom: 10_000,
  serverCountsRooms: 1_000,
  noParkedRooms: 100_000,
  invites: 10_000,
});

/**
 * The bounds in effect: `limits.caches` over the defaults (`limits.eventCacheSize` sets `events` too).
 * @throws {@link EngineError} `ENGINE_INVALID_ARGUMENT` for a bound that is not a positive integer.
 */
export function cacheSizesOf(limits: EngineLimits | undefined): Readonly<Required<EngineCacheSizes>> {
  const given = limits?.caches ?? {};
  const sizes: Required<EngineCacheSizes> = {
    ...DEFAULT_ENGINE_CACHE_SIZES,
    ...(limits?.eventCacheSize !== undefined ? { events: limits.eventCacheSize } : {}),
    ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)),
  };
  for (const [k, v] of Object.entries(sizes)) {
    if (!Number.isInteger(v) || v < 1) throw new EngineError('ENGINE_INVALID_ARGUMENT', `limits.caches.${k} must be a positive integer, not ${String(v)}`);
  }
  return Object.freeze(sizes);
}

/** One room's state resolution cache, and which of the events it holds were rejected. */
export interface RoomResolutionCache {
  /** State resolution's memo (bounded by `resolutionEventsPerRoom`). */
  readonly cache: ResolutionCache;
  /**
   * IDs of loaded events that were rejected (state resolution asks synchronously; an event kept in
   * `cache` from an earlier resolution must still answer). Bounded like the cache's events.
   */
  readonly rejected: Set<string>;
}

/** Joined members per server of a room, as of one current-state snapshot. */
export interface ServerCounts {
  /** The snapshot the counts describe. */
  snapshot: SnapshotId;
  /** Server name → joined members. */
  readonly counts: Map<string, number>;
}

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

/** The engine's caches (see the module comment for the list and bounds). */
export class EngineCaches {
  /** The bounds in effect. */
  readonly sizes: Readonly<Required<EngineCacheSizes>>;
  /** event ID → parsed event. */
  readonly views: LruCache<string, RoomEvent>;
  /** event ID → snapshot holding the state after it (only where one was written). */
  readonly stateAfter: LruCache<string, SnapshotId>;
  /** room ID → state resolution's cache. */
  readonly resolution: LruCache<string, RoomResolutionCache>;
  /** room ID → joined members per server (see `federation/servers.ts`). */
  readonly serverCounts: LruCache<string, ServerCounts>;
  /** Rooms with no parked events (so the store need not be scanned after every event). */
  readonly noParked: LruCache<string, true>;
  /** Invites received for local users of rooms this server may not be in (`join/invite.ts`), by `roomId\0userId`; the newest `invites`. */
  readonly invites = new Map<string, ReceivedInvite>();

  /** Remembers an invite (the oldest is forgotten past the `invites` bound; it can still be rejected with an explicit `via`). */
  rememberInvite(invite: ReceivedInvite): void {
    const key = `${invite.roomId}\u0000${invite.userId}`;
    this.invites.delete(key);
    this.invites.set(key, invite);
    if (this.invites.size > this.sizes.invites) this.invites.delete(this.invites.keys().next().value!);
  }

  /** @param limits - the engine's limits (`caches`, `eventCacheSize`). */
  constructor(limits?: EngineLimits) {
    this.sizes = cacheSizesOf(limits);
    this.views = new LruCache(this.sizes.events);
    this.stateAfter = new LruCache(this.sizes.stateAfter);
    this.resolution = new LruCache(this.sizes.resolutionRooms);
    this.serverCounts = new LruCache(this.sizes.serverCountsRooms);
    this.noParked = new LruCache(this.sizes.noParkedRooms);
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
  resolutionOf(roomId: string): RoomResolutionCache {
    let c = this.resolution.get(roomId);
    if (c === undefined || c.rejected.size > this.sizes.resolutionEventsPerRoom) {
      // Past its bound the rejected set starts again, with the events it describes.
      c = { cache: new ResolutionCache({ maxEvents: this.sizes.resolutionEventsPerRoom }), rejected: new Set() };
      this.resolution.set(roomId, c);
    }
    c.cache.forgetMissing();
    return c;
  }
}
