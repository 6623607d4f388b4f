/**
 * The connection layer over `pg` (node-postgres): a pool for reads and writes, transactions on
 * one checked-out client, and held clients (for session advisory locks). Every failure of the
 * server or the connection surfaces as a rejected promise — never as an uncaught exception: the
 * pool and every checked-out client have an `error` listener (a connection that drops while idle
 * emits one).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import pg from 'pg';

/** Runs statements (the pool, or one client inside a transaction). */
export interface Querier {
  /** Runs one statement; `prepare` names it (prepared once per connection). */
  query<R extends object>(text: string, values?: readonly unknown[], prepare?: boolean): Promise<QueryRows<R>>;
}

/** Rows and the affected-row count of a statement. */
export interface QueryRows<R> {
  readonly rows: R[];
  readonly count: number;
}

/** A client checked out and held (e.g. while it holds a session advisory lock). */
export interface HeldClient extends Querier {
  /** Set once the connection failed (its session, and any lock it held, are gone). */
  readonly broken: boolean;
  /** Returns the client to the pool (`destroy`: close it instead). */
  release(destroy?: boolean): void;
}

const names = new Map<string, string>();
/** A stable prepared-statement name for a statement text. */
function nameOf(text: string): string {
  let n = names.get(text);
  if (n === undefined) {
    n = `rg_${createHash('sha256').update(text).digest('hex').slice(0, 20)}`;
    names.set(text, n);
  }
  return n;
}

function run<R extends object>(c: pg.Pool | pg.PoolClient, text: string, values: readonly unknown[] | undefined, prepare: boolean): Promise<QueryRows<R>> {
  const config: pg.QueryConfig = { text, ...(values !== undefined ? { values: values as unknown[] } : {}), ...(prepare ? { name: nameOf(text) } : {}) };
  return c.query<R & pg.QueryResultRow>(config).then((r) => ({ rows: r.rows, count: r.rowCount ?? 0 }));
}

/** A pool of connections to one server. */
export class Db implements Querier {
  readonly #pool: pg.Pool;

  /**
   * @param url - the connection URL.
   * @param max - the most connections open at once.
   * @param connectTimeoutMs - how long to wait for a connection.
   */
  constructor(url: string, max: number, connectTimeoutMs: number) {
    this.#pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: connectTimeoutMs, idleTimeoutMillis: 30_000 });
    // An idle connection that drops emits here; the pool discards it. Nothing to do.
    this.#pool.on('error', () => undefined);
  }

  /** See {@link Querier.query}. */
  query<R extends object>(text: string, values?: readonly unknown[], prepare = false): Promise<QueryRows<R>> {
    return run<R>(this.#pool, text, values, prepare);
  }

  /** Checks a client out (with an `error` listener for as long as it is held). */
  async hold(): Promise<HeldClient> {
    const c = await this.#pool.connect();
    let broken = false;
    const onError = (): void => {
      broken = true;
    };
    c.on('error', onError);
    let released = false;
    return {
      get broken() {
        return broken;
      },
      query: <R extends object>(text: string, values?: readonly unknown[], prepare = false) => run<R>(c, text, values, prepare),
      release: (destroy = false) => {
        if (released) return;
        released = true;
        c.removeListener('error', onError);
        // A broken client is closed rather than reused.
        c.release(destroy || broken ? true : undefined);
      },
    };
  }

  /**
   * Runs `fn` in a transaction on one client: `COMMIT` if it resolves, `ROLLBACK` if it throws
   * (then its error is rethrown). A client whose connection failed is closed, not reused.
   */
  async transaction<T>(fn: (q: Querier) => Promise<T>): Promise<T> {
    const c = await this.hold();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      c.release();
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      c.release(true);
      throw e;
    }
  }

  /** Closes every connection. */
  async end(): Promise<void> {
    await this.#pool.end();
  }
}
