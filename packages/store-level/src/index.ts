/**
 * LevelDB implementation of the roomgraph store (the embedded default): one root `Level` database,
 * one sublevel per table, exactly one atomic `db.batch([...])` per commit spanning the sublevels.
 *
 * @packageDocumentation
 */
import { Level } from 'level';
import { BloomFilter } from './bloom.js';
import { AbstractRoomStore, StoreError, type AbstractStoreOptions, type StoreWriteBatch, type TimelineRange, type SnapshotLayer } from '@roomgraph/store';
import type { EventId, EventStatus, ParkedEvent, PduJson, RoomId, RoomInfo, ServerKeyRecord, SnapshotId, StoreStats, StoredEvent } from '@roomgraph/store';

/** Options of {@link LevelRoomStore}. */
export interface LevelStoreOptions extends AbstractStoreOptions {
  /**
   * `fsync` every commit (LevelDB `sync: true`). Default `false`: a commit is acknowledged once it
   * is in the LevelDB log in the OS page cache, which survives a process kill (SIGKILL) but not a
   * power loss / kernel crash. Set `true` for durability against those, at a large cost per commit.
   */
  readonly sync?: boolean;
}

/** Schema version written to `meta/schema`. */
export const LEVEL_SCHEMA_VERSION = 1;

/** The `level` database type the store uses (UTF-8 keys and values). */
export type LevelDb = Level<string, string>;
type Db = LevelDb;
function openSublevel(db: Db, name: string) {
  return db.sublevel<string, string>(name, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
}
type Sub = ReturnType<typeof openSublevel>;
type BatchOp = { type: 'put'; sublevel: Sub; key: string; value: string } | { type: 'del'; sublevel: Sub; key: string };

/** Sublevel names (the on-disk layout; see README). */
export const LEVEL_TABLES = Object.freeze({
  meta: 'meta',
  events: 'event',
  rooms: 'room',
  roomStream: 'room_stream',
  layers: 'snap_layer',
  serverKeys: 'server_key',
  parked: 'room_parked',
} as const);

/** Fixed-width big-endian hex of a non-negative integer (sorts numerically as a string). */
function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** Key of a room_stream entry: room ID, NUL, 12-digit hex stream position. */
function streamKey(roomId: RoomId, stream: number): string {
  return `${roomId}\x00${hex(stream, 12)}`;
}

interface EncodedEvent {
  r: string;
  j: PduJson;
  t: string;
  k?: string;
  d: number;
  p: string[];
  a: string[];
  s: EventStatus;
  x?: { rule: string; reason?: string };
  n: number;
  b?: number;
}

interface EncodedLayer {
  p?: number;
  d: number;
  s: string[]; // k0, v0, k1, v1, …
  r: string[];
}

function encodeEvent(e: StoredEvent): string {
  const o: EncodedEvent = { r: e.roomId, j: e.json, t: e.type, d: e.depth, p: [...e.prevEvents], a: [...e.authEvents], s: e.status, n: e.stream };
  if (e.stateKey !== undefined) o.k = e.stateKey;
  if (e.rejection !== undefined) o.x = { ...e.rejection };
  if (e.stateBefore !== undefined) o.b = e.stateBefore;
  return JSON.stringify(o);
}

function decodeEvent(id: EventId, text: string): StoredEvent {
  try {
    const o = JSON.parse(text) as EncodedEvent;
    return Object.freeze({
      eventId: id,
      roomId: o.r,
      json: o.j,
      type: o.t,
      stateKey: o.k,
      depth: o.d,
      prevEvents: Object.freeze(o.p),
      authEvents: Object.freeze(o.a),
      status: o.s,
      ...(o.x !== undefined ? { rejection: Object.freeze(o.x) } : {}),
      stream: o.n,
      stateBefore: o.b,
    });
  } catch (e) {
    throw new StoreError('STORE_CORRUPT', `event ${id}: undecodable record`, { cause: e });
  }
}

function encodeLayer(l: SnapshotLayer): string {
  const s: string[] = [];
  for (const [k, v] of l.set) s.push(k, v);
  const o: EncodedLayer = { d: l.depth, s, r: [...l.removed] };
  if (l.parent !== undefined) o.p = l.parent;
  return JSON.stringify(o);
}

function decodeLayer(id: SnapshotId, text: string): SnapshotLayer {
  try {
    const o = JSON.parse(text) as EncodedLayer;
    const set = new Map<string, string>();
    for (let i = 0; i < o.s.length; i += 2) set.set(o.s[i]!, o.s[i + 1]!);
    return Object.freeze({ id, parent: o.p, depth: o.d, set, removed: new Set(o.r) });
  } catch (e) {
    throw new StoreError('STORE_CORRUPT', `snapshot layer ${id}: undecodable record`, { cause: e });
  }
}

/**
 * A store on LevelDB (via `level`). Crash-safe under process kill: every commit is one LevelDB
 * write batch (all-or-nothing), counters are persisted in the same batch, and in-memory caches are
 * updated only after the batch resolves.
 */
export class LevelRoomStore extends AbstractRoomStore {
  /** The database directory. */
  readonly location: string;
  readonly #db: Db;
  readonly #sync: boolean;
  readonly #t: { readonly [K in keyof typeof LEVEL_TABLES]: Sub };
  /**
   * Every stored event ID, as a Bloom filter built at open (a keys-only scan) and kept current by
   * writes: an ID it has never seen is answered "absent" without a disk read. Rebuilt larger when
   * the store outgrows it.
   */
  #ids: BloomFilter | undefined;

  /**
   * @param location - directory of the LevelDB database (created if missing).
   * @param options - durability, caches and snapshot policy.
   */
  constructor(location: string, options: LevelStoreOptions = {}) {
    super({ persistent: true, crashSafe: true, serverKeys: true, parkedEvents: true, explicitSnapshots: false, authChainIndex: false }, options);
    this.location = location;
    this.#sync = options.sync ?? false;
    this.#db = new Level<string, string>(location, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    const sub = (name: string): Sub => openSublevel(this.#db, name);
    this.#t = {
      meta: sub(LEVEL_TABLES.meta),
      events: sub(LEVEL_TABLES.events),
      rooms: sub(LEVEL_TABLES.rooms),
      roomStream: sub(LEVEL_TABLES.roomStream),
      layers: sub(LEVEL_TABLES.layers),
      serverKeys: sub(LEVEL_TABLES.serverKeys),
      parked: sub(LEVEL_TABLES.parked),
    };
  }

  /** The underlying `Level` instance (for diagnostics; do not write to it). */
  get db(): LevelDb {
    return this.#db;
  }

  protected override async _open(): Promise<{ readonly nextSnapshotId: number }> {
    try {
      await this.#db.open();
    } catch (e) {
      // LevelDB's "Database failed to open" hides the reason in its cause: say it plainly.
      const cause = (e as { cause?: { code?: unknown } } | null)?.cause;
      if (cause?.code === 'LEVEL_LOCKED') {
        throw new StoreError('STORE_LOCKED', `the store at ${this.location} is locked by another process (or by another open store in this one): a LevelDB store is open in one place at a time`, { cause: e });
      }
      throw e;
    }
    const schema = await this.#t.meta.get('schema');
    if (schema === undefined) {
      await this.#db.batch([
        { type: 'put', sublevel: this.#t.meta, key: 'schema', value: String(LEVEL_SCHEMA_VERSION) },
        { type: 'put', sublevel: this.#t.meta, key: 'next_snapshot', value: '1' },
      ], { sync: true });
      return { nextSnapshotId: 1 };
    }
    if (schema !== String(LEVEL_SCHEMA_VERSION)) {
      await this.#db.close();
      throw new StoreError('STORE_CORRUPT', `unsupported schema version ${schema}`);
    }
    const next = Number(await this.#t.meta.get('next_snapshot'));
    if (!Number.isInteger(next) || next < 1) throw new StoreError('STORE_CORRUPT', 'bad snapshot counter');
    return { nextSnapshotId: next };
  }

  protected override async _close(): Promise<void> {
    this.#ids = undefined;
    await this.#db.close();
  }

  async #rebuildIds(minimumCapacity: number): Promise<BloomFilter> {
    const keys: string[] = await this.#t.events.keys().all();
    const filter = new BloomFilter(Math.max(minimumCapacity, keys.length * 2, 100_000));
    for (const k of keys) filter.add(k);
    this.#ids = filter;
    return filter;
  }

  protected override async _write(batch: StoreWriteBatch): Promise<void> {
    await this._writeGroup([batch]);
  }

  /** Group commit: the batches' operations, in order, in one LevelDB write batch (all or nothing). */
  protected override async _writeGroup(batches: readonly StoreWriteBatch[]): Promise<void> {
    const t = this.#t;
    const ops: BatchOp[] = [];
    for (const batch of batches) {
      // Promoted outliers: their old stream entry goes in the same batch as the new one.
      for (const old of batch.replaced) ops.push({ type: 'del', sublevel: t.roomStream, key: streamKey(old.roomId, old.stream) });
      for (const e of batch.events) {
        ops.push({ type: 'put', sublevel: t.events, key: e.eventId, value: encodeEvent(e) });
        ops.push({ type: 'put', sublevel: t.roomStream, key: streamKey(e.roomId, e.stream), value: e.eventId });
      }
      for (const l of batch.layers) ops.push({ type: 'put', sublevel: t.layers, key: hex(l.id, 8), value: encodeLayer(l) });
    }
    // Room records and the counter: only the last value of each is needed.
    const rooms = new Map<RoomId, RoomInfo>();
    for (const batch of batches) for (const r of batch.rooms) rooms.set(r.roomId, r);
    for (const r of rooms.values()) ops.push({ type: 'put', sublevel: t.rooms, key: r.roomId, value: JSON.stringify(r) });
    ops.push({ type: 'put', sublevel: t.meta, key: 'next_snapshot', value: String(batches[batches.length - 1]!.nextSnapshotId) });
    await this.#db.batch(ops, { sync: this.#sync });
    const ids = this.#ids;
    if (ids !== undefined) {
      for (const batch of batches) for (const e of batch.events) ids.add(e.eventId);
      // Past its capacity the filter's false positives grow: rebuild it twice as large.
      if (ids.count > ids.capacity) await this.#rebuildIds(ids.capacity * 2);
    }
  }

  protected override async _getEvents(ids: readonly EventId[]): Promise<readonly (StoredEvent | undefined)[]> {
    const filter = this.#ids ?? (await this.#rebuildIds(0));
    const maybe = ids.filter((id) => filter.mayContain(id));
    if (maybe.length === 0) return ids.map(() => undefined);
    const values = await this.#t.events.getMany(maybe);
    const found = new Map<EventId, StoredEvent>();
    values.forEach((v, i) => { if (v !== undefined) found.set(maybe[i]!, decodeEvent(maybe[i]!, v)); });
    return ids.map((id) => found.get(id));
  }

  protected override async _getLayers(ids: readonly SnapshotId[]): Promise<readonly (SnapshotLayer | undefined)[]> {
    const values = await this.#t.layers.getMany(ids.map((id) => hex(id, 8)));
    return values.map((v, i) => (v === undefined ? undefined : decodeLayer(ids[i]!, v)));
  }

  protected override async _getRoom(roomId: RoomId): Promise<RoomInfo | undefined> {
    const v = await this.#t.rooms.get(roomId);
    if (v === undefined) return undefined;
    try {
      const r = JSON.parse(v) as RoomInfo;
      return Object.freeze({ ...r, forwardExtremities: Object.freeze(r.forwardExtremities) });
    } catch (e) {
      throw new StoreError('STORE_CORRUPT', `room ${roomId}: undecodable record`, { cause: e });
    }
  }

  protected override async _listRooms(): Promise<readonly RoomId[]> {
    return this.#t.rooms.keys().all();
  }

  protected override async _timeline(roomId: RoomId, range: TimelineRange): Promise<readonly StoredEvent[]> {
    const lo = `${roomId}\x00`;
    const at = streamKey(roomId, range.from);
    const opts = range.reverse ? { gt: lo, lte: at, reverse: true, limit: range.limit } : { gte: at, lt: `${roomId}\x01`, limit: range.limit };
    const ids = await this.#t.roomStream.values(opts).all();
    const events = await this.getEvents(ids);
    const out: StoredEvent[] = [];
    for (const id of ids) {
      const e = events.get(id);
      if (e === undefined) throw new StoreError('STORE_CORRUPT', `timeline of ${roomId} refers to missing event ${id}`);
      out.push(e);
    }
    return out;
  }

  protected override async _putServerKeys(keys: readonly ServerKeyRecord[]): Promise<void> {
    await this.#db.batch(
      keys.map((k) => ({ type: 'put' as const, sublevel: this.#t.serverKeys, key: `${k.server}\x00${k.keyId}`, value: JSON.stringify(k) })),
      { sync: this.#sync },
    );
  }

  protected override async _getServerKey(server: string, keyId: string): Promise<ServerKeyRecord | undefined> {
    const v = await this.#t.serverKeys.get(`${server}\x00${keyId}`);
    return v === undefined ? undefined : (Object.freeze(JSON.parse(v)) as ServerKeyRecord);
  }

  protected override async _getServerKeys(server: string): Promise<readonly ServerKeyRecord[]> {
    const values = await this.#t.serverKeys.values({ gt: `${server}\x00`, lt: `${server}\x01` }).all();
    return values.map((v) => Object.freeze(JSON.parse(v)) as ServerKeyRecord);
  }

  protected override async _parkEvents(events: readonly ParkedEvent[]): Promise<void> {
    await this.#db.batch(
      events.map((e) => ({ type: 'put' as const, sublevel: this.#t.parked, key: `${e.roomId}\x00${e.eventId}`, value: JSON.stringify(e) })),
      { sync: this.#sync },
    );
  }

  protected override async _listParkedEvents(roomId: RoomId): Promise<readonly ParkedEvent[]> {
    const values = await this.#t.parked.values({ gt: `${roomId}\x00`, lt: `${roomId}\x01` }).all();
    return values.map((v) => Object.freeze(JSON.parse(v)) as ParkedEvent);
  }

  protected override async _deleteParkedEvents(roomId: RoomId, eventIds: readonly EventId[]): Promise<void> {
    await this.#db.batch(
      eventIds.map((id) => ({ type: 'del' as const, sublevel: this.#t.parked, key: `${roomId}\x00${id}` })),
      { sync: this.#sync },
    );
  }

  protected override async _stats(): Promise<StoreStats> {
    let events = 0;
    for await (const _ of this.#t.events.keys()) events++;
    let snapshots = 0;
    let snapshotEntries = 0;
    for await (const v of this.#t.layers.values()) {
      snapshots++;
      const o = JSON.parse(v) as EncodedLayer;
      snapshotEntries += o.s.length / 2 + o.r.length;
    }
    return { events, snapshots, snapshotEntries };
  }
}

/** Creates (but does not open) a LevelDB store at `location`. */
export function createLevelStore(location: string, options?: LevelStoreOptions): LevelRoomStore {
  return new LevelRoomStore(location, options);
}
