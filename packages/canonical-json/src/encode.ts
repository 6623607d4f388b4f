/**
 * The canonical JSON encoder (APP › Signing JSON › Canonical JSON; checklist A1–A9).
 * @packageDocumentation
 */
import { CanonicalJsonError } from './errors.js';

/** Largest integer canonical JSON allows: 2^53 - 1 (APP › Canonical JSON; checklist A4). */
export const MAX_SAFE_CANONICAL_INTEGER = 9007199254740991;
/** Smallest integer canonical JSON allows: -(2^53) + 1. */
export const MIN_SAFE_CANONICAL_INTEGER = -9007199254740991;
/**
 * Default nesting limit of the encoder and the parser: at most 512 nested arrays/objects.
 * Synapse (Python `json`) tolerates roughly 1000 levels; 512 keeps well clear of JS stack limits
 * while accepting anything a real event contains.
 */
export const DEFAULT_MAX_DEPTH = 512;

/** Options of {@link encodeCanonicalJson}. */
export interface EncodeOptions {
  /**
   * `true` (default): the spec's value rules are enforced — non-integral numbers and integers
   * outside [-(2^53)+1, 2^53-1] throw. `false` (lenient, for events of room versions 1–5,
   * checklist A8): such finite numbers are written as `JSON.stringify` writes them (e.g. `1.5`,
   * `1e+21`, `18014398509481984`). NaN and ±Infinity throw in both modes; `-0` is always `0`.
   */
  readonly strict?: boolean;
  /** Maximum nesting of arrays/objects; default {@link DEFAULT_MAX_DEPTH}. */
  readonly maxDepth?: number;
  /**
   * Keys of the TOP-LEVEL object to leave out, e.g. `['signatures', 'unsigned']` — the spec's
   * "remove these keys, then encode" without copying the object. Ignored if the value is not an object.
   */
  readonly omitKeys?: readonly string[];
}

// Strings needing more than `"` + s + `"`: control chars, `"`, `\` and any surrogate (which may be
// lone, or may affect key ordering).
// (An anchored negated class is markedly faster in V8 than searching for the first bad character.)
const SIMPLE = /^[^\u0000-\u001f"\\\ud800-\udfff]*$/;
const HAS_SURROGATE = /[\ud800-\udfff]/;
// A lone surrogate: a high one not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

// Encoded `"key":` prefixes of surrogate-free keys (keys repeat across events: "content", "sender"...).
const KEY_CACHE_LIMIT = 4096;
const keyCache = new Map<string, string>();

/** Encodes `"key":` for a key without surrogates and caches it; `undefined` if it has a surrogate. */
function cacheKey(key: string): string | undefined {
  if (HAS_SURROGATE.test(key)) return undefined;
  const prefix = (SIMPLE.test(key) ? '"' + key + '"' : JSON.stringify(key)) + ':';
  if (keyCache.size < KEY_CACHE_LIMIT && key.length <= 64) keyCache.set(key, prefix);
  return prefix;
}

const objectProto = Object.prototype;
const { getPrototypeOf } = Object;
const { isArray } = Array;

/**
 * Orders two strings by Unicode code point (APP › Canonical JSON: keys sorted "lexicographically by
 * Unicode code point"; checklist A3). Plain `<` compares UTF-16 code units, which only disagrees when
 * the first differing units are a surrogate and a unit in U+E000–U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return x < 0xd800 && y < 0xd800 ? x - y : codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Arrays up to this length are sorted by {@link sortKeys}' insertion sort. */
const INSERTION_SORT_MAX = 16;

/**
 * Sorts strings in place by UTF-16 code units — the order of the default `Array.prototype.sort`,
 * which is code point order unless a string holds a surrogate — and returns the array. Short
 * arrays (an event's or a content object's keys) are insertion-sorted: the default sort copies
 * the array into a temporary store first, which for a handful of keys costs more than the sort.
 */
export function sortKeys(keys: string[]): string[] {
  const n = keys.length;
  if (n > INSERTION_SORT_MAX) return keys.sort();
  for (let i = 1; i < n; i++) {
    const k = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[j] as string) > k) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}

/**
 * A UTF-16 code unit mapped so that the order of the mapped values is the code point order of the
 * characters they begin: surrogates (D800–DFFF, which encode code points >= U+10000) move above
 * every BMP unit, the units E000–FFFF move down into the gap they leave.
 */
function codePointRank(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit;
}

function encodeString(s: string): string {
  if (SIMPLE.test(s)) return '"' + s + '"';
  if (HAS_SURROGATE.test(s) && LONE_SURROGATE.test(s)) {
    throw new CanonicalJsonError('CANONICAL_JSON_LONE_SURROGATE', 'string contains an unpaired UTF-16 surrogate');
  }
  // For well-formed strings JSON.stringify escapes exactly what the grammar requires: `"`, `\`,
  // \b \t \n \f \r and other U+0000–U+001F as lowercase \u00xx; nothing else (checklist A5).
  return JSON.stringify(s);
}

function encodeNumber(n: number, strict: boolean): string {
  if (n <= MAX_SAFE_CANONICAL_INTEGER && n >= MIN_SAFE_CANONICAL_INTEGER && Math.floor(n) === n) {
    // `'' + -0` is "0": negative zero never appears (checklist A4).
    return '' + n;
  }
  if (n !== n || n === Infinity || n === -Infinity) {
    throw new CanonicalJsonError('CANONICAL_JSON_NON_FINITE', `${n} is not a JSON number`);
  }
  if (strict) {
    if (Math.floor(n) !== n) throw new CanonicalJsonError('CANONICAL_JSON_FLOAT', `float ${n} is not permitted in canonical JSON`);
    throw new CanonicalJsonError('CANONICAL_JSON_INTEGER_RANGE', `integer ${n} is outside [-(2^53)+1, 2^53-1]`);
  }
  return JSON.stringify(n);
}

function typeName(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v !== 'object' || v === null) return typeof v;
  const proto: unknown = getPrototypeOf(v);
  const ctor = (proto as { constructor?: { name?: unknown } } | null)?.constructor;
  const name = ctor?.name;
  return typeof name === 'string' && name !== '' ? `${name} object` : 'non-plain object';
}

class Encoder {
  readonly strict: boolean;
  readonly maxDepth: number;
  /** Ancestors of the value being encoded, by depth (cycle detection). */
  readonly stack: object[] = [];
  /** Top-level keys to skip. */
  readonly omit: readonly string[] | undefined;

  constructor(strict: boolean, maxDepth: number, omit: readonly string[] | undefined) {
    this.strict = strict;
    this.maxDepth = maxDepth;
    this.omit = omit !== undefined && omit.length > 0 ? omit : undefined;
  }

  value(v: unknown, depth: number): string {
    switch (typeof v) {
      case 'string':
        return encodeString(v);
      case 'number':
        return encodeNumber(v, this.strict);
      case 'boolean':
        return v ? 'true' : 'false';
      case 'object':
        if (v === null) return 'null';
        if (isArray(v)) return this.array(v, depth);
        {
          const proto: unknown = getPrototypeOf(v);
          if (proto === objectProto || proto === null) return this.object(v as Record<string, unknown>, depth);
        }
        break;
      default:
        break;
    }
    throw new CanonicalJsonError('CANONICAL_JSON_INVALID_TYPE', `${typeName(v)} is not a JSON value`);
  }

  enter(v: object, depth: number): void {
    if (depth >= this.maxDepth) {
      for (let i = 0; i < depth; i++) {
        if (this.stack[i] === v) throw new CanonicalJsonError('CANONICAL_JSON_CYCLE', 'value contains itself');
      }
      throw new CanonicalJsonError('CANONICAL_JSON_DEPTH', `nesting deeper than ${this.maxDepth}`);
    }
    const stack = this.stack;
    for (let i = 0; i < depth; i++) {
      if (stack[i] === v) throw new CanonicalJsonError('CANONICAL_JSON_CYCLE', 'value contains itself');
    }
    stack[depth] = v;
  }

  array(a: readonly unknown[], depth: number): string {
    this.enter(a, depth);
    const n = a.length;
    if (n === 0) return '[]';
    let i = 0;
    try {
      let out = '[' + this.value(a[0], depth + 1);
      for (i = 1; i < n; i++) out += ',' + this.value(a[i], depth + 1);
      return out + ']';
    } catch (e) {
      if (e instanceof CanonicalJsonError) e.prependPath(i);
      throw e;
    }
  }

  object(o: Record<string, unknown>, depth: number): string {
    this.enter(o, depth);
    let keys = Object.keys(o);
    if (depth === 0 && this.omit !== undefined) {
      const omit = this.omit;
      keys = keys.filter((k) => !omit.includes(k));
    }
    const n = keys.length;
    if (n === 0) return '{}';
    // Fast path: default sort compares UTF-16 code units, which equals code-point order unless a key
    // contains a surrogate; such keys are never in the key cache, so meeting one switches to the slow
    // path (validate, code-point sort).
    if (n > 1) sortKeys(keys);
    let key = keys[0]!;
    let prefix = keyCache.get(key) ?? cacheKey(key);
    if (prefix === undefined) return this.astralObject(o, keys, depth);
    try {
      let out = '{' + prefix + this.value(o[key], depth + 1);
      for (let i = 1; i < n; i++) {
        key = keys[i]!;
        prefix = keyCache.get(key) ?? cacheKey(key);
        if (prefix === undefined) break;
        out += ',' + prefix + this.value(o[key], depth + 1);
      }
      if (prefix !== undefined) return out + '}';
    } catch (e) {
      if (e instanceof CanonicalJsonError) e.prependPath(key);
      throw e;
    }
    return this.astralObject(o, keys, depth);
  }

  /**
   * The `"key":value` texts of a top-level object's members (see {@link encodeCanonicalMembers}):
   * the same order and the same fallback for surrogate keys as {@link Encoder.object}.
   */
  members(o: Record<string, unknown>, keys: string[]): string[] {
    this.enter(o, 0);
    sortKeys(keys);
    const n = keys.length;
    const texts = new Array<string>(n);
    let key = '';
    let astral = false;
    try {
      for (let i = 0; i < n; i++) {
        key = keys[i] as string;
        const prefix = keyCache.get(key) ?? cacheKey(key);
        if (prefix === undefined) {
          astral = true;
          break;
        }
        texts[i] = prefix + this.value(o[key], 1);
      }
    } catch (e) {
      if (e instanceof CanonicalJsonError) e.prependPath(key);
      throw e;
    }
    return astral ? this.astralMembers(o, keys, 0) : texts;
  }

  /** Slow path for objects with a key containing a surrogate (checklist A3, A7). */
  astralObject(o: Record<string, unknown>, keys: string[], depth: number): string {
    return '{' + this.astralMembers(o, keys, depth).join(',') + '}';
  }

  /** The member texts of an object with a key containing a surrogate: code point order, keys validated. */
  astralMembers(o: Record<string, unknown>, keys: string[], depth: number): string[] {
    keys.sort(compareCodePoints);
    const texts = new Array<string>(keys.length);
    let key = '';
    try {
      for (let i = 0; i < keys.length; i++) {
        key = keys[i]!;
        texts[i] = encodeString(key) + ':' + this.value(o[key], depth + 1);
      }
      return texts;
    } catch (e) {
      if (e instanceof CanonicalJsonError) e.prependPath(key);
      throw e;
    }
  }
}

/**
 * Encodes a value as canonical JSON text (APP › Signing JSON › Canonical JSON): object keys sorted by
 * Unicode code point, no insignificant whitespace, non-ASCII characters written raw, only `"`, `\`
 * and U+0000–U+001F escaped, integers only (strict mode).
 *
 * Accepts `null`, booleans, numbers, strings, arrays and plain objects (prototype `Object.prototype`
 * or `null`; only own enumerable string keys are encoded). Everything else — `undefined`,
 * functions, symbols, bigints, array holes, Map/Set/Date/typed arrays/class instances, lone
 * surrogates, cycles, excessive nesting — throws {@link CanonicalJsonError} with a `path`.
 *
 * @param value - the value to encode.
 * @param options - `strict` (default `true`) and `maxDepth`.
 * @returns the canonical JSON text (its UTF-8 bytes are what gets signed/hashed).
 * @throws {@link CanonicalJsonError}
 */
export function encodeCanonicalJson(value: unknown, options?: EncodeOptions): string {
  // A fresh encoder per call keeps cycle detection correct even if a getter re-enters the encoder.
  return new Encoder(options?.strict ?? true, options?.maxDepth ?? DEFAULT_MAX_DEPTH, options?.omitKeys).value(value, 0);
}

/** The members of an object as canonical JSON ({@link encodeCanonicalMembers}). */
export interface CanonicalMembers {
  /** The object's keys (without `omitKeys`), in canonical order: by Unicode code point. */
  readonly keys: readonly string[];
  /** `texts[i]` is the canonical JSON of member `keys[i]`: `"key":value`. */
  readonly texts: readonly string[];
}

/**
 * The canonical JSON of each member of a plain object, in canonical key order: the text of the
 * object is `'{' + texts.join(',') + '}'`, and of the object without some members the same
 * with their texts left out. A caller that needs several such texts of one object (a PDU's
 * content-hash text, its size, its redacted signing text) encodes each member once.
 *
 * Same rules, options and errors as {@link encodeCanonicalJson} (`omitKeys` leaves members out);
 * the value must be a plain object.
 * @throws {@link CanonicalJsonError}
 */
export function encodeCanonicalMembers(value: object, options?: EncodeOptions): CanonicalMembers {
  const encoder = new Encoder(options?.strict ?? true, options?.maxDepth ?? DEFAULT_MAX_DEPTH, options?.omitKeys);
  const proto: unknown = value === null || typeof value !== 'object' || isArray(value) ? undefined : getPrototypeOf(value);
  if (proto !== objectProto && proto !== null) throw new CanonicalJsonError('CANONICAL_JSON_INVALID_TYPE', `${typeName(value)} is not a JSON object`);
  let keys = Object.keys(value);
  const omit = encoder.omit;
  if (omit !== undefined) keys = keys.filter((k) => !omit.includes(k));
  const texts = encoder.members(value as Record<string, unknown>, keys);
  return { keys, texts };
}

const utf8 = new TextEncoder();
// On Node, Buffer's UTF-8 encoder is faster than TextEncoder.
const NodeBuffer = (globalThis as { Buffer?: { from(s: string, enc: 'utf8'): Uint8Array } }).Buffer;

/**
 * Encodes a value as canonical JSON and returns its UTF-8 bytes (the bytes the spec signs and hashes).
 * Same rules, options and errors as {@link encodeCanonicalJson}.
 * @throws {@link CanonicalJsonError}
 */
export function encodeCanonicalJsonBytes(value: unknown, options?: EncodeOptions): Uint8Array {
  const text = encodeCanonicalJson(value, options);
  if (NodeBuffer === undefined) return utf8.encode(text);
  const b = NodeBuffer.from(text, 'utf8');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
