/**
 * SHA-1 of a string's UTF-8 bytes as lowercase hex: the tie-break of state resolution v1
 * (room version 1 › State resolution; checklist G5, G8 — hex and byte order agree). Tiny and
 * dependency-free so the package also runs outside Node.
 *
 * @module
 */

/** SHA-1 of the UTF-8 encoding of `text`, as 40 lowercase hex digits. */
export function sha1Hex(text: string): string {
  const bytes = new TextEncoder().encode(text);
  const len = bytes.length;
  const words = ((len + 8) >>> 6) + 1;
  const w = new Uint32Array(words * 16);
  for (let i = 0; i < len; i++) w[i >>> 2]! |= (bytes[i] as number) << (24 - (i & 3) * 8);
  w[len >>> 2]! |= 0x80 << (24 - (len & 3) * 8);
  w[words * 16 - 1] = (len * 8) >>> 0;
  w[words * 16 - 2] = Math.floor(len / 0x20000000);
  let h0 = 0x67452301, h1 = 0xefcdab89, h2 = 0x98badcfe, h3 = 0x10325476, h4 = 0xc3d2e1f0;
  const x = new Uint32Array(80);
  for (let b = 0; b < words; b++) {
    for (let t = 0; t < 16; t++) x[t] = w[b * 16 + t] as number;
    for (let t = 16; t < 80; t++) {
      const v = (x[t - 3] as number) ^ (x[t - 8] as number) ^ (x[t - 14] as number) ^ (x[t - 16] as number);
      x[t] = (v << 1) | (v >>> 31);
    }
    let a = h0, bb = h1, c = h2, d = h3, e = h4;
    for (let t = 0; t < 80; t++) {
      let f: number, k: number;
      if (t < 20) { f = (bb & c) | (~bb & d); k = 0x5a827999; }
      else if (t < 40) { f = bb ^ c ^ d; k = 0x6ed9eba1; }
      else if (t < 60) { f = (bb & c) | (bb & d) | (c & d); k = 0x8f1bbcdc; }
      else { f = bb ^ c ^ d; k = 0xca62c1d6; }
      const tmp = (((a << 5) | (a >>> 27)) + f + e + k + (x[t] as number)) >>> 0;
      e = d; d = c; c = (bb << 30) | (bb >>> 2); bb = a; a = tmp;
    }
    h0 = (h0 + a) >>> 0; h1 = (h1 + bb) >>> 0; h2 = (h2 + c) >>> 0; h3 = (h3 + d) >>> 0; h4 = (h4 + e) >>> 0;
  }
  return [h0, h1, h2, h3, h4].map((h) => h.toString(16).padStart(8, '0')).join('');
}
