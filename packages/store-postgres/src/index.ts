/**
 * PostgreSQL implementation of the roomgraph store: one room graph shared by several engine
 * processes (or machines) on one database.
 *
 * - Every commit — or every group of commits (`commit(c, { durable: false })` + `flush()`) — is
 *   one SQL transaction: a crash never leaves half an event.
 * - Writes to one room are serialised across processes by a per-room lock
 *   ({@link PostgresRoomStore.lockRoom}: a session advisory lock, held by the engine around its
 *   read-decide-commit of an event); writes to different rooms run in parallel; readers are never
 *   blocked (MVCC).
 * - Nothing another process may change is cached (see `AbstractStoreOptions.sharedDatabase`):
 *   the room row is the room's version and is read on every access, except while this process
 *   holds the room's lock. Every write also checks the room's `last_stream` it started from, so a
 *   writer that did not hold the lock gets a typed error instead of overwriting another's work.
 *
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import { AbstractRoomStore, StoreError, type AbstractStoreOptions, type StoreWriteBatch, type TimelineRange, type SnapshotLayer } from '@roomgraph/store';
import type { EventId, InviteKey, ParkedEvent, RoomId, RoomInfo, RoomLockHandle, ServerKeyRecord, SnapshotId, StoreStats, StoredEvent, StoredInvite } from '@roomgraph/store';
import { decodeEvent, decodeLayer, decodeRoom, encodeEvent, encodeLayer, fromText, toText, toTexts, type RoomRow } from './codec.js';
import { MIGRATIONS, SCHEMA_VERSION, quoteIdent, versionTableSql } from './schema.js';
import { roomLockKey, MIGRATION_LOCK_KEY } from './locks.js';
import { Db, type HeldClient } from './db.js';

export { MIGRATIONS, SCHEMA_VERSION, type Migration } from './schema.js';
export { roomLockKey } from './locks.js';


/** Options of {@link PostgresRoomStore}. */
export interface PostgresStoreOptions extends AbstractStoreOptions {
  /**
   * The SQL schema holding the tables (created if missing). Default: the URL's `schema` query
   * parameter, else `roomgraph`.
   */
  readonly schema?: string;
  /** Connections for reads and writes (default 8). */
  readonly maxConnections?: number;
  /**
   * Connections for room locks (default 32): each room whose lock this process holds or waits
   * for uses one (a session advisory lock lives on its connection).
   */
  readonly lockConnections?: number;
  /**
   * Consecutive lock sections of one room that may share one lock acquisition (default 64).
   * While sections follow each other, the lock is kept (and their commits share group writes);
   * after this many it is released once their commits are durable, so that other processes
   * waiting for the room get their turn.
   */
  readonly lockBatch?: number;
  /** Seconds to wait for a connection (default 10). */
  readonly connectTimeout?: number;
  /**
   * Testing and diagnostics: called inside each write transaction after all its statements ran,
   * before `COMMIT` (`events`: the IDs the transaction writes). The crash tests use it to kill a
   * writer at exactly that point.
   */
  readonly beforeCommit?: (info: { readonly events: readonly EventId[] }) => void | Promise<void>;
}


/** The state of this process's hold on one room's lock. */
interface Lease {
  readonly roomId: RoomId;
  readonly key: string;
  /** Sections in progress. */
  active: number;
  /** Sections started since the lock was taken. */
  sections: number;
  /** The connection holding the advisory lock (set once acquired). */
  conn: HeldClient | undefined;
  /** Resolves when the lock is held (or the attempt failed). */
  acquired: Promise<void>;
  /** Set while the lock is being given up; resolves when it is. */
  released: Promise<void> | undefined;
  /** The room record, cached while the lock is held (no other process can change it). */
  room: RoomInfo | undefined;
}

/** Snapshot IDs reserved per trip to the counter row. */
const SNAPSHOT_ID_BLOCK = 4096;

/** Splits a `postgres://` URL into the connection URL and the store's own `schema` parameter. */
export function parsePostgresUrl(url: string): { readonly url: string; readonly schema: string | undefined } {
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    throw new StoreError('STORE_IO', `not a URL: ${url}`, { cause: e });
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new StoreError('STORE_IO', `not a postgres:// URL: ${url}`);
  const schema = u.searchParams.get('schema') ?? undefined;
  u.searchParams.delete('schema');
  return { url: u.toString(), schema };
}

function io(what: string, e: unknown): StoreError {
  if (e instanceof StoreError) return e;
  const msg = (e as Error)?.message ?? String(e);
  return new StoreError('STORE_IO', `${what}: ${msg}`, { cause: e });
}

/** One item per key, the last of duplicates (as a sequence of puts would leave them): one row per key for an upsert. */
function lastByKey<T>(items: readonly T[], key: (item: T) => string): T[] {
  const last = new Map<string, T>();
  for (const x of items) last.set(key(x), x);
  return [...last.values()];
}

/**
 * A store on PostgreSQL (or a database speaking its protocol). Persistent and crash-safe; shared
 * by any number of processes.
 */
export class PostgresRoomStore extends AbstractRoomStore {
  /** The connection URL (without the `schema` parameter). */
  readonly url: string;
  /** The SQL schema holding the tables. */
  readonly schema: string;
  readonly #options: PostgresStoreOptions;
  readonly #s: string;
  #sql: Db | undefined;
  #lockSql: Db | undefined;
  /** Interned room IDs (a room's `room_nid` never changes). */
  readonly #nids = new Map<RoomId, number>();
  readonly #leases = new Map<RoomId, Lease>();
  readonly #q: Readonly<Record<string, string>>;
  /**
   * The server runs every connection in one session (PGlite's socket server): advisory locks
   * exclude nothing there, and interleaved extended-protocol messages of several connections
   * collide. The store then uses one connection and only in-process room locks (one process).
   */
  #singleSession = false;
  /**
   * Statements are prepared (named) once per connection — except on a single-session server,
   * where the names of every connection (and of every store on it) would collide in its one
   * session.
   */
  /**
   * Whether the server runs every connection in one session (PGlite's socket server), as found at
   * `open()`. Then advisory locks exclude nothing, and only one process may use the database.
   */
  get singleSession(): boolean {
    return this.#singleSession;
  }

  get #prepare(): boolean {
    return !this.#singleSession;
  }

  /**
   * @param url - `postgres://user@host:port/database[?schema=name]`.
   * @param options - schema, pool sizes, caches and snapshot policy.
   */
  constructor(url: string, options: PostgresStoreOptions = {}) {
    super({ persistent: true, crashSafe: true, serverKeys: true, parkedEvents: true, explicitSnapshots: false, authChainIndex: false }, { ...options, sharedDatabase: true });
    const parsed = parsePostgresUrl(url);
    this.url = parsed.url;
    this.schema = options.schema ?? parsed.schema ?? 'roomgraph';
    this.#options = options;
    const s = (this.#s = quoteIdent(this.schema));
    this.#q = Object.freeze({
      events: `SELECT event_id, record FROM ${s}.events WHERE event_id = ANY($1::text[])`,
      layers: `SELECT id, parent, depth, body FROM ${s}.snapshot_layers WHERE id = ANY($1::bigint[])`,
      room: `SELECT room_nid, room_id, room_version, create_event_id, current_state, forward_extremities, last_stream FROM ${s}.rooms WHERE room_id = $1`,
      rooms: `SELECT room_id FROM ${s}.rooms ORDER BY room_id COLLATE "C"`,
      timelineFwd: `SELECT e.event_id, e.record FROM ${s}.events e JOIN ${s}.rooms r ON r.room_nid = e.room_nid WHERE r.room_id = $1 AND e.stream >= $2 ORDER BY e.stream LIMIT $3`,
      timelineBack: `SELECT e.event_id, e.record FROM ${s}.events e JOIN ${s}.rooms r ON r.room_nid = e.room_nid WHERE r.room_id = $1 AND e.stream <= $2 ORDER BY e.stream DESC LIMIT $3`,
      createRoom: `INSERT INTO ${s}.rooms (room_id, room_version, create_event_id, current_state, forward_extremities, last_stream) VALUES ($1, $2, $3, $4, $5, $6) RETURNING room_nid`,
      updateRoom: `UPDATE ${s}.rooms SET current_state = $2, forward_extremities = $3, last_stream = $4 WHERE room_id = $1 AND last_stream = $5 RETURNING room_nid`,
      insertEvents: `INSERT INTO ${s}.events (event_id, room_nid, stream, status, record) SELECT * FROM unnest($1::text[], $2::integer[], $3::bigint[], $4::text[], $5::text[])`,
      promoteEvent: `UPDATE ${s}.events SET stream = $2, status = $3, record = $4 WHERE event_id = $1 AND status = 'outlier'`,
      insertLayers: `INSERT INTO ${s}.snapshot_layers (id, parent, depth, entries, body) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::integer[], $4::integer[], $5::text[])`,
      reserve: `UPDATE ${s}.counters SET value = value + $1 WHERE name = 'next_snapshot' RETURNING value - $1 AS first`,
      // (Keyed by digests, schema version 3; the names compared as well.)
      putKey: `INSERT INTO ${s}.server_keys (server, key_id, record, server_hash, key_hash) SELECT k.s, k.k, k.r, sha256(convert_to(k.s, 'UTF8')), sha256(convert_to(k.k, 'UTF8')) FROM unnest($1::text[], $2::text[], $3::text[]) AS k (s, k, r) ON CONFLICT (server_hash, key_hash) DO UPDATE SET server = excluded.server, key_id = excluded.key_id, record = excluded.record`,
      getKey: `SELECT record FROM ${s}.server_keys WHERE server_hash = sha256(convert_to($1::text, 'UTF8')) AND key_hash = sha256(convert_to($2::text, 'UTF8')) AND server = $1 AND key_id = $2`,
      getKeys: `SELECT record FROM ${s}.server_keys WHERE server_hash = sha256(convert_to($1::text, 'UTF8')) AND server = $1 ORDER BY key_id COLLATE "C"`,
      park: `INSERT INTO ${s}.parked_events (room_id, event_id, record) SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT (room_id, event_id) DO UPDATE SET record = excluded.record`,
      listParked: `SELECT record FROM ${s}.parked_events WHERE room_id = $1`,
      getParked: `SELECT record FROM ${s}.parked_events WHERE room_id = $1 AND event_id = ANY($2::text[])`,
      unpark: `DELETE FROM ${s}.parked_events WHERE room_id = $1 AND event_id = ANY($2::text[])`,
      putInvites: `INSERT INTO ${s}.invites (room_id, user_id, record) SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT (room_id, user_id) DO UPDATE SET record = excluded.record`,
      listInvites: `SELECT record FROM ${s}.invites`,
      deleteInvites: `DELETE FROM ${s}.invites i USING unnest($1::text[], $2::text[]) AS k (room_id, user_id) WHERE i.room_id = k.room_id AND i.user_id = k.user_id`,
      stats: `SELECT (SELECT count(*) FROM ${s}.events) AS events, (SELECT count(*) FROM ${s}.snapshot_layers) AS snapshots, (SELECT coalesce(sum(entries), 0) FROM ${s}.snapshot_layers) AS entries`,
    });
  }

  #db(): Db {
    if (this.#sql === undefined) throw new StoreError('STORE_NOT_OPEN', 'store is not open');
    return this.#sql;
  }

  async #run<T extends readonly object[]>(what: string, text: string, params: readonly unknown[]): Promise<T> {
    try {
      return (await this.#db().query<T[number]>(text, params, this.#prepare)).rows as unknown as T;
    } catch (e) {
      throw io(what, e);
    }
  }

  // ---------------------------------------------------------------- lifecycle

  protected override async _open(): Promise<{ readonly nextSnapshotId: number }> {
    const timeout = (this.#options.connectTimeout ?? 10) * 1000;
    try {
      this.#singleSession = await probeSingleSession(this.url, timeout);
    } catch (e) {
      throw io(`cannot connect to ${redact(this.url)}`, e);
    }
    const sql = new Db(this.url, this.#singleSession ? 1 : this.#options.maxConnections ?? 8, timeout);
    try {
      await sql.transaction(async (tx) => {
        // One opener migrates at a time; the others then see the new version.
        await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
        await tx.query(`CREATE SCHEMA IF NOT EXISTS ${this.#s}`);
        await tx.query(versionTableSql(this.#s));
        const { rows: [row] } = await tx.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${this.#s}.schema_version`);
        const version = row?.v ?? 0;
        if (version > SCHEMA_VERSION) {
          throw new StoreError('STORE_SCHEMA_TOO_NEW', `the database schema ${this.schema} is at version ${version}, newer than this code's ${SCHEMA_VERSION}: open it with newer code (schemas are never downgraded)`);
        }
        for (const m of MIGRATIONS) {
          if (m.version <= version) continue;
          await tx.query(m.sql(this.#s));
          await tx.query(`INSERT INTO ${this.#s}.schema_version (version, description) VALUES ($1, $2)`, [m.version, m.description]);
        }
      });
    } catch (e) {
      await sql.end().catch(() => undefined);
      throw io(`cannot open ${this.schema} at ${redact(this.url)}`, e);
    }
    this.#sql = sql;
    if (!this.#singleSession) this.#lockSql = new Db(this.url, this.#options.lockConnections ?? 32, timeout);
    // Snapshot IDs are reserved in blocks (see _reserveSnapshotIds).
    return { nextSnapshotId: 1 };
  }

  protected override async _close(): Promise<void> {
    const sql = this.#sql;
    const lockSql = this.#lockSql;
    this.#sql = undefined;
    this.#lockSql = undefined;
    this.#nids.clear();
    const leases = [...this.#leases.values()];
    this.#leases.clear();
    // Closing the lock connections releases every advisory lock they hold.
    for (const l of leases) l.conn?.release(true);
    await Promise.all([sql?.end(), lockSql?.end()].map((p) => p?.catch(() => undefined)));
  }

  protected override async _reserveSnapshotIds(count: number): Promise<{ readonly first: number; readonly end: number }> {
    const n = Math.max(count, SNAPSHOT_ID_BLOCK);
    const [row] = await this.#run<{ first: string }[]>('reserving snapshot IDs', this.#q['reserve']!, [n]);
    if (row === undefined) throw new StoreError('STORE_CORRUPT', 'the snapshot counter row is missing');
    const first = Number(row.first);
    return { first, end: first + n };
  }

  // ---------------------------------------------------------------- room locks

  /**
   * Takes this room's write lock, shared by every process on the database: one section at a
   * time per room, across processes. The engine holds it around each read-decide-commit of an
   * event (the store's optional `lockRoom`), so that no process decides from a room another is
   * changing. Sections of this process that follow each other share one acquisition (up to
   * `lockBatch`); the lock is given up once the commits made under it are durable, so another
   * process that takes it next reads them. The handle's `continues` is `false` for the first
   * section of each acquisition (another process may have changed the room since this one last
   * held it: the engine revalidates what it cached about the room) and `true` for the sections
   * that share it.
   */
  async lockRoom(roomId: RoomId): Promise<RoomLockHandle> {
    if (this.status !== 'open') throw new StoreError('STORE_NOT_OPEN', `store is ${this.status}`);
    // A single-session server serves one process: the engine's own per-room lock suffices.
    // Nothing else can have changed the room there either: every section continues the hold.
    if (this.#singleSession) return { release: async () => undefined, continues: true };
    for (;;) {
      if (this.status !== 'open' || this.#lockSql === undefined) throw new StoreError('STORE_NOT_OPEN', `store is ${this.status}`);
      let lease = this.#leases.get(roomId);
      if (lease !== undefined) {
        if (lease.released !== undefined) {
          await lease.released;
          continue;
        }
        if (lease.conn === undefined) {
          await lease.acquired;
          continue;
        }
        if (lease.sections >= (this.#options.lockBatch ?? 64) && lease.active === 0) {
          // Its turn is over: give it up (after its commits are durable), then queue again.
          this.#giveUp(lease);
          continue;
        }
        // The first section of an acquisition follows whatever other processes did meanwhile;
        // the next ones continue it (no one else can have held the lock in between).
        const continues = lease.sections > 0 && !lease.conn.broken;
        lease.active++;
        lease.sections++;
        return this.#handle(lease, continues);
      }
      lease = { roomId, key: roomLockKey(roomId), active: 0, sections: 0, conn: undefined, acquired: Promise.resolve(), released: undefined, room: undefined };
      const l = lease;
      this.#leases.set(roomId, l);
      l.acquired = (async () => {
        let conn: HeldClient | undefined;
        try {
          conn = await this.#lockSql!.hold();
          await conn.query('SELECT pg_advisory_lock($1::bigint)', [l.key], this.#prepare);
          l.conn = conn;
        } catch (e) {
          conn?.release(true);
          if (this.#leases.get(roomId) === l) this.#leases.delete(roomId);
          throw io(`cannot lock room ${roomId}`, e);
        }
      })();
      await l.acquired;
    }
  }

  #handle(lease: Lease, continues: boolean): RoomLockHandle {
    let done = false;
    return {
      continues,
      release: async () => {
        if (done) return;
        done = true;
        lease.active--;
        if (lease.active === 0) this.#scheduleGiveUp(lease);
      },
    };
  }

  /** After a section: give the lock up once the commits so far are durable, unless a new section took it meanwhile. */
  #scheduleGiveUp(lease: Lease): void {
    const sections = lease.sections;
    void this.flush()
      .catch(() => undefined)
      .then(() => {
        if (lease.active === 0 && lease.sections === sections && lease.released === undefined && this.#leases.get(lease.roomId) === lease) this.#giveUp(lease);
      });
  }

  #giveUp(lease: Lease): void {
    if (lease.released !== undefined) return;
    lease.released = (async () => {
      // Whatever was committed under the lock is durable before another process may take it.
      await this.flush().catch(() => undefined);
      const conn = lease.conn;
      try {
        await conn?.query('SELECT pg_advisory_unlock($1::bigint)', [lease.key], this.#prepare);
        conn?.release();
      } catch {
        // The connection is gone, and with it the lock: close it rather than reuse it.
        conn?.release(true);
      } finally {
        lease.room = undefined;
        if (this.#leases.get(lease.roomId) === lease) this.#leases.delete(lease.roomId);
      }
    })();
  }

  /** The lease of a room, if this process holds its lock now. */
  #held(roomId: RoomId): Lease | undefined {
    const l = this.#leases.get(roomId);
    // A lock connection that failed lost the lock with its session: nothing is cached under it.
    return l !== undefined && l.conn !== undefined && !l.conn.broken && l.released === undefined ? l : undefined;
  }

  // ---------------------------------------------------------------- writes

  protected override async _write(batch: StoreWriteBatch): Promise<void> {
    await this._writeGroup([batch]);
  }

  /**
   * Group commit: the batches, in order, in one transaction. Each room row is updated only if its
   * `last_stream` is still the one the group started from (else another process wrote the room
   * without its lock: the write fails, nothing is applied).
   */
  protected override async _writeGroup(batches: readonly StoreWriteBatch[]): Promise<void> {
    // Rooms: the state before the group (from the first batch touching it) and the last record.
    const rooms = new Map<RoomId, { before: number; last: RoomInfo }>();
    for (const b of batches) {
      for (const r of b.rooms) {
        const cur = rooms.get(r.roomId);
        if (cur === undefined) rooms.set(r.roomId, { before: r.lastStream - 1, last: r });
        else cur.last = r;
      }
    }
    // Events: new rows, and promoted outliers stored before this group (rows to update).
    const inserted = new Map<EventId, StoredEvent>();
    const promoted = new Map<EventId, StoredEvent>();
    for (const b of batches) {
      const replaced = new Set(b.replaced.map((e) => e.eventId));
      for (const e of b.events) {
        if (inserted.has(e.eventId)) inserted.set(e.eventId, e);
        else if (promoted.has(e.eventId) || replaced.has(e.eventId)) promoted.set(e.eventId, e);
        else inserted.set(e.eventId, e);
      }
    }
    const layers = batches.flatMap((b) => b.layers);
    const sql = this.#db();
    const nids = new Map<RoomId, number>();
    try {
      await sql.transaction(async (tx) => {
        for (const [roomId, { before, last }] of rooms) {
          const fx = JSON.stringify(last.forwardExtremities);
          const cs = last.currentState ?? null;
          let rows: { room_nid: number }[];
          if (before === 0) {
            ({ rows } = await tx.query<{ room_nid: number }>(this.#q['createRoom']!, [toText(roomId), toText(last.roomVersion), toText(last.createEventId), cs, fx, last.lastStream], this.#prepare));
          } else {
            ({ rows } = await tx.query<{ room_nid: number }>(this.#q['updateRoom']!, [toText(roomId), cs, fx, last.lastStream, before], this.#prepare));
            if (rows.length === 0) {
              throw new StoreError('STORE_IO', `room ${roomId} was changed by another process since this one read it (a write without the room's lock); nothing was written`);
            }
          }
          nids.set(roomId, Number(rows[0]!.room_nid));
        }
        if (inserted.size > 0) {
          const ev = [...inserted.values()];
          await tx.query(this.#q['insertEvents']!, [
            ev.map((e) => toText(e.eventId)),
            ev.map((e) => nids.get(e.roomId) ?? this.#nids.get(e.roomId) ?? null),
            ev.map((e) => e.stream),
            ev.map((e) => e.status),
            ev.map(encodeEvent),
          ], this.#prepare);
        }
        for (const e of promoted.values()) {
          const r = await tx.query(this.#q['promoteEvent']!, [toText(e.eventId), e.stream, e.status, encodeEvent(e)], this.#prepare);
          if (r.count !== 1) throw new StoreError('STORE_IO', `outlier ${e.eventId} was promoted by another process; nothing was written`);
        }
        if (layers.length > 0) {
          await tx.query(this.#q['insertLayers']!, [
            layers.map((l) => l.id),
            layers.map((l) => l.parent ?? null),
            layers.map((l) => l.depth),
            layers.map((l) => l.set.size + l.removed.size),
            layers.map(encodeLayer),
          ], this.#prepare);
        }
        await this.#options.beforeCommit?.({ events: [...inserted.keys(), ...promoted.keys()] });
      });
    } catch (e) {
      throw io('write failed', e);
    }
    for (const [roomId, nid] of nids) this.#nids.set(roomId, nid);
    for (const { last } of rooms.values()) {
      const lease = this.#held(last.roomId);
      if (lease !== undefined) lease.room = last;
    }
  }

  // ---------------------------------------------------------------- reads

  protected override async _getEvents(ids: readonly EventId[]): Promise<readonly (StoredEvent | undefined)[]> {
    const rows = await this.#run<{ event_id: string; record: string }[]>('reading events', this.#q['events']!, [toTexts(ids)]);
    const found = new Map<EventId, StoredEvent>();
    for (const r of rows) {
      const id = fromText(r.event_id);
      found.set(id, decodeEvent(id, r.record));
    }
    return ids.map((id) => found.get(id));
  }

  protected override async _getLayers(ids: readonly SnapshotId[]): Promise<readonly (SnapshotLayer | undefined)[]> {
    const rows = await this.#run<{ id: string; parent: string | null; depth: number; body: string }[]>('reading snapshot layers', this.#q['layers']!, [ids]);
    const found = new Map<number, SnapshotLayer>();
    for (const r of rows) {
      const id = Number(r.id);
      found.set(id, decodeLayer(id, r.parent === null ? undefined : Number(r.parent), r.depth, r.body));
    }
    return ids.map((id) => found.get(id));
  }

  protected override async _getRoom(roomId: RoomId): Promise<RoomInfo | undefined> {
    const lease = this.#held(roomId);
    if (lease?.room !== undefined) return lease.room;
    const rows = await this.#run<(RoomRow & { room_nid: number })[]>('reading a room', this.#q['room']!, [toText(roomId)]);
    const row = rows[0];
    if (row === undefined) return undefined;
    this.#nids.set(roomId, Number(row.room_nid));
    const room = decodeRoom(row);
    // Read while holding the lock: no other process can change it until the lock is given up.
    if (lease !== undefined && this.#held(roomId) === lease) lease.room = room;
    return room;
  }

  protected override async _listRooms(): Promise<readonly RoomId[]> {
    const rows = await this.#run<{ room_id: string }[]>('listing rooms', this.#q['rooms']!, []);
    return rows.map((r) => fromText(r.room_id));
  }

  protected override async _timeline(roomId: RoomId, range: TimelineRange): Promise<readonly StoredEvent[]> {
    const rows = await this.#run<{ event_id: string; record: string }[]>('reading a timeline', range.reverse ? this.#q['timelineBack']! : this.#q['timelineFwd']!, [toText(roomId), range.from, range.limit]);
    return rows.map((r) => decodeEvent(fromText(r.event_id), r.record));
  }

  protected override async _putServerKeys(keys: readonly ServerKeyRecord[]): Promise<void> {
    if (keys.length === 0) return;
    const ks = lastByKey(keys, (k) => `${k.server}\x00${k.keyId}`);
    await this.#run('writing server keys', this.#q['putKey']!, [ks.map((k) => toText(k.server)), ks.map((k) => toText(k.keyId)), ks.map((k) => JSON.stringify(k))]);
  }

  protected override async _getServerKey(server: string, keyId: string): Promise<ServerKeyRecord | undefined> {
    const rows = await this.#run<{ record: string }[]>('reading a server key', this.#q['getKey']!, [toText(server), toText(keyId)]);
    return rows[0] === undefined ? undefined : (Object.freeze(JSON.parse(rows[0].record)) as ServerKeyRecord);
  }

  protected override async _getServerKeys(server: string): Promise<readonly ServerKeyRecord[]> {
    const rows = await this.#run<{ record: string }[]>('reading server keys', this.#q['getKeys']!, [toText(server)]);
    return rows.map((r) => Object.freeze(JSON.parse(r.record)) as ServerKeyRecord);
  }

  protected override async _parkEvents(events: readonly ParkedEvent[]): Promise<void> {
    if (events.length === 0) return;
    const es = lastByKey(events, (e) => `${e.roomId}\x00${e.eventId}`);
    await this.#run('parking events', this.#q['park']!, [es.map((e) => toText(e.roomId)), es.map((e) => toText(e.eventId)), es.map((e) => JSON.stringify(e))]);
  }

  /**
   * A read of the park does not first wait for this instance's queued commits to be written (a
   * flush), unlike the base class: parking and unparking write only after a flush and are awaited,
   * so the table already holds every park this instance made, and a flush here would end every
   * group commit after a room lock taken anew (the engine then reads the park).
   */
  protected override _beforeParkRead(): Promise<void> {
    return Promise.resolve();
  }

  protected override async _getParkedEvents(roomId: RoomId, eventIds: readonly EventId[]): Promise<readonly ParkedEvent[]> {
    const rows = await this.#run<{ record: string }[]>('reading parked events', this.#q['getParked']!, [toText(roomId), toTexts(eventIds)]);
    return rows.map((r) => Object.freeze(JSON.parse(r.record)) as ParkedEvent);
  }

  protected override async _listParkedEvents(roomId: RoomId): Promise<readonly ParkedEvent[]> {
    const rows = await this.#run<{ record: string }[]>('listing parked events', this.#q['listParked']!, [toText(roomId)]);
    return rows.map((r) => Object.freeze(JSON.parse(r.record)) as ParkedEvent);
  }

  protected override async _deleteParkedEvents(roomId: RoomId, eventIds: readonly EventId[]): Promise<void> {
    if (eventIds.length === 0) return;
    await this.#run('deleting parked events', this.#q['unpark']!, [toText(roomId), toTexts(eventIds)]);
  }

  protected override async _putInvites(invites: readonly StoredInvite[]): Promise<void> {
    if (invites.length === 0) return;
    const is = lastByKey(invites, (i) => `${i.roomId}\x00${i.userId}`);
    await this.#run('writing invites', this.#q['putInvites']!, [is.map((i) => toText(i.roomId)), is.map((i) => toText(i.userId)), is.map((i) => JSON.stringify(i))]);
  }

  protected override async _listInvites(): Promise<readonly StoredInvite[]> {
    const rows = await this.#run<{ record: string }[]>('listing invites', this.#q['listInvites']!, []);
    return rows.map((r) => Object.freeze(JSON.parse(r.record)) as StoredInvite);
  }

  protected override async _deleteInvites(keys: readonly InviteKey[]): Promise<void> {
    if (keys.length === 0) return;
    await this.#run('deleting invites', this.#q['deleteInvites']!, [keys.map((k) => toText(k.roomId)), keys.map((k) => toText(k.userId))]);
  }

  protected override async _stats(): Promise<StoreStats> {
    const [row] = await this.#run<{ events: string; snapshots: string; entries: string }[]>('reading statistics', this.#q['stats']!, []);
    return { events: Number(row?.events ?? 0), snapshots: Number(row?.snapshots ?? 0), snapshotEntries: Number(row?.entries ?? 0) };
  }
}

/**
 * Whether the server runs all connections in one session (PGlite's socket server): a second
 * connection can take an advisory lock the first holds. Simple-protocol queries only (they are
 * single messages, safe on such a server).
 */
async function probeSingleSession(url: string, connectTimeoutMs: number): Promise<boolean> {
  const db = new Db(url, 2, connectTimeoutMs);
  try {
    const a = await db.hold();
    const b = await db.hold().catch((e: unknown) => {
      a.release();
      throw e;
    });
    try {
      const key = BigInt.asIntN(64, BigInt(`0x${randomBytes(8).toString('hex')}`)).toString();
      await a.query(`SELECT pg_advisory_lock(${key})`);
      const { rows: [row] } = await b.query<{ got: boolean }>(`SELECT pg_try_advisory_lock(${key}) AS got`);
      const single = row?.got === true;
      if (single) await b.query(`SELECT pg_advisory_unlock(${key})`);
      await a.query(`SELECT pg_advisory_unlock(${key})`);
      return single;
    } finally {
      a.release();
      b.release();
    }
  } finally {
    await db.end().catch(() => undefined);
  }
}

/** The URL without its password (for messages). */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(url)';
  }
}

/** Creates (but does not open) a PostgreSQL store. */
export function createPostgresStore(url: string, options?: PostgresStoreOptions): PostgresRoomStore {
  return new PostgresRoomStore(url, options);
}
