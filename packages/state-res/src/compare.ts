/**
 * Code-point string comparison. JavaScript's `<` compares UTF-16 code units, which disagrees with
 * Unicode code point order (and with Synapse's Python `str` comparison) when a supplementary-plane
 * character (a surrogate pair, units 0xD800–0xDFFF) meets a BMP character in 0xE000–0xFFFF.
 * Checklist G13/G15/G18: event IDs are compared as strings; we use code point order.
 *
 * @module
 */

/** Maps a UTF-16 code unit to a value whose order equals code point order of the characters. */
function fix(c: number): number {
  return c >= 0xe000 ? c - 0x800 : c >= 0xd800 ? c + 0x2000 : c;
}

/**
 * Compares two strings by Unicode code point (never `localeCompare`): negative when `a < b`,
 * positive when `a > b`, 0 when equal.
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) return ca < 0xd800 && cb < 0xd800 ? ca - cb : fix(ca) - fix(cb);
  }
  return a.length - b.length;
}
