/**
 * Random identifiers: the opaque parts of room IDs (v1–v11) and event IDs (v1–v2) a server
 * assigns (Appendices › Identifier Grammar: opaque IDs), and key versions (Appendices › Signing
 * Details: `[a-zA-Z0-9_]`). One helper for every package, from a cryptographic random source.
 *
 * @module
 */

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A random identifier of `length` characters from `[A-Za-z0-9]` (valid in every identifier
 * grammar: opaque IDs, key versions), uniformly drawn (rejection sampling, no modulo bias) from
 * `crypto.getRandomValues`. 18 characters carry about 107 bits.
 */
export function randomId(length = 18): string {
  if (!Number.isInteger(length) || length < 1 || length > 255) throw new RangeError('randomId length must be an integer in 1..255');
  let out = '';
  const buf = new Uint8Array(length * 2);
  while (out.length < length) {
    globalThis.crypto.getRandomValues(buf);
    for (let i = 0; i < buf.length && out.length < length; i++) {
      const b = buf[i] as number;
      if (b < 248) out += ALPHANUMERIC[b % 62]; // 248 = 4 × 62: every character equally likely
    }
  }
  return out;
}
