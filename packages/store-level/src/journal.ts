/**
 * The LevelDB store's journal records (`roomgraph.journal`, see the package README): how ops are
 * encoded into them, once, and how a journal file is read back.
 *
 * A record is `u32 header ‖ u32 checksum(payload) ‖ payload`, the payload a sequence of ops `u8 kind
 * (0 put, 1 del) ‖ u32 key length ‖ key ‖ [u32 value length ‖ value]` (UTF-8, lengths little-endian;
 * keys are LevelDB's full keys, table prefix included). The header is the payload's length, with
 * bit 31 set when the checksum is CRC-32 (what this version writes); clear, it is FNV-1a (records
 * written by earlier versions, still read: a journal left by one is replayed on open).
 *
 * A value is encoded to UTF-8 once, into the journal, and LevelDB is handed those very bytes (a
 * view of the journal's buffer) instead of the string, which its binding would encode again.
 *
 * @module
 */
import zlib from 'node:zlib';

/**
 * A root-level LevelDB op: the key carries its table's sublevel prefix (cheaper than sublevel ops).
 * Keys are UTF-8 text; a value is UTF-8 text or its UTF-8 bytes (a view of a journal buffer). Keys
 * and values are in the database's format, as abstract-level's private `_batch` contract asks,
 * and every op says which in its encodings.
 */
export type BatchOp =
  | { readonly type: 'put'; readonly key: string; readonly value: string; readonly keyEncoding: 'utf8'; readonly valueEncoding: 'utf8' }
  | { readonly type: 'put'; readonly key: string; readonly value: Buffer; readonly keyEncoding: 'utf8'; readonly valueEncoding: 'view' }
  | { readonly type: 'del'; readonly key: string; readonly keyEncoding: 'utf8' };

/**
 * Puts as two parallel lists, without an object per op: root-level keys (as in {@link BatchOp})
 * and their values, UTF-8 text or its UTF-8 bytes.
 */
export interface OpList {
  readonly keys: string[];
  readonly values: (string | Buffer)[];
}

/** A put whose value is UTF-8 text (not yet encoded). */
export type TextPutOp = Extract<BatchOp, { readonly valueEncoding: 'utf8' }>;

/** A put of a text value. */
export function putOp(key: string, value: string): TextPutOp {
  return { type: 'put', key, value, keyEncoding: 'utf8', valueEncoding: 'utf8' };
}

/** A put of a value already encoded to UTF-8 bytes. */
export function putBytesOp(key: string, value: Buffer): BatchOp {
  return { type: 'put', key, value, keyEncoding: 'utf8', valueEncoding: 'view' };
}

/** A delete. */
export function delOp(key: string): BatchOp {
  return { type: 'del', key, keyEncoding: 'utf8' };
}

/** Bit 31 of a record's header: its checksum is CRC-32 (else FNV-1a, as earlier versions wrote). */
export const CRC32_FLAG = 0x80000000;

/** The longest record payload the header can state (31 bits). */
const MAX_RECORD = 0x7fffffff;

/** CRC-32 (zlib's) lookup table, for runtimes whose `zlib` lacks `crc32` (Node before 20.15). */
let crcTable: Uint32Array | undefined;

/** CRC-32 in JavaScript, byte by byte (the fallback; the same result as `zlib.crc32`). */
export function crc32Js(b: Uint8Array, from: number, to: number): number {
  let t = crcTable;
  if (t === undefined) {
    t = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      t[n] = c >>> 0;
    }
    crcTable = t;
  }
  let c = -1;
  for (let i = from; i < to; i++) c = t[(c ^ b[i]!) & 255]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** zlib's native CRC-32 where the runtime has it (Node ≥ 20.15). */
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/**
 * CRC-32 (the polynomial of zlib and gzip) of `b[from, to)`: the journal records' checksum, which
 * detects a torn record (not tampering). zlib's native implementation reads ~0.25 ns per byte here,
 * ~7x faster than FNV-1a in JavaScript (the checksum of earlier versions) — per event in a trusted
 * import, the checksum was the store's largest main-thread cost.
 */
export function crc32Bytes(b: Uint8Array, from: number, to: number): number {
  return nativeCrc32 !== undefined ? nativeCrc32(b.subarray(from, to)) : crc32Js(b, from, to);
}

const FNV_PRIME = 0x01000193;
/** The words below are read in the machine's byte order: little-endian, where it is not the bytes are read one at a time. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * FNV-1a (32 bits) over bytes: the checksum of the journal records earlier versions wrote (read on
 * replay; see {@link crc32Bytes} for what is written now). Every byte is hashed in order, as `h = (h ^ byte) * prime`; the bytes are read a
 * 32-bit word at a time where aligned (one typed-array load per four bytes: V8 checks the array
 * and the bounds per load, which cost more than the hashing itself).
 */
export function fnvBytes(b: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5 | 0;
  let i = from;
  if (LITTLE_ENDIAN && to - from >= 16) {
    // Single bytes up to a 4-byte-aligned address, then whole words, then the rest.
    const head = i + ((4 - ((b.byteOffset + i) & 3)) & 3);
    for (; i < head; i++) h = Math.imul(h ^ b[i]!, FNV_PRIME);
    const words = new Int32Array(b.buffer, b.byteOffset + i, (to - i) >>> 2);
    const n = words.length;
    for (let k = 0; k < n; k++) {
      const w = words[k]!;
      h = Math.imul(h ^ (w & 255), FNV_PRIME);
      h = Math.imul(h ^ ((w >>> 8) & 255), FNV_PRIME);
      h = Math.imul(h ^ ((w >>> 16) & 255), FNV_PRIME);
      h = Math.imul(h ^ (w >>> 24), FNV_PRIME);
    }
    i += n * 4;
  }
  for (; i < to; i++) h = Math.imul(h ^ b[i]!, FNV_PRIME);
  return h >>> 0;
}

/**
 * Journal records being built and written: one record open at a time, ops appended to it as their
 * commits are journaled, closed (length and checksum filled in) when the journal syncs.
 *
 * The bytes are only ever appended: a view returned by {@link put} keeps its content until the
 * LevelDB write it is for is done. When the buffer is full, the bytes not yet in the file move to
 * a new, larger buffer, and the old one stays as it is for the views into it (freed with them);
 * the store starts over at the beginning only when every journaled op is in LevelDB
 * ({@link reset}).
 */
export class JournalBuffer {
  /** The current buffer. */
  buf: Buffer;
  /** End of the bytes written to {@link buf}. */
  length = 0;
  /** Bytes of {@link buf} before this offset are in the file (or were dropped by a failed write). */
  #flushed = 0;
  /** Start of the open record (its header), or -1 when none is open. */
  #record = -1;

  /** @param size - the first buffer's size in bytes. */
  constructor(size = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Whether a record is open (ops appended since the last {@link close}). */
  get open(): boolean {
    return this.#record >= 0;
  }

  #room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const keep = this.length - this.#flushed;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length, 2 * (keep + n)));
    this.buf.copy(bigger, 0, this.#flushed, this.length);
    if (this.#record >= 0) this.#record -= this.#flushed;
    this.buf = bigger;
    this.length = keep;
    this.#flushed = 0;
  }

  #begin(): void {
    if (this.#record >= 0) return;
    this.#room(8);
    this.#record = this.length;
    this.length += 8;
  }

  /** Appends `s` as `u32 length ‖ UTF-8`; returns where the UTF-8 starts. */
  #string(s: string): number {
    // A UTF-16 code unit is at most 3 UTF-8 bytes: room for the worst case, then the real length.
    this.#room(4 + s.length * 3);
    const at = this.length + 4;
    const n = this.buf.write(s, at, 'utf8');
    this.buf.writeUInt32LE(n, this.length);
    this.length = at + n;
    return at;
  }

  /** Appends a put to the open record (opening one if needed); returns a view of the value's UTF-8 bytes. */
  put(key: string, value: string): Buffer {
    this.#begin();
    this.#room(1);
    this.buf[this.length++] = 0;
    this.#string(key);
    const at = this.#string(value);
    return this.buf.subarray(at, this.length);
  }

  /** Appends a delete to the open record (opening one if needed). */
  del(key: string): void {
    this.#begin();
    this.#room(1);
    this.buf[this.length++] = 1;
    this.#string(key);
  }

  /** A position in the open record, to {@link rewind} to (e.g. when encoding a commit fails midway). */
  mark(): number {
    return this.#record < 0 ? -1 : this.length - this.#record;
  }

  /** Drops what was appended after `mark` (see {@link mark}). */
  rewind(mark: number): void {
    if (mark < 0) {
      if (this.#record >= 0) this.length = this.#record;
      this.#record = -1;
    } else this.length = this.#record + mark;
  }

  /** Closes the open record: fills in its length (flagged CRC-32) and checksum (no-op when none is open). */
  close(): void {
    const start = this.#record;
    if (start < 0) return;
    const n = this.length - start - 8;
    if (n > MAX_RECORD) throw new RangeError(`journal record of ${n} bytes: larger than a record can be`);
    this.buf.writeUInt32LE((n | CRC32_FLAG) >>> 0, start);
    this.buf.writeUInt32LE(crc32Bytes(this.buf, start + 8, this.length), start + 4);
    this.#record = -1;
  }

  /** The closed records not yet written to the file (a view). */
  unwritten(): Buffer {
    const end = this.#record >= 0 ? this.#record : this.length;
    return this.buf.subarray(this.#flushed, end);
  }

  /** Marks {@link unwritten} as written (or, after a failed write, as dropped). */
  written(): void {
    this.#flushed = this.#record >= 0 ? this.#record : this.length;
  }

  /**
   * Starts over at the beginning of the buffer: only when no view of it is still to be written to
   * LevelDB and no record is open.
   */
  reset(): void {
    this.length = 0;
    this.#flushed = 0;
    this.#record = -1;
  }
}

/**
 * The ops of every whole record of a journal file, in order (a torn or damaged tail ends it). Put
 * values are views of `buf` (their UTF-8 bytes, as written).
 */
export function decodeJournal(buf: Buffer): BatchOp[] {
  const ops: BatchOp[] = [];
  let at = 0;
  while (at + 8 <= buf.length) {
    const header = buf.readUInt32LE(at);
    const end = at + 8 + (header & MAX_RECORD);
    if (end > buf.length) break;
    const sum = (header & CRC32_FLAG) !== 0 ? crc32Bytes(buf, at + 8, end) : fnvBytes(buf, at + 8, end);
    if (sum !== buf.readUInt32LE(at + 4)) break;
    const record: BatchOp[] = [];
    let p = at + 8;
    /** The next `u32 length ‖ bytes` field's bytes, or `undefined` past the record's end. */
    const field = (): [number, number] | undefined => {
      if (p + 4 > end) return undefined;
      const n = buf.readUInt32LE(p);
      if (p + 4 + n > end) return undefined;
      const from = p + 4;
      p = from + n;
      return [from, p];
    };
    let ok = true;
    while (p < end) {
      const kind = buf[p++];
      const k = field();
      if (k === undefined || (kind !== 0 && kind !== 1)) { ok = false; break; }
      const key = buf.toString('utf8', k[0], k[1]);
      if (kind === 1) {
        record.push(delOp(key));
        continue;
      }
      const v = field();
      if (v === undefined) { ok = false; break; }
      record.push(putBytesOp(key, buf.subarray(v[0], v[1])));
    }
    if (!ok) break;
    for (const op of record) ops.push(op);
    at = end;
  }
  return ops;
}
