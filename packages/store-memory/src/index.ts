/**
 * In-memory implementation of the roomgraph store: plain `Map`s behind the shared
 * {@link AbstractRoomStore} logic (validation, snapshot core, caches).
 *
 * @packageDocumentation
 */
import { AbstractRoomStore, type AbstractStoreOptions, type StoreWriteBatch, type TimelineRange, type SnapshotLayer, layerSize } from '@roomgraph/store';
import type { EventId, InviteKey, ParkedEvent, RoomId, RoomInfo, ServerKeyRecord, SnapshotId, StoreStats, StoredEvent, StoredInvite } from '@roomgraph/store';

/** Options of {@link MemoryRoomStore}. */
export type MemoryStoreOptions = AbstractStoreOptions;

/**
 * A store that keeps everything in memory. Commits are validated completely before anything is
 * applied, and applying cannot fail, so a failed commit leaves no trace. Not persistent.
 */
export class MemoryRoomStore extends AbstractRoomStore {
  readonly #events = new Map<EventId, StoredEvent>();
  readonly #layers = new Map<SnapshotId, SnapshotLayer>();
  readonly #rooms = new Map<RoomId, RoomInfo>();
  /** Per room: event IDs by stream position - 1 (`undefined` where a promoted outlier was). */
  readonly #streams = new Map<RoomId, (EventId | undefined)[]>();
  readonly #keys = new Map<string, Map<string, ServerKeyRecord>>();
  readonly #parked = new Map<RoomId, Map<EventId, ParkedEvent>>();
  /** Invites by `roomId\0userId`. */
  readonly #invites = new Map<string, StoredInvite>();
  #nextSnapshotId = 1;
  #layerEntries = 0;

  /** @param options - cache sizes and snapshot policy (caches default to off: the maps are the data). */
  constructor(options: MemoryStoreOptions = {}) {
    super(
      { persistent: false, crashSafe: false, serverKeys: true, parkedEvents: true, explicitSnapshots: false, authChainIndex: false },
      { eventCacheSize: 0, layerCacheEntries: 0, ...options },
    );
  }

  protected override async _open(): Promise<{ readonly nextSnapshotId: number }> {
    return { nextSnapshotId: this.#nextSnapshotId };
  }

  protected override async _close(): Promise<void> {}

  protected override async _write(batch: StoreWriteBatch): Promise<void> {
    this.#apply(batch);
  }

  // Group commit: the batches of a block (`commitMany`) are applied in one call, in order — as
  // one `_write` each would apply them, without a promise and a turn of the writer per batch.
  protected override async _writeGroup(batches: readonly StoreWriteBatch[]): Promise<void> {
    for (let i = 0; i < batches.length; i++) this.#apply(batches[i] as StoreWriteBatch);
  }

  /** Applies one batch. Everything was validated by the caller; the mutations below cannot throw. */
  #apply(batch: StoreWriteBatch): void {
    // (Indexed loops: no iterator result per step before this is optimised.)
    for (let i = 0; i < batch.replaced.length; i++) {
      const old = batch.replaced[i] as StoredEvent;
      const s = this.#streams.get(old.roomId);
      if (s !== undefined && s[old.stream - 1] === old.eventId) s[old.stream - 1] = undefined;
    }
    for (let i = 0; i < batch.events.length; i++) {
      const e = batch.events[i] as StoredEvent;
      this.#events.set(e.eventId, e);
      let s = this.#streams.get(e.roomId);
      if (s === undefined) this.#streams.set(e.roomId, (s = []));
      s[e.stream - 1] = e.eventId;
    }
    for (let i = 0; i < batch.layers.length; i++) {
      const l = batch.layers[i] as SnapshotLayer;
      this.#layers.set(l.id, l);
      this.#layerEntries += layerSize(l);
    }
    for (let i = 0; i < batch.rooms.length; i++) this.#rooms.set((batch.rooms[i] as RoomInfo).roomId, batch.rooms[i] as RoomInfo);
    this.#nextSnapshotId = batch.nextSnapshotId;
  }

  // Everything is in the maps: reads are answered at once (no promise per read).
  protected override _eventNow(id: EventId): StoredEvent | undefined {
    return this.#events.get(id);
  }

  protected override _layerNow(id: SnapshotId): SnapshotLayer | undefined {
    return this.#layers.get(id);
  }

  protected override async _getEvents(ids: readonly EventId[]): Promise<readonly (StoredEvent | undefined)[]> {
    return ids.map((id) => this.#events.get(id));
  }

  protected override async _getLayers(ids: readonly SnapshotId[]): Promise<readonly (SnapshotLayer | undefined)[]> {
    return ids.map((id) => this.#layers.get(id));
  }

  protected override async _getRoom(roomId: RoomId): Promise<RoomInfo | undefined> {
    return this.#rooms.get(roomId);
  }

  protected override async _listRooms(): Promise<readonly RoomId[]> {
    return [...this.#rooms.keys()];
  }

  protected override async _timeline(roomId: RoomId, range: TimelineRange): Promise<readonly StoredEvent[]> {
    const s = this.#streams.get(roomId);
    if (s === undefined) return [];
    const out: StoredEvent[] = [];
    const step = range.reverse ? -1 : 1;
    for (let i = range.from - 1; i >= 0 && i < s.length && out.length < range.limit; i += step) {
      const id = s[i];
      const e = id === undefined ? undefined : this.#events.get(id);
      if (e !== undefined) out.push(e);
    }
    return out;
  }

  protected override async _putServerKeys(keys: readonly ServerKeyRecord[]): Promise<void> {
    for (const k of keys) {
      let m = this.#keys.get(k.server);
      if (m === undefined) this.#keys.set(k.server, (m = new Map()));
      m.set(k.keyId, k);
    }
  }

  protected override async _getServerKey(server: string, keyId: string): Promise<ServerKeyRecord | undefined> {
    return this.#keys.get(server)?.get(keyId);
  }

  protected override async _getServerKeys(server: string): Promise<readonly ServerKeyRecord[]> {
    return [...(this.#keys.get(server)?.values() ?? [])];
  }

  protected override async _parkEvents(events: readonly ParkedEvent[]): Promise<void> {
    for (const e of events) {
      let m = this.#parked.get(e.roomId);
      if (m === undefined) this.#parked.set(e.roomId, (m = new Map()));
      m.set(e.eventId, e);
    }
  }

  protected override async _listParkedEvents(roomId: RoomId): Promise<readonly ParkedEvent[]> {
    return [...(this.#parked.get(roomId)?.values() ?? [])];
  }

  protected override async _getParkedEvents(roomId: RoomId, eventIds: readonly EventId[]): Promise<readonly ParkedEvent[]> {
    const m = this.#parked.get(roomId);
    if (m === undefined) return [];
    const out: ParkedEvent[] = [];
    for (const id of eventIds) {
      const e = m.get(id);
      if (e !== undefined) out.push(e);
    }
    return out;
  }

  protected override async _deleteParkedEvents(roomId: RoomId, eventIds: readonly EventId[]): Promise<void> {
    const m = this.#parked.get(roomId);
    if (m === undefined) return;
    for (const id of eventIds) m.delete(id);
  }

  protected override async _putInvites(invites: readonly StoredInvite[]): Promise<void> {
    for (const i of invites) this.#invites.set(`${i.roomId}\u0000${i.userId}`, i);
  }

  protected override async _listInvites(): Promise<readonly StoredInvite[]> {
    return [...this.#invites.values()];
  }

  protected override async _deleteInvites(keys: readonly InviteKey[]): Promise<void> {
    for (const k of keys) this.#invites.delete(`${k.roomId}\u0000${k.userId}`);
  }

  protected override async _stats(): Promise<StoreStats> {
    return { events: this.#events.size, snapshots: this.#layers.size, snapshotEntries: this.#layerEntries };
  }
}

/** Creates (but does not open) an in-memory store. */
export function createMemoryStore(options?: MemoryStoreOptions): MemoryRoomStore {
  return new MemoryRoomStore(options);
}
