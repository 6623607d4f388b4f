/**
 * A Bloom filter of strings: "definitely absent" or "maybe present". The LevelDB store keeps one of
 * its stored event IDs so that looking up an unknown event — every newly received PDU's duplicate
 * check — needs no disk read.
 *
 * @module
 */

/** FNV-1a 32-bit over UTF-16 code units, with a seed. */
function fnv(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A fixed-size Bloom filter with `k` probes (double hashing). */
export class BloomFilter {
  readonly #bits: Uint32Array;
  readonly #m: number;
  readonly #k: number;
  /** Entries added so far. */
  count = 0;
  /** Entries it was sized for (about 1% false positives up to there). */
  readonly capacity: number;

  /** @param capacity - expected entries; the filter uses ~9.6 bits each and 7 probes (~1% false positives). */
  constructor(capacity: number) {
    this.capacity = Math.max(1024, Math.ceil(capacity));
    this.#m = Math.ceil(this.capacity * 9.6);
    this.#k = 7;
    this.#bits = new Uint32Array(Math.ceil(this.#m / 32));
  }

  /** Adds `s`. */
  add(s: string): void {
    const h1 = fnv(s, 0);
    const h2 = fnv(s, 0x9e3779b9) | 1;
    for (let i = 0; i < this.#k; i++) {
      const bit = (h1 + Math.imul(i, h2) >>> 0) % this.#m;
      this.#bits[bit >>> 5]! |= 1 << (bit & 31);
    }
    this.count++;
  }

  /** `false`: `s` was never added. `true`: it may have been. */
  mayContain(s: string): boolean {
    const h1 = fnv(s, 0);
    const h2 = fnv(s, 0x9e3779b9) | 1;
    for (let i = 0; i < this.#k; i++) {
      const bit = (h1 + Math.imul(i, h2) >>> 0) % this.#m;
      if ((this.#bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}
