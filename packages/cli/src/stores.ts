/**
 * Opening a store from a `--store` argument: the store is chosen by the URL scheme.
 *
 * - absent: the in-memory store;
 * - `postgres://…` or `postgresql://…`: PostgreSQL (`?schema=NAME` picks the schema, default
 *   `roomgraph`), shareable by several processes;
 * - anything else: a LevelDB directory (created if missing).
 *
 * @module
 */
import type { RoomStore } from '@roomgraph/store';
import { createMemoryStore } from '@roomgraph/store-memory';
import { LevelRoomStore } from '@roomgraph/store-level';
import { PostgresRoomStore } from '@roomgraph/store-postgres';
import { CliError } from './framework.js';

/** What `--store` accepts, for help texts. */
export const STORE_FLAG_HELP = 'LevelDB directory, or postgres://user@host/db[?schema=NAME] (default: in memory); a later run continues where this one stopped';

/** A URL scheme (two letters or more, so that `C:\dir` stays a path). */
const SCHEME = /^([a-z][a-z0-9+.-]+):\/\//i;

/** Whether a `--store` argument is a URL of a database server (not a directory). */
export function isStoreUrl(spec: string): boolean {
  const scheme = SCHEME.exec(spec)?.[1]?.toLowerCase();
  return scheme !== undefined && scheme !== 'file';
}

/** The (unopened) store a `--store` argument names. */
export function storeFor(spec: string | undefined): RoomStore {
  if (spec === undefined) return createMemoryStore();
  const scheme = SCHEME.exec(spec)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') return new PostgresRoomStore(spec);
  if (scheme !== undefined && scheme !== 'file') throw new CliError('USAGE', `--store: unknown store scheme ${scheme}:// (use a directory for LevelDB, or postgres://)`);
  // Journaled: commits acknowledged once appended to the store's journal, LevelDB written in groups.
  return new LevelRoomStore(scheme === 'file' ? new URL(spec).pathname : spec, { journal: true });
}
