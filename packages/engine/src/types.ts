/**
 * Public types of the room engine.
 * @module
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import type { SigningKey } from '@roomgraph/crypto';
import type { RoomVersionRegistry } from '@roomgraph/room-versions';
import type { RoomStore } from '@roomgraph/store';
import type { KeySource, Transport } from '@roomgraph/transport';
import type { OutcomeRule } from './outcome-codes.js';

/** How a received PDU ended. */
export type PduStatus = 'accepted' | 'rejected' | 'soft-failed' | 'outlier' | 'dropped' | 'parked';

/** The result of handing one PDU to the engine. */
export interface PduOutcome {
  /** The event ID (computed for v3+; `""` when the PDU was too malformed to have one). */
  readonly eventId: string;
  /** What happened to it. */
  readonly status: PduStatus;
  /**
   * For rejected / soft-failed / dropped / parked events: the rule or check that decided — an
   * authorization rule code or an engine outcome code (see {@link OutcomeRule}; `docs/errors.md`).
   */
  readonly rule?: OutcomeRule;
  /** Human-readable reason. */
  readonly reason?: string;
  /** `true` when the event was already stored (re-delivery): `status` is the stored one. */
  readonly duplicate?: boolean;
  /**
   * `true` when the event was stored as an outlier (known without its state) and this delivery
   * gave it its state and `status` and added it to the room's timeline ("de-outliered").
   */
  readonly promoted?: boolean;
  /** `true` when the content hash did not match and the event was redacted before storing. */
  readonly redactedOnReceipt?: boolean;
}

/** One entry of a room's current state that changed (a `state` notification). */
export interface StateChange {
  /** The event type. */
  readonly type: string;
  /** The state key. */
  readonly stateKey: string;
  /** The event that held the entry before (absent: the entry is new). */
  readonly from?: string;
  /** The event that holds it now (absent: the entry is gone). */
  readonly to?: string;
}

/**
 * Notifications the engine emits to embedders, in commit order: an event stored (`event`), the
 * forward extremities moved (`extremities`), the current state changed (`state`: the changed
 * entries, sorted by type then state key).
 */
export type EngineNotification =
  | { readonly kind: 'event'; readonly roomId: string; readonly eventId: string; readonly status: PduStatus; readonly rule?: OutcomeRule; readonly event: JsonObject }
  | { readonly kind: 'state'; readonly roomId: string; readonly changed: readonly StateChange[] }
  | { readonly kind: 'extremities'; readonly roomId: string; readonly forwardExtremities: readonly string[] };

/** Options of {@link RoomEngine.receivePdus}. */
export interface ReceiveOptions {
  /**
   * Trusted import: skip the signature and content hash checks (for events from the embedder's own
   * storage or backups). Format and every auth check still run.
   */
  readonly trusted?: boolean;
  /**
   * How many following PDUs are prepared ahead (default 32; 0 = none): parsed, their signatures
   * verified on the crypto thread pool, and the events they cite read into the store's cache.
   */
  readonly lookahead?: number;
}

/** Limits the engine applies. */
export interface EngineLimits {
  /** Maximum events asked for in one `get_missing_events` (default 100). */
  readonly maxMissingEvents?: number;
  /** Maximum `prev_events` of a local event (default 10; the spec's hard limit is 20). */
  readonly maxPrevEvents?: number;
  /**
   * Maximum parked events per room (default 10,000): past it, a received event that would be
   * parked (its prev or auth events could not be had) is dropped instead, with rule `park.full` —
   * so a server sending events that cite what nobody has cannot fill the store.
   */
  readonly maxParkedPerRoom?: number;
  /** Parsed-event cache size (default 50,000); the same as `caches.events`. */
  readonly eventCacheSize?: number;
  /** Bounds of the engine's caches (each defaults to `DEFAULT_ENGINE_CACHE_SIZES`). */
  readonly caches?: EngineCacheSizes;
}

/**
 * Bounds of the engine's caches (every cache of the engine is bounded; none is needed for
 * correctness: a smaller bound costs store reads, never a wrong answer). Positive integers.
 */
export interface EngineCacheSizes {
  /** Parsed events (default 50,000). */
  readonly events?: number;
  /** Event → snapshot of the state after it (default 200,000). */
  readonly stateAfter?: number;
  /** Rooms whose state resolution cache is kept (default 100, least recently used first out). */
  readonly resolutionRooms?: number;
  /** Events (and sender power levels, and rejected event IDs) kept per room between resolutions (default 10,000). */
  readonly resolutionEventsPerRoom?: number;
  /** Rooms whose joined members per server are kept (default 1,000). */
  readonly serverCountsRooms?: number;
  /** Rooms whose current-state member keys are kept grouped by server, so a server's request reads its own members' entries only (default 100; an entry holds the room's member keys). */
  readonly memberKeysRooms?: number;
  /** Rooms remembered as having nothing parked (default 100,000). */
  readonly noParkedRooms?: number;
  /** Rooms whose parked events' dependencies are kept, so a retry looks only at the ones an event stored since may free (default 100; a few hundred bytes per parked event, up to `limits.maxParkedPerRoom` per room; a room evicted reads its park again when next touched). */
  readonly parkedRooms?: number;
  /** Rooms whose cited prev events are kept, so finding the backward extremities reads only the events stored since (default 1,000; an entry holds the room's backward extremities). */
  readonly backwardRooms?: number;
  /** Invites received for local users that are remembered (default 10,000). */
  readonly invites?: number;
  /** Rooms whose version is remembered, so that identifying a received PDU needs no store read (default 10,000). */
  readonly roomVersions?: number;
}

/** Everything a {@link RoomEngine} needs. It depends on these interfaces only. */
export interface RoomEngineOptions {
  /** This server's name. */
  readonly serverName: string;
  /** This server's signing key (needed for local events and for serving keys). */
  readonly signingKey?: SigningKey;
  /**
   * Where events and state are kept. It stays the caller's: `RoomEngine.open` opens it if it is
   * not open, and `close()` leaves it open unless {@link RoomEngineOptions.ownsStore} is `true`.
   */
  readonly store: RoomStore;
  /**
   * `true`: the engine owns the store, and `RoomEngine.close` closes it too. Default `false`: the
   * caller closes the store (after closing the engine).
   */
  readonly ownsStore?: boolean;
  /** How other servers are reached (missing events, state). Optional: without it, gaps park events. */
  readonly transport?: Transport;
  /** Where other servers' public keys come from. */
  readonly keys: KeySource;
  /** Room versions this server supports (default: 1–12). */
  readonly roomVersions?: RoomVersionRegistry;
  /** Limits. */
  readonly limits?: EngineLimits;
  /** Clock (ms since epoch), for local events and key validity. */
  readonly now?: () => number;
}

/** A local event to create: {@link RoomEngine.createLocalEvent}. */
export interface LocalEventTemplate {
  /** The event type. */
  readonly type: string;
  /** The state key (omit for a non-state event). */
  readonly stateKey?: string;
  /** The sender: a user of this server. */
  readonly sender: string;
  /** The content. */
  readonly content: JsonObject;
  /** For `m.room.redaction`: the redacted event. */
  readonly redacts?: string;
  /** Override `prev_events` (default: the forward extremities, newest first, bounded). */
  readonly prevEvents?: readonly string[];
  /** Override `origin_server_ts` (default: the clock). */
  readonly originServerTs?: number;
}

/**
 * A preset of Client-Server API › `POST /createRoom`: which join rule, history visibility and guest
 * access a new room gets (see {@link CreateRoomTemplate.preset}).
 */
export type RoomPreset = 'private_chat' | 'trusted_private_chat' | 'public_chat';

/** A new room: {@link RoomEngine.createRoom}. */
export interface CreateRoomTemplate {
  /** The room version (default `"12"`). */
  readonly roomVersion?: string;
  /** The creator: a user of this server. */
  readonly creator: string;
  /**
   * The preset, as `POST /createRoom` has it (default `private_chat`: an invite-only room):
   *
   * - `private_chat`: join rule `invite`, history visibility `shared`, guest access `can_join`;
   * - `trusted_private_chat`: the same, and the invitees ({@link CreateRoomTemplate.invite}) get
   *   the creator's power (power level 100 in v1–v11; additional creators in v12);
   * - `public_chat`: join rule `public`, history visibility `shared`, guest access `forbidden` (no
   *   `m.room.guest_access` event).
   *
   * The power levels' `invite` level is 0 for the private presets and 50 for `public_chat`.
   */
  readonly preset?: RoomPreset;
  /** A join rule instead of the preset's (e.g. `knock`); `{ join_rule }` is the whole content. */
  readonly joinRule?: string;
  /** Users to invite once the room is set up, as the creator (remote users through their server). */
  readonly invite?: readonly string[];
  /** Extra content of the create event (e.g. `additional_creators`). */
  readonly createContent?: JsonObject;
  /** Power levels content (default: creator 100 in v1–v11, nothing for creators in v12; see {@link CreateRoomTemplate.preset}). Used as given. */
  readonly powerLevels?: JsonObject;
  /** v1–v11 only: the room ID's opaque part (default random). */
  readonly roomIdLocalpart?: string;
}
