// A persistent, crash-safe room store in one append-only file: every commit is one JSON line,
// appended and fsync'ed; opening the store replays the lines. A line torn by a crash is the last
// one and is ignored, so a commit is either wholly there or not at all. (A teaching example: it
// keeps everything in memory too and never compacts the file.)
import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, readFileSync } from 'node:fs';
import {
  AbstractRoomStore,
  layerSize,
  type EventId,
  type InviteKey,
  type ParkedEvent,
  type RoomId,
  type RoomInfo,
  type ServerKeyRecord,
  type SnapshotId,
  type SnapshotLayer,
  type StoreStats,
  type StoreWriteBatch,
  type StoredEvent,
  type StoredInvite,
  type TimelineRange,
} from '@roomgraph/store';

/** One line of the file. Maps and sets of snapshot layers are written as arrays. */
type Record =
  | { readonly kind: 'batch'; readonly events: StoredEvent[]; readonly replaced: StoredEvent[]; readonly layers: LayerJson[]; readonly rooms: RoomInfo[]; readonly next: number }
  | { readonly kind: 'keys'; readonly keys: ServerKeyRecord[] }
  | { readonly kind: 'park'; readonly events: ParkedEvent[] }
  | { readonly kind: 'unpark'; readonly roomId: RoomId; readonly ids: EventId[] }
  | { readonly kind: 'invite'; readonly invites: StoredInvite[] }
  | { readonly kind: 'uninvite'; readonly keys: InviteKey[] };
type LayerJson = { id: number; parent: number | null; depth: number; set: [string, string][]; removed: string[] };

export class LogRoomStore extends AbstractRoomStore {
  readonly #events = new Map<EventId, StoredEvent>();
  readonly #layers = new Map<SnapshotId, SnapshotLayer>();
  readonly #rooms = new Map<RoomId, RoomInfo>();
  readonly #streams = new Map<RoomId, (EventId | undefined)[]>();
  readonly #keys = new Map<string, Map<string, ServerKeyRecord>>();
  readonly #parked = new Map<RoomId, Map<EventId, ParkedEvent>>();
  readonly #invites = new Map<string, StoredInvite>();
  #next = 1;
  #entries = 0;

  constructor(readonly file: string) {
    super({ persistent: true, crashSafe: true, serverKeys: true, parkedEvents: true, explicitSnapshots: false, authChainIndex: false });
  }

  protected override async _open(): Promise<{ readonly nextSnapshotId: number }> {
    if (existsSync(this.file)) {
      for (const line of readFileSync(this.file, 'utf8').split('\n')) {
        if (line === '') continue;
        let record: Record;
        try {
          record = JSON.parse(line) as Record;
        } catch {
          break; // a torn last line: the commit it held was never acknowledged
        }
        this.#apply(record);
      }
    }
    return { nextSnapshotId: this.#next };
  }

  protected override async _close(): Promise<void> {}

  /** Appends one record and makes it durable before the commit is acknowledged. */
  #append(record: Record): void {
    const fd = openSync(this.file, 'a');
    try {
      appendFileSync(fd, JSON.stringify(record) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.#apply(record);
  }

  #apply(r: Record): void {
    if (r.kind === 'batch') {
      for (const old of r.replaced) {
        const s = this.#streams.get(old.roomId);
        if (s !== undefined && s[old.stream - 1] === old.eventId) s[old.stream - 1] = undefined;
      }
      for (const e of r.events) {
        this.#events.set(e.eventId, e);
        const s = this.#streams.get(e.roomId) ?? this.#streams.set(e.roomId, []).get(e.roomId)!;
        s[e.stream - 1] = e.eventId;
      }
      for (const l of r.layers) {
        const layer: SnapshotLayer = { id: l.id, parent: l.parent ?? undefined, depth: l.depth, set: new Map(l.set), removed: new Set(l.removed) };
        this.#layers.set(l.id, layer);
        this.#entries += layerSize(layer);
      }
      for (const room of r.rooms) this.#rooms.set(room.roomId, room);
      this.#next = r.next;
    } else if (r.kind === 'keys') {
      for (const k of r.keys) (this.#keys.get(k.server) ?? this.#keys.set(k.server, new Map()).get(k.server)!).set(k.keyId, k);
    } else if (r.kind === 'park') {
      for (const e of r.events) (this.#parked.get(e.roomId) ?? this.#parked.set(e.roomId, new Map()).get(e.roomId)!).set(e.eventId, e);
    } else if (r.kind === 'unpark') {
      for (const id of r.ids) this.#parked.get(r.roomId)?.delete(id);
    } else if (r.kind === 'invite') {
      for (const i of r.invites) this.#invites.set(`${i.roomId}\u0000${i.userId}`, i);
    } else {
      for (const k of r.keys) this.#invites.delete(`${k.roomId}\u0000${k.userId}`);
    }
  }

  // One commit = one record = one atomic append (the snapshot counter travels with it).
  protected override async _write(b: StoreWriteBatch): Promise<void> {
    this.#append({
      kind: 'batch',
      events: [...b.events],
      replaced: [...b.replaced],
      layers: b.layers.map((l) => ({ id: l.id, parent: l.parent ?? null, depth: l.depth, set: [...l.set], removed: [...l.removed] })),
      rooms: [...b.rooms],
      next: b.nextSnapshotId,
    });
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
    const s = this.#streams.get(roomId) ?? [];
    const out: StoredEvent[] = [];
    for (let i = range.from - 1; i >= 0 && i < s.length && out.length < range.limit; i += range.reverse ? -1 : 1) {
      const e = s[i] === undefined ? undefined : this.#events.get(s[i]!);
      if (e !== undefined) out.push(e);
    }
    return out;
  }
  protected override async _putServerKeys(keys: readonly ServerKeyRecord[]): Promise<void> {
    this.#append({ kind: 'keys', keys: [...keys] });
  }
  protected override async _getServerKey(server: string, keyId: string): Promise<ServerKeyRecord | undefined> {
    return this.#keys.get(server)?.get(keyId);
  }
  protected override async _getServerKeys(server: string): Promise<readonly ServerKeyRecord[]> {
    return [...(this.#keys.get(server)?.values() ?? [])];
  }
  protected override async _parkEvents(events: readonly ParkedEvent[]): Promise<void> {
    this.#append({ kind: 'park', events: [...events] });
  }
  protected override async _listParkedEvents(roomId: RoomId): Promise<readonly ParkedEvent[]> {
    return [...(this.#parked.get(roomId)?.values() ?? [])];
  }
  protected override async _deleteParkedEvents(roomId: RoomId, eventIds: readonly EventId[]): Promise<void> {
    this.#append({ kind: 'unpark', roomId, ids: [...eventIds] });
  }
  protected override async _putInvites(invites: readonly StoredInvite[]): Promise<void> {
    this.#append({ kind: 'invite', invites: [...invites] });
  }
  protected override async _listInvites(): Promise<readonly StoredInvite[]> {
    return [...this.#invites.values()];
  }
  protected override async _deleteInvites(keys: readonly InviteKey[]): Promise<void> {
    this.#append({ kind: 'uninvite', keys: [...keys] });
  }
  protected override async _stats(): Promise<StoreStats> {
    return { events: this.#events.size, snapshots: this.#layers.size, snapshotEntries: this.#entries };
  }
}
