// Versioned migrations: a fresh schema is created at SCHEMA_VERSION; a schema written by newer
// code is refused with STORE_SCHEMA_TOO_NEW and left untouched; an older one is upgraded.
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { isStoreError } from '@roomgraph/store';
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
