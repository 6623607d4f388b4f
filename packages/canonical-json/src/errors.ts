/**
 * Typed errors of the canonical JSON encoder and parser.
 * @packageDocumentation
 */
import { RoomgraphError, type RoomgraphErrorOptions } from '@roomgraph/errors';

/** Stable error codes raised by {@link encodeCanonicalJson}. */
export type CanonicalJsonErrorCode =
  /** A non-integral number in strict mode (APP › Canonical JSON: "Float values are not permitted"). */
  | 'CANONICAL_JSON_FLOAT'
  /** An integer outside [-(2^53)+1, 2^53-1] in strict mode. */
  | 'CANONICAL_JSON_INTEGER_RANGE'
  /** NaN, Infinity or -Infinity (never encodable). */
  | 'CANONICAL_JSON_NON_FINITE'
  /** undefined, a function, a symbol, a bigint, an array hole or a non-plain object. */
  | 'CANONICAL_JSON_INVALID_TYPE'
  /** A string or object key containing an unpaired UTF-16 surrogate (not representable as UTF-8). */
  | 'CANONICAL_JSON_LONE_SURROGATE'
  /** The value contains itself. */
  | 'CANONICAL_JSON_CYCLE'
  /** Arrays/objects nested deeper than the `maxDepth` option. */
  | 'CANONICAL_JSON_DEPTH';

/** Stable error codes raised by {@link parseCanonicalJson}. */
export type CanonicalJsonParseErrorCode =
  /** Anything that is not JSON text (unexpected character, unterminated string, bad escape...). */
  | 'JSON_SYNTAX'
  /** Non-whitespace after the top-level value. */
  | 'JSON_TRAILING_DATA'
  /** The same key twice in one object (checklist A10). */
  | 'JSON_DUPLICATE_KEY'
  /** A number with a fraction or exponent in strict mode. */
  | 'JSON_FLOAT'
  /** An integer outside [-(2^53)+1, 2^53-1] in strict mode, or a number overflowing to Infinity. */
  | 'JSON_INTEGER_RANGE'
  /** Nesting deeper than the `maxDepth` option. */
  | 'JSON_DEPTH'
  /** Byte input that is not well-formed UTF-8. */
  | 'JSON_INVALID_UTF8'
  /** An unpaired surrogate, raw or written as a `\uXXXX` escape. */
  | 'JSON_LONE_SURROGATE'
  /** `requireCanonical` was set and the text is valid JSON but not its own canonical encoding. */
  | 'JSON_NOT_CANONICAL';

/**
 * Error thrown by {@link encodeCanonicalJson} (and base class of {@link CanonicalJsonParseError}).
 * `path` locates the offending value, JSONPath style: `$`, `$.content.users["@a:b"]`, `$.prev_events[0]`.
 */
export class CanonicalJsonError extends RoomgraphError<CanonicalJsonErrorCode | CanonicalJsonParseErrorCode> {
  override readonly name: string = 'CanonicalJsonError';
  /** Location of the offending value (`$` = the root). */
  path: string;
  /** Path segments collected while the error propagates (innermost last once reversed). */
  #segments: string[] = [];
  readonly #detail: string;

  /** @param code - stable code; @param detail - human-readable description without the path; @param options - `cause`. */
  constructor(code: CanonicalJsonErrorCode | CanonicalJsonParseErrorCode, detail: string, options?: RoomgraphErrorOptions) {
    super(code, `${detail} at $`, options);
    this.#detail = detail;
    this.path = '$';
  }

  /**
   * Internal: prepends a path segment while the error unwinds through nested values.
   * @internal
   */
  prependPath(segment: string | number): void {
    this.#segments.push(typeof segment === 'number' ? `[${segment}]` : formatKey(segment));
    let p = '$';
    for (let i = this.#segments.length - 1; i >= 0; i--) p += this.#segments[i];
    this.path = p;
    this.message = `${this.#detail} at ${p}`;
  }
}

/**
 * Error thrown by {@link parseCanonicalJson}. `position` is the offset of the problem: a byte offset
 * when the input was a `Uint8Array`, a UTF-16 code-unit offset when it was a string. `path` is the
 * JSONPath of the value being parsed when the error occurred.
 */
export class CanonicalJsonParseError extends CanonicalJsonError {
  override readonly name: string = 'CanonicalJsonParseError';
  declare readonly code: CanonicalJsonParseErrorCode;
  /** Offset of the error in the input (bytes for `Uint8Array` input, UTF-16 units for strings). */
  position: number;

  /** @param code - stable code; @param detail - description; @param position - offset in the input; @param options - `cause`. */
  constructor(code: CanonicalJsonParseErrorCode, detail: string, position: number, options?: RoomgraphErrorOptions) {
    super(code, detail, options);
    this.position = position;
  }
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function formatKey(key: string): string {
  return IDENT.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
