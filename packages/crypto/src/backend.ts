/**
 * Crypto backends: ed25519 and SHA-256 from node:crypto (default) or from the audited pure-JS
 * @noble libraries (portable fallback, and a cross-check in tests).
 * @packageDocumentation
 */
import { Buffer } from 'node:buffer';
import * as nodeCrypto from 'node:crypto';
import * as ed from '@noble/ed25519';
import { sha256 as nobleSha256, sha512 } from '@noble/hashes/sha2.js';
import { encodeBase64, encodeBase64Url } from './base64.js';
import { VerifyWorker } from './verify-worker.js';

// @noble/ed25519 v3 needs a SHA-512 for its synchronous API (see its README, "Enabling synchronous methods").
ed.hashes.sha512 = sha512;

/** An ed25519 implementation (RFC 8032; deterministic signatures). */
export interface Ed25519Backend {
  /** Short name, e.g. `"node"`, `"noble"`. */
  readonly name: string;
  /** The 32-byte public key of a 32-byte seed (the RFC 8032 private key). */
  publicKeyFromSeed(seed: Uint8Array): Uint8Array;
  /** The 64-byte signature of `message` with the key of `seed`. */
  sign(seed: Uint8Array, message: Uint8Array): Uint8Array;
  /**
   * Whether `signature` is a valid signature of `message` by `publicKey`. Returns `false` — never
   * throws — for wrong lengths, invalid points and any other malformed input.
   */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  /**
   * {@link Ed25519Backend.verify} off the calling thread where the backend can (node:crypto: on a
   * worker thread, in batches of the calls made together), so a caller can overlap verification
   * with other work. Resolves to
   * `false` — never rejects — for malformed input. Optional for third-party backends.
   */
  verifyAsync?(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean>;
  /**
   * {@link Ed25519Backend.verify} of the UTF-8 encoding of `text` (lone surrogates encode as
   * U+FFFD, as `TextEncoder` encodes them), where the backend can verify a string without first
   * making its bytes here (node:crypto: encoded into a buffer it reuses). Returns `false` — never
   * throws — for malformed input. Optional: callers encode the text and call `verify` without it.
   */
  verifyUtf8?(publicKey: Uint8Array, text: string, signature: Uint8Array): boolean;
}

/** An {@link Ed25519Backend} that also provides SHA-256. */
export interface CryptoBackend extends Ed25519Backend {
  /** SHA-256 digest (32 bytes). */
  sha256(data: Uint8Array): Uint8Array;
  /**
   * SHA-256 digest (32 bytes) of the UTF-8 encoding of `text`, where the backend can hash a
   * string without first making its bytes here (node:crypto encodes it natively). Optional:
   * {@link sha256Utf8} encodes and calls {@link CryptoBackend.sha256} without it.
   */
  sha256Utf8?(text: string): Uint8Array;
  /**
   * Unpadded base64 — URL-safe when `urlSafe` — of the SHA-256 digest of the UTF-8 encoding of
   * `text`, where the backend can produce the text form directly (node:crypto does, without
   * making a digest buffer). Optional: {@link sha256Utf8Base64} encodes {@link sha256Utf8}'s digest
   * without it.
   */
  sha256Utf8Base64?(text: string, urlSafe: boolean): string;
}

function checkSeed(seed: Uint8Array): void {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new TypeError('ed25519 seed must be 32 bytes');
}

/**
 * A small, approximately-LRU cache: an insertion-ordered `Map`; a hit moves its entry to the end
 * only when it has aged past half the limit, and a full cache evicts its oldest eighth in one
 * iterator pass. (Moving every hit to the end, or evicting the first key one at a time, is
 * quadratic in V8: deleted entries stay in the table as holes until it is rehashed.)
 */
class Lru<K, V> {
  readonly #map = new Map<K, { readonly v: V; readonly at: number }>();
  readonly #limit: number;
  #clock = 0;
  constructor(limit: number) {
    this.#limit = limit;
  }
  get(k: K): V | undefined {
    const e = this.#map.get(k);
    if (e === undefined) return undefined;
    if (this.#clock - e.at > this.#limit >> 1) {
      this.#map.delete(k);
      this.#map.set(k, { v: e.v, at: ++this.#clock });
    }
    return e.v;
  }
  set(k: K, v: V): void {
    if (this.#map.size >= this.#limit) {
      let n = Math.max(1, this.#limit >> 3);
      for (const key of this.#map.keys()) {
        if (n-- <= 0) break;
        this.#map.delete(key);
      }
    }
    this.#map.delete(k);
    this.#map.set(k, { v, at: ++this.#clock });
  }
}

/** `crypto.hash(algorithm, data, outputEncoding)` where this Node has it (≥ 20.12). */
const oneShotHash = (nodeCrypto as { hash?: (algorithm: string, data: Uint8Array | string, encoding: 'latin1' | 'base64' | 'base64url') => string }).hash;

/**
 * SHA-256 with node:crypto, as bytes. The one-shot `crypto.hash` answers in a string: a digest
 * `Buffer` made in C++ costs ~2–3 µs more per call than the whole hash of a PDU (~1 µs), so the
 * digest comes back as a latin1 string (one character per byte) and is copied into a small array.
 */
function nodeSha256(data: Uint8Array | string): Uint8Array {
  if (oneShotHash === undefined) return toU8(nodeCrypto.createHash('sha256').update(data).digest());
  const s = oneShotHash('sha256', data, 'latin1');
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = s.charCodeAt(i);
  return out;
}

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function bytesKey(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

/** Private KeyObjects by seed array identity (with a copy to detect in-place mutation). */
const privateByArray = new WeakMap<Uint8Array, { copy: Uint8Array; key: nodeCrypto.KeyObject }>();
const privateByValue = new Lru<string, nodeCrypto.KeyObject>(256);
const publicByValue = new Lru<string, nodeCrypto.KeyObject>(4096);

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function privateKeyObject(seed: Uint8Array): nodeCrypto.KeyObject {
  const hit = privateByArray.get(seed);
  if (hit !== undefined && sameBytes(hit.copy, seed)) return hit.key;
  checkSeed(seed);
  const k = bytesKey(seed);
  let key = privateByValue.get(k);
  if (key === undefined) {
    key = nodeCrypto.createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    privateByValue.set(k, key);
  }
  privateByArray.set(seed, { copy: seed.slice(), key });
  return key;
}

/**
 * Public KeyObjects by key array identity (with a copy to detect in-place mutation): a key source
 * hands out the same array for a key on every lookup, so a verification finds its KeyObject
 * without making a string of the key's bytes.
 */
const publicByArray = new WeakMap<Uint8Array, { readonly copy: Uint8Array; readonly key: nodeCrypto.KeyObject }>();

function publicKeyObject(publicKey: Uint8Array): nodeCrypto.KeyObject {
  const hit = publicByArray.get(publicKey);
  if (hit !== undefined && sameBytes(hit.copy, publicKey)) return hit.key;
  const k = bytesKey(publicKey);
  let key = publicByValue.get(k);
  if (key === undefined) {
    key = nodeCrypto.createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
    publicByValue.set(k, key);
  }
  publicByArray.set(publicKey, { copy: publicKey.slice(), key });
  return key;
}

/**
 * The buffer {@link nodeBackend}'s `verifyUtf8` encodes a message into (grown when a message does
 * not fit): node:crypto verifies synchronously, so one buffer serves every call, where a `Buffer`
 * per message would take a slice of Node's allocation pool and, every few messages, a new pool.
 */
let scratch: Buffer = Buffer.allocUnsafeSlow(16384);

/** `text` as UTF-8 in {@link scratch} (a view of its first bytes, valid until the next call). */
function scratchUtf8(text: string): Uint8Array {
  // At most 3 bytes per UTF-16 code unit: a text that short fits without counting its bytes.
  if (text.length * 3 > scratch.length) {
    const need = Buffer.byteLength(text, 'utf8');
    if (need > scratch.length) scratch = Buffer.allocUnsafeSlow(Math.max(need, scratch.length * 2));
  }
  const n = scratch.write(text, 0, 'utf8');
  return new Uint8Array(scratch.buffer, scratch.byteOffset, n);
}

function toU8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function lengthsOk(publicKey: Uint8Array, signature: Uint8Array): boolean {
  return (
    publicKey instanceof Uint8Array && publicKey.length === 32 && signature instanceof Uint8Array && signature.length === 64
  );
}

/** One ed25519 verification as a libuv thread-pool job (the worker's fallback). */
function verifyOnThreadPool(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  let key: nodeCrypto.KeyObject;
  try {
    key = publicKeyObject(publicKey);
  } catch {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    nodeCrypto.verify(null, message, key, signature, (err, ok) => resolve(err === null && ok));
  });
}

/** One ed25519 verification on this thread (the worker's help with its surplus). */
function verifyHere(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return nodeCrypto.verify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}

/** The node backend's verification worker, started on the first `verifyAsync`. */
let verifyWorker: VerifyWorker | undefined;

/**
 * How many of {@link nodeBackend}'s `verifyAsync` calls (all time, this thread) were verified on
 * the calling thread because the verification worker had `HELP_BEYOND` (8) jobs queued already —
 * the rest went to the worker thread. For profiling: a share near half means the calling thread
 * had as much time to spare for verification as the worker.
 */
export function nodeVerifyHelped(): number {
  return verifyWorker?.helped ?? 0;
}

/**
 * node:crypto (OpenSSL) backend — the default on Node. Raw keys are wrapped in PKCS#8/SPKI DER;
 * the resulting KeyObjects are cached (private keys per seed, public keys in a 4096-entry LRU).
 */
export const nodeBackend: CryptoBackend = {
  name: 'node',
  publicKeyFromSeed(seed) {
    const spki = nodeCrypto.createPublicKey(privateKeyObject(seed)).export({ format: 'der', type: 'spki' });
    return toU8(spki).slice(spki.length - 32);
  },
  sign(seed, message) {
    return toU8(nodeCrypto.sign(null, message, privateKeyObject(seed)));
  },
  verify(publicKey, message, signature) {
    if (!lengthsOk(publicKey, signature) || !(message instanceof Uint8Array)) return false;
    try {
      return nodeCrypto.verify(null, message, publicKeyObject(publicKey), signature);
    } catch {
      return false;
    }
  },
  verifyUtf8(publicKey, text, signature) {
    if (!lengthsOk(publicKey, signature) || typeof text !== 'string') return false;
    try {
      return nodeCrypto.verify(null, scratchUtf8(text), publicKeyObject(publicKey), signature);
    } catch {
      return false;
    }
  },
  verifyAsync(publicKey, message, signature) {
    if (!lengthsOk(publicKey, signature) || !(message instanceof Uint8Array)) return Promise.resolve(false);
    // Batched on a worker thread (see verify-worker.ts): a few µs of this thread per signature,
    // against ~30 µs for a libuv job's submission and completion.
    return (verifyWorker ??= new VerifyWorker(verifyOnThreadPool, verifyHere)).verify(publicKey, message, signature);
  },
  sha256(data) {
    return nodeSha256(data);
  },
  sha256Utf8(text) {
    // Hashing the string itself: node:crypto encodes it to UTF-8 in C++, where `Buffer.from`
    // first would allocate here (and every ~8 KiB a new allocation pool, with its GC cost).
    return nodeSha256(text);
  },
  sha256Utf8Base64(text, urlSafe) {
    if (oneShotHash === undefined) return encodeDigest(nodeSha256(text), urlSafe);
    // 32 bytes are 43 base64 characters and one `=` of padding (`base64url` output has none).
    return urlSafe ? oneShotHash('sha256', text, 'base64url') : oneShotHash('sha256', text, 'base64').slice(0, 43);
  },
};

/**
 * Pure-JS backend: @noble/ed25519 3.2.0 (SHA-512 from @noble/hashes) and @noble/hashes SHA-256.
 * Verification uses RFC 8032 strict rules (`zip215: false`) to agree with OpenSSL.
 */
export const nobleBackend: CryptoBackend = {
  name: 'noble',
  publicKeyFromSeed(seed) {
    checkSeed(seed);
    return ed.getPublicKey(seed);
  },
  sign(seed, message) {
    checkSeed(seed);
    return ed.sign(message, seed);
  },
  verify(publicKey, message, signature) {
    if (!lengthsOk(publicKey, signature) || !(message instanceof Uint8Array)) return false;
    try {
      return ed.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },
  verifyAsync(publicKey, message, signature) {
    return Promise.resolve(this.verify(publicKey, message, signature));
  },
  sha256(data) {
    return nobleSha256(data);
  },
};

/** The backend used when none is given: {@link nodeBackend}. */
export const defaultBackend: CryptoBackend = nodeBackend;

/**
 * SHA-256 of `data` (32 bytes).
 * @param backend - defaults to {@link defaultBackend} (node:crypto).
 */
export function sha256(data: Uint8Array, backend: CryptoBackend = defaultBackend): Uint8Array {
  return backend.sha256(data);
}

const utf8 = new TextEncoder();

/**
 * SHA-256 (32 bytes) of the UTF-8 encoding of `text` — the same digest as
 * `sha256(new TextEncoder().encode(text))`, without making the bytes where the backend can hash
 * the string itself ({@link CryptoBackend.sha256Utf8}). Lone surrogates encode as U+FFFD, as
 * `TextEncoder` encodes them.
 * @param backend - defaults to {@link defaultBackend} (node:crypto).
 */
export function sha256Utf8(text: string, backend: CryptoBackend = defaultBackend): Uint8Array {
  return backend.sha256Utf8 !== undefined ? backend.sha256Utf8(text) : backend.sha256(utf8.encode(text));
}

function encodeDigest(digest: Uint8Array, urlSafe: boolean): string {
  return urlSafe ? encodeBase64Url(digest) : encodeBase64(digest);
}

/**
 * Unpadded base64 of the SHA-256 of the UTF-8 encoding of `text`: standard alphabet (a content
 * hash, a v3 event ID) or, with `urlSafe`, the URL-safe one (v4+ event IDs, v12 room IDs). The
 * same string as `encodeBase64(sha256Utf8(text))` / `encodeBase64Url(sha256Utf8(text))`, made
 * directly where the backend can ({@link CryptoBackend.sha256Utf8Base64}).
 * @param backend - defaults to {@link defaultBackend} (node:crypto).
 */
export function sha256Utf8Base64(text: string, urlSafe = false, backend: CryptoBackend = defaultBackend): string {
  return backend.sha256Utf8Base64 !== undefined ? backend.sha256Utf8Base64(text, urlSafe) : encodeDigest(sha256Utf8(text, backend), urlSafe);
}
