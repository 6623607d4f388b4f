/**
 * Unpadded base64 (APP › Unpadded Base64, URL-safe unpadded Base64; checklist B1–B4).
 *
 * Decoding rules (documented choices):
 * - padding is optional: `Zg`, `Zg==` both decode (the spec: decoders SHOULD accept both); if present it
 *   must be exactly what completes the last quantum (`Zg=` and `Zm9v=` are rejected);
 * - a length of 4n+1 characters (before padding) is impossible and rejected;
 * - any character outside the alphabet (including whitespace and line breaks) is rejected;
 * - non-zero unused trailing bits are ACCEPTED and ignored, like Python's base64 that Synapse uses — the
 *   spec's own signing-key vector `YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1` has non-zero trailing bits.
 * @packageDocumentation
 */
import { Base64Error } from './errors.js';

const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;

const STD = /^[A-Za-z0-9+/]*$/;
const URLSAFE = /^[A-Za-z0-9\-_]*$/;
const ANY = /^(?:[A-Za-z0-9+/]*|[A-Za-z0-9\-_]*)$/;
const STD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) {
  LOOKUP[STD_ALPHABET.charCodeAt(i)] = i;
  LOOKUP[URL_ALPHABET.charCodeAt(i)] = i;
}

/** Inputs up to this many characters are decoded without `Buffer` (see `decodeWith`). */
const SHORT_INPUT = 128;

function toBuffer(bytes: Uint8Array): Buffer {
  return NodeBuffer!.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function encodeWith(bytes: Uint8Array, alphabet: string): string {
  let out = '';
  const n = bytes.length;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += alphabet[v >> 18]! + alphabet[(v >> 12) & 63]! + alphabet[(v >> 6) & 63]! + alphabet[v & 63]!;
  }
  if (n - i === 1) {
    const v = bytes[i]! << 16;
    out += alphabet[v >> 18]! + alphabet[(v >> 12) & 63]!;
  } else if (n - i === 2) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += alphabet[v >> 18]! + alphabet[(v >> 12) & 63]! + alphabet[(v >> 6) & 63]!;
  }
  return out;
}

/** Unpadded standard base64 of `bytes` (never emits `=`). */
export function encodeBase64(bytes: Uint8Array): string {
  if (NodeBuffer !== undefined) {
    const s = toBuffer(bytes).toString('base64');
    const end = s.length - (s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0);
    return end === s.length ? s : s.slice(0, end);
  }
  return encodeWith(bytes, STD_ALPHABET);
}

/** Unpadded URL-safe base64 of `bytes` (`-` and `_` for 62 and 63, never `=`). */
export function encodeBase64Url(bytes: Uint8Array): string {
  if (NodeBuffer !== undefined) return toBuffer(bytes).toString('base64url');
  return encodeWith(bytes, URL_ALPHABET);
}

function decodeWith(input: unknown, alphabet: RegExp, what: string): Uint8Array {
  if (typeof input !== 'string') throw new Base64Error('BASE64_NOT_A_STRING', `${what} input must be a string`);
  let s = input;
  let end = s.length;
  if (s.charCodeAt(end - 1) === 0x3d /* = */) {
    end--;
    if (s.charCodeAt(end - 1) === 0x3d) end--;
    if (s.length % 4 !== 0 || end % 4 < 2) throw new Base64Error('BASE64_INVALID_PADDING', `invalid padding in ${what}`);
    s = s.slice(0, end);
  }
  if (end % 4 === 1) throw new Base64Error('BASE64_INVALID_LENGTH', `invalid ${what} length (${end} characters)`);
  if (!alphabet.test(s)) throw new Base64Error('BASE64_INVALID_CHARACTER', `invalid character in ${what}`);
  // Short inputs (a signature, a key) are decoded here: `Buffer.from` would take a slice of Node's
  // allocation pool — and, every few dozen calls, make a new pool — for a few dozen bytes.
  if (NodeBuffer !== undefined && end > SHORT_INPUT) {
    const b = NodeBuffer.from(s, 'base64'); // accepts both alphabets; validated above
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  const out = new Uint8Array((end * 3) >> 2);
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < end; i++) {
    acc = ((acc << 6) | LOOKUP[s.charCodeAt(i)]!) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/**
 * Decodes standard base64 (`+`, `/`), with or without padding.
 * @throws {@link Base64Error} on bad characters, impossible lengths or bad padding.
 */
export function decodeBase64(input: string): Uint8Array {
  return decodeWith(input, STD, 'base64');
}

/**
 * Decodes URL-safe base64 (`-`, `_`), with or without padding.
 * @throws {@link Base64Error}
 */
export function decodeBase64Url(input: string): Uint8Array {
  return decodeWith(input, URLSAFE, 'URL-safe base64');
}

/**
 * Decodes standard or URL-safe base64 (one alphabet per string; mixing `+`/`/` with `-`/`_` is
 * rejected), with or without padding.
 * @throws {@link Base64Error}
 */
export function decodeBase64Any(input: string): Uint8Array {
  return decodeWith(input, ANY, 'base64');
}
