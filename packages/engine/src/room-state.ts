/**
 * A room state as the engine's readers answer it (Server-Server API › Room State: a state maps each
 * (event type, state key) pair to one event): {@link RoomState}, type → state key → event ID.
 *
 * Inside the engine and the store, a state is a map keyed by packed strings (`stateKeyOf(type,
 * state_key)` from `@roomgraph/events`); that form stays internal. {@link RoomState} is what
 * `RoomEngine.currentState` and `RoomEngine.stateAt` return.
 *
 * @module
 */
import { compareCodePoints } from '@roomgraph/canonical-json';
import { splitStateKey } from '@roomgraph/events';

/** One entry of a {@link RoomState}: the event that holds `(type, stateKey)`. */
export interface StateEntry {
  /** The event type, e.g. `m.room.member`. */
  readonly type: string;
  /** The state key (`""` for most room-wide state, a user ID for `m.room.member`). */
  readonly stateKey: string;
  /** The ID of the event holding this entry. */
  readonly eventId: string;
}


/** Sets an own, enumerable property (never the prototype, whatever `key` is). */
function defineOwn<T>(o: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

const EMPTY_TYPE: ReadonlyMap<string, string> = new Map();

/**
 * An immutable room state: for each event type, state key → event ID.
 *
 * Look up one entry with {@link RoomState.get}, all entries of a type with
 * {@link RoomState.ofType} (e.g. the members), or iterate every entry (sorted by type, then state
 * key, in code point order, as canonical JSON orders keys). {@link RoomState.toJSON} gives `{type: {state_key: event_id}}`, the
 * shape `roomgraph state` prints. Two states are equal when {@link RoomState.equals} says so
 * (test frameworks' deep equality also works: they compare the iterated entries).
 *
 * @example
 * ```ts
 * const state = await engine.currentState(roomId);
 * state.get('m.room.create', '');              // the create event's ID
 * state.ofType('m.room.member').size;           // how many membership entries
 * for (const { type, stateKey, eventId } of state) console.log(type, stateKey, eventId);
 * ```
 */
export class RoomState implements Iterable<StateEntry> {
  /** The empty state. */
  static readonly EMPTY: RoomState = new RoomState([]);

  readonly #types = new Map<string, Map<string, string>>();
  readonly #size: number;
  #sorted: readonly StateEntry[] | undefined;

  /**
   * A state holding `entries` (a later entry for the same `(type, stateKey)` replaces an earlier one).
   * @param entries - the entries, as {@link StateEntry} objects.
   */
  constructor(entries: Iterable<StateEntry>) {
    let size = 0;
    for (const { type, stateKey, eventId } of entries) {
      let keys = this.#types.get(type);
      if (keys === undefined) this.#types.set(type, (keys = new Map()));
      if (!keys.has(stateKey)) size++;
      keys.set(stateKey, eventId);
    }
    this.#size = size;
  }

  /**
   * A state from a store's state map, keyed by `stateKeyOf(type, state_key)` (what
   * `RoomStore.loadState` returns) — for tools that read a store directly.
   */
  static fromStateMap(map: ReadonlyMap<string, string>): RoomState {
    const entries: StateEntry[] = [];
    for (const [key, eventId] of map) {
      const [type, stateKey] = splitStateKey(key);
      entries.push({ type, stateKey, eventId });
    }
    return new RoomState(entries);
  }

  /** How many `(type, state key)` entries the state has. */
  get size(): number {
    return this.#size;
  }

  /** The event holding `(type, stateKey)`, or `undefined`. */
  get(type: string, stateKey: string): string | undefined {
    return this.#types.get(type)?.get(stateKey);
  }

  /** Whether the state has an entry for `(type, stateKey)`. */
  has(type: string, stateKey: string): boolean {
    return this.#types.get(type)?.has(stateKey) ?? false;
  }

  /** The entries of one type, state key → event ID (empty when the state has none). */
  ofType(type: string): ReadonlyMap<string, string> {
    return this.#types.get(type) ?? EMPTY_TYPE;
  }

  /** The event types present, sorted (code point order). */
  types(): string[] {
    return [...this.#types.keys()].sort(compareCodePoints);
  }

  /** Every entry, sorted by type, then state key (code point order). */
  [Symbol.iterator](): Iterator<StateEntry> {
    return this.#entries()[Symbol.iterator]();
  }

  /** Whether `other` holds exactly the same entries. */
  equals(other: RoomState): boolean {
    if (other.size !== this.#size) return false;
    for (const [type, keys] of this.#types) {
      for (const [stateKey, eventId] of keys) if (other.get(type, stateKey) !== eventId) return false;
    }
    return true;
  }

  /** `{type: {state_key: event_id}}`, types and state keys sorted (what `roomgraph state` prints). */
  toJSON(): Record<string, Record<string, string>> {
    // Own properties defined explicitly: a hostile type or state key such as `__proto__` is data.
    const out: Record<string, Record<string, string>> = {};
    for (const type of this.types()) {
      const inner: Record<string, string> = {};
      const keys = this.#types.get(type) as Map<string, string>;
      for (const stateKey of [...keys.keys()].sort(compareCodePoints)) defineOwn(inner, stateKey, keys.get(stateKey) as string);
      defineOwn(out, type, inner);
    }
    return out;
  }

  #entries(): readonly StateEntry[] {
    if (this.#sorted === undefined) {
      const all: StateEntry[] = [];
      for (const type of this.types()) {
        const keys = this.#types.get(type) as Map<string, string>;
        for (const stateKey of [...keys.keys()].sort(compareCodePoints)) all.push(Object.freeze({ type, stateKey, eventId: keys.get(stateKey) as string }));
      }
      this.#sorted = Object.freeze(all);
    }
    return this.#sorted;
  }
}
