/**
 * The LevelDB store's schema 2 (`LEVEL_SCHEMA_VERSION`): stream index entries of whole runs, compact
 * event records, and schema 1 databases read as they are.
 *
 * - A schema 1 database written by the schema 1 build (`fixtures/schema1`, made by
 *   `fixtures/make-schema1.mjs` at commit 60219a7), with a journal of schema 1 ops and FNV-1a
 *   records left by a killed writer, opens and reads as that build read it; commits after it are
 *   written in schema 2 beside the old rows and records, and both read back in order.
 * - A block of commits writes one stream index entry; timeline pages from any position, in both
 *   directions, cross runs and skip a promoted outlier's old position (model-checked).
 * - An event record omits the fields that follow from its PDU JSON, and keeps them when they do not.
 * - Damaged entries and records, and an unknown schema version, are typed errors.
 */
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isStoreError, type RoomCommit, type SnapshotId, type StoredEvent } from '@roomgraph/store';
import { fakeEvent } from '@roomgraph/store/conformance';
import { LEVEL_SCHEMA_VERSION, LEVEL_STREAM_RUN_MAX, LEVEL_TABLES, LevelRoomStore } from '@roomgraph/store-level';
import { ROOM, ProbeStore, createRoom, message, tempRoot } from './helpers.js';

const root = tempRoot('schema');
const fixture = fileURLToPath(new URL('./fixtures/schema1/', import.meta.url));
const STREAM = `!${LEVEL_TABLES.roomStream}!`;
const EVENT = `!${LEVEL_TABLES.events}!`;

/** The raw stream index entries of {@link ROOM}, in key order. */
async function streamEntries(store: LevelRoomStore): Promise<[string, string][]> {
  return store.db.iterator({ gt: `${STREAM}${ROOM}\x00`, lt: `${STREAM}${ROOM}\x01` }).all();
}

/** A store's timeline as `[stream, id]`, every event (one page). */
async function positions(store: LevelRoomStore): Promise<[number, string][]> {
  return (await store.timeline(ROOM, { limit: 10_000 })).map((e) => [e.stream, e.eventId]);
}

/**
 * Checks every timeline page (each start position, both directions, limits 1–4) against the model
 * `live` (the events listed, `[stream, id]` in stream order).
 */
async function checkPages(store: LevelRoomStore, live: readonly (readonly [number, string])[], last: number): Promise<void> {
  // (Past the room's last position a page is empty, backwards too.)
  for (let from = 1; from <= last + 1; from++) {
    for (let limit = 1; limit <= 4; limit++) {
      const fwd = (await store.timeline(ROOM, { from, limit })).map((e) => [e.stream, e.eventId]);
      expect(fwd, `forwards from ${from}, ${limit}`).toEqual(live.filter(([s]) => s >= from).slice(0, limit));
      const back = (await store.timeline(ROOM, { from, limit, direction: 'backwards' })).map((e) => [e.stream, e.eventId]);
      expect(back, `backwards from ${from}, ${limit}`).toEqual(from > last ? [] : live.filter(([s]) => s <= from).reverse().slice(0, limit));
    }
  }
}

/** Commits to {@link ROOM} with `stateBefore` `s`: a message after `prev`. */
const msg = (id: string, prev: string, depth: number, s: SnapshotId): RoomCommit => message(id, prev, depth, s);

describe('store-level schema 1 databases', () => {
  it('a schema 1 database and the journal its killed writer left open and read as the schema 1 build read them; schema 2 commits follow', async () => {
    const dir = join(root, 'schema1');
    cpSync(join(fixture, 'db'), dir, { recursive: true });
    const expected = JSON.parse(readFileSync(join(fixture, 'expected.json'), 'utf8')) as { room: { lastStream: number; currentState: number }; events: StoredEvent[]; currentState: [string, string][] };
    // The fixture as written: schema 1's full records (`t` present) and one row per position.
    expect(readFileSync(join(fixture, 'db', 'roomgraph.journal')).readUInt32LE(0) >>> 31).toBe(0); // FNV-1a records

    const store = new ProbeStore(dir, { journal: true });
    await store.open();
    expect(await store.db.get('!meta!schema')).toBe(String(LEVEL_SCHEMA_VERSION));
    expect(await store.getRoom(ROOM)).toEqual(expected.room);
    const got = await store.getEvents(expected.events.map((e) => e.eventId));
    for (const e of expected.events) expect(got.get(e.eventId), e.eventId).toEqual(e);
    expect([...(await store.loadState(expected.room.currentState))].sort()).toEqual([...expected.currentState].sort());
    // The timeline: schema 1's rows, without the promoted outlier's deleted one; the journaled two last.
    const byStream = [...expected.events].filter((e) => e.stream <= expected.room.lastStream).sort((a, b) => a.stream - b.stream);
    const old: [number, string][] = byStream.map((e) => [e.stream, e.eventId]);
    expect(await positions(store)).toEqual(old);
    expect(old.map(([, id]) => id).slice(-2)).toEqual(['$journaled1', '$journaled2']);
    const rows = await streamEntries(store);
    expect(rows.every(([k]) => !k.includes('-'))).toBe(true);
    expect(rows.length).toBe(old.length);

    // Schema 2 commits after it: a block (one run entry), the remaining outlier promoted (its
    // schema 1 row, not deleted, is skipped), single commits.
    const s = (await store.getEvent('$journaled2'))!.stateBefore!;
    let prev = '$journaled2';
    let depth = 100;
    const block: RoomCommit[] = [];
    for (let i = 0; i < 5; i++) {
      const id = `$new${i}`;
      block.push(msg(id, prev, depth++, s));
      prev = id;
    }
    const outlier2 = expected.events.find((e) => e.eventId === '$outlier2')!;
    block.push({ roomId: ROOM, event: { event: fakeEvent('$outlier2', { prev: ['$create'], auth: ['$create'], depth: outlier2.depth }), status: 'accepted', stateBefore: s }, forwardExtremities: [prev, '$outlier2'] });
    const results = await store.commitMany(block);
    expect(results.at(-1)!.promoted).toBe(true);
    await store.commit(msg('$after', prev, depth++, s));
    const live: [number, string][] = [...old.filter(([, id]) => id !== '$outlier2'), ...['$new0', '$new1', '$new2', '$new3', '$new4', '$outlier2', '$after'].map((id, i): [number, string] => [expected.room.lastStream + 1 + i, id])];
    expect(await positions(store)).toEqual(live);
    const entries = await streamEntries(store);
    expect(entries.filter(([k]) => k.includes('-')).map(([, v]) => v)).toEqual([JSON.stringify(['$new0', '$new1', '$new2', '$new3', '$new4', '$outlier2'])]);
    await checkPages(store, live, expected.room.lastStream + 7);
    await store.close();

    const again = new LevelRoomStore(dir);
    await again.open();
    expect(await positions(again)).toEqual(live);
    await checkPages(again, live, expected.room.lastStream + 7);
    const promoted = (await again.getEvent('$outlier2'))!;
    expect([promoted.status, promoted.stream]).toEqual(['accepted', expected.room.lastStream + 6]);
    // The schema 1 records read as before, the schema 2 ones compact.
    expect(JSON.parse((await again.db.get(`${EVENT}$member1`))!)).toHaveProperty('t');
    expect(JSON.parse((await again.db.get(`${EVENT}$new1`))!)).not.toHaveProperty('t');
    await again.close();
  });
});

describe('store-level stream index runs', () => {
  for (const journal of [false, true]) {
    it(`a block writes one entry; pages from every position, both directions, skip a promoted outlier's old position (${journal ? 'journal' : 'no journal'})`, async () => {
      const dir = join(root, `runs-${journal}`);
      const store = new ProbeStore(dir, { journal });
      await store.open();
      const s = await createRoom(store);
      // Block A: four messages and an outlier among them (stream 2..6).
      const a: RoomCommit[] = [msg('$a1', '$create', 2, s), msg('$a2', '$a1', 3, s), { roomId: ROOM, event: { event: fakeEvent('$o', { prev: ['$create'], auth: ['$create'], depth: 2 }), status: 'outlier' } }, msg('$a3', '$a2', 4, s), msg('$a4', '$a3', 5, s)];
      await store.commitMany(a);
      // Three commits made together (7..9), then block B promoting the outlier (10..13).
      await store.commit(msg('$b1', '$a4', 6, s), { durable: false });
      await store.commit(msg('$b2', '$b1', 7, s), { durable: false });
      await store.commit(msg('$b3', '$b2', 8, s), { durable: false });
      await store.flush();
      await store.commitMany([msg('$c1', '$b3', 9, s), { roomId: ROOM, event: { event: fakeEvent('$o', { prev: ['$create'], auth: ['$create'], depth: 2 }), status: 'accepted', stateBefore: s }, forwardExtremities: ['$c1', '$o'] }, msg('$c2', '$c1', 10, s), msg('$c3', '$c2', 11, s)]);
      const order = ['$create', '$a1', '$a2', '$o', '$a3', '$a4', '$b1', '$b2', '$b3', '$c1', '$o', '$c2', '$c3'];
      const live = order.map((id, i): [number, string] => [i + 1, id]).filter(([at]) => at !== 4);
      expect(await positions(store)).toEqual(live);
      const entries = await streamEntries(store);
      // A commit written alone is a row of one position, as schema 1's.
      expect(entries[0]).toEqual([`${STREAM}${ROOM}\x00${(1).toString(16).padStart(12, '0')}`, '$create']);
      // Block A is one entry: the run of positions 2..6 under its last position's key.
      expect(entries).toContainEqual([`${STREAM}${ROOM}\x00${(6).toString(16).padStart(12, '0')}-5`, JSON.stringify(['$a1', '$a2', '$o', '$a3', '$a4'])]);
      expect(entries.length).toBeLessThan(order.length / 2);
      await checkPages(store, live, order.length);
      await store.close();
      const again = new LevelRoomStore(dir);
      await again.open();
      await checkPages(again, live, order.length);
      await again.close();
    });
  }

  for (const journal of [false, true]) {
    it(`runs are at most ${LEVEL_STREAM_RUN_MAX} positions long (${journal ? 'journal' : 'no journal'})`, async () => {
      const store = new LevelRoomStore(join(root, `long-${journal}`), { journal });
      await store.open();
      const s = await createRoom(store);
      const n = LEVEL_STREAM_RUN_MAX * 2 + 3;
      const block: RoomCommit[] = [];
      for (let i = 0; i < n; i++) block.push(msg(`$l${i}`, i === 0 ? '$create' : `$l${i - 1}`, i + 2, s));
      await store.commitMany(block);
      // Durable once journaled; a read through the store waits for the LevelDB writes too, after
      // which the raw rows below are all there.
      await store.timeline(ROOM, { limit: 1 });
      const entries = await streamEntries(store);
      const counts = entries.map(([k]) => (k.includes('-') ? Number.parseInt(k.slice(k.lastIndexOf('-') + 1), 16) : 1));
      expect(counts.reduce((a, b) => a + b, 0)).toBe(n + 1);
      expect(Math.max(...counts)).toBe(LEVEL_STREAM_RUN_MAX);
      // Without a journal the block is one write: the create event's row, then the block's runs.
      // (With one, the writer starts at 128 queued commits: a journal record, and its runs, end there.)
      if (!journal) expect(counts).toEqual([1, LEVEL_STREAM_RUN_MAX, LEVEL_STREAM_RUN_MAX, 3]);
      const all = await positions(store);
      expect(all.map(([at]) => at)).toEqual(Array.from({ length: n + 1 }, (_, i) => i + 1));
      // Pages from a run's last position, across into the next run, both ways.
      const at = LEVEL_STREAM_RUN_MAX + 1;
      expect((await store.timeline(ROOM, { from: at, limit: 3 })).map((e) => e.stream)).toEqual([at, at + 1, at + 2]);
      expect((await store.timeline(ROOM, { from: at + 1, limit: 3, direction: 'backwards' })).map((e) => e.stream)).toEqual([at + 1, at, at - 1]);
      await store.close();
    });
  }
});

describe('store-level event records', () => {
  it('omit the fields that follow from the PDU JSON, keep them when they do not; both read back as committed', async () => {
    const dir = join(root, 'records');
    const store = new LevelRoomStore(dir);
    await store.open();
    const s = await createRoom(store);
    const plain = fakeEvent('$plain', { prev: ['$create'], auth: ['$create'], depth: 2, type: 'm.room.topic', stateKey: '' });
    // Room versions 1 and 2: prev_events are [id, hashes] pairs in the JSON, IDs in the event view.
    const base = fakeEvent('$pairs', { prev: ['$plain'], auth: ['$create'], depth: 3 });
    const pairs = Object.freeze({ ...base, json: { ...base.json, prev_events: [['$plain', { sha256: 'x' }]] } });
    // A v12 create event has no room_id: the record names the room.
    const create2 = fakeEvent('$noroom', { prev: ['$pairs'], auth: ['$create'], depth: 4 });
    const noRoom = Object.freeze({ ...create2, json: Object.fromEntries(Object.entries(create2.json).filter(([k]) => k !== 'room_id')) });
    await store.commit({ roomId: ROOM, event: { event: plain, status: 'accepted', stateBefore: s } });
    await store.commit({ roomId: ROOM, event: { event: pairs, status: 'soft-failed', rejection: { rule: 'r', reason: 'why' }, stateBefore: s } });
    await store.commit({ roomId: ROOM, event: { event: noRoom, status: 'rejected', rejection: { rule: 'q' }, stateBefore: s } });
    await store.close();
    const raw = async (id: string): Promise<Record<string, unknown>> => {
      const again = new LevelRoomStore(dir);
      await again.open();
      const v = JSON.parse((await again.db.get(`${EVENT}${id}`))!) as Record<string, unknown>;
      await again.close();
      return v;
    };
    expect(Object.keys(await raw('$plain')).sort()).toEqual(['b', 'j', 'n', 's']);
    expect(await raw('$pairs')).toMatchObject({ t: 'm.room.message', p: ['$plain'], a: ['$create'], d: 3, r: ROOM });
    expect(Object.keys(await raw('$noroom')).sort()).toEqual(['b', 'j', 'n', 'r', 's', 'x']);
    const again = new LevelRoomStore(dir);
    await again.open();
    const got = await again.getEvents(['$plain', '$pairs', '$noroom']);
    const want = (ev: typeof plain, status: string, stream: number, rejection?: object): object => ({
      eventId: ev.eventId, roomId: ROOM, json: ev.json, type: ev.type, stateKey: ev.stateKey, depth: ev.depth,
      prevEvents: ev.prevEvents, authEvents: ev.authEvents, status, ...(rejection !== undefined ? { rejection } : {}), stream, stateBefore: s,
    });
    expect(got.get('$plain')).toEqual(want(plain, 'accepted', 2));
    expect(got.get('$plain')!.stateKey).toBe('');
    expect(got.get('$pairs')).toEqual(want(pairs, 'soft-failed', 3, { rule: 'r', reason: 'why' }));
    expect(got.get('$noroom')).toEqual(want(noRoom, 'rejected', 4, { rule: 'q' }));
    expect(got.get('$noroom')!.stateKey).toBeUndefined();
    expect(Object.isFrozen(got.get('$plain')!.prevEvents)).toBe(true);
    await again.close();
  });
});

describe('store-level compact record text', () => {
  for (const journal of [false, true]) {
    it(`is the text of \`{ s, n, j, b?, x?, r? }\` in that order, as schema 2 wrote it with JSON.stringify (${journal ? 'journal' : 'no journal'})`, async () => {
      const dir = join(root, `text-${journal ? 'journal' : 'plain'}`);
      const store = new LevelRoomStore(dir, { journal });
      await store.open();
      const s = await createRoom(store);
      // Strings that need escaping, in the JSON and in the rejection.
      const plain = fakeEvent('$t1', { prev: ['$create'], auth: ['$create'], depth: 2, content: { body: 'quote " backslash \\ nl \n é \u2028 😀' } });
      const rej = fakeEvent('$t2', { prev: ['$t1'], auth: ['$create'], depth: 3 });
      const out = fakeEvent('$t3', { prev: ['$t2'], auth: ['$create'], depth: 4 });
      const other = fakeEvent('$t4', { prev: ['$t2'], auth: ['$create'], depth: 5 });
      const noRoom = Object.freeze({ ...other, json: Object.fromEntries(Object.entries(other.json).filter(([k]) => k !== 'room_id')) });
      await store.commit({ roomId: ROOM, event: { event: plain, status: 'accepted', stateBefore: s } });
      await store.commit({ roomId: ROOM, event: { event: rej, status: 'rejected', rejection: { rule: 'r"1', reason: 'why \\ not' }, stateBefore: s } });
      await store.commit({ roomId: ROOM, event: { event: out, status: 'outlier' } });
      await store.commit({ roomId: ROOM, event: { event: noRoom, status: 'soft-failed', rejection: { rule: 'q' }, stateBefore: s } });
      await store.close();
      const again = new LevelRoomStore(dir);
      await again.open();
      const text = async (id: string): Promise<string | undefined> => again.db.get(`${EVENT}${id}`);
      const got = await again.getEvents(['$t1', '$t2', '$t3', '$t4']);
      const n = (id: string): number => got.get(id)!.stream;
      expect(await text('$t1')).toBe(JSON.stringify({ s: 'accepted', n: n('$t1'), j: plain.json, b: s }));
      expect(await text('$t2')).toBe(JSON.stringify({ s: 'rejected', n: n('$t2'), j: rej.json, b: s, x: { rule: 'r"1', reason: 'why \\ not' } }));
      expect(await text('$t3')).toBe(JSON.stringify({ s: 'outlier', n: n('$t3'), j: out.json }));
      expect(await text('$t4')).toBe(JSON.stringify({ s: 'soft-failed', n: n('$t4'), j: noRoom.json, b: s, x: { rule: 'q' }, r: ROOM }));
      expect(got.get('$t1')!.json).toEqual(plain.json);
      await again.close();
    });
  }
});

describe('store-level damaged data', () => {
  const code = async (p: Promise<unknown>): Promise<string | undefined> => {
    try {
      await p;
      return undefined;
    } catch (e) {
      return isStoreError(e) ? e.code : `untyped: ${String(e)}`;
    }
  };

  it('an undecodable stream entry or compact record is STORE_CORRUPT, and the rest still reads', async () => {
    const dir = join(root, 'damaged');
    const store = new LevelRoomStore(dir);
    await store.open();
    const s = await createRoom(store);
    await store.commitMany([msg('$d1', '$create', 2, s), msg('$d2', '$d1', 3, s)]);
    await store.close();
    const again = new LevelRoomStore(dir);
    await again.open();
    const [key] = (await streamEntries(again)).find(([k]) => k.includes('-'))!;
    await again.db.put(key, '["$d1"]'); // two positions, one ID
    expect(await code(again.timeline(ROOM, { from: 2 }))).toBe('STORE_CORRUPT');
    await again.db.put(key, 'not json');
    expect(await code(again.timeline(ROOM, { from: 2 }))).toBe('STORE_CORRUPT');
    await again.db.put(`${key.slice(0, -2)}-x`, '["$d1"]');
    await again.db.del(key);
    expect(await code(again.timeline(ROOM, { from: 2 }))).toBe('STORE_CORRUPT');
    await again.db.put(`${EVENT}$d9`, JSON.stringify({ s: 'accepted', n: 9, j: { room_id: ROOM, depth: 1, prev_events: [], auth_events: [] } })); // no type
    expect(await code(again.getEvent('$d9'))).toBe('STORE_CORRUPT');
    expect((await again.timeline(ROOM, { limit: 1 })).map((e) => e.eventId)).toEqual(['$create']);
    await again.close();
  });

  it('a database of an unknown schema version is refused', async () => {
    const dir = join(root, 'future');
    const store = new LevelRoomStore(dir);
    await store.open();
    await store.db.put('!meta!schema', '3');
    await store.close();
    const again = new LevelRoomStore(dir);
    expect(await code(again.open())).toBe('STORE_CORRUPT');
  });
});
