/**
 * An in-memory *chain cover index* over the auth DAG (the idea of Synapse's
 * docs/auth_chain_difference_algorithm.md; our own implementation): every event belongs to one
 * chain and has a sequence number in it, such that an event at sequence `s` reaches every event of
 * its chain with a lower sequence. Auth edges that leave a chain are stored as *links*
 * `(chain, seq) → (chain', seq')`. Reachability from a set of events is then a map chain → highest
 * reachable sequence, computed by following links between chains only.
 *
 * The index is maintained incrementally: {@link ChainCoverIndex.add} each event after its auth
 * events (events whose auth events are unknown are indexed without those edges).
 *
 * @module
 */
import { type RoomEvent, stateKeyOf } from '@roomgraph/events';

/** A source of auth-chain facts a store can maintain; lets state resolution avoid O(room) walks. */
export interface AuthChainProvider {
  /** Whether the event has been indexed. */
  has(id: string): boolean;
  /**
   * IDs of indexed **state** events that list `id` in their `auth_events` (its direct auth
   * children). Used to decide whether an event is an auth ancestor of the unconflicted state
   * without walking the whole state.
   */
  authChildren(id: string): readonly string[];
  /** The state key ({@link stateKeyOf}) of an indexed state event, else `undefined`. */
  stateKeyOf(id: string): string | undefined;
  /** Whether `ancestor` is `descendant` or in its auth chain (both must be indexed). */
  reaches(descendant: string, ancestor: string): boolean;
  /** The auth chain of an indexed event (its auth events, recursively; not the event itself). */
  authChain(id: string): Set<string>;
  /**
   * ⋃ Ĉᵢ − ⋂ Ĉᵢ where Ĉᵢ is the set of indexed events of `sets[i]` together with their auth chains
   * (Synapse's auth chain difference; unknown IDs are ignored).
   */
  authChainDifference(sets: readonly Iterable<string>[]): Set<string>;
}

interface Link {
  readonly fromSeq: number;
  readonly toChain: number;
  readonly toSeq: number;
}

/** In-memory {@link AuthChainProvider}: chains with sequence numbers plus links, built incrementally. */
export class ChainCoverIndex implements AuthChainProvider {
  /** chain and sequence (1-based) of each event. */
  readonly #pos = new Map<string, { chain: number; seq: number }>();
  /** events of each chain by sequence - 1. */
  readonly #chains: string[][] = [];
  /** outgoing links of each chain, in increasing `fromSeq`. */
  readonly #links: Link[][] = [];
  readonly #children = new Map<string, string[]>();
  readonly #keys = new Map<string, string>();

  /** Number of indexed events. */
  get size(): number {
    return this.#pos.size;
  }

  /** Number of chains. */
  get chainCount(): number {
    return this.#chains.length;
  }

  /** Whether the event has been indexed. */
  has(id: string): boolean {
    return this.#pos.has(id);
  }

  /**
   * Indexes an event (idempotent). Add events after their auth events; unknown auth events are
   * skipped (their edges are absent from the index).
   */
  add(event: RoomEvent): void {
    const id = event.eventId;
    if (this.#pos.has(id)) return;
    if (event.stateKey !== undefined) this.#keys.set(id, stateKeyOf(event.type, event.stateKey));
    // Continue the chain of the first auth event that is its chain's tip; else start a chain.
    let chain = -1;
    let seq = 1;
    for (const a of event.authEvents) {
      const p = this.#pos.get(a);
      if (p !== undefined && (this.#chains[p.chain] as string[]).length === p.seq) {
        chain = p.chain;
        seq = p.seq + 1;
        break;
      }
    }
    if (chain < 0) {
      chain = this.#chains.length;
      this.#chains.push([]);
      this.#links.push([]);
    }
    (this.#chains[chain] as string[]).push(id);
    this.#pos.set(id, { chain, seq });
    const links = this.#links[chain] as Link[];
    for (const a of event.authEvents) {
      const p = this.#pos.get(a);
      if (p === undefined) continue;
      if (event.stateKey !== undefined) {
        const list = this.#children.get(a);
        if (list === undefined) this.#children.set(a, [id]);
        else if (list[list.length - 1] !== id) list.push(id);
      }
      if (p.chain === chain) continue; // the predecessor in our own chain
      links.push({ fromSeq: seq, toChain: p.chain, toSeq: p.seq });
    }
  }

  /** IDs of indexed state events whose `auth_events` list `id`. */
  authChildren(id: string): readonly string[] {
    return this.#children.get(id) ?? [];
  }

  /** The state key of an indexed state event. */
  stateKeyOf(id: string): string | undefined {
    return this.#keys.get(id);
  }

  /** chain → highest reachable sequence from `ids` (inclusive of the events themselves). */
  reachVector(ids: Iterable<string>): Map<number, number> {
    const vec = new Map<number, number>();
    const work: number[] = [];
    for (const id of ids) {
      const p = this.#pos.get(id);
      if (p === undefined) continue;
      const cur = vec.get(p.chain);
      if (cur === undefined || cur < p.seq) {
        if (cur === undefined) work.push(p.chain);
        vec.set(p.chain, p.seq);
      }
    }
    // Process chains; a chain whose reach grows is processed again (links are sorted by fromSeq).
    const done = new Map<number, number>();
    while (work.length > 0) {
      const c = work.pop() as number;
      const s = vec.get(c) as number;
      const from = done.get(c) ?? 0;
      if (from >= s) continue;
      done.set(c, s);
      for (const l of this.#links[c] as Link[]) {
        if (l.fromSeq > s) break;
        if (l.fromSeq <= from) continue;
        const t = vec.get(l.toChain);
        if (t === undefined || t < l.toSeq) {
          vec.set(l.toChain, l.toSeq);
          work.push(l.toChain);
        }
      }
    }
    return vec;
  }

  /** Whether `ancestor` is `descendant` itself or in its auth chain. */
  reaches(descendant: string, ancestor: string): boolean {
    const a = this.#pos.get(ancestor);
    if (a === undefined || !this.#pos.has(descendant)) return false;
    return (this.reachVector([descendant]).get(a.chain) ?? 0) >= a.seq;
  }

  /** The auth chain of an indexed event (empty when unknown). */
  authChain(id: string): Set<string> {
    const out = new Set<string>();
    for (const [c, s] of this.reachVector([id])) {
      const events = this.#chains[c] as string[];
      for (let i = 0; i < s; i++) out.add(events[i] as string);
    }
    out.delete(id);
    return out;
  }

  /** Synapse-style auth chain difference of sets of event IDs (closures include the events). */
  authChainDifference(sets: readonly Iterable<string>[]): Set<string> {
    const vecs = sets.map((s) => this.reachVector(s));
    const chains = new Set<number>();
    for (const v of vecs) for (const c of v.keys()) chains.add(c);
    const out = new Set<string>();
    for (const c of chains) {
      let min = Infinity;
      let max = 0;
      for (const v of vecs) {
        const s = v.get(c) ?? 0;
        if (s < min) min = s;
        if (s > max) max = s;
      }
      const events = this.#chains[c] as string[];
      for (let i = min; i < max; i++) out.add(events[i] as string);
    }
    return out;
  }
}
