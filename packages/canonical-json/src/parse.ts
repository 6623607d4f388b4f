/**
 * A strict JSON parser for untrusted input (RFC 8259 text, canonical JSON value rules).
 * @packageDocumentation
 */
import { CanonicalJsonError, CanonicalJsonParseError, type CanonicalJsonParseErrorCode } from './errors.js';
import { DEFAULT_MAX_DEPTH, encodeCanonicalJson, MAX_SAFE_CANONICAL_INTEGER } from './encode.js';
import type { JsonObject, JsonValue } from './types.js';

/** Options of {@link parseCanonicalJson}. */
export interface ParseOptions {
  /**
   * `true` (default, room versions 6+, checklist A9): numbers must be integers written without
   * fraction or exponent, within [-(2^53)+1, 2^53-1] (this matches Synapse, where `1e10` and `1.0`
   * parse as floats and are rejected). `false` (lenient, room versions 1–5, checklist A8): fractions,
   * exponents and out-of-range integers are accepted and converted with `Number()` (precision of
   * integers beyond 2^53 is lost); a number overflowing to ±Infinity is still rejected.
   */
  readonly strict?: boolean;
  /** Maximum nesting of arrays/objects; default {@link DEFAULT_MAX_DEPTH} (512). */
  readonly maxDepth?: number;
  /**
   * Additionally require the text to be exactly the canonical encoding of its value (no whitespace,
   * sorted keys, minimal escapes); otherwise throws `JSON_NOT_CANONICAL`. Default `false`.
   */
  readonly requireCanonical?: boolean;
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();
const { defineProperty } = Object;

function fail(code: CanonicalJsonParseErrorCode, detail: string, pos: number): never {
  throw new CanonicalJsonParseError(code, detail, pos);
}

function describe(src: string, pos: number): string {
  if (pos >= src.length) return 'unexpected end of input';
  const c = src.charCodeAt(pos);
  return c >= 0x20 && c < 0x7f ? `unexpected character '${src[pos]}'` : `unexpected character U+${c.toString(16).padStart(4, '0')}`;
}

class Parser {
  pos = 0;
  readonly src: string;
  readonly strict: boolean;
  readonly maxDepth: number;

  constructor(src: string, strict: boolean, maxDepth: number) {
    this.src = src;
    this.strict = strict;
    this.maxDepth = maxDepth;
  }

  ws(): number {
    const src = this.src;
    let p = this.pos;
    let c = src.charCodeAt(p);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = src.charCodeAt(++p);
    this.pos = p;
    return c; // NaN at end of input
  }

  value(depth: number): JsonValue {
    const c = this.ws();
    switch (c) {
      case 0x7b: // {
        return this.object(depth);
      case 0x5b: // [
        return this.array(depth);
      case 0x22: // "
        return this.string();
      case 0x74: // t
        return this.literal('true', true);
      case 0x66: // f
        return this.literal('false', false);
      case 0x6e: // n
        return this.literal('null', null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
        return fail('JSON_SYNTAX', describe(this.src, this.pos), this.pos);
    }
  }

  literal<T extends JsonValue>(word: string, v: T): T {
    if (!this.src.startsWith(word, this.pos)) fail('JSON_SYNTAX', describe(this.src, this.pos), this.pos);
    this.pos += word.length;
    return v;
  }

  number(): number {
    const src = this.src;
    const start = this.pos;
    let p = start;
    if (src.charCodeAt(p) === 0x2d) p++;
    let c = src.charCodeAt(p);
    if (c === 0x30) {
      c = src.charCodeAt(++p);
      if (c >= 0x30 && c <= 0x39) fail('JSON_SYNTAX', 'leading zeros are not allowed', p);
    } else if (c >= 0x31 && c <= 0x39) {
      do c = src.charCodeAt(++p);
      while (c >= 0x30 && c <= 0x39);
    } else {
      fail('JSON_SYNTAX', 'expected a digit', p);
    }
    let float = false;
    if (c === 0x2e) {
      float = true;
      c = src.charCodeAt(++p);
      if (!(c >= 0x30 && c <= 0x39)) fail('JSON_SYNTAX', 'expected a digit after the decimal point', p);
      do c = src.charCodeAt(++p);
      while (c >= 0x30 && c <= 0x39);
    }
    if (c === 0x65 || c === 0x45) {
      float = true;
      c = src.charCodeAt(++p);
      if (c === 0x2b || c === 0x2d) c = src.charCodeAt(++p);
      if (!(c >= 0x30 && c <= 0x39)) fail('JSON_SYNTAX', 'expected a digit in the exponent', p);
      do c = src.charCodeAt(++p);
      while (c >= 0x30 && c <= 0x39);
    }
    this.pos = p;
    const text = src.slice(start, p);
    if (float && this.strict) fail('JSON_FLOAT', `number ${text} has a fraction or exponent (floats are not permitted)`, start);
    const n = +text;
    if (n === Infinity || n === -Infinity) fail('JSON_INTEGER_RANGE', `number ${text} is out of range`, start);
    if (this.strict && (n > MAX_SAFE_CANONICAL_INTEGER || n < -MAX_SAFE_CANONICAL_INTEGER)) {
      fail('JSON_INTEGER_RANGE', `integer ${text} is outside [-(2^53)+1, 2^53-1]`, start);
    }
    return n === 0 ? 0 : n; // -0 becomes 0
  }

  string(): string {
    const src = this.src;
    const start = ++this.pos; // after the opening quote
    let p = start;
    // Fast scan: no escapes and no surrogates.
    for (;;) {
      const c = src.charCodeAt(p);
      if (c === 0x22) {
        this.pos = p + 1;
        return src.slice(start, p);
      }
      if (c === 0x5c || c < 0x20 || (c >= 0xd800 && c <= 0xdfff) || c !== c) break;
      p++;
    }
    let out = src.slice(start, p);
    for (;;) {
      const c = src.charCodeAt(p);
      if (c !== c) fail('JSON_SYNTAX', 'unterminated string', p);
      if (c === 0x22) {
        this.pos = p + 1;
        return out;
      }
      if (c < 0x20) fail('JSON_SYNTAX', `unescaped control character U+${c.toString(16).padStart(4, '0')} in string`, p);
      if (c === 0x5c) {
        const e = src.charCodeAt(p + 1);
        switch (e) {
          case 0x22: out += '"'; p += 2; continue;
          case 0x5c: out += '\\'; p += 2; continue;
          case 0x2f: out += '/'; p += 2; continue;
          case 0x62: out += '\b'; p += 2; continue;
          case 0x66: out += '\f'; p += 2; continue;
          case 0x6e: out += '\n'; p += 2; continue;
          case 0x72: out += '\r'; p += 2; continue;
          case 0x74: out += '\t'; p += 2; continue;
          case 0x75: {
            const u = this.hex4(p + 2);
            if (u >= 0xd800 && u <= 0xdbff) {
              // A high surrogate must be followed by an escaped low surrogate.
              const lo = src.charCodeAt(p + 6) === 0x5c && src.charCodeAt(p + 7) === 0x75 ? this.hex4(p + 8) : -1;
              if (lo < 0xdc00 || lo > 0xdfff) fail('JSON_LONE_SURROGATE', 'escaped high surrogate without a low surrogate', p);
              out += String.fromCharCode(u, lo);
              p += 12;
            } else if (u >= 0xdc00 && u <= 0xdfff) {
              fail('JSON_LONE_SURROGATE', 'escaped low surrogate without a high surrogate', p);
            } else {
              out += String.fromCharCode(u);
              p += 6;
            }
            continue;
          }
          default:
            fail('JSON_SYNTAX', 'invalid escape sequence', p);
        }
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        const lo = src.charCodeAt(p + 1);
        if (c > 0xdbff || !(lo >= 0xdc00 && lo <= 0xdfff)) fail('JSON_LONE_SURROGATE', 'unpaired surrogate in string', p);
        out += src.slice(p, p + 2);
        p += 2;
        continue;
      }
      // Copy a run of ordinary characters at once.
      let q = p + 1;
      for (;;) {
        const d = src.charCodeAt(q);
        if (d === 0x22 || d === 0x5c || d < 0x20 || (d >= 0xd800 && d <= 0xdfff) || d !== d) break;
        q++;
      }
      out += src.slice(p, q);
      p = q;
    }
  }

  hex4(p: number): number {
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const c = this.src.charCodeAt(p + i);
      let d: number;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
      else return fail('JSON_SYNTAX', 'invalid \\u escape', p - 2);
      v = (v << 4) | d;
    }
    return v;
  }

  array(depth: number): JsonValue[] {
    if (depth >= this.maxDepth) fail('JSON_DEPTH', `nesting deeper than ${this.maxDepth}`, this.pos);
    this.pos++; // [
    const out: JsonValue[] = [];
    if (this.ws() === 0x5d) {
      this.pos++;
      return out;
    }
    let i = 0;
    try {
      for (;; i++) {
        out.push(this.value(depth + 1));
        const c = this.ws();
        if (c === 0x2c) {
          this.pos++;
          continue;
        }
        if (c === 0x5d) {
          this.pos++;
          return out;
        }
        fail('JSON_SYNTAX', `${describe(this.src, this.pos)}, expected ',' or ']'`, this.pos);
      }
    } catch (e) {
      if (e instanceof CanonicalJsonError) e.prependPath(i);
      throw e;
    }
  }

  object(depth: number): JsonObject {
    if (depth >= this.maxDepth) fail('JSON_DEPTH', `nesting deeper than ${this.maxDepth}`, this.pos);
    this.pos++; // {
    const out: Record<string, JsonValue> = {};
    let c = this.ws();
    if (c === 0x7d) {
      this.pos++;
      return out;
    }
    let key: string | undefined;
    try {
      for (;;) {
        if (c !== 0x22) fail('JSON_SYNTAX', `${describe(this.src, this.pos)}, expected a string key`, this.pos);
        const keyPos = this.pos;
        key = this.string();
        if (this.ws() !== 0x3a) fail('JSON_SYNTAX', `${describe(this.src, this.pos)}, expected ':'`, this.pos);
        this.pos++;
        const v = this.value(depth + 1);
        // `out[key] !== undefined` is a cheap pre-test; hasOwn tells inherited names ("toString") apart.
        if (out[key] !== undefined && Object.hasOwn(out, key)) fail('JSON_DUPLICATE_KEY', 'duplicate key', keyPos);
        if (key === '__proto__') {
          // Assignment would call the Object.prototype.__proto__ setter; define an own data property.
          defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
        } else {
          out[key] = v;
        }
        key = undefined;
        c = this.ws();
        if (c === 0x2c) {
          this.pos++;
          c = this.ws();
          continue;
        }
        if (c === 0x7d) {
          this.pos++;
          return out;
        }
        fail('JSON_SYNTAX', `${describe(this.src, this.pos)}, expected ',' or '}'`, this.pos);
      }
    } catch (e) {
      if (e instanceof CanonicalJsonError && key !== undefined) e.prependPath(key);
      throw e;
    }
  }
}

/**
 * Parses untrusted JSON text into plain values, enforcing canonical JSON's value rules.
 *
 * Accepts any RFC 8259 JSON text (whitespace and key order are free — received JSON is re-encoded,
 * not required to be canonical, checklist A11) and rejects: duplicate keys (A10), floats and
 * out-of-range integers when `strict` (A4, A9), nesting deeper than `maxDepth`, invalid UTF-8
 * (byte input), unpaired surrogates raw or escaped (A7), leading zeros, a BOM, trailing data and
 * anything else that is not JSON. `-0` parses as `0`.
 *
 * Objects are ordinary `{}` objects; a `"__proto__"` key becomes an own data property and never
 * changes the object's prototype.
 *
 * @param input - JSON text, or its UTF-8 bytes.
 * @param options - `strict` (default `true`), `maxDepth` (default 512), `requireCanonical`.
 * @throws {@link CanonicalJsonParseError} — and nothing else — for any invalid input.
 */
export function parseCanonicalJson(input: string | Uint8Array, options?: ParseOptions): JsonValue {
  const strict = options?.strict ?? true;
  const maxDepth = options?.maxDepth ?? DEFAULT_MAX_DEPTH;
  let src: string;
  const bytes = typeof input === 'string' ? undefined : input;
  if (bytes === undefined) {
    src = input as string;
  } else if (!(bytes instanceof Uint8Array)) {
    return fail('JSON_SYNTAX', 'input must be a string or a Uint8Array', 0);
  } else {
    try {
      src = utf8Decoder.decode(bytes);
    } catch {
      return fail('JSON_INVALID_UTF8', 'input is not well-formed UTF-8', firstInvalidUtf8(bytes));
    }
  }
  const parser = new Parser(src, strict, maxDepth);
  let value: JsonValue;
  try {
    value = parser.value(0);
    const next = parser.ws();
    if (next === next /* not NaN: input remains */) {
      fail('JSON_TRAILING_DATA', `${describe(src, parser.pos)} after the JSON value`, parser.pos);
    }
    if (options?.requireCanonical) {
      let canonical: string | undefined;
      try {
        canonical = encodeCanonicalJson(value, { strict, maxDepth });
      } catch {
        canonical = undefined;
      }
      if (canonical !== src) fail('JSON_NOT_CANONICAL', 'text is not in canonical form', 0);
    }
  } catch (e) {
    if (e instanceof CanonicalJsonParseError && bytes !== undefined) {
      // Report a byte offset for byte input.
      e.position = utf8Encoder.encode(src.slice(0, e.position)).length;
    } else if (e instanceof RangeError) {
      // Defensive: a stack overflow (only possible with a huge custom maxDepth).
      throw new CanonicalJsonParseError('JSON_DEPTH', 'nesting too deep for the call stack', parser.pos);
    }
    throw e;
  }
  return value;
}

/** Offset of the first byte of the first ill-formed UTF-8 sequence in `bytes` (error path only). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let len: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) len = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      len = 3;
      if (b === 0xe0) lo = 0xa0; // overlong
      else if (b === 0xed) hi = 0x9f; // surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      len = 4;
      if (b === 0xf0) lo = 0x90; // overlong
      else if (b === 0xf4) hi = 0x8f; // above U+10FFFF
    } else return i;
    if (i + len > n) return i;
    const b1 = bytes[i + 1]!;
    if (b1 < lo || b1 > hi) return i;
    for (let k = 2; k < len; k++) {
      const c = bytes[i + k]!;
      if (c < 0x80 || c > 0xbf) return i;
    }
    i += len;
  }
  return n;
}
