/**
 * Test databases for the store's suites (`@roomgraph/store-postgres/testing`).
 *
 * {@link startTestDatabase} gives a fresh, empty schema on a PostgreSQL server: the server named by
 * `ROOMGRAPH_POSTGRES_URL` when it is set (a fresh schema, dropped afterwards), else an in-process
 * PGlite database served over the PostgreSQL wire protocol (`@electric-sql/pglite-socket`), so
 * the store code under test is the same for both. A server that cannot be reached is an error,
 * never a reason to skip.
 *
 * PGlite is a single-session database: its socket server multiplexes every connection onto one
 * session, so advisory locks do not exclude one connection from another there. Tests of several
 * processes sharing a room therefore need a real server ({@link TestDatabase.kind}).
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

/** A fresh schema on a test server. */
export interface TestDatabase {
  /** `'postgres'` (the server of `ROOMGRAPH_POSTGRES_URL`) or `'pglite'` (in-process). */
  readonly kind: 'postgres' | 'pglite';
  /** Connection URL including `?schema=…` (give it to `PostgresRoomStore` or the CLI). */
  readonly url: string;
  /** The schema name. */
  readonly schema: string;
  /** Drops the schema (and stops PGlite). */
  drop(): Promise<void>;
}

/** The environment variable naming a real server for the tests. */
export const POSTGRES_URL_ENV = 'ROOMGRAPH_POSTGRES_URL';

/**
 * A fresh schema: on `kind` (default: the real server if `ROOMGRAPH_POSTGRES_URL` is set, else
 * PGlite). Asking for `'postgres'` without the variable set throws.
 */
export async function startTestDatabase(kind?: 'postgres' | 'pglite'): Promise<TestDatabase> {
  const env = process.env[POSTGRES_URL_ENV];
  const k = kind ?? (env !== undefined && env !== '' ? 'postgres' : 'pglite');
  const schema = `rg_test_${randomBytes(6).toString('hex')}`;
  if (k === 'postgres') {
    if (env === undefined || env === '') throw new Error(`${POSTGRES_URL_ENV} is not set: no PostgreSQL server to test against`);
    const sql = postgres(env, { onnotice: () => undefined, connect_timeout: 10, max: 1 });
    try {
      await sql.unsafe('SELECT 1');
    } catch (e) {
      await sql.end({ timeout: 1 }).catch(() => undefined);
      throw new Error(`cannot reach the PostgreSQL server of ${POSTGRES_URL_ENV} (${env}): ${(e as Error).message}`, { cause: e });
    }
    await sql.end({ timeout: 1 });
    return {
      kind: 'postgres',
      url: withSchema(env, schema),
      schema,
      drop: async () => {
        const s = postgres(env, { onnotice: () => undefined, max: 1 });
        try {
          await s.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        } finally {
          await s.end({ timeout: 5 });
        }
      },
    };
  }
  const server = await pgliteServer();
  server.users++;
  return {
    kind: 'pglite',
    url: `postgres://postgres@127.0.0.1:${server.port}/postgres?schema=${schema}`,
    schema,
    drop: async () => {
      if (--server.users > 0) {
        const s = postgres(`postgres://postgres@127.0.0.1:${server.port}/postgres`, { onnotice: () => undefined, max: 1 });
        try {
          await s.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        } finally {
          await s.end({ timeout: 5 });
        }
        return;
      }
      if (shared === server.started) shared = undefined;
      await server.stop();
    },
  };
}

/** The process's PGlite server: one for all test databases alive at once (each its own schema). */
interface PgliteServer {
  readonly port: number;
  users: number;
  started: Promise<PgliteServer>;
  stop(): Promise<void>;
}
let shared: Promise<PgliteServer> | undefined;

function pgliteServer(): Promise<PgliteServer> {
  shared ??= (async () => {
    const { PGlite } = await import('@electric-sql/pglite');
    const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
    const db = await PGlite.create();
    const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 500 });
    await server.start();
    const s: PgliteServer = {
      port: (server as unknown as { port: number }).port,
      users: 0,
      started: shared!,
      stop: async () => {
        await server.stop();
        await db.close();
      },
    };
    return s;
  })();
  const p = shared;
  return p.then((s) => {
    s.started = p;
    return s;
  });
}

function withSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('schema', schema);
  return u.toString();
}
