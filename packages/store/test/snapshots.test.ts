import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DEFAULT_SNAPSHOT_POLICY,
  LruCache,
  diffChains,
  layerSize,
  lookupInChain,
  materialiseChain,
  planSnapshot,
  type LayerChain,
  type SnapshotLayer,
  type SnapshotPolicy,
} from '@roomgraph/store';

/** A tiny in-memory layer table driving the pure core. */
class Layers {
  readonly byId = new Map<number, SnapshotLayer>();
  next = 1;
  chain(id: number): LayerChain {
    const out: SnapshotLayer[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = this.byId.get(cur)!.parent) out.push(this.byId.get(cur)!);
    return out;
  }
  create(parent: number | null, set: Map<string, string>, removed: Set<string>, policy?: SnapshotPolicy): number {
    const r = planSnapshot(parent === null ? undefined : this.chain(parent), set, removed, () => this.next++, policy);
    if (r.layer !== undefined) this.byId.set(r.id, r.layer);
    return r.id;
  }
}

const op = fc.record({
  parentPick: fc.nat(),
  fork: fc.boolean(),
  set: fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 5 })), { maxLength: 12 }),
  remove: fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 4 }),
});

describe('snapshot core vs a naive model', () => {
  for (const policy of [DEFAULT_SNAPSHOT_POLICY, { maxDepth: 1, deltaRatio: 1, baseRatio: 1 }, { maxDepth: 3, deltaRatio: 2, baseRatio: 3 }]) {
    it(`lookups, materialisation, diffs and depth agree (policy ${JSON.stringify(policy)})`, () => {
      fc.assert(
        fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), (ops) => {
          const t = new Layers();
          const model = new Map<number, Map<string, string>>();
          const ids: number[] = [];
          let head: number | null = null;
          for (const o of ops) {
            const parent: number | null = o.fork && ids.length > 0 ? ids[o.parentPick % ids.length]! : head;
            const set = new Map<string, string>(o.set.map(([k, v]) => [`k${k}`, `$v${v}`]));
            const removed = new Set<string>(o.remove.map((k): string => `k${k}`).filter((k) => !set.has(k)));
            const id = t.create(parent, set, removed, policy);
            const m = new Map(parent === null ? [] : model.get(parent)!);
            for (const k of removed) m.delete(k);
            for (const [k, v] of set) m.set(k, v);
            if (model.has(id)) expect(model.get(id)).toEqual(m);
            model.set(id, m);
            ids.push(id);
            head = id;
          }
          for (const id of ids) {
            const chain = t.chain(id);
            expect(chain.length).toBeLessThanOrEqual(policy.maxDepth + 1);
            expect(new Map([...materialiseChain(chain)].sort())).toEqual(new Map([...model.get(id)!].sort()));
            for (let k = 0; k <= 40; k += 3) expect(lookupInChain(chain, `k${k}`)).toBe(model.get(id)!.get(`k${k}`));
          }
          for (let i = 0; i < ids.length; i++) {
            const a = ids[i]!;
            const b = ids[(i * 7 + 3) % ids.length]!;
            const ma = model.get(a)!;
            const mb = model.get(b)!;
            const expected = new Map<string, readonly [string | undefined, string | undefined]>();
            for (const [k, v] of ma) if (mb.get(k) !== v) expected.set(k, [v, mb.get(k)]);
            for (const [k, v] of mb) if (!ma.has(k)) expected.set(k, [undefined, v]);
            const got = diffChains(t.chain(a), t.chain(b), () => [materialiseChain(t.chain(a)), materialiseChain(t.chain(b))]);
            expect(new Map([...got].sort())).toEqual(new Map([...expected].sort()));
          }
        }),
        { numRuns: 150 },
      );
    });
  }

  it('stacks small changes on a big base: bounded depth, O(1) amortised entries written, fast diffs', () => {
    const t = new Layers();
    const base = new Map<string, string>();
    for (let i = 0; i < 100_000; i++) base.set(`m${i}`, `$j${i}`);
    let head = t.create(null, base, new Set());
    const root = head;
    let written = 0;
    const changes = 5_000;
    for (let i = 0; i < changes; i++) {
      head = t.create(head, new Map([[`m${(i * 7919) % 120_000}`, `$c${i}`]]), new Set());
      written += layerSize(t.byId.get(head)!);
      expect(t.chain(head).length).toBeLessThanOrEqual(DEFAULT_SNAPSHOT_POLICY.maxDepth + 1);
    }
    // No full copy of the 100k base was needed, and each change wrote few entries on average.
    expect(t.chain(head).at(-1)!.id).toBe(root);
    expect(written / changes).toBeLessThan(40);
    // Two forks sharing the base diff without a full compare.
    const a = t.create(head, new Map([['m1', '$x']]), new Set());
    const b = t.create(head, new Map([['m2', '$y']]), new Set(['m3']));
    const d = diffChains(t.chain(a), t.chain(b), () => {
      throw new Error('full compare not expected');
    });
    expect(new Map([...d].sort())).toEqual(
      new Map([
        ['m1', ['$x', lookupInChain(t.chain(head), 'm1')]],
        ['m2', [lookupInChain(t.chain(head), 'm2'), '$y']],
        ['m3', [lookupInChain(t.chain(head), 'm3'), undefined]],
      ]),
    );
  });

  it('no-op changes reuse the parent; merging back to a parent state reuses it', () => {
    const t = new Layers();
    const s = t.create(null, new Map([['a', '$1']]), new Set());
    expect(t.create(s, new Map([['a', '$1']]), new Set(['zz']))).toBe(s);
  });
});

describe('LruCache', () => {
  it('evicts least-recently used entries by weight', () => {
    const c = new LruCache<string, number>(10, (v) => v);
    c.set('a', 4);
    c.set('b', 4);
    expect(c.get('a')).toBe(4);
    c.set('c', 4);
    expect(c.peek('b')).toBeUndefined();
    expect(c.peek('a')).toBe(4);
    expect(c.size).toBe(2);
    const off = new LruCache<string, number>(0);
    off.set('x', 1);
    expect(off.get('x')).toBeUndefined();
  });

  it('property: never above capacity; keeps exactly the most recently used entries (an LRU model)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 100 })), { maxLength: 400 }),
        (capacity, ops) => {
          const c = new LruCache<number, number>(capacity);
          // A model of recency: keys from least to most recently used.
          const order: number[] = [];
          const touch = (k: number): void => { const i = order.indexOf(k); if (i >= 0) order.splice(i, 1); order.push(k); };
          for (const [isSet, k] of ops) {
            if (isSet) {
              c.set(k, k);
              touch(k);
              expect(c.peek(k)).toBe(k);
            } else if (c.get(k) !== undefined) {
              touch(k);
            }
            expect(c.size).toBeLessThanOrEqual(capacity);
            // It keeps the `capacity` most recently used keys, exactly.
            const kept = order.slice(Math.max(0, order.length - capacity));
            for (const x of order) expect(c.peek(x) !== undefined, `key ${x}`).toBe(kept.includes(x));
            order.splice(0, order.length - kept.length);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
