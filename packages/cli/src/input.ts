/**
 * Reading stdin as bytes: whole documents and JSON lines, with a size limit.
 *
 * Lines end only at `\n` (a `\r` right before it is dropped, so `\r\n` works too); a bare `\r` is
 * JSON whitespace inside a line, never a line break (Node's line reader would split there). Lines
 * are bytes: decoding and UTF-8 validation are the JSON parser's (`JSON_INVALID_UTF8`), so nothing
 * is ever silently replaced by U+FFFD. A line longer than the limit is not kept in memory: it is
 * skipped up to its end and reported as too long, and reading continues.
 * @packageDocumentation
 */
import { CliError } from './errors.js';

/** Default largest input document or line, in bytes: 1 MiB, well above the 64 KiB PDU limit. */
export const DEFAULT_MAX_INPUT_BYTES = 1024 * 1024;

/** Anything a command may read from: a stream (of bytes), a string or bytes (tests, embedding). */
export type InputSource = NodeJS.ReadableStream | AsyncIterable<Uint8Array | string> | string | Uint8Array;

/** One input line: its bytes (without the line end), or that it was longer than the limit. */
export type InputLine =
  | { readonly lineNo: number; readonly bytes: Uint8Array; readonly tooLong?: undefined }
  | { readonly lineNo: number; readonly tooLong: true; readonly size: number };

/** Reports progress through the input: bytes consumed so far (line ends included). */
export type BytesRead = (bytes: number) => void;

async function* chunks(input: InputSource): AsyncIterable<Uint8Array> {
  if (typeof input === 'string') {
    yield Buffer.from(input, 'utf8');
    return;
  }
  if (input instanceof Uint8Array) {
    yield input;
    return;
  }
  for await (const c of input as AsyncIterable<Uint8Array | string>) {
    // A stream in string mode has decoded already (an embedder's setEncoding): re-encode.
    yield typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
  }
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The input split into lines at `\n` (`\r\n` too; a final line end starts no extra line). A line
 * of more than `maxBytes` bytes (not counting its line end) is yielded as `{tooLong: true, size}`
 * without being kept: memory stays bounded by `maxBytes` plus one read chunk.
 */
export async function* inputLines(input: InputSource, maxBytes: number = DEFAULT_MAX_INPUT_BYTES, onRead?: BytesRead): AsyncGenerator<InputLine> {
  let parts: Uint8Array[] = [];
  let length = 0;
  let size = 0; // the current line's size, also while skipping it
  let skipping = false;
  let lineNo = 0;
  let pending = false; // bytes of a line not yet yielded
  let lastCr = false; // the last byte seen was a CR (dropped if a LF follows)
  const finish = (): InputLine => {
    lineNo++;
    let line: InputLine;
    if (skipping) {
      line = { lineNo, tooLong: true, size: lastCr ? size - 1 : size };
    } else {
      let bytes = concat(parts, length);
      if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
      line = bytes.length > maxBytes ? { lineNo, tooLong: true, size: bytes.length } : { lineNo, bytes };
    }
    parts = [];
    length = 0;
    size = 0;
    skipping = false;
    pending = false;
    lastCr = false;
    return line;
  };
  for await (const chunk of chunks(input)) {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      const piece = chunk.subarray(start, end);
      size += piece.length;
      if (piece.length > 0) lastCr = piece[piece.length - 1] === 0x0d;
      pending = true;
      if (!skipping) {
        // One byte of slack for a `\r` that the line end drops.
        if (length + piece.length > maxBytes + 1) {
          skipping = true;
          parts = [];
          length = 0;
        } else if (piece.length > 0) {
          parts.push(piece);
          length += piece.length;
        }
      }
      if (nl < 0) break;
      start = nl + 1;
      yield finish();
    }
    onRead?.(chunk.length);
  }
  if (pending) yield finish();
}

/**
 * All of the input as one document, at most `maxBytes` bytes.
 * @throws {@link CliError} `INPUT_TOO_LARGE` as soon as the input is longer (the rest is not read).
 */
export async function readInput(input: InputSource, maxBytes: number = DEFAULT_MAX_INPUT_BYTES): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const c of chunks(input)) {
    length += c.length;
    if (length > maxBytes) throw new CliError('INPUT_TOO_LARGE', `the input is larger than ${maxBytes} bytes (--max-bytes)`);
    parts.push(c);
  }
  return concat(parts, length);
}

/** Whether `bytes` hold only JSON whitespace (space, tab, CR, LF): a blank line. */
export function isBlank(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0x20 && b !== 0x09 && b !== 0x0d && b !== 0x0a) return false;
  return true;
}

/**
 * The `--max-bytes` flag's value (default {@link DEFAULT_MAX_INPUT_BYTES}).
 * @throws {@link CliError} `USAGE` unless it is a positive integer.
 */
export function maxBytesFlag(value: string | boolean | undefined): number {
  if (value === undefined) return DEFAULT_MAX_INPUT_BYTES;
  const n = typeof value === 'string' && /^[1-9][0-9]{0,15}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new CliError('USAGE', `--max-bytes must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}
