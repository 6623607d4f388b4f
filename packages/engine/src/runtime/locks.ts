/**
 * Per-room serialisation: every write to a room (a received PDU, a local event, a join, a backfill)
 * runs inside that room's lock, so events racing their room's create event, or each other, see a
 * consistent room and each ends in exactly one commit (the engine's own rule; the spec leaves
 * concurrency to implementations).
 *
 * A store shared by several processes (`RoomStore.lockRoom`, e.g. PostgreSQL) also locks the room
 * across them, inside this queue: the engine then never decides from a room another process is
 * changing. When a section does not continue this process's hold on that lock
 * (`RoomLockHandle.continues`), another process may have changed the room since this one last
 * held it: the engine's caches of the room's mutable facts are forgotten (`onTakenAnew`) before
 * the section runs, so it decides from what the store holds, never from a stale cache.
 *
 * @module
 */
import type { RoomLockHandle } from '@roomgraph/store';

const ignore = (): undefined => undefined;

/** A chain of promises per room: work on one room runs in order, rooms run concurrently. */
export class RoomLocks {
  readonly #tails = new Map<string, Promise<unknown>>();
  readonly #crossProcess: ((roomId: string) => Promise<RoomLockHandle>) | undefined;
  readonly #onTakenAnew: ((roomId: string) => void) | undefined;

  /**
   * @param crossProcess - the store's cross-process room lock (`RoomStore.lockRoom`), if it has one.
   * @param onTakenAnew - called (under the lock, before the section runs) when a section does not
   *   continue this process's hold on the cross-process lock: another process may have changed
   *   the room since.
   */
  constructor(crossProcess?: (roomId: string) => Promise<RoomLockHandle>, onTakenAnew?: (roomId: string) => void) {
    this.#crossProcess = crossProcess;
    this.#onTakenAnew = onTakenAnew;
  }

  /** Runs `fn` once every earlier task of `roomId` has finished (successfully or not). */
  async withRoom<T>(roomId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(roomId) ?? Promise.resolve();
    const lock = this.#crossProcess;
    const locked = lock === undefined || roomId === '' ? fn : async () => {
      const held = await lock(roomId);
      try {
        if (held.continues !== true) this.#onTakenAnew?.(roomId);
        return await fn();
      } finally {
        await held.release();
      }
    };
    const run = prev.then(locked, locked);
    const tail = run.catch(ignore);
    this.#tails.set(roomId, tail);
    try {
      return await run;
    } finally {
      if (this.#tails.get(roomId) === tail) this.#tails.delete(roomId);
    }
  }

  /** Resolves when every task started so far has finished. */
  async drain(): Promise<void> {
    await Promise.all([...this.#tails.values()]);
  }
}
