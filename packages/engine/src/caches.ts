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
 * | `resolution` | room ID → state resolution's cache (events, sender power, rejected events; the current state last resolved, with the identity of its states) | `resolutionRooms` (default 100) rooms × `resolutionEventsPerRoom` (default 10,000) events |
 * | `serverCounts` | room ID → joined members per server at a snapshot | `serverCountsRooms` (default 1,000) rooms |
 * | `memberKeys` | room ID → its current state's member keys by server, at a snapshot (`federation/servers.ts`: what a server may see, without scanning every member per request) | `memberKeysRooms` (default 100) rooms × their members |
 * | `noParked` | room IDs known to have no parked events | `noParkedRooms` (default 100,000) rooms |
 * | `parked` | room ID → its parked events' dependencies, and the parked events citing each (`receipt/parked.ts`) | `parkedRooms` (default 100) rooms × `limits.maxParkedPerRoom` (default 10,000) parked events |
 * | `backward` | room ID → the prev events its stored events cite, as of a stream position (`backfill.ts`: the backward extremities without reading the whole timeline at each backfill) | `backwardRooms` (default 1,000) rooms × the room's backward extremities |
 * | `invites` | room and user → an invite received for a local user | `invites` (default 10,000) |
 * | `roomRules` | room ID → its version's rules (`receipt/identify.ts`) | `roomVersions` (default 10,000) |
 *
 * **A store shared by several processes** (PostgreSQL: `RoomStore.lockRoom`). Another process may
 * change a room whenever this one does not hold its lock; the engine holds it around every write
 * section, and {@link EngineCaches.forgetRoomFacts} runs under it, before a section, whenever the
 * lock was taken anew (`RoomLockHandle.continues` is not `true`). What each cache holds:
 *
 * - `views`, `stateAfter`: immutable — an event's content under its ID, and the snapshot written
 *   with an event's one real commit (snapshot IDs are never reused). Kept.
 * - `resolution`: loaded events and their senders' power are immutable; whether an event is
 *   rejected is final except for an outlier, which a promotion (in any process) may reject. The
 *   room's entry is forgotten when it loaded such an outlier.
 * - `serverCounts`: keyed by the current-state snapshot it describes, which is read from the store
 *   each time (the store caches no room record another process can change). Kept.
 * - `memberKeys`: keyed by the current-state snapshot it describes, read from the store each time
 *   and moved forward through state diffs. Kept.
 * - `noParked`: "nothing parked" — another process may have parked an event since. Forgotten.
 * - `parked`: the room's park as this process last read it — another process may have parked or
 *   taken events since. Forgotten.
 * - `backward`: read forward from a room stream position; another process's commits (and
 *   promotions: a changed event moves to a new stream position) come after it. Kept.
 * - `invites`: the store's invites (`RoomStore.listInvites`), loaded once on first use
 *   (`join/pending-invites.ts`) and written through; an invite another process receives later is
 *   not seen here until this one restarts.
 * - `roomRules`: a room's version never changes, and only rooms the store knows are remembered. Kept.
 *
 * The room record (forward extremities, current state) is not cached by the engine: it is read
 * from the store, which reads it from the database unless this process holds the room's lock.
 *
 * @module
 */
import { type RoomEvent, toRoomEvent } from '@roomgraph/events';
import { type JsonObject, isJsonObject } from '@roomgraph/canonical-json';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { ResolutionCache } from '@roomgraph/state-res';
import { LruCache, type SnapshotId } from '@roomgraph/store';
import { EngineError } from './errors.js';
import type { BackwardIndex } from './backfill.js';
import type { ParkedIndex } from './receipt/parked.js';
import type { EngineCacheSizes, EngineLimits } from './types.js';

/** The default bounds of the engine's caches (see {@link EngineCacheSizes}). */
export const DEFAULT_ENGINE_CACHE_SIZES: Readonly<Required<EngineCacheSizes>> = Object.freeze({
  events: 50_000,
  stateAfter: 200_000,
  resolutionRooms: 100,
  resolutionEventsPerRoom: 10_000,
  serverCountsRooms: 1_000,
  memberKeysRooms: 100,
  noParkedRooms: 100_000,
  parkedRooms: 100,
  backwardRooms: 1_000,
  invites: 10_000,
  roomVersions: 10_000,
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
  /**
   * IDs of loaded events that were outliers not rejected when loaded: a promotion may still reject
   * them (see {@link EngineCaches.forgetRoomFacts}; this engine's own promotions update `rejected`).
   */
  readonly unsettled: Set<string>;
  /**
   * The room's current state as this process last resolved it (`receipt/commit.ts`): the
   * identity of the states it was resolved from (`state/resolve.ts` `stateSetKey`) and the
   * snapshot written for it. Forgotten with the cache, and when an outlier of the room is promoted.
   */
  current?: { readonly key: string; readonly snapshot: SnapshotId } | undefined;
}

/** Joined members per server of a room, as of one current-state snapshot. */
export interface ServerCounts {
  /** The snapshot the counts describe. */
  snapshot: SnapshotId;
  /** Server name → joined members. */
  readonly counts: Map<string, number>;
}

/** The member state keys of a room's current state, grouped by their user's server (`federation/servers.ts`). */
export interface MemberKeys {
  /** The snapshot the keys describe. */
  snapshot: SnapshotId;
  /** Server name → the member state keys of its users. */
  readonly byServer: Map<string, Set<string>>;
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

/** The key of {@link EngineCaches.invites} for `userId`'s invite to `roomId`. */
export function inviteKey(roomId: string, userId: string): string {
  return `${roomId}\u0000${userId}`;
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
  /** room ID → its current state's member keys by server (see `federation/servers.ts`). */
  readonly memberKeys: LruCache<string, MemberKeys>;
  /** Rooms with no parked events (so the store need not be scanned after every event). */
  readonly noParked: LruCache<string, true>;
  /** room ID → what the retries know of its parked events (`receipt/parked.ts`). */
  readonly parked: LruCache<string, ParkedIndex>;
  /** room ID → the prev events its stored events cite (`backfill.ts`). */
  readonly backward: LruCache<string, BackwardIndex>;
  /**
   * room ID → its version's rules, for rooms the store knows (a room's version never changes):
   * identifying a received PDU then reads nothing from the store (`receipt/identify.ts`).
   */
  readonly roomRules: LruCache<string, RoomVersionRules>;
  /** Invites received for local users of rooms this server may not be in (`join/invite.ts`), by {@link inviteKey}; the newest `invites`. */
  readonly invites = new Map<string, ReceivedInvite>();

  /** Whether {@link invites} holds the store's invites (`join/pending-invites.ts` loads them on first use). */
  invitesLoaded = false;
  /** The load of the store's invites under way, if any. */
  invitesLoading: Promise<void> | undefined;

  /**
   * Remembers an invite; past the `invites` bound the oldest is forgotten and returned (it can
   * still be rejected with an explicit `via`).
   */
  rememberInvite(invite: ReceivedInvite): ReceivedInvite | undefined {
    const key = inviteKey(invite.roomId, invite.userId);
    this.invites.delete(key);
    this.invites.set(key, invite);
    if (this.invites.size <= this.sizes.invites) return undefined;
    const [oldestKey, oldest] = this.invites.entries().next().value!;
    this.invites.delete(oldestKey);
    return oldest;
  }

  /**
   * Forgets the invite of a user to `roomId` once an accepted membership event of theirs other
   * than an invite, and deeper than the invite, is stored (they joined, left, knocked or were
   * banned after it): it is not pending any more; `true` when it forgot one. An older one (a leave
   * delivered after a new invite) leaves it. (`join/pending-invites.ts` calls it for the accepted
   * membership events of local users.)
   */
  membershipStored(roomId: string, json: JsonObject): boolean {
    if (this.invites.size === 0 || json['type'] !== 'm.room.member') return false;
    const key = inviteKey(roomId, String(json['state_key']));
    const invite = this.invites.get(key);
    if (invite === undefined) return false;
    const content = json['content'];
    const depth = json['depth'];
    const invitedAt = invite.event['depth'];
    return isJsonObject(content) && content['membership'] !== 'invite' && typeof depth === 'number' && typeof invitedAt === 'number' && depth > invitedAt && this.invites.delete(key);
  }

  /** @param limits - the engine's limits (`caches`, `eventCacheSize`). */
  constructor(limits?: EngineLimits) {
    this.sizes = cacheSizesOf(limits);
    this.views = new LruCache(this.sizes.events);
    this.stateAfter = new LruCache(this.sizes.stateAfter);
    this.resolution = new LruCache(this.sizes.resolutionRooms);
    this.serverCounts = new LruCache(this.sizes.serverCountsRooms);
    this.memberKeys = new LruCache(this.sizes.memberKeysRooms);
    this.noParked = new LruCache(this.sizes.noParkedRooms);
    this.parked = new LruCache(this.sizes.parkedRooms);
    this.backward = new LruCache(this.sizes.backwardRooms);
    this.roomRules = new LruCache(this.sizes.roomVersions);
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

  /**
   * Forgets what the caches hold about a room's mutable facts: called under the room's lock when
   * it was taken anew in a store shared by several processes (another process may have changed
   * the room since this one last held the lock). The room's "nothing parked" goes (an event may
   * have been parked since); its resolution cache goes if it loaded outliers that a promotion may
   * since have rejected. Everything else the caches hold is immutable (see the module comment).
   */
  forgetRoomFacts(roomId: string): void {
    this.noParked.delete(roomId);
    this.parked.delete(roomId);
    const c = this.resolution.peek(roomId);
    if (c !== undefined && c.unsettled.size > 0) this.resolution.delete(roomId);
  }

  /**
   * Records this engine's commit of an event that may be in the room's resolution cache as an
   * outlier (a promotion): its status is settled now.
   */
  settled(roomId: string, eventId: string, rejected: boolean): void {
    const c = this.resolution.peek(roomId);
    if (c === undefined) return;
    c.current = undefined; // (a promotion may reject an event a resolution used)
    if (!c.unsettled.delete(eventId)) return;
    if (rejected) c.rejected.add(eventId);
    else c.rejected.delete(eventId);
  }

  /**
   * Remembers that the room's current state `snapshot` is the resolution of the states with
   * identity `key` (kept with the room's resolution cache; see {@link RoomResolutionCache.current}).
   */
  resolvedCurrent(roomId: string, key: string, snapshot: SnapshotId): void {
    const c = this.resolution.peek(roomId);
    if (c !== undefined) c.current = { key, snapshot };
  }

  /** The room's resolution cache, forgetting which events were missing (they may have arrived). */
  resolutionOf(roomId: string): RoomResolutionCache {
    let c = this.resolution.get(roomId);
    if (c === undefined || c.rejected.size + c.unsettled.size > this.sizes.resolutionEventsPerRoom) {
      // Past its bound the rejected set starts again, with the events it describes.
      c = { cache: new ResolutionCache({ maxEvents: this.sizes.resolutionEventsPerRoom }), rejected: new Set(), unsettled: new Set() };
      this.resolution.set(roomId, c);
    }
    c.cache.forgetMissing();
    return c;
  }
}
