/**
 * Per-room serialisation: every write to a room (a received PDU, a local event, a join, a backfill)
 * runs inside that room's lock, so events racing their room's create event, or each other, see a
 * consistent room and each ends in exactly one commit (the engine's own rule; the spec leaves
 * concurrency to implementations).
 *
 * @module
 */

/** A chain of promises per room: work on one room runs in order, rooms run concurrently. */
export class RoomLocks {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `fn` once every earlier task of `roomId` has finished (successfully or not). */
  async withRoom<T>(roomId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(roomId) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
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
