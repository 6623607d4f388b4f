/**
 * Internal: user ID validation for F1.5 (`additional_creators`) and F11.3 (`users` keys), following
 * APP › User Identifiers with the historical localpart grammar that servers must accept over
 * federation (checklist D7): `@localpart:server_name`, at most 255 bytes, localpart without NUL or
 * unpaired surrogates (may be empty, as the reference server accepts), server name per APP › Server Name.
 *
 * @module
 */

const SERVER_NAME = /^(?:\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9.-]{1,255})(?::[0-9]{1,5})?$/;
const BAD_LOCALPART = /[\u0000:]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Whether `id` is a syntactically valid user ID. */
export function isUserId(id: string): boolean {
  if (id.length < 3 || id.charCodeAt(0) !== 0x40 /* @ */) return false;
  if (id.length > 85 && utf8Length(id) > 255) return false;
  const colon = id.indexOf(':');
  if (colon < 0) return false;
  // Fast path: a printable-ASCII localpart needs no surrogate checks.
  let ascii = true;
  for (let i = 1; i < colon; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) {
      ascii = false;
      break;
    }
  }
  if (!ascii && BAD_LOCALPART.test(id.slice(1, colon))) return false;
  return SERVER_NAME.test(id.slice(colon + 1));
}
