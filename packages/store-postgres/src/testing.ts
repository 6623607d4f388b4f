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
import pg from 'pg';

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

/** A test server handing out fresh schemas. */
export interface TestServer {
  /** `'postgres'` (the server of `ROOMGRAPH_POSTGRES_URL`) or `'pglite'` (in-process). */
  readonly kind: 'postgres' | 'pglite';
  /** The server's URL (no schema). */
  readonly url: string;
  /** A fresh schema name and its URL (the store creates the schema when it opens). */
  newDatabase(): TestDatabase;
  /** Drops every schema handed out and lets the server go. */
  close(): Promise<void>;
}

/**
 * A test server: the real server of `ROOMGRAPH_POSTGRES_URL` when `kind` is `'postgres'` (or,
 * without `kind`, when the variable is set), else the process's PGlite server. Asking for
 * `'postgres'` without the variable set, or a server that cannot be reached, throws.
 */
export async function startTestServer(kind?: 'postgres' | 'pglite'): Promise<TestServer> {
  const env = process.env[POSTGRES_URL_ENV];
  const k = kind ?? (env !== undefined && env !== '' ? 'postgres' : 'pglite');
  let url: string;
  let release: () => Promise<void>;
  if (k === 'postgres') {
    if (env === undefined || env === '') throw new Error(`${POSTGRES_URL_ENV} is not set: no PostgreSQL server to test against`);
    try {
      await execute(env, 'SELECT 1');
    } catch (e) {
      throw new Error(`cannot reach the PostgreSQL server of ${POSTGRES_URL_ENV} (${env}): ${(e as Error).message}`, { cause: e });
    }
    url = env;
    release = async () => undefined;
  } else {
    const server = await pgliteServer();
    server.users++;
    url = `postgres://postgres@127.0.0.1:${server.port}/postgres`;
    release = async () => {
      if (--server.users > 0) return;
      if (shared === server.started) shared = undefined;
      await server.stop();
    };
  }
  const schemas: string[] = [];
  return {
    kind: k,
    url,
    newDatabase(): TestDatabase {
      const schema = `rg_test_${randomBytes(6).toString('hex')}`;
      schemas.push(schema);
      return { kind: k, url: withSchema(url, schema), schema, drop: () => dropSchema(url, schema) };
    },
    async close(): Promise<void> {
      try {
        if (schemas.length > 0) await execute(url, schemas.splice(0).map((schema) => `DROP SCHEMA IF EXISTS "${schema}" CASCADE`).join(';'));
      } finally {
        await release();
      }
    },
  };
}

async function dropSchema(url: string, schema: string): Promise<void> {
  await execute(url, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/** Runs statements on a connection of its own. */
async function execute(url: string, text: string): Promise<void> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  c.on('error', () => undefined);
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** One fresh schema on a fresh {@link startTestServer} (its `drop()` also lets the server go). */
export async function startTestDatabase(kind?: 'postgres' | 'pglite'): Promise<TestDatabase> {
  const server = await startTestServer(kind);
  const db = server.newDatabase();
  return { ...db, drop: () => server.close() };
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
    groupExtendedQueries(server);
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

/** The part of pglite-socket's (internal) query queue that {@link groupExtendedQueries} wraps. */
interface QueryQueue {
  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number>;
}

/** Extended-query messages that wait for their group's Sync or Flush: Parse, Bind, Describe, Execute, Close. */
const GROUPED = new Set([0x50, 0x42, 0x44, 0x45, 0x43]);

/**
 * pglite-socket multiplexes every connection onto PGlite's one session message by message, so
 * the extended-query messages of two connections can interleave (one's Bind landing between the
 * other's Parse and Execute: "portal does not exist"). This makes each connection's messages up
 * to a Sync or Flush one unit of the queue, as a server with one session per connection would
 * see them. (Within a transaction the queue already serves only the connection that began it.)
 */
function groupExtendedQueries(server: object): void {
  const queue = (server as { queryQueue?: QueryQueue }).queryQueue;
  if (queue === undefined || typeof queue.enqueue !== 'function') throw new Error('pglite-socket: no query queue to wrap (version changed?)');
  const enqueue = queue.enqueue.bind(queue);
  const pending = new Map<number, Uint8Array[]>();
  queue.enqueue = (handlerId, message, onData) => {
    const type = message[0] ?? 0;
    const held = pending.get(handlerId);
    if (GROUPED.has(type)) {
      if (held === undefined) pending.set(handlerId, [message]);
      else held.push(message);
      return Promise.resolve(0);
    }
    if (held === undefined) return enqueue(handlerId, message, onData);
    pending.delete(handlerId);
    held.push(message);
    return enqueue(handlerId, Buffer.concat(held), onData);
  };
}

function withSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('schema', schema);
  return u.toString();
}
