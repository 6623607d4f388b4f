/**
 * The storage contract the room engine depends on (consumer API).
 *
 * Style follows abstract-level (architecture §1.5): a capability manifest (`supports`), typed
 * errors with stable codes ({@link StoreError}), `open()`/`close()`, bulk reads, and exactly one
 * atomic write per event ({@link RoomStore.commit}). State is stored as immutable snapshots made of
 * layered deltas with bounded depth (architecture §5.4); snapshot IDs are opaque numbers.
 *
 * State keys everywhere in this API are the injective strings made by `stateKeyOf(type, stateKey)`
 * from `@roomgraph/events`; values are event IDs.
 *
 * @module
 */
import type { RoomEvent } from '@roomgraph/events';

/** An event ID (`$...`). */
export type EventId = string;
/** A room ID (`!...`). */
export type RoomId = string;
/** A state key as made by `stateKeyOf(type, state_key)` from `@roomgraph/events`. */
export type StateKey = string;
/**
 * Opaque identifier of an immutable state snapshot, allocated by the store. Only meaningful to
 * the store that allocated it; never reused for different content.
 */
export type SnapshotId = number;
/** The PDU JSON object type (the same as {@link RoomEvent.json}). */
export type PduJson = RoomEvent['json'];

/** What the engine decided about an event. */
export type EventStatus = 'accepted' | 'rejected' | 'soft-failed' | 'outlier';

/** Why an event was rejected (or soft-failed): a stable rule code and a human-readable reason. */
export interface EventRejection {
  /** A stable rule code, e.g. `member.join.banned` (the auth package's `AuthRuleCode`). */
  readonly rule: string;
  /** Human-readable explanation. */
  readonly reason?: string;
}

/** An event as stored. Immutable; safe to share. */
export interface StoredEvent {
  /** The event ID. */
  readonly eventId: EventId;
  /** The room the event was committed to (the commit's `roomId`, also for v12 create events). */
  readonly roomId: RoomId;
  /** The stored (possibly redacted) PDU JSON. */
  readonly json: PduJson;
  /** The event type. */
  readonly type: string;
  /** The state key, or `undefined` for a non-state event. */
  readonly stateKey: string | undefined;
  /** `depth` as given by the event view. */
  readonly depth: number;
  /** IDs of `prev_events`. */
  readonly prevEvents: readonly EventId[];
  /** IDs of `auth_events` (the store answers {@link RoomStore.getAuthChain} from these). */
  readonly authEvents: readonly EventId[];
  /** The engine's verdict. */
  readonly status: EventStatus;
  /** Present when the commit gave one (normally for `rejected` / `soft-failed`). */
  readonly rejection?: EventRejection;
  /**
   * Per-room stream ordering: 1, 2, 3, … in commit order (every status, outliers included). A
   * promoted outlier (see {@link CommitResult.promoted}) moves to the stream position of the
   * promoting commit; its old position is left empty (positions are never reused).
   */
  readonly stream: number;
  /** The snapshot of the state before this event; `undefined` exactly for outliers. */
  readonly stateBefore: SnapshotId | undefined;
}

/** Room metadata kept by the store. */
export interface RoomInfo {
  /** The room ID. */
  readonly roomId: RoomId;
  /** The room version identifier (e.g. `"12"`). */
  readonly roomVersion: string;
  /** The `m.room.create` event ID. */
  readonly createEventId: EventId;
  /** The room's current state snapshot, if one has been set. */
  readonly currentState: SnapshotId | undefined;
  /** Forward extremities (a small set; order as last committed). */
  readonly forwardExtremities: readonly EventId[];
  /** Stream position of the last event committed to the room (0 = none). */
  readonly lastStream: number;
}

/** Reference to a snapshot in a commit: an existing ID, or a snapshot created earlier in the same commit. */
export type SnapshotRef = SnapshotId | { readonly ref: string };

/** Changes applied to a parent snapshot. A key both set and removed is an error. */
export interface StateChanges {
  /** Entries to set: state key → event ID. */
  readonly set?: ReadonlyMap<StateKey, EventId> | Iterable<readonly [StateKey, EventId]>;
  /** State keys to remove. */
  readonly remove?: Iterable<StateKey>;
}

/** A new snapshot created inside a commit. */
export interface NewSnapshot {
  /** Client-chosen name, unique within the commit, used by {@link SnapshotRef} and in the result. */
  readonly ref: string;
  /** Parent snapshot (existing ID or an earlier `ref` in the same commit), or `null` to start from empty state. */
  readonly parent: SnapshotRef | null;
  /** Changes over the parent. */
  readonly changes: StateChanges;
}

/** The event part of a commit. */
export interface NewEvent {
  /** The event view (the store keeps `json`, `type`, `stateKey`, `depth`, `prevEvents`, `authEvents`). */
  readonly event: RoomEvent;
  /** The engine's verdict. */
  readonly status: EventStatus;
  /** Optional rule/reason (rejected, soft-failed). */
  readonly rejection?: EventRejection;
  /** The state before the event: required unless `status` is `'outlier'`, forbidden for outliers. */
  readonly stateBefore?: SnapshotRef;
}

/**
 * Everything one event changes, written atomically: either all of it is visible after the promise
 * resolves, or (on rejection) none of it.
 */
export interface RoomCommit {
  /** The room. Must exist unless `createRoom` is given; must not exist if it is. */
  readonly roomId: RoomId;
  /** Creates the room (the first commit of a room, normally carrying the create event). */
  readonly createRoom?: { readonly roomVersion: string; readonly createEventId: EventId };
  /** The event to store. */
  readonly event: NewEvent;
  /** New snapshots, in order; each may reference earlier ones by `ref`. */
  readonly snapshots?: readonly NewSnapshot[];
  /** Replaces the room's forward extremities. Each ID must be stored or be this commit's event. */
  readonly forwardExtremities?: readonly EventId[];
  /** Replaces the room's current state pointer. */
  readonly currentState?: SnapshotRef;
}

/**
 * Result of {@link RoomStore.commit}.
 *
 * Re-delivery: if `event.event.eventId` is already stored, the commit is a no-op (nothing in it is
 * validated or applied) and the result has `duplicate: true` and the stored record.
 *
 * Promotion ("de-outliering", as Synapse does when an event known only as an outlier later arrives
 * with its prev events known): if the event is stored with status `'outlier'` and no `rejection`,
 * and the commit gives it another status (`accepted`, `rejected`, `soft-failed`), the commit is not
 * a duplicate but a real commit, validated and applied atomically like any other: the stored record
 * is replaced (new status, rejection, `stateBefore`, JSON), the event gets a new stream position
 * (`lastStream + 1`; its old position disappears from the timeline, so it is listed once), and the
 * commit's snapshots, forward extremities and current state are applied. The result has
 * `promoted: true`. The commit must name the outlier's room and the same `auth_events`
 * (`STORE_INVALID_COMMIT` otherwise). Committing a stored outlier again as `'outlier'`, or any
 * commit for a rejected outlier or an event with another status, stays a duplicate no-op.
 */
export interface CommitResult {
  /** `true` when the event was already stored and nothing was written. */
  readonly duplicate: boolean;
  /** `true` when the commit promoted a stored (non-rejected) outlier; `duplicate` is then `false`. */
  readonly promoted: boolean;
  /** The stored event record (the new one, or the existing one for duplicates). */
  readonly event: StoredEvent;
  /** IDs assigned to the commit's new snapshots, by `ref` (empty for duplicates). */
  readonly snapshots: ReadonlyMap<string, SnapshotId>;
  /** The room after the commit. */
  readonly room: RoomInfo;
}

/** Options of {@link RoomStore.commit}. */
export interface CommitOptions {
  /**
   * `true` (the default): the returned promise resolves once the commit is durable (for a
   * crash-safe store: it survives a process kill). `false` (group commit): it resolves once the
   * commit is applied — visible to every read of this store instance — and queued for writing;
   * the store may then write it together with the commits that follow, in one atomic batch.
   * Call {@link RoomStore.flush} before acknowledging such commits to anyone. Stores that do not
   * group commits treat `false` like `true`.
   */
  readonly durable?: boolean;
}

/** One entry of a state diff: the value in `a` and in `b` (`undefined` = absent). */
export type StateDiffEntry = readonly [a: EventId | undefined, b: EventId | undefined];

/** Structural information about a snapshot (for tests, benchmarks and diagnostics). */
export interface SnapshotInfo {
  /** The snapshot ID. */
  readonly id: SnapshotId;
  /** Layer depth: 0 = a full base, n = n delta layers above a base. */
  readonly depth: number;
  /** Parent layer, or `undefined` for a base. */
  readonly parent: SnapshotId | undefined;
  /** Entries held in this layer (set + removed for a delta, all entries for a base). */
  readonly layerSize: number;
}

/** Timeline iteration options. */
export interface TimelineOptions {
  /** `'forwards'` (default: ascending stream) or `'backwards'` (descending). */
  readonly direction?: 'forwards' | 'backwards';
  /** Inclusive start position; defaults to the first (forwards) or last (backwards) event. */
  readonly from?: number;
  /** Maximum number of events returned (default 100). */
  readonly limit?: number;
  /** Only return events with one of these statuses (default: all). */
  readonly statuses?: readonly EventStatus[];
}

/** A cached server signing key. */
export interface ServerKeyRecord {
  /** The server name. */
  readonly server: string;
  /** The key ID, e.g. `ed25519:abc`. */
  readonly keyId: string;
  /** The public key, unpadded base64 as in the key APIs. */
  readonly publicKey: string;
  /** `valid_until_ts`, for current keys. */
  readonly validUntilTs?: number;
  /** `expired_ts`, for old verify keys. */
  readonly expiredTs?: number;
}

/** An event received but parked (e.g. waiting for missing prev_events). */
export interface ParkedEvent {
  /** The event ID. */
  readonly eventId: EventId;
  /** The room. */
  readonly roomId: RoomId;
  /** The received PDU JSON. */
  readonly json: PduJson;
  /** The server it came from, if known. */
  readonly origin?: string;
  /** When it was received (ms since epoch). */
  readonly receivedTs: number;
}

/** An invite received for a local user (the engine's pending invites), kept across restarts. */
export interface StoredInvite {
  /** The room invited to. */
  readonly roomId: RoomId;
  /** The invited user. */
  readonly userId: string;
  /** The engine's record of the invite (JSON: the countersigned invite event, the stripped state, …). */
  readonly record: PduJson;
  /** When it was received (ms since epoch): the list's order. */
  readonly receivedTs: number;
}

/** Names a stored invite: its room and user. */
export interface InviteKey {
  /** The room invited to. */
  readonly roomId: RoomId;
  /** The invited user. */
  readonly userId: string;
}

/** abstract-level-style capability manifest. */
export interface StoreSupports {
  /** Data survives `close()` + reopen. */
  readonly persistent: boolean;
  /** Acknowledged commits survive a process kill (SIGKILL); nothing half-written is visible. */
  readonly crashSafe: boolean;
  /** Server key cache ({@link RoomStore.putServerKeys}). */
  readonly serverKeys: boolean;
  /** Parked events ({@link RoomStore.parkEvents}). */
  readonly parkedEvents: boolean;
  /** Consistent multi-read views (not implemented by the bundled stores yet). */
  readonly explicitSnapshots: boolean;
  /** A chain-cover auth index (the bundled stores walk and cache chains instead). */
  readonly authChainIndex: boolean;
}

/** Point-in-time statistics (for diagnostics and benchmarks). */
export interface StoreStats {
  /** Number of stored events. */
  readonly events: number;
  /** Number of stored snapshot layers. */
  readonly snapshots: number;
  /** Number of state entries held across all layers. */
  readonly snapshotEntries: number;
}

/**
 * The store the engine writes through. All methods reject with {@link StoreError}
 * (`STORE_NOT_OPEN` before `open()` / after `close()`). Missing things are `undefined`, not errors.
 */
export interface RoomStore {
  /** Capability manifest. */
  readonly supports: StoreSupports;
  /** `'opening' | 'open' | 'closing' | 'closed'`. */
  readonly status: 'opening' | 'open' | 'closing' | 'closed';
  /** Opens the store (idempotent). */
  open(): Promise<void>;
  /** Closes the store, waiting for in-flight commits (idempotent). */
  close(): Promise<void>;

  /**
   * Writes one event and everything it changes atomically. Validates first (`STORE_INVALID_COMMIT`,
   * `STORE_UNKNOWN_ROOM`, `STORE_ROOM_EXISTS`, `STORE_UNKNOWN_SNAPSHOT`); on any error the store is
   * unchanged. Commits are serialised by the store. Idempotent for a known event ID, except that
   * a stored outlier can be promoted once to a real status (see {@link CommitResult}).
   */
  commit(commit: RoomCommit, options?: CommitOptions): Promise<CommitResult>;

  /**
   * Optional: several commits applied in order as one block, as if by {@link RoomStore.commit}
   * one after the other (each validated against the store as the commits before it left it;
   * duplicates are no-ops with `duplicate: true`), with one result per commit. A snapshot `ref`
   * defined by a commit of the block may be used by the commits after it (refs are unique across
   * the block; each result's `snapshots` lists its own commit's refs). All or nothing: when one
   * commit is invalid, none of the block is applied and its error is thrown. Durability as for
   * `commit` (`durable: false`: applied and queued; the block's writes go to the backend together
   * where the store groups writes). Used for trusted bulk imports; callers fall back to `commit`
   * when a store lacks it.
   */
  commitMany?(commits: readonly RoomCommit[], options?: CommitOptions): Promise<CommitResult[]>;

  /**
   * Optional (group commit): resolves once every commit that has resolved so far is durable;
   * rejects with the write's {@link StoreError} if one of them could not be written (the store then
   * refuses every call with that error until it is closed and reopened, and after reopening holds
   * exactly the commits that were durable). Stores without it make every commit durable before
   * it resolves.
   */
  flush?(): Promise<void>;

  /** One event, or `undefined`. */
  getEvent(id: EventId): Promise<StoredEvent | undefined>;
  /**
   * Optional: {@link RoomStore.getEvent}'s answer where the store has it at hand without a read —
   * the record, or `null` for an ID it knows is not stored — else `undefined` (ask `getEvent`).
   * A memory store always has it; a persistent one for the records it holds in memory. Never
   * throws: a store that is not open answers `undefined` (and `getEvent` then says why).
   */
  peekEvent?(id: EventId): StoredEvent | null | undefined;
  /** Batched lookup; unknown IDs are absent from the map. */
  getEvents(ids: readonly EventId[]): Promise<ReadonlyMap<EventId, StoredEvent>>;
  /** The subset of `ids` that is stored. */
  hasEvents(ids: readonly EventId[]): Promise<ReadonlySet<EventId>>;
  /** The stored status, or `undefined` for an unknown event. */
  getStatus(id: EventId): Promise<EventStatus | undefined>;

  /** Room metadata, or `undefined`. */
  getRoom(roomId: RoomId): Promise<RoomInfo | undefined>;
  /** All room IDs known to the store. */
  listRooms(): Promise<readonly RoomId[]>;
  /** Events of a room in stream order (see {@link TimelineOptions}). */
  timeline(roomId: RoomId, options?: TimelineOptions): Promise<readonly StoredEvent[]>;

  /** Point lookups: one result per key, in order. Walks ≤ D+1 layers per key; never materialises. */
  getStateEntries(snapshot: SnapshotId, keys: readonly StateKey[]): Promise<readonly (EventId | undefined)[]>;
  /** The full state of a snapshot (LRU-cached; do not mutate). */
  loadState(snapshot: SnapshotId): Promise<ReadonlyMap<StateKey, EventId>>;
  /**
   * Optional: the state of a snapshot as a lazy map — `get`/`has` are point lookups through the
   * snapshot's few layers; the full map is built only when it is iterated or its `size` is read.
   * Lets state resolution in a 100k-member room touch only the keys it needs. Callers fall back
   * to {@link RoomStore.loadState} when a store lacks it.
   */
  stateReader?(snapshot: SnapshotId): Promise<ReadonlyMap<StateKey, EventId>>;
  /**
   * Keys whose value differs between `a` and `b`. Cost is proportional to the delta layers above
   * their common layer ancestor when they share one; otherwise a full compare.
   */
  diffStates(a: SnapshotId, b: SnapshotId): Promise<ReadonlyMap<StateKey, StateDiffEntry>>;
  /** Layer information, or `undefined` for an unknown snapshot. */
  snapshotInfo(snapshot: SnapshotId): Promise<SnapshotInfo | undefined>;

  /**
   * Every ancestor of `ids` via `auth_events` (not including `ids` themselves unless one is an
   * ancestor of another). Referenced events that are not stored are included but not expanded.
   * Results are cached per event.
   */
  getAuthChain(ids: readonly EventId[]): Promise<ReadonlySet<EventId>>;

  /** Adds or replaces cached server keys (its own small atomic batch). */
  putServerKeys(keys: readonly ServerKeyRecord[]): Promise<void>;
  /** One cached key, or `undefined`. */
  getServerKey(server: string, keyId: string): Promise<ServerKeyRecord | undefined>;
  /** All cached keys of a server. */
  getServerKeys(server: string): Promise<readonly ServerKeyRecord[]>;

  /** Persists parked events (replacing same IDs). */
  parkEvents(events: readonly ParkedEvent[]): Promise<void>;
  /** Parked events of a room, oldest first. */
  listParkedEvents(roomId: RoomId): Promise<readonly ParkedEvent[]>;
  /**
   * The parked events of a room with the IDs `eventIds` (unknown IDs are left out), in the order of
   * {@link RoomStore.listParkedEvents} — without reading the rest of the park. Optional: without
   * it, a caller filters {@link RoomStore.listParkedEvents}.
   */
  getParkedEvents?(roomId: RoomId, eventIds: readonly EventId[]): Promise<readonly ParkedEvent[]>;
  /** Removes parked events (unknown IDs are ignored). */
  deleteParkedEvents(roomId: RoomId, eventIds: readonly EventId[]): Promise<void>;

  /** Persists invites received for local users (replacing one of the same room and user); its own small atomic batch. */
  putInvites(invites: readonly StoredInvite[]): Promise<void>;
  /** Every stored invite, oldest first (by `receivedTs`, then room and user). */
  listInvites(): Promise<readonly StoredInvite[]>;
  /** Removes the invites of these rooms and users (unknown ones are ignored). */
  deleteInvites(keys: readonly InviteKey[]): Promise<void>;

  /** Counters for diagnostics. */
  stats(): Promise<StoreStats>;

  /**
   * Optional (stores that several processes share, e.g. one SQL database): takes the room's write
   * lock, which excludes every other process's holder until released. The engine holds it around
   * each read-decide-commit of the room (inside its own per-room queue), so that it never decides
   * from a room another process is changing. `release()` may return before the lock is given up:
   * the store gives it up once the commits made under it are durable. The handle says whether the
   * section continues this instance's hold ({@link RoomLockHandle.continues}); one engine per store
   * instance (the engine's caches rely on it). Stores used by one process at a time omit it.
   */
  lockRoom?(roomId: RoomId): Promise<RoomLockHandle>;
}

/** A held room write lock ({@link RoomStore.lockRoom}). */
export interface RoomLockHandle {
  /** Ends the section (idempotent). */
  release(): Promise<void>;
  /**
   * `true` when this section continues this store instance's hold on the lock: no other process
   * has held it since this instance's previous section of the room, so nobody else can have
   * changed the room (its events, its record, its parked events) in between, and what the holder
   * learnt about the room then is still true. `false` or absent: the lock was taken anew, and
   * another process may have changed the room since this instance last held it — the engine then
   * forgets what it cached about the room's mutable facts (absent counts as `false`: a store that
   * cannot tell is never trusted to).
   */
  readonly continues?: boolean;
}
