/**
 * The events a room generator still needs by ID (internal to `generateRoom`): every event a later
 * event may name in `prev_events` or `auth_events` — the current state's events and the heads —
 * and, between prunes, some it no longer needs.
 *
 * A prune walks every entry, and what it keeps is the whole current state (a 100k-member room
 * keeps 100k joins), so it runs only once the table has doubled since the last prune: each added
 * event's share of the walks is then at most a few entries, whatever the room's size. (The
 * generator used to prune after every event once past a fixed size: generating a 20k-member room
 * walked ~20k entries per event, 1 min 45 s for 30k events against 5 s now.)
 *
 * @module
 */

/** Events by ID, pruned to what a caller keeps in amortised constant time per added event. */
export class CitableEvents<E> {
  readonly #byId = new Map<string, E>();
  readonly #minSize: number;
  #pruneAt: number;
  /** Entries the prunes have walked so far (their whole cost; for tests). */
  visited = 0;

  /** @param minSize - no prune below this many entries. */
  constructor(minSize = 4096) {
    this.#minSize = minSize;
    this.#pruneAt = minSize;
  }

  /** The number of entries held (kept and not yet pruned). */
  get size(): number {
    return this.#byId.size;
  }

  /** The event `id`, if held. */
  get(id: string): E | undefined {
    return this.#byId.get(id);
  }

  /** Adds (or replaces) the event `id`. */
  set(id: string, event: E): void {
    this.#byId.set(id, event);
  }

  /**
   * Drops every entry whose ID `keep` does not give — only once the table holds twice what the
   * last prune kept (and at least `minSize`); otherwise does nothing, `keep` not even called.
   */
  prune(keep: () => Iterable<string>): void {
    if (this.#byId.size < this.#pruneAt) return;
    const kept = new Set<string>(keep());
    for (const id of this.#byId.keys()) {
      this.visited++;
      if (!kept.has(id)) this.#byId.delete(id);
    }
    this.#pruneAt = Math.max(this.#minSize, 2 * this.#byId.size);
  }
}
