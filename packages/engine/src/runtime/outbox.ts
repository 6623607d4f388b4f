/**
 * Durability and notifications: the engine commits with `durable: false` (the store's group
 * commit lets a batch of PDUs share few writes), and every public write operation resolves — and
 * its notifications reach listeners — only once what it stored is durable, so an embedder never
 * acts on an event a crash could still take back. After a failed write the engine refuses further
 * work (`ENGINE_CLOSED`): its caches would describe commits that were lost. It also holds the
 * engine's lifecycle: opened explicitly, refusing work once closed.
 *
 * @module
 */
import type { RoomStore } from '@roomgraph/store';
import { EngineError } from '../errors.js';
import type { EngineNotification } from '../types.js';

function closedError(): EngineError {
  return new EngineError('ENGINE_CLOSED', 'the engine was closed');
}

/** Notifications waiting for durability, the listeners they go to, and the store's health. */
export class Outbox {
  readonly #store: RoomStore;
  readonly #listeners = new Set<(n: EngineNotification) => void>();
  /** Notifications waiting for their commits to be durable; `#base` counts those already handed out. */
  #queue: EngineNotification[] = [];
  #base = 0;
  /** Set when the store failed to write: the engine refuses further work (see {@link ready}). */
  #failure: string | undefined;
  #opening: Promise<void> | undefined;
  #closed = false;

  constructor(store: RoomStore) {
    this.#store = store;
  }

  /** Whether anyone listens (notifications that nobody receives are not built). */
  get listening(): boolean {
    return this.#listeners.size > 0;
  }

  /** Adds a listener; returns its removal. */
  subscribe(listener: (n: EngineNotification) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Queues a notification until the commits made so far are durable (see {@link settle}). */
  emit(n: EngineNotification): void {
    if (this.#listeners.size > 0) this.#queue.push(n);
  }

  /**
   * Opens the engine: opens the store unless it is open already (idempotent; calls made meanwhile
   * wait for it).
   * @throws {@link EngineError} `ENGINE_CLOSED` after {@link markClosed}; the store's error when it cannot open.
   */
  async open(): Promise<void> {
    if (this.#closed) throw closedError();
    if (this.#store.status === 'open') return;
    this.#opening ??= this.#store.open().finally(() => { this.#opening = undefined; });
    await this.#opening;
  }

  /** Refuses all further work (`ENGINE_CLOSED`): the engine was closed. */
  markClosed(): void {
    this.#closed = true;
  }

  /** Whether the engine was closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Before any work: refuses after a failed write or once closed, waits for an {@link open} under
   * way, and refuses when the store is not open (the engine never opens it implicitly).
   * @throws {@link EngineError} `ENGINE_CLOSED` after a failed store write or after `close()`;
   *   `ENGINE_NOT_OPEN` when the store is not open.
   */
  async ready(): Promise<void> {
    if (this.#failure !== undefined) {
      throw new EngineError('ENGINE_CLOSED', `the store failed to write (${this.#failure}); reopen the store and create a new engine over it (this one's caches describe commits that were lost)`);
    }
    if (this.#closed) throw closedError();
    if (this.#store.status === 'open') return;
    if (this.#opening !== undefined) {
      await this.#opening;
      return;
    }
    throw new EngineError('ENGINE_NOT_OPEN', `the store is ${this.#store.status}: open the engine first (await RoomEngine.open(options), or await engine.open()), or open the store before using the engine`);
  }

  /**
   * Waits until every commit made so far is durable, then delivers the notifications queued
   * before the wait. If the store cannot write, the undelivered notifications are dropped with the
   * commits they describe and the store's error is thrown.
   */
  async settle(): Promise<void> {
    const upto = this.#base + this.#queue.length;
    try {
      await this.#store.flush?.();
    } catch (e) {
      this.#base += this.#queue.length;
      this.#queue = [];
      this.#failure = String((e as Error)?.message ?? e);
      throw e;
    }
    const k = upto - this.#base;
    if (k <= 0) return;
    const ready = this.#queue.splice(0, k);
    this.#base += k;
    for (const n of ready) {
      for (const l of this.#listeners) {
        try { l(n); } catch { /* a listener's failure is its own */ }
      }
    }
  }

  /** Runs a public write operation and resolves only once what it stored is durable. */
  async durably<T>(fn: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await fn();
    } catch (e) {
      await this.settle().catch(() => undefined);
      throw e;
    }
    await this.settle();
    return result;
  }
}
