/**
 * Advisory-lock keys: a room's write lock and the migration lock, as signed 64-bit integers
 * (PostgreSQL's `pg_advisory_lock(bigint)` key space).
 *
 * @module
 */
import { createHash } from 'node:crypto';

/** Namespace byte of room keys (so they never collide with {@link MIGRATION_LOCK_KEY}). */
const ROOM_NAMESPACE = 0x52; // 'R'

/**
 * The advisory-lock key of a room: the first 8 bytes of SHA-256(room ID) as a signed 64-bit
 * decimal string, with the top byte fixed to a namespace. Two rooms sharing a key only share a
 * lock (their writes are serialised together), which is harmless.
 */
export function roomLockKey(roomId: string): string {
  const h = createHash('sha256').update(roomId, 'utf8').digest();
  h[0] = ROOM_NAMESPACE;
  return h.readBigInt64BE(0).toString();
}

/** The advisory-lock key held (per transaction) while migrating a schema. */
export const MIGRATION_LOCK_KEY = '7454981263918231553';
