/**
 * `AbstractRoomStore`: the shared store logic (implementor API, abstract-level style).
 *
 * Public methods validate arguments, serialise commits, run the snapshot core and keep the caches;
 * a concrete store implements the narrow underscored methods, which receive exactly the documented,
 * already-validated arguments. `_write` must apply one {@link StoreWriteBatch} atomically.
 *
 * @module
 */
import { StoreError } from './errors.js';
import type {
  CommitOptions,
  CommitResult,
  EventId,
  EventStatus,
  InviteKey,
  NewSnapshot,
  ParkedEvent,
  RoomCommit,
  RoomId,
  RoomInfo,
  RoomStore,
  ServerKeyRecord,
  SnapshotId,
  SnapshotInfo,
  SnapshotRef,
  StateDiffEntry,
  StateKey,
  StoreStats,
  StoreSupports,
  StoredEvent,
  StoredInvite,
  TimelineOptions,
} from './interfaces.js';
import {
  DEFAULT_SNAPSHOT_POLICY,
  type LayerChain,
  LruCache,
  type SnapshotLayer,
  type SnapshotPolicy,
  diffChains,
  layerSize,
  lookupInChain,
  materialiseChain,
  planSnapshot,
} from './snapshots.js';

/** Everything one commit writes; a backend applies it atomically in `_write`. */
export interface StoreWriteBatch {
  /** New event records (exactly one for a commit). A record may replace a stored one (see `replaced`). */
  readonly events: readonly StoredEvent[];
  /**
   * The previous records of events in `events` that this batch replaces: outliers promoted by the
   * commit (see {@link CommitResult.promoted}). The backend must drop their old room stream entry
   * (`replaced[i].stream`) in the same atomic write, so the event appears once in the timeline, at
   * its new position. Empty for an ordinary commit.
   */
  readonly replaced: readonly StoredEvent[];
  /** New snapshot layers. */
  readonly layers: readonly SnapshotLayer[];
  /** Room records to put (complete records, replacing the stored ones). */
  readonly rooms: readonly RoomInfo[];
  /** The snapshot ID counter after this batch (persist it in the same atomic write). */
  readonly nextSnapshotId: number;
}

/** Range request passed to `_timeline`. */
export interface TimelineRange {
  /** Inclusive start stream position. */
  readonly from: number;
  /** Descending order when `true`. */
  readonly reverse: boolean;
  /** Maximum number of events. */
  readonly limit: number;
}

/** Cache sizes and snapshot policy for {@link AbstractRoomStore}. */
export interface AbstractStoreOptions {
  /** Snapshot layer policy. */
  readonly snapshotPolicy?: Partial<SnapshotPolicy>;
  /** Event records kept in the LRU (default 50 000; 0 disables). */
  readonly eventCacheSize?: number;
  /** Total state entries of layers kept in the LRU (default 2 000 000; 0 disables). */
  readonly layerCacheEntries?: number;
  /** Materialised states kept in the LRU (default 8). */
  readonly stateCacheSize?: number;
  /** Per-event auth chains kept in the LRU (default 10 000). */
  readonly authChainCacheSize?: number;
  /**
   * Other processes write the same database (a shared SQL store). Then nothing that another
   * process can change is cached: room records are read from the backend (the store's own
   * applied-but-unwritten ones excepted), absent event IDs are not remembered, outlier records
   * that a promotion could replace are not cached, and snapshot IDs come from
   * {@link AbstractRoomStore._reserveSnapshotIds} (so that processes never allocate the same
   * one). Immutable data (accepted/rejected/soft-failed events, snapshot layers, complete auth
   * chains) is cached as usual. Default `false`.
   */
  readonly sharedDatabase?: boolean;
}

/** Journaled stores: the writer starts once this many committed batches wait for it (see `_journal`). */
export const JOURNAL_GROUP_MAX = 128;
/** Journaled stores: the longest a journaled batch waits before the writer starts, in ms. */
export const JOURNAL_GROUP_DELAY_MS = 5;
/**
 * Journaled stores: past this many batches waiting for the writer while it writes, a commit is
 * durable only once written (backpressure: a caller that never yields to the event loop — commits
 * chained through promises only — must not pile up unwritten batches without bound).
 */
export const JOURNAL_BACKLOG_MAX = 2 * JOURNAL_GROUP_MAX;

const STATUSES: ReadonlySet<string> = new Set<EventStatus>(['accepted', 'rejected', 'soft-failed', 'outlier']);

/** "Not at hand without a backend read" (the synchronous fast paths' answer). */
const MISS: unique symbol = Symbol('miss');

/** The layers of a commit that adds none (shared: never written to). */
const NO_LAYERS: readonly SnapshotLayer[] = Object.freeze([]);
const NO_IDS: readonly SnapshotId[] = Object.freeze([]);
const NO_EVENTS: readonly StoredEvent[] = Object.freeze([]);
/** A `then` callback dropping its value (a `Promise<void>` of a `Promise.all`). */
const NOTHING = (): void => undefined;

/** Snapshot IDs handed out in order from `next` (`take` is bound: it is passed as a function). */
class IdCounter {
  next: SnapshotId;
  constructor(next: SnapshotId) {
    this.next = next;
  }
  readonly take = (): SnapshotId => this.next++;
}

function invalid(message: string): StoreError {
  return new StoreError('STORE_INVALID_COMMIT', message);
}

/** A stable order of two IDs (UTF-16 code units; for listings only). */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The order `RoomStore.listParkedEvents` answers in: oldest first (`receivedTs`), then by event ID.
 * For a store that implements `RoomStore` itself, or overrides `listParkedEvents`.
 */
export function compareParkedEvents(x: ParkedEvent, y: ParkedEvent): number {
  return x.receivedTs - y.receivedTs || compareIds(x.eventId, y.eventId);
}

function isNonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

/**
 * Base class for stores. Subclasses implement the `_`-prefixed methods; everything else
 * (validation, idempotence, snapshots, caching, auth chains) is shared.
 */
export abstract class AbstractRoomStore implements RoomStore {
  /** Capability manifest. */
  readonly supports: StoreSupports;
  #status: RoomStore['status'] = 'closed';
  #opening: Promise<void> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #nextSnapshotId = 1;
  /** Shared database: the end (exclusive) of the snapshot ID range reserved by this instance. */
  #snapshotIdEnd = Number.POSITIVE_INFINITY;
  readonly #shared: boolean;
  readonly #policy: SnapshotPolicy;
  readonly #events: LruCache<EventId, StoredEvent>;
  /**
   * Event IDs recently looked up and not stored. Every write goes through this instance (a store
   * owns its database; LevelDB's lock keeps other processes out), so an ID stays absent until this
   * instance commits it — which removes it here. Saves the backend a read for the receive-time
   * duplicate check and the commit's own re-check of a new event.
   */
  readonly #absent: LruCache<EventId, true>;
  /**
   * Counts commits applied. A backend read that found nothing is remembered in `#absent` only if
   * no commit was applied while it was in flight (the commit may have stored that very event).
   */
  #commits = 0;
  readonly #layers: LruCache<SnapshotId, SnapshotLayer>;
  readonly #states: LruCache<SnapshotId, ReadonlyMap<StateKey, EventId>>;
  readonly #authChains: LruCache<EventId, ReadonlySet<EventId>>;
  readonly #rooms = new Map<RoomId, RoomInfo>();
  /**
   * Group commit: records and layers of commits that are applied but not yet written. Reads look
   * here first; a record moves to the LRU caches once its write lands.
   */
  readonly #pendingEvents = new Map<EventId, StoredEvent>();
  readonly #pendingLayers = new Map<SnapshotId, SnapshotLayer>();
  /** Applied commits waiting for the writer, in commit order. */
  #writeQueue: PendingWrite[] = [];
  /** The writer loop while it runs. */
  #writing: Promise<void> | undefined;
  /** The backend write of the writer's current group, while it runs. */
  #inFlight: Promise<void> | undefined;
  /** The durability promise of the most recently applied commit (resolved when there is none). */
  #newest: Promise<void> = Promise.resolve();
  /** Resolves once the most recently applied commit is written to the backend (journaled stores: may be later than durable). */
  #newestWritten: Promise<void> = Promise.resolve();
  /** Journaled stores: the timer that starts a deferred backend write (see {@link _journal}). */
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  /** Journaled stores: a reader or `close` waits for the backend, so the writer does not pause. */
  #urgent = false;
  /** Whether this store journals its batches (see {@link _journal}). */
  #journaled = false;
  /** Journaled batches waiting for {@link _journalSync}: their durability promise, and its settlers. */
  #journalWait: { readonly promise: Promise<void>; readonly resolve: () => void; readonly reject: (e: unknown) => void } | undefined;
  /** Set when a write failed: the store refuses everything until closed and reopened. */
  #failed: StoreError | undefined;

  /**
   * @param supports - the capability manifest of the concrete store.
   * @param options - caches and snapshot policy.
   */
  constructor(supports: StoreSupports, options: AbstractStoreOptions = {}) {
    this.supports = Object.freeze({ ...supports });
    this.#policy = Object.freeze({ ...DEFAULT_SNAPSHOT_POLICY, ...options.snapshotPolicy });
    this.#shared = options.sharedDatabase === true;
    this.#absent = new LruCache(this.#shared ? 0 : 10_000);
    this.#events = new LruCache(options.eventCacheSize ?? 50_000);
    this.#layers = new LruCache(options.layerCacheEntries ?? 2_000_000, (l) => 1 + layerSize(l));
    this.#states = new LruCache(options.stateCacheSize ?? 8);
    this.#authChains = new LruCache(options.authChainCacheSize ?? 10_000);
  }

  // ---------------------------------------------------------------- implementor API

  /** Opens the backend and returns the persisted snapshot counter (1 for a fresh store). */
  protected abstract _open(): Promise<{ readonly nextSnapshotId: number }>;
  /** Closes the backend. */
  protected abstract _close(): Promise<void>;
  /** Applies a batch atomically: all of it or (on rejection) nothing. */
  protected abstract _write(batch: StoreWriteBatch): Promise<void>;
  /**
   * Optional group commit: applies several batches, in order, as ONE atomic write (all of them or
   * none). Within the group, later batches override earlier ones exactly as if they had been
   * written one after the other (e.g. a promoted outlier's `replaced` entry removes a stream entry
   * an earlier batch of the same group put). A store that defines it gets group commit: commits
   * made with `durable: false` while a write is in flight are written together by the next call.
   * Without it, batches are written one `_write` at a time.
   */
  protected _writeGroup?(batches: readonly StoreWriteBatch[]): Promise<void>;
  /**
   * Optional write-ahead journal. Called synchronously, in commit order, with each applied
   * commit's batch before it is queued for the writer. When it returns `true` the batch is
   * journaled: it becomes durable at the next {@link _journalSync} (which the store calls before
   * a durable commit or a flush resolves), without waiting for `_write`/`_writeGroup` — the store
   * records it somewhere that survives as well as `_write` would, and replays it on open if the
   * backend never received it. The writer is then free to gather many batches into one backend
   * write (it starts when {@link JOURNAL_GROUP_MAX} batches are queued, after
   * {@link JOURNAL_GROUP_DELAY_MS}, or when a read needs the backend to be current); the backend
   * must never get ahead of what `_journalSync` wrote. Throwing fails the store like a failed write.
   */
  protected _journal?(batch: StoreWriteBatch): boolean;
  /**
   * With {@link _journal}: makes every batch journaled so far durable, synchronously (e.g. one
   * `write` of the records appended since the last call). Throwing fails the store.
   */
  protected _journalSync?(): void;
  /**
   * Shared database only (see {@link AbstractStoreOptions.sharedDatabase}): reserves at least
   * `count` snapshot IDs no other process will allocate, as the range `[first, end)`.
   */
  protected _reserveSnapshotIds?(count: number): Promise<{ readonly first: number; readonly end: number }>;
  /**
   * Optional, for a backend that holds its data in memory: the stored event record with this ID,
   * or `undefined` when none is stored — read synchronously, without a promise. When defined, the
   * store reads through it where it would otherwise call {@link _getEvents} (and keeps no cache of
   * its own for what it answers). Only for backends whose answer is authoritative at once (not for
   * a shared database).
   */
  protected _eventNow?(id: EventId): StoredEvent | undefined;
  /** Optional, like {@link _eventNow}: the snapshot layer with this ID, or `undefined`. */
  protected _layerNow?(id: SnapshotId): SnapshotLayer | undefined;
  /** Event records by ID, aligned with `ids`. */
  protected abstract _getEvents(ids: readonly EventId[]): Promise<readonly (StoredEvent | undefined)[]>;
  /** Snapshot layers by ID, aligned with `ids`. */
  protected abstract _getLayers(ids: readonly SnapshotId[]): Promise<readonly (SnapshotLayer | undefined)[]>;
  /** A room record. */
  protected abstract _getRoom(roomId: RoomId): Promise<RoomInfo | undefined>;
  /** All room IDs. */
  protected abstract _listRooms(): Promise<readonly RoomId[]>;
  /** Events of a room by stream position (all statuses). */
  protected abstract _timeline(roomId: RoomId, range: TimelineRange): Promise<readonly StoredEvent[]>;
  /** Puts server keys. */
  protected abstract _putServerKeys(keys: readonly ServerKeyRecord[]): Promise<void>;
  /** Gets one server key. */
  protected abstract _getServerKey(server: string, keyId: string): Promise<ServerKeyRecord | undefined>;
  /** Gets all keys of a server. */
  protected abstract _getServerKeys(server: string): Promise<readonly ServerKeyRecord[]>;
  /** Puts parked events. */
  protected abstract _parkEvents(events: readonly ParkedEvent[]): Promise<void>;
  /** Lists parked events of a room (any order). */
  protected abstract _listParkedEvents(roomId: RoomId): Promise<readonly ParkedEvent[]>;
  /** Deletes parked events. */
  protected abstract _deleteParkedEvents(roomId: RoomId, eventIds: readonly EventId[]): Promise<void>;
  /**
   * Gets the parked events of a room with the given (distinct) IDs, any order, unknown ones left
   * out. The default filters {@link AbstractRoomStore._listParkedEvents}: a store that can read
   * them by ID overrides it.
   */
  protected async _getParkedEvents(roomId: RoomId, eventIds: readonly EventId[]): Promise<readonly ParkedEvent[]> {
    const wanted = new Set(eventIds);
    return (await this._listParkedEvents(roomId)).filter((e) => wanted.has(e.eventId));
  }
  /** Puts invites (one per room and user, replacing). */
  protected abstract _putInvites(invites: readonly StoredInvite[]): Promise<void>;
  /** Lists every invite (any order). */
  protected abstract _listInvites(): Promise<readonly StoredInvite[]>;
  /** Deletes invites (unknown ones ignored). */
  protected abstract _deleteInvites(keys: readonly InviteKey[]): Promise<void>;
  /** Statistics. */
  protected abstract _stats(): Promise<StoreStats>;

  // ---------------------------------------------------------------- lifecycle

  /** Current lifecycle status. */
  get status(): RoomStore['status'] {
    return this.#status;
  }

  /** Opens the store (idempotent). */
  async open(): Promise<void> {
    if (this.#status === 'open') return;
    if (this.#opening !== undefined) return this.#opening;
    this.#status = 'opening';
    this.#opening = (async () => {
      try {
        const { nextSnapshotId } = await this._open();
        this.#nextSnapshotId = nextSnapshotId;
        this.#snapshotIdEnd = this.#shared ? nextSnapshotId : Number.POSITIVE_INFINITY;
        this.#status = 'open';
      } catch (e) {
        this.#status = 'closed';
        throw e instanceof StoreError ? e : new StoreError('STORE_IO', `open failed: ${(e as Error).message}`, { cause: e });
      } finally {
        this.#opening = undefined;
      }
    })();
    return this.#opening;
  }

  /** Closes the store after in-flight commits (idempotent). */
  async close(): Promise<void> {
    if (this.#status === 'closed') return;
    if (this.#opening !== undefined) await this.#opening.catch(() => undefined);
    this.#status = 'closing';
    await this.#queue.catch(() => undefined);
    this.#urgent = true;
    this.#startDrain();
    await this.#writing;
    this.#failed = undefined;
    this.#dropCaches();
    try {
      await this._close();
    } finally {
      this.#status = 'closed';
    }
  }

  #assertOpen(): void {
    if (this.#failed !== undefined) throw this.#failed;
    if (this.#status !== 'open') throw new StoreError('STORE_NOT_OPEN', `store is ${this.#status}`);
  }

  // ---------------------------------------------------------------- group commit

  /** Queues an applied commit's batch for the writer; resolves when it is durable. */
  #enqueue(batch: StoreWriteBatch): Promise<void> {
    if (this._journal !== undefined) {
      let journaled: boolean;
      try {
        journaled = this._journal(batch);
      } catch (e) {
        // Not recorded anywhere: this commit and the ones queued before it (not yet written) are lost.
        const lost = new Promise<void>((resolve, reject) => this.#writeQueue.push({ batch, resolve, reject }));
        lost.catch(() => undefined);
        this.#fail(e, []);
        return lost;
      }
      if (journaled) {
        // Durable at the next journal sync; written to the backend later, with the batches that follow.
        const written = new Promise<void>((resolve, reject) => this.#writeQueue.push({ batch, resolve, reject }));
        written.catch(() => undefined);
        this.#newestWritten = written;
        if (this.#journalWait === undefined) {
          let resolve = (): void => undefined;
          let reject = (_: unknown): void => undefined;
          const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
          promise.catch(() => undefined);
          this.#journalWait = { promise, resolve, reject };
        }
        this.#newest = this.#journalWait.promise;
        this.#journaled = true;
        if (this.#writing === undefined) {
          if (this.#writeQueue.length >= JOURNAL_GROUP_MAX) this.#startDrain();
          else this.#armDrainTimer();
        } else if (this.#writeQueue.length >= JOURNAL_BACKLOG_MAX) {
          // Backpressure: durable once journaled and the backend write under way has finished —
          // the writer then takes every batch queued, this one included, as its next group. (Not
          // once this batch is written: a caller chaining commits through promises only would
          // wait, idle, for that next group's write too, once per JOURNAL_GROUP_MAX commits.) The
          // queue stays within about two groups.
          this.#urgent = true;
          const journal = this.#journalWait.promise;
          const inFlight = this.#inFlight;
          this.#newest = inFlight === undefined ? written : Promise.all([journal, inFlight]).then(NOTHING);
          this.#newest.catch(() => undefined);
        }
        return this.#newest;
      }
    }
    const durable = new Promise<void>((resolve, reject) => {
      this.#writeQueue.push({ batch, resolve, reject });
      this.#writing ??= this.#drain();
    });
    // Batches become durable in order: the newest one stands for all before it (see flush).
    this.#newest = durable;
    this.#newestWritten = durable;
    durable.catch(() => undefined);
    return durable;
  }

  /**
   * Queues the batches of one block (see {@link commitMany}) for the writer together: journaled
   * stores journal each; the others get them in one group (the writer starts only once all are
   * queued). Resolves when the last is durable.
   */
  #enqueueAll(batches: readonly StoreWriteBatch[]): Promise<void> {
    if (this._journal !== undefined || this._writeGroup === undefined) {
      let last: Promise<void> = this.#newest;
      for (const b of batches) last = this.#enqueue(b);
      return last;
    }
    if (batches.length === 0) return this.#newest;
    // One promise for the block: its batches are queued together, so the writer takes them in one
    // group (or the first failure fails them all) — each settles it, the first one decides.
    let resolve = (): void => undefined;
    let reject = (_: unknown): void => undefined;
    const last = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
    last.catch(() => undefined);
    for (const batch of batches) this.#writeQueue.push({ batch, resolve, reject });
    this.#newest = last;
    this.#newestWritten = last;
    this.#writing ??= this.#drain();
    return last;
  }

  /** Makes the journaled batches durable (see {@link _journalSync}); a failure fails the store. */
  #syncJournal(): void {
    const wait = this.#journalWait;
    if (wait === undefined) return;
    this.#journalWait = undefined;
    try {
      this._journalSync?.();
    } catch (e) {
      this.#fail(e, []);
      wait.reject(this.#failed);
      return;
    }
    wait.resolve();
  }

  /** Journaled stores: starts the writer after {@link JOURNAL_GROUP_DELAY_MS} unless it runs or is due already. */
  #armDrainTimer(): void {
    if (this.#drainTimer !== undefined) return;
    this.#drainTimer = setTimeout(() => {
      this.#drainTimer = undefined;
      this.#startDrain();
    }, JOURNAL_GROUP_DELAY_MS);
    this.#drainTimer.unref?.();
  }

  /** Starts the writer now (journaled stores defer it: see {@link _journal}). */
  #startDrain(): void {
    if (this.#drainTimer !== undefined) {
      clearTimeout(this.#drainTimer);
      this.#drainTimer = undefined;
    }
    if (this.#writeQueue.length > 0) this.#writing ??= this.#drain();
  }

  /**
   * Waits until every commit applied so far is written to the backend (for reads that go to the
   * backend directly, and for writes that must be ordered after the commits).
   */
  async #written(): Promise<void> {
    if (this.#writeQueue.length > 0) this.#urgent = true;
    this.#startDrain();
    await this.#newestWritten.catch(() => undefined);
    if (this.#failed !== undefined) throw this.#failed;
  }

  /**
   * The writer: writes everything queued (one `_writeGroup` call when the store has it), then
   * whatever was queued meanwhile, until the queue is empty.
   */
  async #drain(): Promise<void> {
    try {
      while (this.#writeQueue.length > 0) {
        const group = this._writeGroup === undefined ? this.#writeQueue.splice(0, 1) : this.#writeQueue.splice(0);
        try {
          this.#inFlight = group.length === 1 || this._writeGroup === undefined ? this._write(group[0]!.batch) : this._writeGroup(group.map((g) => g.batch));
          await this.#inFlight;
        } catch (e) {
          this.#fail(e, group);
          return;
        } finally {
          this.#inFlight = undefined;
        }
        // (Indexed loops: this async function runs often before it is optimised, where each
        // `for…of` step allocates an iterator result.)
        for (let i = 0; i < group.length; i++) {
          const batch = (group[i] as PendingWrite).batch;
          for (let j = 0; j < batch.events.length; j++) {
            const e = batch.events[j] as StoredEvent;
            if (this.#pendingEvents.get(e.eventId) === e) {
              this.#pendingEvents.delete(e.eventId);
              this.#cacheEvent(e);
            }
          }
          // Shared database: a written room record is read from the backend from now on.
          if (this.#shared) for (const r of batch.rooms) if (this.#rooms.get(r.roomId) === r) this.#rooms.delete(r.roomId);
          for (let j = 0; j < batch.layers.length; j++) {
            const l = batch.layers[j] as SnapshotLayer;
            if (this.#pendingLayers.get(l.id) === l) {
              this.#pendingLayers.delete(l.id);
              this.#layers.set(l.id, l);
            }
          }
        }
        for (let i = 0; i < group.length; i++) (group[i] as PendingWrite).resolve();
        if (this.#writeQueue.length === 0) {
          this.#urgent = false;
        } else if (this.#journaled && !this.#urgent && this.#writeQueue.length < JOURNAL_GROUP_MAX) {
          // Durable already (journaled): let more batches gather before the next backend write.
          this.#armDrainTimer();
          break;
        }
      }
    } finally {
      this.#writing = undefined;
    }
  }

  /**
   * A write failed: nothing of `group` or of the commits queued after it is stored. Every cache
   * may hold data derived from them, so all are dropped, and the store refuses every call until
   * it is closed and reopened (which reads the persisted counters again).
   */
  #fail(cause: unknown, group: readonly PendingWrite[]): void {
    const error = cause instanceof StoreError ? cause : new StoreError('STORE_IO', `write failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.#failed = error;
    if (this.#drainTimer !== undefined) {
      clearTimeout(this.#drainTimer);
      this.#drainTimer = undefined;
    }
    const lost = [...group, ...this.#writeQueue.splice(0)];
    // Journaled batches not synced yet are lost too (never acknowledged).
    const wait = this.#journalWait;
    this.#journalWait = undefined;
    wait?.reject(error);
    this.#dropCaches();
    for (const g of lost) g.reject(error);
  }

  /** Forgets everything held in memory: pending records and every cache. */
  #dropCaches(): void {
    this.#pendingEvents.clear();
    this.#pendingLayers.clear();
    this.#events.clear();
    this.#absent.clear();
    this.#layers.clear();
    this.#states.clear();
    this.#authChains.clear();
    this.#rooms.clear();
  }

  /** See {@link RoomStore.flush}. */
  async flush(): Promise<void> {
    // Waits for the commits applied so far only, not for the writer to go idle: under a steady
    // stream of commits from other callers it may never be.
    this.#syncJournal();
    await this.#newest.catch(() => undefined);
    if (this.#failed !== undefined) throw this.#failed;
  }

  // ---------------------------------------------------------------- commit

  /** See {@link RoomStore.commit}. */
  async commit(commit: RoomCommit, options?: CommitOptions): Promise<CommitResult> {
    this.#assertOpen();
    const run = this.#queue.then(
      () => this.#commit(commit),
      () => this.#commit(commit),
    );
    this.#queue = run.catch(() => undefined);
    const { result, durable } = await run;
    if (options?.durable === false) {
      durable.catch(() => undefined);
    } else {
      this.#syncJournal();
      await durable;
    }
    return result;
  }

  /** See {@link RoomStore.commitMany}. */
  async commitMany(commits: readonly RoomCommit[], options?: CommitOptions): Promise<CommitResult[]> {
    this.#assertOpen();
    if (!Array.isArray(commits)) throw invalid('commits must be an array');
    const list = [...commits];
    const run = this.#queue.then(
      () => this.#commitMany(list),
      () => this.#commitMany(list),
    );
    this.#queue = run.catch(() => undefined);
    const { results, durable } = await run;
    if (options?.durable === false) {
      durable.catch(() => undefined);
    } else {
      this.#syncJournal();
      await durable;
    }
    return results;
  }

  /**
   * Applies `commits` in order as one block: each is validated against the store as the commits
   * before it left it; if one fails, the ones applied before it are undone (the store is as it
   * was) and the error is thrown. The batches then go to the writer together (one group write
   * for stores with `_writeGroup`).
   */
  async #commitMany(commits: readonly RoomCommit[]): Promise<{ readonly results: CommitResult[]; readonly durable: Promise<void> }> {
    const block: BlockApply = { refs: new Map(), undo: [], batches: [] };
    const results: CommitResult[] = [];
    // One backend read for the block's event IDs (normally none stored): each commit's
    // re-delivery check then finds its answer in the caches, without a read of its own. (A shared
    // database remembers no absent IDs — another process may store them — so there it would
    // only add a read.)
    // (A backend that answers reads at once, `_eventNow`, needs no such read.)
    if (!this.#shared && this._eventNow === undefined) {
      const ids: EventId[] = [];
      for (const c of commits) {
        const id = (c as Partial<RoomCommit> | null)?.event?.event?.eventId;
        if (isNonEmptyString(id)) ids.push(id);
      }
      if (ids.length > 1) await this.getEvents(ids);
    }
    try {
      // (Indexed: a `for…of` that awaits keeps an iterator result per step.)
      for (let i = 0; i < commits.length; i++) results.push((await this.#commit(commits[i] as RoomCommit, block)).result);
    } catch (e) {
      for (const u of block.undo.reverse()) {
        this.#nextSnapshotId = u.next;
        if (u.event !== undefined) {
          if (u.previous !== undefined) this.#pendingEvents.set(u.event, u.previous);
          else this.#pendingEvents.delete(u.event);
        }
        for (const id of u.layers) this.#pendingLayers.delete(id);
        if (u.room !== undefined) {
          if (u.previousRoom !== undefined) this.#rooms.set(u.room, u.previousRoom);
          else this.#rooms.delete(u.room);
        }
      }
      // Reads made meanwhile may have cached a staged record as absent or present: forget them.
      this.#commits++;
      throw e;
    }
    if (block.batches.length === 0) return { results, durable: this.#newest };
    return { results, durable: this.#enqueueAll(block.batches) };
  }

  async #commit(c: RoomCommit, block?: BlockApply): Promise<{ readonly result: CommitResult; readonly durable: Promise<void> }> {
    this.#assertOpen();
    if (c === null || typeof c !== 'object') throw invalid('commit must be an object');
    if (!isNonEmptyString(c.roomId)) throw invalid('roomId must be a non-empty string');
    const ne = c.event as RoomCommit['event'] | undefined;
    if (ne === null || typeof ne !== 'object' || ne.event === null || typeof ne.event !== 'object') throw invalid('event.event must be an event view');
    const ev = ne.event;
    if (!isNonEmptyString(ev.eventId)) throw invalid('event.eventId must be a non-empty string');

    // Re-delivery: a known event makes the whole commit a no-op — except that a stored outlier
    // (not rejected) is promoted by a commit giving it a real status (see CommitResult).
    const now = this.#eventNow(ev.eventId);
    const existing = now !== MISS ? now : await this.getEvent(ev.eventId);
    const promoting = existing !== undefined && isPromotable(existing) && ne.status !== 'outlier';
    if (existing !== undefined && !promoting) {
      const room = await this.getRoom(existing.roomId);
      if (room === undefined) throw new StoreError('STORE_CORRUPT', `room ${existing.roomId} of event ${existing.eventId} is missing`);
      // Durable once whatever wrote it (possibly a commit still queued) is.
      return { result: { duplicate: true, promoted: false, event: existing, snapshots: new Map(), room }, durable: this.#newest };
    }

    if (!STATUSES.has(ne.status)) throw invalid(`unknown status ${String(ne.status)}`);
    if (ne.rejection !== undefined && (ne.rejection === null || typeof ne.rejection !== 'object' || typeof ne.rejection.rule !== 'string' || (ne.rejection.reason !== undefined && typeof ne.rejection.reason !== 'string'))) {
      throw invalid('rejection must be { rule: string, reason?: string }');
    }
    if (typeof ev.type !== 'string' || (ev.stateKey !== undefined && typeof ev.stateKey !== 'string')) throw invalid('event type/stateKey malformed');
    if (typeof ev.depth !== 'number' || !Array.isArray(ev.prevEvents) || !Array.isArray(ev.authEvents) || ev.json === null || typeof ev.json !== 'object') {
      throw invalid('event depth/prevEvents/authEvents/json malformed');
    }
    if (promoting) {
      // An event ID names one event: the promoted record keeps its room and auth events (cached
      // auth chains of it and of its descendants stay valid).
      if (c.roomId !== existing.roomId) throw invalid(`event ${ev.eventId} is stored as an outlier of room ${existing.roomId}, not ${c.roomId}`);
      if (!sameIds(ev.authEvents, existing.authEvents)) throw invalid(`event ${ev.eventId}: auth events differ from the stored outlier's`);
    }

    let room = this.#rooms.get(c.roomId) ?? await this.getRoom(c.roomId);
    if (c.createRoom !== undefined) {
      if (room !== undefined) throw new StoreError('STORE_ROOM_EXISTS', `room ${c.roomId} already exists`);
      if (!isNonEmptyString(c.createRoom.roomVersion) || !isNonEmptyString(c.createRoom.createEventId)) throw invalid('createRoom needs roomVersion and createEventId');
      room = { roomId: c.roomId, roomVersion: c.createRoom.roomVersion, createEventId: c.createRoom.createEventId, currentState: undefined, forwardExtremities: [], lastStream: 0 };
    } else if (room === undefined) {
      throw new StoreError('STORE_UNKNOWN_ROOM', `room ${c.roomId} does not exist`);
    }

    // Snapshots, in order; refs resolve to IDs (new or reused).
    const wanted = Array.isArray(c.snapshots) ? c.snapshots.length : 0;
    if (this.#shared && this.#snapshotIdEnd - this.#nextSnapshotId < wanted) {
      if (this._reserveSnapshotIds === undefined) throw new StoreError('STORE_CORRUPT', 'a shared-database store must reserve snapshot IDs');
      const r = await this._reserveSnapshotIds(Math.max(wanted, 1));
      if (!(r.end - r.first >= wanted)) throw new StoreError('STORE_CORRUPT', 'snapshot ID reservation too small');
      this.#nextSnapshotId = r.first;
      this.#snapshotIdEnd = r.end;
    }
    let next = this.#nextSnapshotId;
    // The layers this commit adds (made only by a commit that has snapshots: most have none).
    let pending: Map<SnapshotId, SnapshotLayer> | undefined;
    // This commit's refs, made with its first snapshot (a commit without any — most — answers
    // the shared empty map).
    let refs: Map<string, SnapshotId> | undefined;
    // In a block (commitMany), refs of earlier commits of the block resolve too.
    const known: ReadonlyMap<string, SnapshotId> = block?.refs ?? (wanted > 0 ? (refs = new Map<string, SnapshotId>()) : NO_REFS);
    // (No closure in this function captures its variables: V8 would allocate a context for them
    // on every call — once per committed event.)
    if (c.snapshots !== undefined) {
      if (!Array.isArray(c.snapshots)) throw invalid('snapshots must be an array');
      const snapshots: readonly unknown[] = c.snapshots;
      for (let si = 0; si < snapshots.length; si++) {
        const s = snapshots[si] as NewSnapshot;
        if (s === null || typeof s !== 'object' || typeof s.ref !== 'string') throw invalid('snapshot needs a string ref');
        if (refs?.has(s.ref) === true || known.has(s.ref)) throw invalid(`duplicate snapshot ref "${s.ref}"`);
        const p = s.parent === null ? undefined : this.#resolveRef(s.parent, `snapshot "${s.ref}" parent`, pending, known);
        const parent = typeof p === 'object' ? await p : p;
        const { set, removed } = readChanges(s.changes, s.ref);
        const c = parent === undefined ? undefined : this.#chain(parent, pending);
        const chain = c instanceof Promise ? await c : c;
        const ids = new IdCounter(next);
        const planned = planSnapshot(chain, set, removed, ids.take, this.#policy);
        next = ids.next;
        if (planned.layer !== undefined) (pending ??= new Map<SnapshotId, SnapshotLayer>()).set(planned.id, planned.layer);
        (refs ??= new Map<string, SnapshotId>()).set(s.ref, planned.id);
        if (block !== undefined) block.refs.set(s.ref, planned.id);
      }
    }

    let stateBefore: SnapshotId | undefined;
    if (ne.status === 'outlier') {
      if (ne.stateBefore !== undefined) throw invalid('outliers have no stateBefore');
    } else {
      if (ne.stateBefore === undefined) throw invalid(`stateBefore is required for status ${ne.status}`);
      const r = this.#resolveRef(ne.stateBefore, 'stateBefore', pending, known);
      stateBefore = typeof r === 'object' ? await r : r;
    }

    let forwardExtremities = room.forwardExtremities;
    if (c.forwardExtremities !== undefined) {
      const given: unknown = c.forwardExtremities;
      if (!Array.isArray(given)) throw invalid('forwardExtremities must be event IDs');
      // The IDs without repeats, in order (a new array: frozen below), each checked as it comes.
      const unique: EventId[] = [];
      const seen = given.length > SMALL_LIST ? new Set<EventId>() : undefined;
      let atHand = true;
      for (let i = 0; i < given.length; i++) {
        const id: unknown = given[i];
        if (!isNonEmptyString(id)) throw invalid('forwardExtremities must be event IDs');
        if (seen !== undefined ? seen.has(id) : unique.includes(id)) continue;
        seen?.add(id);
        unique.push(id);
        // Normally all at hand (the event's prev events, the room's other extremities).
        if (atHand && id !== ev.eventId) {
          const e = this.#eventNow(id);
          atHand = e !== MISS && e !== undefined;
        }
      }
      if (!atHand) await this.#requireStored(unique, ev.eventId);
      forwardExtremities = Object.freeze(unique);
    }
    const cs = c.currentState === undefined ? room.currentState : this.#resolveRef(c.currentState, 'currentState', pending, known);
    const currentState = typeof cs === 'object' ? await cs : cs;

    const stream = room.lastStream + 1;
    // Two literals rather than one with a spread `rejection`: all fields in the object itself (a
    // field after a spread is added to a separate property array — one more object per record,
    // kept for the record's life).
    const record: StoredEvent = Object.freeze(ne.rejection === undefined
      ? {
        eventId: ev.eventId, roomId: c.roomId, json: ev.json, type: ev.type, stateKey: ev.stateKey, depth: ev.depth,
        prevEvents: frozenIds(ev.prevEvents), authEvents: frozenIds(ev.authEvents), status: ne.status, stream, stateBefore,
      }
      : {
        eventId: ev.eventId, roomId: c.roomId, json: ev.json, type: ev.type, stateKey: ev.stateKey, depth: ev.depth,
        prevEvents: frozenIds(ev.prevEvents), authEvents: frozenIds(ev.authEvents), status: ne.status,
        rejection: Object.freeze({ rule: ne.rejection.rule, ...(ne.rejection.reason !== undefined ? { reason: ne.rejection.reason } : {}) }),
        stream, stateBefore,
      });
    const newRoom: RoomInfo = Object.freeze({ ...room, currentState, forwardExtremities, lastStream: stream });
    const layers: readonly SnapshotLayer[] = pending === undefined ? NO_LAYERS : [...pending.values()];
    // Applied now (visible to reads through the pending maps); written by the writer, possibly
    // together with the commits that follow (group commit). The caches take the records once the
    // write lands.
    if (block !== undefined) {
      block.undo.push({
        next: this.#nextSnapshotId, event: record.eventId, previous: this.#pendingEvents.get(record.eventId),
        layers: layers.length === 0 ? NO_IDS : layers.map((l) => l.id), room: newRoom.roomId, previousRoom: this.#rooms.get(newRoom.roomId),
      });
    }
    this.#nextSnapshotId = next;
    this.#pendingEvents.set(record.eventId, record);
    this.#absent.delete(record.eventId);
    this.#commits++;
    for (let i = 0; i < layers.length; i++) this.#pendingLayers.set((layers[i] as SnapshotLayer).id, layers[i] as SnapshotLayer);
    this.#rooms.set(newRoom.roomId, newRoom);
    const batch: StoreWriteBatch = { events: [record], replaced: promoting ? [existing] : NO_EVENTS, layers, rooms: [newRoom], nextSnapshotId: next };
    const result: CommitResult = { duplicate: false, promoted: promoting, event: record, snapshots: refs ?? NO_REFS, room: newRoom };
    if (block !== undefined) {
      block.batches.push(batch);
      return { result, durable: this.#newest };
    }
    return { result, durable: this.#enqueue(batch) };
  }

  /**
   * A commit's snapshot reference as an ID: synchronous where the answer is at hand (a ref, a
   * snapshot pending or cached); a promise only where the backend must be read (see `#eventNow`).
   */
  #resolveRef(r: SnapshotRef | undefined, what: string, pending: ReadonlyMap<SnapshotId, SnapshotLayer> | undefined, known: ReadonlyMap<string, SnapshotId>): SnapshotId | Promise<SnapshotId> {
    if (typeof r === 'number') {
      if (pending?.has(r) === true || this.#hasSnapshotNow(r)) return r;
      return this.#hasSnapshot(r).then((has) => {
        if (!has) throw new StoreError('STORE_UNKNOWN_SNAPSHOT', `${what}: snapshot ${r} does not exist`);
        return r;
      });
    }
    if (r !== null && typeof r === 'object' && typeof r.ref === 'string') {
      const id = known.get(r.ref);
      if (id === undefined) throw invalid(`${what}: unknown snapshot ref "${r.ref}" (refs must be defined earlier in the same commit)`);
      return id;
    }
    throw invalid(`${what}: malformed snapshot reference`);
  }

  /** Throws unless every ID of `ids` but `self` (a commit's forward extremities) is stored. */
  async #requireStored(ids: readonly EventId[], self: EventId): Promise<void> {
    const others = ids.filter((id) => id !== self);
    const have = await this.hasEvents(others);
    const missing = others.filter((id) => !have.has(id));
    if (missing.length > 0) throw invalid(`forward extremities not stored: ${missing.join(', ')}`);
  }

  // ---------------------------------------------------------------- events

  /**
   * Caches a stored record — in a shared database only one no other process can replace (a
   * promotable outlier may be promoted by another process).
   */
  #cacheEvent(e: StoredEvent): void {
    if (this.#shared && isPromotable(e)) return;
    this.#events.set(e.eventId, e);
  }

  /**
   * {@link getEvent}'s answer where it is at hand without a backend read — the record, or
   * `undefined` for an ID known to be absent — else {@link MISS}.
   */
  #eventNow(id: EventId): StoredEvent | undefined | typeof MISS {
    const hit = this.#pendingEvents.get(id) ?? this.#events.get(id);
    if (hit !== undefined) return hit;
    if (this._eventNow !== undefined) return this._eventNow(id);
    return this.#absent.peek(id) !== undefined ? undefined : MISS;
  }

  /** See {@link RoomStore.peekEvent}. */
  peekEvent(id: EventId): StoredEvent | null | undefined {
    if (this.#status !== 'open' || this.#failed !== undefined || typeof id !== 'string') return undefined;
    const now = this.#eventNow(id);
    return now === MISS ? undefined : (now ?? null);
  }

  /** See {@link RoomStore.getEvent}. */
  async getEvent(id: EventId): Promise<StoredEvent | undefined> {
    this.#assertOpen();
    const now = this.#eventNow(id);
    if (now !== MISS) return now;
    const commits = this.#commits;
    const [e] = await this._getEvents([id]);
    if (e !== undefined) this.#cacheEvent(e);
    else if (commits === this.#commits) this.#absent.set(id, true);
    // A commit landed meanwhile: it may have stored this event.
    else return this.#pendingEvents.get(id) ?? this.#events.get(id);
    return e;
  }

  /** See {@link RoomStore.getEvents}. */
  async getEvents(ids: readonly EventId[]): Promise<ReadonlyMap<EventId, StoredEvent>> {
    this.#assertOpen();
    const out = new Map<EventId, StoredEvent>();
    const missing: EventId[] = [];
    for (const id of ids) {
      if (out.has(id)) continue;
      const now = this.#eventNow(id);
      if (now === MISS) missing.push(id);
      else if (now !== undefined) out.set(id, now);
    }
    if (missing.length > 0) {
      const uniq = [...new Set(missing)];
      const commits = this.#commits;
      const got = await this._getEvents(uniq);
      const raced = commits !== this.#commits;
      for (let i = 0; i < uniq.length; i++) {
        const e = got[i];
        if (e !== undefined) {
          out.set(uniq[i]!, e);
          this.#cacheEvent(e);
        } else if (!raced) {
          this.#absent.set(uniq[i]!, true);
        } else {
          // A commit landed meanwhile: it may have stored this event.
          const now = this.#pendingEvents.get(uniq[i]!) ?? this.#events.get(uniq[i]!);
          if (now !== undefined) out.set(uniq[i]!, now);
        }
      }
    }
    return out;
  }

  /** See {@link RoomStore.hasEvents}. */
  async hasEvents(ids: readonly EventId[]): Promise<ReadonlySet<EventId>> {
    return new Set((await this.getEvents(ids)).keys());
  }

  /** See {@link RoomStore.getStatus}. */
  async getStatus(id: EventId): Promise<EventStatus | undefined> {
    return (await this.getEvent(id))?.status;
  }

  // ---------------------------------------------------------------- rooms

  /** See {@link RoomStore.getRoom}. */
  async getRoom(roomId: RoomId): Promise<RoomInfo | undefined> {
    this.#assertOpen();
    const hit = this.#rooms.get(roomId);
    if (hit !== undefined) return hit;
    const r = await this._getRoom(roomId);
    if (r !== undefined && !this.#shared) this.#rooms.set(roomId, r);
    return r;
  }

  /** See {@link RoomStore.listRooms}. */
  async listRooms(): Promise<readonly RoomId[]> {
    this.#assertOpen();
    await this.#written();
    return this._listRooms();
  }

  /** See {@link RoomStore.timeline}. */
  async timeline(roomId: RoomId, options: TimelineOptions = {}): Promise<readonly StoredEvent[]> {
    this.#assertOpen();
    const reverse = options.direction === 'backwards';
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 0) throw new StoreError('STORE_INVALID_COMMIT', 'timeline limit must be a non-negative integer');
    await this.#written();
    const room = await this.getRoom(roomId);
    if (room === undefined || limit === 0) return [];
    let from = options.from ?? (reverse ? room.lastStream : 1);
    const filter = options.statuses === undefined ? undefined : new Set(options.statuses);
    const out: StoredEvent[] = [];
    while (out.length < limit && from >= 1 && from <= room.lastStream) {
      const page = await this._timeline(roomId, { from, reverse, limit: filter === undefined ? limit - out.length : Math.max(64, limit - out.length) });
      if (page.length === 0) break;
      for (const e of page) {
        if (filter === undefined || filter.has(e.status)) out.push(e);
        if (out.length >= limit) break;
      }
      from = reverse ? page[page.length - 1]!.stream - 1 : page[page.length - 1]!.stream + 1;
    }
    return out;
  }

  // ---------------------------------------------------------------- snapshots

  /** Whether `id` can name a snapshot of this store (in a shared database other processes allocate IDs this instance has not reached). */
  #snapshotIdInRange(id: SnapshotId): boolean {
    return Number.isInteger(id) && id >= 1 && (this.#shared || id < this.#nextSnapshotId);
  }

  /** Whether snapshot `id` is known to exist without a backend read (`false`: not known here). */
  #hasSnapshotNow(id: SnapshotId): boolean {
    return this.#snapshotIdInRange(id) && (this.#pendingLayers.has(id) || this.#layers.peek(id) !== undefined || this._layerNow?.(id) !== undefined);
  }

  async #hasSnapshot(id: SnapshotId): Promise<boolean> {
    if (!this.#snapshotIdInRange(id)) return false;
    if (this.#hasSnapshotNow(id)) return true;
    const [l] = await this._getLayers([id]);
    return l !== undefined;
  }

  /**
   * The chain of layers of a snapshot (top first), from `pending`, the caches and the backend:
   * synchronous while the layers are pending or cached, a promise from the first that must be read.
   */
  #chain(id: SnapshotId, pending?: ReadonlyMap<SnapshotId, SnapshotLayer>): LayerChain | Promise<LayerChain> {
    const chain: SnapshotLayer[] = [];
    for (let cur: SnapshotId | undefined = id; cur !== undefined;) {
      const layer = this.#layerAtHand(cur, pending);
      if (layer === undefined) return this.#readChain(chain, id, cur, pending);
      cur = this.#addLayer(chain, id, layer);
    }
    return chain;
  }

  /** {@link #chain} from layer `cur` on, which is not at hand (`chain`: the layers above it). */
  async #readChain(chain: SnapshotLayer[], id: SnapshotId, from: SnapshotId, pending?: ReadonlyMap<SnapshotId, SnapshotLayer>): Promise<LayerChain> {
    for (let cur: SnapshotId | undefined = from; cur !== undefined;) {
      let layer = this.#layerAtHand(cur, pending);
      if (layer === undefined) {
        [layer] = await this._getLayers([cur]);
        if (layer === undefined) {
          if (chain.length === 0) throw new StoreError('STORE_UNKNOWN_SNAPSHOT', `snapshot ${id} does not exist`);
          throw new StoreError('STORE_CORRUPT', `snapshot ${id}: layer ${cur} is missing`);
        }
        this.#layers.set(cur, layer);
      }
      cur = this.#addLayer(chain, id, layer);
    }
    return chain;
  }

  #layerAtHand(id: SnapshotId, pending: ReadonlyMap<SnapshotId, SnapshotLayer> | undefined): SnapshotLayer | undefined {
    return pending?.get(id) ?? this.#pendingLayers.get(id) ?? this.#layers.get(id) ?? this._layerNow?.(id);
  }

  /** Appends `layer` to the chain of snapshot `id` (bounded: a deeper chain is corrupt); returns the next layer's ID. */
  #addLayer(chain: SnapshotLayer[], id: SnapshotId, layer: SnapshotLayer): SnapshotId | undefined {
    chain.push(layer);
    if (chain.length > this.#policy.maxDepth + 1 + 64) throw new StoreError('STORE_CORRUPT', `snapshot ${id}: layer chain too deep`);
    return layer.parent;
  }

  #checkSnapshotArg(id: SnapshotId): void {
    if (typeof id !== 'number' || !Number.isInteger(id)) throw new StoreError('STORE_UNKNOWN_SNAPSHOT', `snapshot ${String(id)} does not exist`);
  }

  /** See {@link RoomStore.getStateEntries}. */
  async getStateEntries(snapshot: SnapshotId, keys: readonly StateKey[]): Promise<readonly (EventId | undefined)[]> {
    this.#assertOpen();
    this.#checkSnapshotArg(snapshot);
    const full = this.#states.peek(snapshot);
    if (full !== undefined) return keys.map((k) => full.get(k));
    const chain = await this.#chain(snapshot);
    return keys.map((k) => lookupInChain(chain, k));
  }

  /** See {@link RoomStore.loadState}. */
  async loadState(snapshot: SnapshotId): Promise<ReadonlyMap<StateKey, EventId>> {
    this.#assertOpen();
    this.#checkSnapshotArg(snapshot);
    const hit = this.#states.get(snapshot);
    if (hit !== undefined) return hit;
    const chain = await this.#chain(snapshot);
    // Start from the nearest cached materialised ancestor, if any.
    let start: { index: number; state: ReadonlyMap<StateKey, EventId> } | undefined;
    for (let i = 1; i < chain.length; i++) {
      const s = this.#states.peek(chain[i]!.id);
      if (s !== undefined) {
        start = { index: i, state: s };
        break;
      }
    }
    const state = materialiseChain(chain, start);
    this.#states.set(snapshot, state);
    return state;
  }

  /** See {@link RoomStore.stateReader}. */
  async stateReader(snapshot: SnapshotId): Promise<ReadonlyMap<StateKey, EventId>> {
    this.#assertOpen();
    this.#checkSnapshotArg(snapshot);
    const hit = this.#states.get(snapshot);
    if (hit !== undefined) return hit;
    return new ChainStateMap(await this.#chain(snapshot));
  }

  /** See {@link RoomStore.diffStates}. */
  async diffStates(a: SnapshotId, b: SnapshotId): Promise<ReadonlyMap<StateKey, StateDiffEntry>> {
    this.#assertOpen();
    this.#checkSnapshotArg(a);
    this.#checkSnapshotArg(b);
    const [ca, cb] = await Promise.all([this.#chain(a), this.#chain(b)]);
    const shares = ca.some((l) => cb.some((m) => m.id === l.id));
    if (!shares) {
      const [sa, sb] = await Promise.all([this.loadState(a), this.loadState(b)]);
      return diffChains(ca, cb, () => [sa, sb]);
    }
    return diffChains(ca, cb, () => {
      throw new StoreError('STORE_CORRUPT', 'unreachable');
    });
  }

  /** See {@link RoomStore.snapshotInfo}. */
  async snapshotInfo(snapshot: SnapshotId): Promise<SnapshotInfo | undefined> {
    this.#assertOpen();
    if (!(await this.#hasSnapshot(snapshot))) return undefined;
    const [l] = await this.#chain(snapshot);
    return { id: l!.id, depth: l!.depth, parent: l!.parent, layerSize: layerSize(l!) };
  }

  // ---------------------------------------------------------------- auth chains

  /** See {@link RoomStore.getAuthChain}. */
  async getAuthChain(ids: readonly EventId[]): Promise<ReadonlySet<EventId>> {
    this.#assertOpen();
    const out = new Set<EventId>();
    for (const id of new Set(ids)) {
      for (const a of await this.#authChainOf(id)) out.add(a);
    }
    return out;
  }

  async #authChainOf(id: EventId): Promise<ReadonlySet<EventId>> {
    const hit = this.#authChains.get(id);
    if (hit !== undefined) return hit;
    const chain = new Set<EventId>();
    let complete = true;
    let frontier: EventId[] = [id];
    while (frontier.length > 0) {
      const events = await this.getEvents(frontier);
      const nextFrontier: EventId[] = [];
      for (const f of frontier) {
        const e = events.get(f);
        if (e === undefined) {
          complete = false;
          continue;
        }
        for (const a of e.authEvents) {
          if (chain.has(a)) continue;
          chain.add(a);
          const cached = this.#authChains.peek(a);
          if (cached !== undefined) for (const x of cached) chain.add(x);
          else nextFrontier.push(a);
        }
      }
      frontier = nextFrontier;
    }
    // Only complete chains are cached: a missing ancestor may be stored later.
    if (complete) this.#authChains.set(id, chain);
    return chain;
  }

  // ---------------------------------------------------------------- keys, parked, stats

  /** See {@link RoomStore.putServerKeys}. */
  async putServerKeys(keys: readonly ServerKeyRecord[]): Promise<void> {
    this.#assertOpen();
    for (const k of keys) {
      if (k === null || typeof k !== 'object' || !isNonEmptyString(k.server) || !isNonEmptyString(k.keyId) || typeof k.publicKey !== 'string') {
        throw new StoreError('STORE_INVALID_COMMIT', 'server key needs server, keyId and publicKey strings');
      }
    }
    await this._putServerKeys(keys.map((k) => Object.freeze({ ...k })));
  }

  /** See {@link RoomStore.getServerKey}. */
  async getServerKey(server: string, keyId: string): Promise<ServerKeyRecord | undefined> {
    this.#assertOpen();
    return this._getServerKey(server, keyId);
  }

  /** See {@link RoomStore.getServerKeys}. */
  async getServerKeys(server: string): Promise<readonly ServerKeyRecord[]> {
    this.#assertOpen();
    return this._getServerKeys(server);
  }

  /** See {@link RoomStore.parkEvents}. */
  async parkEvents(events: readonly ParkedEvent[]): Promise<void> {
    this.#assertOpen();
    for (const e of events) {
      if (e === null || typeof e !== 'object' || !isNonEmptyString(e.eventId) || !isNonEmptyString(e.roomId) || typeof e.receivedTs !== 'number' || e.json === null || typeof e.json !== 'object') {
        throw new StoreError('STORE_INVALID_COMMIT', 'parked event needs eventId, roomId, json and receivedTs');
      }
    }
    // Parked-event writes are ordered after every queued commit (a park record may only disappear
    // once the commit that replaces it is durable).
    await this.#written();
    await this._parkEvents(events.map((e) => Object.freeze({ ...e })));
  }

  /**
   * What a read of the park waits for first: by default every commit queued so far written (a
   * park record only disappears once the commit that replaces it is durable; see
   * {@link AbstractRoomStore.parkEvents}). A store whose park writes already wait for that may
   * answer at once.
   */
  protected _beforeParkRead(): Promise<void> {
    return this.#written();
  }

  /** See {@link RoomStore.listParkedEvents}. */
  async listParkedEvents(roomId: RoomId): Promise<readonly ParkedEvent[]> {
    this.#assertOpen();
    await this._beforeParkRead();
    const list = [...(await this._listParkedEvents(roomId))];
    return list.sort(compareParkedEvents);
  }

  /** See {@link RoomStore.getParkedEvents}. */
  async getParkedEvents(roomId: RoomId, eventIds: readonly EventId[]): Promise<readonly ParkedEvent[]> {
    this.#assertOpen();
    if (!Array.isArray(eventIds)) throw invalid('eventIds must be an array');
    await this._beforeParkRead();
    const ids = [...new Set(eventIds.filter((id): id is EventId => typeof id === 'string'))];
    if (ids.length === 0) return [];
    const list = [...(await this._getParkedEvents(roomId, ids))];
    return list.sort(compareParkedEvents);
  }

  /** See {@link RoomStore.deleteParkedEvents}. */
  async deleteParkedEvents(roomId: RoomId, eventIds: readonly EventId[]): Promise<void> {
    this.#assertOpen();
    await this.#written();
    await this._deleteParkedEvents(roomId, eventIds);
  }

  /** See {@link RoomStore.putInvites}. */
  async putInvites(invites: readonly StoredInvite[]): Promise<void> {
    this.#assertOpen();
    if (!Array.isArray(invites)) throw invalid('invites must be an array');
    const list: StoredInvite[] = [];
    for (const i of invites as readonly unknown[]) {
      const v = i as Partial<StoredInvite> | null;
      if (v === null || typeof v !== 'object' || !isNonEmptyString(v.roomId) || !isNonEmptyString(v.userId) || typeof v.receivedTs !== 'number' || v.record === null || typeof v.record !== 'object' || Array.isArray(v.record)) {
        throw invalid('invite needs roomId, userId, record and receivedTs');
      }
      list.push(Object.freeze({ roomId: v.roomId, userId: v.userId, record: v.record, receivedTs: v.receivedTs }));
    }
    await this._putInvites(list);
  }

  /** See {@link RoomStore.listInvites}. */
  async listInvites(): Promise<readonly StoredInvite[]> {
    this.#assertOpen();
    const list = [...(await this._listInvites())];
    return list.sort((x, y) => x.receivedTs - y.receivedTs || compareIds(x.roomId, y.roomId) || compareIds(x.userId, y.userId));
  }

  /** See {@link RoomStore.deleteInvites}. */
  async deleteInvites(keys: readonly InviteKey[]): Promise<void> {
    this.#assertOpen();
    if (!Array.isArray(keys)) throw invalid('invite keys must be an array');
    for (const k of keys as readonly unknown[]) {
      const v = k as Partial<InviteKey> | null;
      if (v === null || typeof v !== 'object' || !isNonEmptyString(v.roomId) || !isNonEmptyString(v.userId)) throw invalid('invite key needs roomId and userId');
    }
    await this._deleteInvites(keys);
  }

  /** See {@link RoomStore.stats}. */
  async stats(): Promise<StoreStats> {
    this.#assertOpen();
    await this.#written();
    return this._stats();
  }
}

/**
 * A frozen array of IDs: the view's own when it is already frozen (a parsed PDU's are), so a
 * stored record does not hold a second copy of every reference list.
 */
function frozenIds(ids: readonly EventId[]): readonly EventId[] {
  return Object.isFrozen(ids) ? ids : Object.freeze([...ids]);
}

/** The refs of a commit without snapshots (never added to: a commit adds refs only for its snapshots). */
const NO_REFS: ReadonlyMap<string, SnapshotId> = new Map();

/** Lists up to this long are searched by `includes`, longer ones by a Set (an event's forward extremities are a few). */
const SMALL_LIST = 16;

/** A commit applied and waiting for the writer. */
interface PendingWrite {
  readonly batch: StoreWriteBatch;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/** A block of commits being applied by `commitMany`: refs shared by its commits, how to undo them, their batches. */
interface BlockApply {
  readonly refs: Map<string, SnapshotId>;
  readonly undo: {
    readonly next: number;
    readonly event: EventId | undefined;
    readonly previous: StoredEvent | undefined;
    readonly layers: readonly SnapshotId[];
    readonly room: RoomId | undefined;
    readonly previousRoom: RoomInfo | undefined;
  }[];
  readonly batches: StoreWriteBatch[];
}

/** A stored record a commit may replace: an outlier that was not rejected. */
function isPromotable(e: StoredEvent): boolean {
  return e.status === 'outlier' && e.rejection === undefined;
}

function sameIds(a: readonly EventId[], b: readonly EventId[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function readChanges(changes: unknown, ref: string): { set: Map<StateKey, EventId>; removed: Set<StateKey> } {
  if (changes === null || typeof changes !== 'object') throw invalid(`snapshot "${ref}": changes must be an object`);
  const ch = changes as { set?: unknown; remove?: unknown };
  const set = new Map<StateKey, EventId>();
  const removed = new Set<StateKey>();
  if (ch.set !== undefined) {
    if (ch.set === null || typeof (ch.set as Iterable<unknown>)[Symbol.iterator] !== 'function') throw invalid(`snapshot "${ref}": set must be iterable`);
    for (const entry of ch.set as Iterable<unknown>) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !isNonEmptyString(entry[1])) throw invalid(`snapshot "${ref}": set entries must be [stateKey, eventId]`);
      set.set(entry[0], entry[1]);
    }
  }
  if (ch.remove !== undefined) {
    if (ch.remove === null || typeof (ch.remove as Iterable<unknown>)[Symbol.iterator] !== 'function' || typeof ch.remove === 'string') throw invalid(`snapshot "${ref}": remove must be iterable`);
    for (const k of ch.remove as Iterable<unknown>) {
      if (typeof k !== 'string') throw invalid(`snapshot "${ref}": removed keys must be strings`);
      if (set.has(k)) throw invalid(`snapshot "${ref}": key both set and removed`);
      removed.add(k);
    }
  }
  return { set, removed };
}

/** Orders events topologically for display/backfill: by depth, then stream. */
export function compareTopological(a: StoredEvent, b: StoredEvent): number {
  return a.depth - b.depth || a.stream - b.stream;
}

/**
 * A state read through its layer chain: point lookups probe at most the chain's few layers; the
 * full map is built only if the state is iterated or its size asked for (then kept).
 */
class ChainStateMap implements ReadonlyMap<StateKey, EventId> {
  readonly #chain: LayerChain;
  #full: Map<StateKey, EventId> | undefined;

  constructor(chain: LayerChain) {
    this.#chain = chain;
  }

  #all(): Map<StateKey, EventId> {
    this.#full ??= materialiseChain(this.#chain);
    return this.#full;
  }

  get(key: StateKey): EventId | undefined {
    return this.#full !== undefined ? this.#full.get(key) : lookupInChain(this.#chain, key);
  }

  has(key: StateKey): boolean {
    return this.get(key) !== undefined;
  }

  get size(): number {
    return this.#all().size;
  }

  entries(): MapIterator<[StateKey, EventId]> {
    return this.#all().entries();
  }

  keys(): MapIterator<StateKey> {
    return this.#all().keys();
  }

  values(): MapIterator<EventId> {
    return this.#all().values();
  }

  [Symbol.iterator](): MapIterator<[StateKey, EventId]> {
    return this.#all().entries();
  }

  forEach(fn: (value: EventId, key: StateKey, map: ReadonlyMap<StateKey, EventId>) => void): void {
    for (const [k, v] of this.#all()) fn(v, k, this);
  }
}
