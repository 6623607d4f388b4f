/**
 * LevelDB implementation of the roomgraph store (the embedded default): one root `Level` database,
 * one sublevel per table, exactly one atomic `db.batch([...])` per commit spanning the sublevels.
 *
 * @packageDocumentation
 */
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Level } from 'level';
import { BloomFilter } from './bloom.js';
import { JournalBuffer, decodeJournal, putBytesOp, putOp, type BatchOp, type OpList } from './journal.js';
import { AbstractRoomStore, StoreError, type AbstractStoreOptions, type StoreWriteBatch, type TimelineRange, type SnapshotLayer } from '@roomgraph/store';
import type { EventId, EventStatus, InviteKey, ParkedEvent, PduJson, RoomId, RoomInfo, ServerKeyRecord, SnapshotId, StoreStats, StoredEvent, StoredInvite } from '@roomgraph/store';

/** Options of {@link LevelRoomStore}. */
export interface LevelStoreOptions extends AbstractStoreOptions {
  /**
   * `fsync` every commit (LevelDB `sync: true`). Default `false`: a commit is acknowledged once it
   * is in the LevelDB log in the OS page cache, which survives a process kill (SIGKILL) but not a
   * power loss / kernel crash. Set `true` for durability against those, at a large cost per commit.
   */
  readonly sync?: boolean;
  /**
   * Journal every commit before acknowledging it (default `false`; ignored with `sync: true`).
   * A commit is then appended synchronously to `roomgraph.journal` in the store's directory (a
   * `write` call: in the OS page cache, which survives a process kill — the same guarantee as
   * LevelDB's own log without `sync`) and acknowledged: a durable commit at once, `durable: false`
   * ones at the next `flush()`; the LevelDB write batches follow in the background, many commits
   * each (group commit even for callers that wait for every commit).
   * On open, journal records the database may lack are written to it (replaying a record already
   * written changes nothing); a torn last record was never acknowledged and is ignored.
   */
  readonly journal?: boolean;
}

/** The journal's file name inside the store's directory (see {@link LevelStoreOptions.journal}). */
export const LEVEL_JOURNAL_FILE = 'roomgraph.journal';

/**
 * Schema version written to `meta/schema`. Version 2 (this one) writes compact event records and
 * stream index entries of whole runs (see the README's layout) and reads version 1's records and
 * rows as well: a version 1 database is opened as it is, only its marker raised to 2 (so that an
 * earlier version refuses it rather than misreading a run entry).
 */
export const LEVEL_SCHEMA_VERSION = 2;

/** The schema versions this version opens (1: every record and row is still read as written). */
const READABLE_SCHEMAS: ReadonlySet<string> = new Set(['1', '2']);

/** The most event IDs one stream index entry lists (longer runs are split): a short timeline page reads little more than it returns. */
export const LEVEL_STREAM_RUN_MAX = 256;

/** The `level` database type the store uses (UTF-8 keys and values). */
export type LevelDb = Level<string, string>;
type Db = LevelDb;
function openSublevel(db: Db, name: string) {
  return db.sublevel<string, string>(name, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
}
type Sub = ReturnType<typeof openSublevel>;
/**
 * abstract-level's private write API, which `level` (classic-level) implements: one native call
 * for a whole array of ops whose keys and values are already encoded. The public `batch()` clones,
 * validates and re-encodes every op in JavaScript first — as much main-thread time as the native
 * write for this store's ops.
 */
interface PrivateBatchApi {
  readonly status: string;
  readonly hooks: { readonly prewrite: { readonly noop: boolean } };
  _batch?(ops: readonly BatchOp[], options: { sync: boolean }): Promise<void>;
  _chainedBatch?(): PrivateChainedBatch;
}

/**
 * abstract-level's private chained-batch API (classic-level: `_put` and `_del` add one op to a
 * native `WriteBatch`, one native call each with the key and value as arguments; `_write` writes
 * it on the thread pool). `close()` is public: it detaches the batch from the database.
 */
interface PrivateChainedBatch {
  _put(key: string, value: string | Buffer, options: PutEncodings): void;
  _del(key: string, options: BatchOp): void;
  _write(options: { sync: boolean }): Promise<void>;
  close(): Promise<void>;
}

/** A put's encodings, as abstract-level's private `_put` takes them (classic-level's reads neither). */
interface PutEncodings {
  readonly keyEncoding: 'utf8';
  readonly valueEncoding: 'utf8' | 'view';
}
const TEXT_PUT: PutEncodings = Object.freeze({ keyEncoding: 'utf8', valueEncoding: 'utf8' });
const BYTES_PUT: PutEncodings = Object.freeze({ keyEncoding: 'utf8', valueEncoding: 'view' });

/** Sublevel names (the on-disk layout; see README). */
export const LEVEL_TABLES = Object.freeze({
  meta: 'meta',
  events: 'event',
  rooms: 'room',
  roomStream: 'room_stream',
  layers: 'snap_layer',
  serverKeys: 'server_key',
  parked: 'room_parked',
  invites: 'invite',
} as const);

/** Fixed-width big-endian hex of a non-negative integer (sorts numerically as a string). */
function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** Key of a room_stream row of one position (and of a run ending there, with {@link runSuffix}): room ID, NUL, 12-digit hex stream position. */
function streamKey(roomId: RoomId, stream: number): string {
  return `${roomId}\x00${hex(stream, 12)}`;
}

/**
 * A run entry's key is its last position's {@link streamKey}, then `-` and the number of positions
 * in hex: it sorts after that position's own key and before the next position's, so entries, rows
 * of one position (schema 1's, and runs of one) among them, sort by position.
 */
function runSuffix(count: number): string {
  return `-${count.toString(16)}`;
}

/**
 * Schema 1's event record, and schema 2's when the event's fields do not all follow from its PDU
 * JSON (`t` present marks it): the fields beside `j` as the commit gave them.
 */
interface FullEventRecord {
  r: string;
  j: PduJson;
  t: string;
  k?: string;
  d: number;
  p: readonly string[];
  a: readonly string[];
  s: EventStatus;
  x?: { rule: string; reason?: string };
  n: number;
  b?: number;
}

/**
 * Schema 2's compact event record: no `t`; type, state key, depth, prev and auth events are
 * `j`'s own `type`, `state_key`, `depth`, `prev_events`, `auth_events`, and the room is
 * `j.room_id` unless `r` says otherwise.
 */
interface CompactEventRecord {
  r?: string;
  j: PduJson;
  s: EventStatus;
  x?: { rule: string; reason?: string };
  n: number;
  b?: number;
}

/** Whether `ids` has exactly the strings of `a`, in order. */
function sameIds(a: readonly string[], ids: unknown): boolean {
  // The same array (as an event view made from its PDU usually hands over): nothing to compare.
  if (a === ids) return true;
  if (!Array.isArray(ids) || ids.length !== a.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== ids[i]) return false;
  return true;
}

/** Whether the record's type, state key, depth, prev and auth events are its PDU JSON's own (the compact record then omits them). */
function followsFromJson(e: StoredEvent): boolean {
  const j = e.json as { readonly type?: unknown; readonly state_key?: unknown; readonly depth?: unknown; readonly prev_events?: unknown; readonly auth_events?: unknown };
  return j.type === e.type && j.state_key === e.stateKey && j.depth === e.depth && sameIds(e.prevEvents, j.prev_events) && sameIds(e.authEvents, j.auth_events);
}

/** The start of a compact record's text up to its stream position, by status (see {@link encodeEvent}). */
const COMPACT_HEAD: ReadonlyMap<string, string> = new Map(
  (['accepted', 'rejected', 'soft-failed', 'outlier'] as const).map((s) => [s, `{"s":${JSON.stringify(s)},"n":`]),
);

/**
 * The event record's text. The compact form (schema 2) for an event whose fields follow from its
 * PDU JSON — what an event parsed from its PDU always is, in room versions whose `prev_events` are
 * IDs — else the full form. (The full form's fields are added to one object literal in a fixed
 * order: the text's key order, and V8's shape for it, are the same for every event.)
 */
function encodeEvent(e: StoredEvent): string {
  if (followsFromJson(e)) {
    // The text of `{ s, n, j, b?, x?, r? }` put together from its parts (the same text as
    // `JSON.stringify` of that object, without the object; the stream position and snapshot ID are
    // integers the store assigned).
    let text = (COMPACT_HEAD.get(e.status) ?? `{"s":${JSON.stringify(e.status)},"n":`) + e.stream + ',"j":' + JSON.stringify(e.json);
    if (e.stateBefore !== undefined) text += ',"b":' + e.stateBefore;
    if (e.rejection !== undefined) text += ',"x":' + JSON.stringify({ ...e.rejection });
    if (e.roomId !== (e.json as { readonly room_id?: unknown }).room_id) text += ',"r":' + JSON.stringify(e.roomId);
    return text + '}';
  }
  const o: FullEventRecord = { r: e.roomId, j: e.json, t: e.type, d: e.depth, p: e.prevEvents, a: e.authEvents, s: e.status, n: e.stream };
  if (e.stateKey !== undefined) o.k = e.stateKey;
  if (e.rejection !== undefined) o.x = { ...e.rejection };
  if (e.stateBefore !== undefined) o.b = e.stateBefore;
  return JSON.stringify(o);
}

/** An event record of either schema and form (see {@link encodeEvent}). */
function decodeEvent(id: EventId, text: string): StoredEvent {
  let o: FullEventRecord | CompactEventRecord;
  try {
    o = JSON.parse(text) as FullEventRecord | CompactEventRecord;
  } catch (e) {
    throw new StoreError('STORE_CORRUPT', `event ${id}: undecodable record`, { cause: e });
  }
  if (typeof o !== 'object' || o === null || typeof o.j !== 'object' || o.j === null) throw new StoreError('STORE_CORRUPT', `event ${id}: undecodable record`);
  if ('t' in o) return recordOf(id, o.r, o.j, o.t, o.k, o.d, o.p, o.a, o);
  const j = o.j as { readonly room_id?: unknown; readonly type?: unknown; readonly state_key?: unknown; readonly depth?: unknown; readonly prev_events?: unknown; readonly auth_events?: unknown };
  const roomId = o.r ?? j.room_id;
  if (typeof roomId !== 'string' || typeof j.type !== 'string' || (j.state_key !== undefined && typeof j.state_key !== 'string') || typeof j.depth !== 'number' || !Array.isArray(j.prev_events) || !Array.isArray(j.auth_events)) {
    throw new StoreError('STORE_CORRUPT', `event ${id}: compact record whose PDU JSON lacks a field`);
  }
  // The PDU JSON's own arrays (as an event parsed from it has them), frozen like schema 1's.
  return recordOf(id, roomId, o.j, j.type, j.state_key as string | undefined, j.depth, j.prev_events as readonly string[], j.auth_events as readonly string[], o);
}

/**
 * The stored record of a decoded event record, either form (`o` gives what both forms store
 * alike: status, rejection, stream position, state before). Two literals rather than a spread
 * `rejection`: a field after a spread goes to a separate property array, one more object per
 * record read.
 */
function recordOf(
  id: EventId, roomId: string, json: PduJson, type: string, stateKey: string | undefined, depth: number,
  prevEvents: readonly string[], authEvents: readonly string[], o: FullEventRecord | CompactEventRecord,
): StoredEvent {
  return Object.freeze(o.x === undefined
    ? { eventId: id, roomId, json, type, stateKey, depth, prevEvents: Object.freeze(prevEvents), authEvents: Object.freeze(authEvents), status: o.s, stream: o.n, stateBefore: o.b }
    : {
      eventId: id, roomId, json, type, stateKey, depth, prevEvents: Object.freeze(prevEvents), authEvents: Object.freeze(authEvents), status: o.s,
      rejection: Object.freeze(o.x), stream: o.n, stateBefore: o.b,
    });
}

interface EncodedLayer {
  p?: number;
  d: number;
  s: string[]; // k0, v0, k1, v1, …
  r: string[];
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
  /** Whether commits are journaled (see {@link LevelStoreOptions.journal}). */
  readonly #journaling: boolean;
  /** The open journal file, while the store is open and journaling. */
  #journalFd: number | undefined;
  /** Journal records appended since the last {@link _journalSync} (not yet in the file). */
  readonly #journalBuffer = new JournalBuffer();
  /** Journaled batches whose record is not in {@link #journalBuffer} yet: the next sync appends them as one record. */
  #unrecorded: StoreWriteBatch[] = [];
  /**
   * The LevelDB puts of the journaled batches not yet written to LevelDB, in the order they were
   * journaled: computed once for the journal and the write (the values are views of the journal's
   * bytes).
   */
  readonly #pending: OpList = { keys: [], values: [] };
  /** Journaled batches not yet written to LevelDB, oldest first (the journal is emptied when none are left). */
  readonly #pendingBatches: StoreWriteBatch[] = [];
  /** Where each of {@link #pendingBatches}' puts end in {@link #pending}. */
  readonly #pendingEnds: number[] = [];
  /** Each table's key prefix in the root database (the sublevels' own). */
  readonly #prefix: { readonly [K in keyof typeof LEVEL_TABLES]: string };

  /**
   * @param location - directory of the LevelDB database (created if missing).
   * @param options - durability, caches and snapshot policy.
   */
  constructor(location: string, options: LevelStoreOptions = {}) {
    super({ persistent: true, crashSafe: true, serverKeys: true, parkedEvents: true, explicitSnapshots: false, authChainIndex: false }, options);
    this.location = location;
    this.#sync = options.sync ?? false;
    this.#journaling = options.journal === true && !this.#sync;
    if (!this.#journaling) {
      // Not journaling: no journal hooks at all. The base class writes a block (`commitMany`) as
      // one group only for a store without `_journal` — with it, even answering `false`, each
      // batch was queued on its own, and the first of every block went to LevelDB alone.
      this._journal = undefined;
      this._journalSync = undefined;
    }
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
      invites: sub(LEVEL_TABLES.invites),
    };
    const t = this.#t;
    this.#prefix = {
      meta: t.meta.prefix, events: t.events.prefix, rooms: t.rooms.prefix, roomStream: t.roomStream.prefix,
      layers: t.layers.prefix, serverKeys: t.serverKeys.prefix, parked: t.parked.prefix, invites: t.invites.prefix,
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
    // Always, journaling or not: a journal left by an earlier opening holds acknowledged commits.
    await this.#replayJournal();
    const schema = await this.#t.meta.get('schema');
    if (schema === undefined) {
      await this.#db.batch([
        { type: 'put', sublevel: this.#t.meta, key: 'schema', value: String(LEVEL_SCHEMA_VERSION) },
        { type: 'put', sublevel: this.#t.meta, key: 'next_snapshot', value: '1' },
      ], { sync: true });
      return { nextSnapshotId: 1 };
    }
    if (!READABLE_SCHEMAS.has(schema)) {
      await this.#db.close();
      throw new StoreError('STORE_CORRUPT', `unsupported schema version ${schema}`);
    }
    // Schema 1: its records and rows are read as they are; from now on schema 2's are written
    // beside them, which an earlier version would misread — the raised marker makes it refuse.
    if (schema !== String(LEVEL_SCHEMA_VERSION)) await this.#db.batch([{ type: 'put', sublevel: this.#t.meta, key: 'schema', value: String(LEVEL_SCHEMA_VERSION) }], { sync: true });
    const next = Number(await this.#t.meta.get('next_snapshot'));
    if (!Number.isInteger(next) || next < 1) throw new StoreError('STORE_CORRUPT', 'bad snapshot counter');
    return { nextSnapshotId: next };
  }

  protected override async _close(): Promise<void> {
    this.#ids = undefined;
    if (this.#journalFd !== undefined) {
      // Everything journaled has been written by now (the store drains its writer before closing).
      const fd = this.#journalFd;
      this.#journalFd = undefined;
      if (this.#pendingBatches.length === 0) ftruncateSync(fd, 0);
      else {
        this.#recordUnrecorded();
        this.#flushJournalBuffer(fd);
      }
      closeSync(fd);
    }
    await this.#db.close();
  }


  /**
   * On open: writes the whole records of a journal left by an earlier opening to LevelDB (synced,
   * as the journal is emptied next) — also when this opening does not journal —, then, when
   * journaling, opens the journal for appending.
   */
  async #replayJournal(): Promise<void> {
    const path = join(this.location, LEVEL_JOURNAL_FILE);
    const exists = existsSync(path);
    if (!exists && !this.#journaling) return;
    if (exists) {
      const ops = decodeJournal(readFileSync(path));
      if (ops.length > 0) await this.#batch(ops, true);
    }
    const fd = openSync(path, 'a');
    ftruncateSync(fd, 0);
    fsyncSync(fd);
    this.#pending.keys.length = 0;
    this.#pending.values.length = 0;
    this.#pendingBatches.length = 0;
    this.#pendingEnds.length = 0;
    this.#journalBuffer.reset();
    this.#unrecorded = [];
    if (this.#journaling) this.#journalFd = fd;
    else closeSync(fd);
  }

  /**
   * Appends one batch's event records and snapshot layers to `to` (its stream index entries, room
   * records and counter are written per group or journal record: see {@link #streamEntries} and
   * {@link #tailOps}). With `journal`, each put is appended to its open record too, and its value
   * is handed to LevelDB as the bytes written there (encoded once).
   *
   * A promoted outlier's old stream position (`batch.replaced`) is not deleted: the index entry
   * that lists it may list other events too, and the event's record names its new position — a
   * timeline read skips an entry whose event's record is at another position (see {@link _timeline}).
   */
  #bodyInto(batch: StoreWriteBatch, to: OpList, journal?: JournalBuffer): void {
    const p = this.#prefix;
    // (Indexed loops, no closure: this runs once per committed event.)
    const events = batch.events;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const key = p.events + e.eventId;
      const value = encodeEvent(e);
      to.keys.push(key);
      to.values.push(journal === undefined ? value : journal.put(key, value));
    }
    const layers = batch.layers;
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i]!;
      const key = p.layers + hex(l.id, 8);
      const value = encodeLayer(l);
      to.keys.push(key);
      to.values.push(journal === undefined ? value : journal.put(key, value));
    }
  }

  /**
   * The stream index entries of `batches`' events, as `[key, value]`: one per run of consecutive
   * positions of a room, at most {@link LEVEL_STREAM_RUN_MAX} long — a run of one as schema 1's row
   * (`room ‖ NUL ‖ hex12(position)` → event ID), a longer one as `room ‖ NUL ‖ hex12(last) ‖ -
   * ‖ hex(count)` → the JSON array of its event IDs. One LevelDB op per block of commits instead
   * of one per event.
   */
  #streamEntries(batches: readonly StoreWriteBatch[]): [string, string][] {
    const p = this.#prefix.roomStream;
    const out: [string, string][] = [];
    // The open run of each room: its first position and IDs (most blocks hold one room).
    const runs = new Map<RoomId, { first: number; ids: EventId[] }>();
    const end = (roomId: RoomId, run: { first: number; ids: EventId[] }): void => {
      const n = run.ids.length;
      const last = run.first + n - 1;
      out.push(n === 1 ? [p + streamKey(roomId, last), run.ids[0]!] : [p + streamKey(roomId, last) + runSuffix(n), JSON.stringify(run.ids)]);
    };
    for (const batch of batches) {
      for (const e of batch.events) {
        const run = runs.get(e.roomId);
        if (run !== undefined && e.stream === run.first + run.ids.length && run.ids.length < LEVEL_STREAM_RUN_MAX) {
          run.ids.push(e.eventId);
          continue;
        }
        if (run !== undefined) end(e.roomId, run);
        runs.set(e.roomId, { first: e.stream, ids: [e.eventId] });
      }
    }
    for (const [roomId, run] of runs) end(roomId, run);
    return out;
  }

  /** The room records and the counter after `batches` (only the last value of each is needed). */
  #tailOps(batches: readonly StoreWriteBatch[]): OpList {
    const p = this.#prefix;
    const rooms = new Map<RoomId, RoomInfo>();
    for (const batch of batches) for (const r of batch.rooms) rooms.set(r.roomId, r);
    const ops: OpList = { keys: [], values: [] };
    for (const r of rooms.values()) {
      ops.keys.push(p.rooms + r.roomId);
      ops.values.push(JSON.stringify(r));
    }
    ops.keys.push(`${p.meta}next_snapshot`);
    ops.values.push(String(batches[batches.length - 1]!.nextSnapshotId));
    return ops;
  }

  /**
   * Journaling: appends the batch's ops to the journal's open record, made durable by
   * {@link _journalSync} (see {@link LevelStoreOptions.journal}), and to {@link #pending}, for the
   * LevelDB write.
   */
  protected override _journal?(batch: StoreWriteBatch): boolean {
    if (this.#journalFd === undefined) return false;
    const journal = this.#journalBuffer;
    const pending = this.#pending;
    const mark = journal.mark();
    const n = pending.keys.length;
    try {
      this.#bodyInto(batch, pending, journal);
    } catch (e) {
      // Nothing of a batch that failed to encode stays in the open record or in the pending ops.
      journal.rewind(mark);
      pending.keys.length = n;
      pending.values.length = n;
      throw e;
    }
    this.#pendingBatches.push(batch);
    this.#pendingEnds.push(pending.keys.length);
    this.#unrecorded.push(batch);
    return true;
  }

  /**
   * Writes the batches journaled since the last sync to the journal file as one record (one `write`
   * call, synchronously): their ops, then the room records and counter after the last of them —
   * all of them or, torn, none on replay, as nothing of them was acknowledged before this call.
   */
  protected override _journalSync?(): void {
    this.#syncJournalFile();
  }

  /** See {@link _journalSync} (also called by the writer: see {@link _writeGroup}). */
  #syncJournalFile(): void {
    const fd = this.#journalFd;
    if (fd === undefined) return;
    this.#recordUnrecorded();
    this.#flushJournalBuffer(fd);
  }

  /**
   * Closes the journal's open record, which holds the ops of the batches journaled since the last
   * sync (appended by {@link _journal}), after appending the room records and counter after them.
   */
  #recordUnrecorded(): void {
    const batches = this.#unrecorded;
    if (batches.length === 0) return;
    this.#unrecorded = [];
    const journal = this.#journalBuffer;
    const pending = this.#pending;
    // The record's stream index entries: LevelDB gets these very ops, as the last of the record's
    // last batch — the newest journaled one —, so always in the same write as the events they list
    // (a write group is whole records), and a replay the same keys and values — one entry per
    // position, never two overlapping runs.
    for (const [key, value] of this.#streamEntries(batches)) {
      pending.keys.push(key);
      pending.values.push(journal.put(key, value));
    }
    this.#pendingEnds[this.#pendingEnds.length - 1] = pending.keys.length;
    const tail = this.#tailOps(batches);
    for (let i = 0; i < tail.keys.length; i++) journal.put(tail.keys[i]!, tail.values[i] as string);
    journal.close();
  }

  /**
   * One atomic LevelDB write of `ops` (UTF-8 keys with their table prefix, UTF-8 values) through
   * abstract-level's private chained batch — one native call per op with its key and value as
   * arguments, then the write —, or its private `_batch` — one native call, which reads each op's
   * `type`, `key` and `value` back through N-API property lookups (~0.5 µs more per op) —, both
   * without the public `batch()`'s per-op copy, validation and encoding, which this store's ops do
   * not need (no hooks are attached to the store's database; see {@link db}); or through `batch()`
   * where neither is available.
   */
  #batch(ops: readonly BatchOp[], sync: boolean): Promise<void> {
    const db = this.#db as unknown as PrivateBatchApi;
    if (ops.length > 0 && db.status === 'open' && db.hooks.prewrite.noop) {
      if (typeof db._chainedBatch === 'function') return this.#chainedWrite(db._chainedBatch(), ops, sync);
      if (typeof db._batch === 'function') return db._batch(ops, { sync });
    }
    // A hook sees the ops as the database's UTF-8 text, as the store's own reads do.
    return this.#db.batch(ops.map((op) => (op.type === 'put' && typeof op.value !== 'string' ? putOp(op.key, op.value.toString('utf8')) : op)) as Exclude<BatchOp, { readonly valueEncoding: 'view' }>[], { sync });
  }

  /** Writes `ops` through the private chained batch `b` (see {@link #batch}), then closes it. */
  async #chainedWrite(b: PrivateChainedBatch, ops: readonly BatchOp[], sync: boolean): Promise<void> {
    try {
      // (Indexed: this loop runs per op of every write.)
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i]!;
        if (op.type === 'put') b._put(op.key, op.value, op);
        else b._del(op.key, op);
      }
      await b._write({ sync });
    } finally {
      await b.close();
    }
  }

  /**
   * One atomic LevelDB write of the first `end` puts of `body`, then every put of `tail` (see
   * {@link #batch}: the same write, without an op object per put — through the private chained
   * batch the lists go to LevelDB as they are). The puts are read before this returns: `body` may
   * grow meanwhile.
   */
  #writeLists(body: OpList, end: number, tail: OpList, sync: boolean): Promise<void> {
    const db = this.#db as unknown as PrivateBatchApi;
    if (db.status === 'open' && db.hooks.prewrite.noop && typeof db._chainedBatch === 'function') {
      return this.#chainedWriteLists(db._chainedBatch(), body, end, tail, sync);
    }
    const ops: BatchOp[] = [];
    const add = (key: string, value: string | Buffer): void => {
      ops.push(typeof value === 'string' ? putOp(key, value) : putBytesOp(key, value));
    };
    for (let i = 0; i < end; i++) add(body.keys[i]!, body.values[i]!);
    for (let i = 0; i < tail.keys.length; i++) add(tail.keys[i]!, tail.values[i]!);
    return this.#batch(ops, sync);
  }

  /** See {@link #writeLists} and {@link #chainedWrite}. */
  async #chainedWriteLists(b: PrivateChainedBatch, body: OpList, end: number, tail: OpList, sync: boolean): Promise<void> {
    try {
      const { keys, values } = body;
      for (let i = 0; i < end; i++) {
        const value = values[i]!;
        b._put(keys[i]!, value, typeof value === 'string' ? TEXT_PUT : BYTES_PUT);
      }
      for (let i = 0; i < tail.keys.length; i++) b._put(tail.keys[i]!, tail.values[i]!, TEXT_PUT);
      await b._write({ sync });
    } finally {
      await b.close();
    }
  }

  #flushJournalBuffer(fd: number): void {
    const j = this.#journalBuffer;
    const bytes = j.unwritten();
    let at = 0;
    try {
      while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
    } catch (e) {
      throw new StoreError('STORE_IO', `journal write failed: ${(e as Error).message}`, { cause: e });
    } finally {
      // What could not be written is not acknowledged (the store fails on the error).
      j.written();
    }
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
    // The journaled batches of the group: the oldest pending ones (the writer takes batches in the
    // order they were committed, and journals them in that order).
    const pendingBatches = this.#pendingBatches;
    let journaled = 0;
    for (let i = 0; i < batches.length; i++) if (journaled < pendingBatches.length && batches[i] === pendingBatches[journaled]) journaled++;
    // LevelDB never gets ahead of the journal file: a journal replayed on open must end with the
    // newest room records and counter LevelDB holds (the records replay in order, last one wins).
    // First, as closing the open record adds its stream index entries to its last batch's ops.
    if (journaled > 0) this.#syncJournalFile();
    const pending = this.#pending;
    const ends = this.#pendingEnds;
    let body: OpList;
    let end: number;
    if (journaled === batches.length) {
      // Every batch journaled (the usual case): their ops are the first ones pending.
      body = pending;
      end = ends[journaled - 1]!;
    } else {
      // Each batch's ops in order: a journaled one's as computed for the journal, the others' now.
      body = { keys: [], values: [] };
      const unjournaled: StoreWriteBatch[] = [];
      let k = 0;
      for (const batch of batches) {
        if (k < journaled && batch === pendingBatches[k]) {
          for (let i = k === 0 ? 0 : ends[k - 1]!; i < ends[k]!; i++) {
            body.keys.push(pending.keys[i]!);
            body.values.push(pending.values[i]!);
          }
          k++;
        } else {
          unjournaled.push(batch);
          this.#bodyInto(batch, body);
        }
      }
      for (const [key, value] of this.#streamEntries(unjournaled)) {
        body.keys.push(key);
        body.values.push(value);
      }
      end = body.keys.length;
    }
    await this.#writeLists(body, end, this.#tailOps(batches), this.#sync);
    if (journaled > 0) {
      if (pendingBatches.length === journaled) {
        // Everything journaled is in LevelDB now: the journal starts again, empty (records still
        // in the buffer describe batches LevelDB has too, and no view of them is still to be written).
        pending.keys.length = 0;
        pending.values.length = 0;
        pendingBatches.length = 0;
        ends.length = 0;
        const fd = this.#journalFd;
        if (fd !== undefined) {
          this.#journalBuffer.reset();
          ftruncateSync(fd, 0);
        }
      } else {
        // Batches journaled during the write stay pending.
        const written = ends[journaled - 1]!;
        pending.keys.splice(0, written);
        pending.values.splice(0, written);
        pendingBatches.splice(0, journaled);
        ends.splice(0, journaled);
        for (let i = 0; i < ends.length; i++) ends[i]! -= written;
      }
    }
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

  /**
   * Events of a room by stream position, from the stream index: schema 1's rows (one position
   * each) and schema 2's runs, in position order. An entry's position whose event's record names
   * another position (an outlier promoted since, listed again at its new position) is skipped.
   */
  protected override async _timeline(roomId: RoomId, range: TimelineRange): Promise<readonly StoredEvent[]> {
    const { from, reverse, limit } = range;
    const table = this.#t.roomStream;
    const base = roomId.length + 1;
    /** Positions read from the index and not yet looked up, in the order of the range. */
    let pending: [number, EventId][] = [];
    const take = (key: string, value: string): void => {
      const last = Number.parseInt(key.slice(base, base + 12), 16);
      // A row of one position (its key ends with the position) or a run (`-` and its length follow).
      const isRun = key.length !== base + 12;
      const n = !isRun ? 1 : key.charCodeAt(base + 12) === 45 /* - */ ? Number.parseInt(key.slice(base + 13), 16) : Number.NaN;
      let ids: unknown = value;
      if (isRun) {
        try {
          ids = JSON.parse(value);
        } catch {
          ids = undefined;
        }
      }
      if (!Number.isInteger(last) || !Number.isInteger(n) || n < 1 || (!isRun ? typeof ids !== 'string' : !Array.isArray(ids) || ids.length !== n || !ids.every((id) => typeof id === 'string'))) {
        throw new StoreError('STORE_CORRUPT', `stream index of ${roomId}: undecodable entry ${JSON.stringify(key)}`);
      }
      const list = !isRun ? [ids as EventId] : (ids as EventId[]);
      const first = last - n + 1;
      if (reverse) {
        for (let i = n - 1; i >= 0; i--) if (first + i <= from) pending.push([first + i, list[i]!]);
      } else {
        for (let i = 0; i < n; i++) if (first + i >= from) pending.push([first + i, list[i]!]);
      }
    };
    if (reverse) {
      // The run holding `from` may end after it (its key sorts after `from`'s): the first entry past.
      for (const [k, v] of await table.iterator({ gte: streamKey(roomId, from + 1), lt: `${roomId}\x01`, limit: 1 }).all()) take(k, v);
    }
    const it = table.iterator(reverse ? { gt: `${roomId}\x00`, lt: streamKey(roomId, from + 1), reverse: true } : { gte: streamKey(roomId, from), lt: `${roomId}\x01` });
    const out: StoredEvent[] = [];
    try {
      let done = false;
      while (out.length < limit) {
        const need = limit - out.length;
        while (!done && pending.length < need) {
          const entries = await it.nextv(need - pending.length);
          if (entries.length === 0) done = true;
          for (const [k, v] of entries) take(k, v);
        }
        if (pending.length === 0) break;
        const now = pending.length > need ? pending.slice(0, need) : pending;
        pending = pending.length > need ? pending.slice(need) : [];
        const events = await this.getEvents(now.map((x) => x[1]));
        for (const [at, id] of now) {
          const e = events.get(id);
          if (e === undefined) throw new StoreError('STORE_CORRUPT', `timeline of ${roomId} refers to missing event ${id}`);
          if (e.stream === at) out.push(e);
        }
      }
    } finally {
      await it.close();
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

  protected override async _getParkedEvents(roomId: RoomId, eventIds: readonly EventId[]): Promise<readonly ParkedEvent[]> {
    const values = await this.#t.parked.getMany(eventIds.map((id) => `${roomId}\x00${id}`));
    const out: ParkedEvent[] = [];
    for (const v of values) if (v !== undefined) out.push(Object.freeze(JSON.parse(v)) as ParkedEvent);
    return out;
  }

  protected override async _deleteParkedEvents(roomId: RoomId, eventIds: readonly EventId[]): Promise<void> {
    await this.#db.batch(
      eventIds.map((id) => ({ type: 'del' as const, sublevel: this.#t.parked, key: `${roomId}\x00${id}` })),
      { sync: this.#sync },
    );
  }

  protected override async _putInvites(invites: readonly StoredInvite[]): Promise<void> {
    if (invites.length === 0) return;
    await this.#db.batch(
      invites.map((i) => ({ type: 'put' as const, sublevel: this.#t.invites, key: `${i.roomId}\x00${i.userId}`, value: JSON.stringify(i) })),
      { sync: this.#sync },
    );
  }

  protected override async _listInvites(): Promise<readonly StoredInvite[]> {
    const values = await this.#t.invites.values().all();
    return values.map((v) => Object.freeze(JSON.parse(v)) as StoredInvite);
  }

  protected override async _deleteInvites(keys: readonly InviteKey[]): Promise<void> {
    if (keys.length === 0) return;
    await this.#db.batch(
      keys.map((k) => ({ type: 'del' as const, sublevel: this.#t.invites, key: `${k.roomId}\x00${k.userId}` })),
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
