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

/** Notifications the engine emits to embedders, in commit order. */
export type EngineNotification =
  | { readonly kind: 'event'; readonly roomId: string; readonly eventId: string; readonly status: PduStatus; readonly rule?: OutcomeRule; readonly event: JsonObject }
  | { readonly kind: 'state'; readonly roomId: string; readonly changed: ReadonlyMap<string, { readonly from: string | undefined; readonly to: string | undefined }> }
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
  /** Parsed-event cache size (default 50,000). */
  readonly eventCacheSize?: number;
}

/** Everything a {@link RoomEngine} needs. It depends on these interfaces only. */
export interface RoomEngineOptions {
  /** This server's name. */
  readonly serverName: string;
  /** This server's signing key (needed for local events and for serving keys). */
  readonly signingKey?: SigningKey;
  /** Where events and state are kept. The engine opens it if needed. */
  readonly store: RoomStore;
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

/** A new room: {@link RoomEngine.createRoom}. */
export interface CreateRoomTemplate {
  /** The room version (default `"12"`). */
  readonly roomVersion?: string;
  /** The creator: a user of this server. */
  readonly creator: string;
  /** `public` (default) or `invite`, `knock`, ... */
  readonly joinRule?: string;
  /** Extra content of the create event (e.g. `additional_creators`). */
  readonly createContent?: JsonObject;
  /** Power levels content (default: creator 100 in v1–v11, nothing for creators in v12). */
  readonly powerLevels?: JsonObject;
  /** v1–v11 only: the room ID's opaque part (default random). */
  readonly roomIdLocalpart?: string;
}
