/**
 * Typed store errors with stable codes.
 *
 * @module
 */
import { RoomgraphError, type RoomgraphErrorOptions } from '@roomgraph/errors';

/** Stable error codes of {@link StoreError}. */
export type StoreErrorCode =
  /** The store is not open (before `open()`, after `close()`). */
  | 'STORE_NOT_OPEN'
  /** A commit failed validation (bad field, unknown ref, missing extremity …). Nothing was written. */
  | 'STORE_INVALID_COMMIT'
  /** The commit's room does not exist and `createRoom` was not given. */
  | 'STORE_UNKNOWN_ROOM'
  /** `createRoom` was given for a room that already exists. */
  | 'STORE_ROOM_EXISTS'
  /** A snapshot ID is not known to the store. */
  | 'STORE_UNKNOWN_SNAPSHOT'
  /** Stored data could not be decoded or is inconsistent. */
  | 'STORE_CORRUPT'
  /**
   * The store's directory is locked: another process (or another open store object in this one)
   * has it open. A LevelDB directory is open in one place at a time.
   */
  | 'STORE_LOCKED'
  /** The underlying database failed (I/O …). */
  | 'STORE_IO'
  /**
   * The database was written by a newer version of the code (its schema version is higher than
   * this code knows). Nothing was changed: a store never downgrades a schema.
   */
  | 'STORE_SCHEMA_TOO_NEW';

/** The only error type store methods reject with. */
export class StoreError extends RoomgraphError<StoreErrorCode> {
  override readonly name: string = 'StoreError';

  /**
   * @param code - the stable code.
   * @param message - a human-readable message.
   * @param options - `cause`.
   */
  constructor(code: StoreErrorCode, message: string, options?: RoomgraphErrorOptions) {
    super(code, message, options);
  }
}

/** Whether `e` is a {@link StoreError}, optionally with the given code. */
export function isStoreError(e: unknown, code?: StoreErrorCode): e is StoreError {
  return e instanceof StoreError && (code === undefined || e.code === code);
}
