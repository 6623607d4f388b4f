// Versioned migrations: a fresh schema is created at SCHEMA_VERSION; a schema written by newer
// code is refused with STORE_SCHEMA_TOO_NEW and left untouched; an older one is upgraded (version
// 1 → 2: ID columns escape U+0000 and the escape U+0001, so version 1's raw U+0001 is escaped;
// 2 → 3: server keys keyed by the digests of their names).
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { isStoreError, type RoomStore } from '@roomgraph/store';
import { fakeEvent } from '@roomgraph/store/conformance';
import { MIGRATIONS, PostgresRoomStore, SCHEMA_VERSION } from '@roomgraph/store-postgres';
import { startTestDatabase, type TestDatabase } from '@roomgraph/store-postgres/testing';

const dbs: TestDatabase[] = [];
afterAll(async () => {
  for (const d of dbs) await d.drop();
});

/** A fresh schema, and a connection to its server for looking behind the store. */
async function fresh(): Promise<{ db: TestDatabase; sql: { unsafe<R>(text: string): Promise<R>; end(): Promise<void> } }> {
  const db = await startTestDatabase();
  dbs.push(db);
  const u = new URL(db.url);
  u.searchParams.delete('schema');
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  return { db, sql: { unsafe: async <R>(text: string) => (await c.query(text)).rows as R, end: () => c.end() } };
}

/** A fresh schema holding {@link writeDataset}'s data: what it reads back as, and the schema's table names. */
async function withDataset(): Promise<{ db: TestDatabase; sql: Awaited<ReturnType<typeof fresh>>['sql']; before: unknown; q: (table: string) => string }> {
  const { db, sql } = await fresh();
  try {
    const store = new PostgresRoomStore(db.url);
    await store.open();
    await writeDataset(store);
    const before = await readDataset(store);
    await store.close();
    return { db, sql, before, q: (t) => `"${db.schema}".${t}` };
  } catch (e) {
    await sql.end();
    throw e;
  }
}

/**
 * The statements turning the tables back into versions 1–2's: no invite table (version 4), the key
 * table keyed by the names (version 3 keys it by their digests).
 */
function keysByNames(q: (table: string) => string): string {
  return `DROP TABLE ${q('invites')}; ALTER TABLE ${q('server_keys')} DROP COLUMN server_hash, DROP COLUMN key_hash, ADD PRIMARY KEY (server, key_id)`;
}

describe('schema migrations', () => {
  it('creates the schema at the current version, once (reopening applies nothing)', async () => {
    const { db, sql } = await fresh();
    try {
      const s = new PostgresRoomStore(db.url);
      await s.open();
      await s.close();
      await s.open();
      await s.close();
      const rows = await sql.unsafe<{ version: number }[]>(`SELECT version FROM "${db.schema}".schema_version ORDER BY version`);
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(rows.at(-1)!.version).toBe(SCHEMA_VERSION);
    } finally {
      await sql.end();
    }
  });

  it('refuses a schema written by newer code (STORE_SCHEMA_TOO_NEW) and changes nothing', async () => {
    const { db, sql } = await fresh();
    try {
      const s = new PostgresRoomStore(db.url);
      await s.open();
      await s.close();
      await sql.unsafe(`INSERT INTO "${db.schema}".schema_version (version, description) VALUES (${SCHEMA_VERSION + 1}, 'from the future')`);
      const again = new PostgresRoomStore(db.url);
      const err = await again.open().then(() => undefined, (e: unknown) => e);
      expect(isStoreError(err, 'STORE_SCHEMA_TOO_NEW')).toBe(true);
      expect(String((err as Error).message)).toMatch(/newer than this code/);
      expect(again.status).toBe('closed');
      const rows = await sql.unsafe<{ version: number }[]>(`SELECT version FROM "${db.schema}".schema_version ORDER BY version`);
      expect(rows.map((r) => r.version)).toEqual([...MIGRATIONS.map((m) => m.version), SCHEMA_VERSION + 1]);
    } finally {
      await sql.end();
    }
  });

  it('upgrades a version-1 database holding data: IDs holding U+0001 are escaped once, everything reads back the same, writing goes on', async () => {
    // Data written by the store (no U+0000: version 1 could not store one) ...
    const { db, sql, before, q } = await withDataset();
    try {
      // ... turned into what version 1 wrote: the same rows with the strings as they are (for
      // strings without U+0000 or a lone surrogate, toText's inverse is U+0001 U+0002 → U+0001).
      const unescape = (table: string, cols: string[]): string =>
        `UPDATE ${q(table)} SET ${cols.map((c) => `${c} = replace(${c}, chr(1) || chr(2), chr(1))`).join(', ')}`;
      await sql.unsafe(
        [
          unescape('rooms', ['room_id', 'room_version', 'create_event_id']),
          unescape('events', ['event_id']),
          unescape('server_keys', ['server', 'key_id']),
          unescape('parked_events', ['room_id', 'event_id']),
          keysByNames(q),
          `DELETE FROM ${q('schema_version')} WHERE version > 1`,
        ].join(';'),
      );
      const raw = await sql.unsafe<{ event_id: string }[]>(`SELECT event_id FROM ${q('events')} ORDER BY event_id COLLATE "C"`);
      expect(raw.map((r) => r.event_id)).toEqual(['$c\u0001', '$e\u0001', '$e\u0001\u0002', '$e\u0001\u0002\u0002', '$plain', '$x\u{1F600}'].sort());
      // Version 2 opens it (two openers at once: one migrates, the other sees version 2).
      const [a, b] = [new PostgresRoomStore(db.url), new PostgresRoomStore(db.url)];
      await Promise.all([a.open(), b.open()]);
      try {
        expect(await readDataset(a)).toEqual(before);
        expect(await readDataset(b)).toEqual(before);
        const versions = await sql.unsafe<{ version: number }[]>(`SELECT version FROM ${q('schema_version')} ORDER BY version`);
        expect(versions.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
        const escaped = await sql.unsafe<{ event_id: string }[]>(`SELECT event_id FROM ${q('events')} ORDER BY event_id COLLATE "C"`);
        expect(escaped.map((r) => r.event_id)).toEqual(['$c\u0001\u0002', '$e\u0001\u0002', '$e\u0001\u0002\u0002', '$e\u0001\u0002\u0002\u0002', '$plain', '$x\u{1F600}'].sort());
        // Writing goes on where version 1 left off, U+0000 included.
        const room = (await a.getRoom(ROOM1))!;
        const r = await a.commit({
          roomId: ROOM1,
          event: { event: fakeEvent('$n\u0000', { roomId: ROOM1, prev: ['$e\u0001\u0002'], content: { body: '\u0000' } }), status: 'accepted', stateBefore: room.currentState! },
          forwardExtremities: ['$n\u0000'],
        });
        expect(r.event.stream).toBe(room.lastStream + 1);
        expect((await b.timeline(ROOM1)).map((e) => e.eventId)).toEqual(['$c\u0001', '$e\u0001', '$e\u0001\u0002', '$n\u0000']);
        expect(await b.getEvent('$n\u0001')).toBeUndefined();
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    } finally {
      await sql.end();
    }
  });

  it('upgrades a version-2 key table: keys read back the same by their names, then a key ID longer than a B-tree entry is cached too', async () => {
    const { db, sql, before, q } = await withDataset();
    try {
      await sql.unsafe([keysByNames(q), `DELETE FROM ${q('schema_version')} WHERE version > 2`].join(';'));
      const again = new PostgresRoomStore(db.url);
      await again.open();
      try {
        expect(await readDataset(again)).toEqual(before);
        const versions = await sql.unsafe<{ version: number }[]>(`SELECT version FROM ${q('schema_version')} ORDER BY version`);
        expect(versions.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
        const pk = await sql.unsafe<{ def: string }[]>(`SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = '${q('server_keys')}'::regclass AND contype = 'p'`);
        expect(pk.map((r) => r.def)).toEqual(['PRIMARY KEY (server_hash, key_hash)']);
        // Each key of the dataset replaced by a put under its own names, not added beside it.
        const server = 's\u0001';
        const keys = await again.getServerKeys(server);
        expect(keys.map((k) => k.publicKey)).toEqual(['K', 'N']);
        await again.putServerKeys(keys.map((k) => ({ ...k, publicKey: `${k.publicKey}2` })));
        expect((await again.getServerKeys(server)).map((k) => k.publicKey)).toEqual(keys.map((k) => `${k.publicKey}2`));
        const longId = `ed25519:${'k'.repeat(5000)}`;
        await again.putServerKeys([{ server, keyId: longId, publicKey: 'L' }]);
        expect(await again.getServerKey(server, longId)).toEqual({ server, keyId: longId, publicKey: 'L' });
      } finally {
        await again.close();
      }
    } finally {
      await sql.end();
    }
  });

  it('an unreachable server is a STORE_IO error on open', async () => {
    const s = new PostgresRoomStore('postgres://postgres@127.0.0.1:1/none', { connectTimeout: 2 });
    const err = await s.open().then(() => undefined, (e: unknown) => e);
    expect(isStoreError(err, 'STORE_IO')).toBe(true);
    expect(s.status).toBe('closed');
  });

  it('rejects a URL that is not postgres://', () => {
    expect(() => new PostgresRoomStore('mysql://x/y')).toThrow(/postgres/);
  });
});

const ROOM1 = '!a\u0001b:example.org';
const ROOM2 = '!plain:example.org';
/** ROOM1's escaped text as a room ID of its own (version 2 writes ROOM1 as this, and this as …\u0001\u0002\u0002…). */
const ROOM3 = '!a\u0001\u0002b:example.org';

/** Two rooms, IDs holding U+0001 (and astral characters), a state snapshot, a key and a parked event. */
async function writeDataset(store: RoomStore): Promise<void> {
  const k = (type: string, sk: string): string => `${type.length}:${type}${sk}`;
  const c = await store.commit({
    roomId: ROOM1,
    createRoom: { roomVersion: '\u0001v', createEventId: '$c\u0001' },
    event: { event: fakeEvent('$c\u0001', { type: 'm.room.create', stateKey: '', roomId: ROOM1 }), status: 'accepted', stateBefore: { ref: 'b' } },
    snapshots: [{ ref: 'b', parent: null, changes: {} }, { ref: 'a', parent: { ref: 'b' }, changes: { set: [[k('m.room.create', ''), '$c\u0001']] } }],
    forwardExtremities: ['$c\u0001'],
    currentState: { ref: 'a' },
  });
  const s = c.snapshots.get('a')!;
  await store.commit({
    roomId: ROOM1,
    event: { event: fakeEvent('$e\u0001', { type: 't\u0001', stateKey: '\u0001', roomId: ROOM1, prev: ['$c\u0001'], auth: ['$c\u0001'], content: { '\u0001': '\u0001' } }), status: 'accepted', stateBefore: s },
    snapshots: [{ ref: 'a', parent: s, changes: { set: [[k('t\u0001', '\u0001'), '$e\u0001']] } }],
    forwardExtremities: ['$e\u0001'],
    currentState: { ref: 'a' },
  });
  await store.commit({ roomId: ROOM1, event: { event: fakeEvent('$e\u0001\u0002', { roomId: ROOM1, prev: ['$e\u0001'], auth: ['$c\u0001', '$e\u0001'] }), status: 'rejected', rejection: { rule: 'r\u0001' }, stateBefore: s }, forwardExtremities: ['$e\u0001\u0002'] });
  await store.commit({
    roomId: ROOM2,
    createRoom: { roomVersion: '10', createEventId: '$plain' },
    event: { event: fakeEvent('$plain', { type: 'm.room.create', stateKey: '', roomId: ROOM2 }), status: 'accepted', stateBefore: { ref: 'b' } },
    snapshots: [{ ref: 'b', parent: null, changes: {} }],
    forwardExtremities: ['$plain'],
    currentState: { ref: 'b' },
  });
  await store.commit({ roomId: ROOM2, event: { event: fakeEvent('$x\u{1F600}', { roomId: ROOM2, auth: ['$plain'] }), status: 'outlier' } });
  await store.commit({
    roomId: ROOM3,
    createRoom: { roomVersion: '\u0001\u0002v', createEventId: '$e\u0001\u0002\u0002' },
    event: { event: fakeEvent('$e\u0001\u0002\u0002', { type: 'm.room.create', stateKey: '', roomId: ROOM3 }), status: 'accepted', stateBefore: { ref: 'b' } },
    snapshots: [{ ref: 'b', parent: null, changes: {} }],
    forwardExtremities: ['$e\u0001\u0002\u0002'],
    currentState: { ref: 'b' },
  });
  await store.putServerKeys([
    { server: 's\u0001', keyId: 'ed25519:\u0001', publicKey: 'K' },
    { server: 's\u0001\u0002', keyId: 'ed25519:\u0001\u0002', publicKey: 'M' },
    { server: 's\u0001', keyId: 'ed25519:\u0001\u0002', publicKey: 'N' },
    { server: 'plain.org', keyId: 'ed25519:a', publicKey: 'L' },
  ]);
  await store.parkEvents([
    { eventId: '$p\u0001', roomId: ROOM1, json: { x: '\u0001' }, receivedTs: 1 },
    { eventId: '$p\u0001\u0002', roomId: ROOM1, json: {}, receivedTs: 2 },
    { eventId: '$p\u0001', roomId: ROOM3, json: {}, receivedTs: 3 },
  ]);
}

/** Everything {@link writeDataset} wrote, as read back. */
async function readDataset(store: RoomStore): Promise<unknown> {
  const rooms = [...(await store.listRooms())].sort();
  const out: Record<string, unknown> = { rooms };
  for (const r of rooms) {
    const room = (await store.getRoom(r))!;
    out[r] = {
      room,
      timeline: await store.timeline(r, { limit: 100 }),
      state: Object.fromEntries(await store.loadState(room.currentState!)),
      parked: await store.listParkedEvents(r),
    };
  }
  out['events'] = Object.fromEntries(await store.getEvents(['$c\u0001', '$e\u0001', '$e\u0001\u0002', '$e\u0001\u0002\u0002', '$plain', '$x\u{1F600}', '$e\u0002']));
  out['keys'] = [
    await store.getServerKeys('s\u0001'),
    await store.getServerKeys('s\u0001\u0002'),
    await store.getServerKeys('plain.org'),
    await store.getServerKey('s\u0001', 'ed25519:\u0001'),
    await store.getServerKey('s\u0001', 'ed25519:\u0001\u0002'),
  ];
  out['chain'] = [...(await store.getAuthChain(['$e\u0001\u0002']))].sort();
  return out;
}
