/**
 * Content hashes and reference hashes (Server-Server API › Calculating the content hash for an
 * event, Calculating the reference hash for an event; checklist C1–C6).
 *
 * @module
 */
import { DEFAULT_MAX_DEPTH, encodeCanonicalJson, encodeCanonicalJsonBytes, encodeCanonicalMembers, type JsonObject, type JsonValue } from '@roomgraph/canonical-json';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { encodeBase64, encodeBase64Url, sha256, sha256Utf8, sha256Utf8Base64, tryDecodeBase64 } from './digest.js';
import { EventsError, requireObject } from './errors.js';
import { keepsTopLevel, redact, redactContent } from './redact.js';

/** Canonical JSON bytes of `value`, strict or lenient per room version (A8/A9). */
export function canonicalBytes(value: JsonValue, rules: RoomVersionRules | undefined, omitKeys?: readonly string[]): Uint8Array {
  try {
    return encodeCanonicalJsonBytes(value, { strict: rules?.canonicalJson.strict ?? false, ...(omitKeys !== undefined ? { omitKeys } : {}) });
  } catch (e) {
    throw new EventsError('EVENTS_NOT_ENCODABLE', `event is not encodable as canonical JSON: ${(e as Error).message}`);
  }
}

const CONTENT_STRIP = ['unsigned', 'signatures', 'hashes'];
const CONTENT_STRIP_V3 = ['unsigned', 'signatures', 'hashes', 'event_id'];


/**
 * The SHA-256 content hash of an event as unpadded base64 (C1): the event without `unsigned`,
 * `signatures` and `hashes`, as canonical JSON. Everything else is covered, including the full
 * content and (v1–v2) `event_id`.
 *
 * @param event - the full (unredacted) PDU in federation format.
 * @param rules - decides strict or lenient canonical JSON, and for v3+ an `event_id` key (not part
 *   of the federation PDU, C6) is ignored. Omit for lenient encoding of the object exactly as given.
 * @throws {@link EventsError} `EVENTS_NOT_ENCODABLE` (lone surrogate, non-finite number...).
 */
export function contentHash(event: JsonObject, rules?: RoomVersionRules): string {
  if (rules === undefined) return encodeBase64(sha256(contentHashBytes(event, rules)));
  // A received PDU's digest was taken by `parsePdu` (see {@link canonicalSize}); any other frozen
  // event's is remembered (the digest, not the bytes: a digest is all a later check compares).
  const cached = cacheOf(event, rules);
  if (cached?.contentDigest !== undefined) return cached.contentDigest;
  const digest = cached?.contentText !== undefined ? sha256Utf8Base64(cached.contentText) : encodeBase64(sha256(canonicalBytes(event, rules, contentOmit(rules))));
  if (cached !== undefined) cached.contentDigest = digest;
  return digest;
}

/**
 * The bytes the content hash covers (internal; see {@link contentHash}). Cached for frozen events,
 * like {@link redactedSigningBytes}: `parsePdu` makes both from one encoding of the event's members
 * ({@link canonicalSize}) and the receipt checks hash them, so a received PDU is encoded once.
 */
export function contentHashBytes(event: JsonObject, rules: RoomVersionRules | undefined): Uint8Array {
  if (rules === undefined) return canonicalBytes(requireObject(event), undefined, CONTENT_STRIP);
  const omit = contentOmit(rules);
  const cached = cacheOf(event, rules);
  if (cached === undefined) return canonicalBytes(event, rules, omit);
  return (cached.content ??= cached.contentText !== undefined ? textBytes(cached.contentText) : canonicalBytes(event, rules, omit));
}

function contentOmit(rules: RoomVersionRules): readonly string[] {
  return rules.eventFormat.eventIdFormat !== 'server-assigned' ? CONTENT_STRIP_V3 : CONTENT_STRIP;
}

function signingOmit(rules: RoomVersionRules): readonly string[] {
  return rules.eventFormat.eventIdFormat === 'server-assigned' ? SIGNING_STRIP : SIGNING_STRIP_V3;
}

const SIGNING_STRIP = ['signatures', 'unsigned'];
const SIGNING_STRIP_V3 = ['signatures', 'unsigned', 'event_id'];

/**
 * The size of a frozen event in bytes of canonical JSON (every member counted, `signatures`,
 * `unsigned` and `hashes` included: the size `parsePdu` limits), or `undefined` when it cannot be
 * encoded. On the way its content-hash bytes — and with `signing` its reference-hash (signing)
 * bytes — are made and cached, all from one encoding of each top-level member (APP › Canonical
 * JSON: an object's text is its members' `"key":value` texts in code point order of the keys,
 * joined by commas, so any subset of the members, or the redacted event whose members are mostly
 * the same values, is assembled from the same texts).
 *
 * With `within` and not `retain`ed (a trusted PDU: no content hash will be checked), an event whose
 * member texts are so short that even at 3 UTF-8 bytes per UTF-16 code unit it cannot exceed
 * `within` bytes is not measured exactly: the answer is that upper bound (≤ `within`), and its
 * content-hash text is not built — nothing would read it.
 */
export function canonicalSize(event: JsonObject, rules: RoomVersionRules, signing: boolean, retain = true, within?: number): number | undefined {
  // Texts, not bytes: the hashes are taken of the texts (`sha256Utf8`), and bytes are made only
  // where something needs them (a signature check), once. Not `retain`ed, they serve only the
  // calls that follow at once (`parsePdu`'s event ID): see {@link transientEntry}.
  const cached = retain ? cacheOf(event, rules) : transientEntry(event, rules);
  if (cached === undefined) return undefined;
  const strict = rules.canonicalJson.strict;
  // Each member's `"key":value` text, keys in canonical order (one encoder for all of them).
  let keys: readonly string[];
  let texts: readonly string[];
  try {
    ({ keys, texts } = encodeCanonicalMembers(event, { strict }));
  } catch {
    return undefined;
  }
  // Not retained (trusted: no content hash check) and certainly `within` the limit, the content
  // text is not needed: it is not built, and an upper bound of the size is the answer (see above).
  let bound = -1;
  if (!retain && within !== undefined && cached.contentText === undefined) {
    // A UTF-16 code unit is at most 3 bytes of UTF-8; a comma per member but the first, the braces.
    let units = keys.length + 1;
    for (let i = 0; i < texts.length; i++) units += (texts[i] as string).length;
    if (units * 3 <= within) bound = units * 3;
  }
  // The whole event's size is the content-hash text's plus the members it leaves out, each with
  // its comma (measured apart: the whole text is never built).
  let contentText: string | undefined;
  let rest = 0;
  let restCount = 0;
  let contentCount = 0;
  if (bound < 0) {
    const content: string[] = [];
    const contentSkip = contentOmit(rules);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      const t = texts[i] as string;
      if (!contentSkip.includes(k)) content.push(t);
      else {
        rest += textLength(t);
        restCount++;
      }
    }
    contentCount = content.length;
    contentText = cached.contentText ?? braced(content);
    // Retained (a received PDU): its content hash is taken now, while the text is at hand, and only
    // the digest is kept for the content hash check (check 3), which may come many PDUs later (a
    // block checks a run the look-ahead prepared). Keeping the text (~1 KB, and its rope of
    // members) until then kept it past two scavenges: promoted to the old generation, to die there.
    // Not retained (trusted: no content hash check), the text serves only the calls that follow.
    if (retain) cached.contentDigest ??= sha256Utf8Base64(contentText);
    else cached.contentText = contentText;
  }
  if (signing && cached.signing === undefined) {
    // The redacted event (`redact`) has the members the redaction keeps — their texts are the
    // event's own (a kept value is the same value: the event is frozen, and a copy of a value
    // not frozen deep would encode the same) — and the redacted content, encoded here.
    const r = rules.redaction;
    const omit = signingOmit(rules);
    const text: string[] = [];
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      if (omit.includes(k)) continue;
      let t: string | undefined;
      if (k === 'content') t = contentMember(redactContent(event['type'], event['content'], r), strict);
      else if (keepsTopLevel(k, r)) t = texts[i];
      else continue;
      if (t === undefined) return undefined;
      text.push(t);
    }
    cached.signingText = braced(text);
  }
  if (contentText === undefined) return bound;
  return textLength(contentText) + rest + (contentCount === 0 ? Math.max(0, restCount - 1) : restCount);
}

/** The `"content":value` member text of a (redacted) content, or `undefined` when it cannot be encoded. */
function contentMember(v: JsonValue, strict: boolean): string | undefined {
  try {
    // One level below the top: the whole event's nesting limit applies to its members.
    return '"content":' + encodeCanonicalJson(v, { strict, maxDepth: DEFAULT_MAX_DEPTH - 1 });
  } catch {
    return undefined;
  }
}

/**
 * `{` + the member texts joined by commas + `}`, as one flat string: `join` copies the texts once
 * into a new string, where appending them one by one made a rope of two string objects per member
 * — which hashing, measuring or encoding the text then flattened into a copy anyway.
 */
function braced(members: string[]): string {
  const n = members.length;
  if (n === 0) return '{}';
  members[0] = '{' + (members[0] as string);
  members[n - 1] = (members[n - 1] as string) + '}';
  return members.join(',');
}

const utf8 = new TextEncoder();
// On Node, Buffer's UTF-8 encoder is faster than TextEncoder.
const NodeBuffer = (globalThis as { Buffer?: { from(s: string, enc: 'utf8'): Uint8Array; byteLength(s: string, enc: 'utf8'): number } }).Buffer;

function textBytes(text: string): Uint8Array {
  if (NodeBuffer === undefined) return utf8.encode(text);
  const b = NodeBuffer.from(text, 'utf8');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function textLength(text: string): number {
  return NodeBuffer !== undefined ? NodeBuffer.byteLength(text, 'utf8') : utf8.encode(text).length;
}

/**
 * What is remembered for a recent frozen event (for one room version): the content-hash and
 * signing texts (canonical JSON, as `canonicalSize` assembles them) and their bytes once made.
 */
interface CachedBytes {
  readonly rules: RoomVersionRules;
  content: Uint8Array | undefined;
  signing: Uint8Array | undefined;
  contentText: string | undefined;
  signingText: string | undefined;
  /** The content hash (unpadded base64): what the content hash check compares. */
  contentDigest: string | undefined;
}

/**
 * Bytes of recent frozen events: the newest {@link RECENT_BYTES} to {@link RECENT_BYTES}×2 events,
 * in two generations (a full young generation becomes the old one, and the old one is dropped
 * whole: constant time per event, where evicting a `Map`'s first key one at a time is quadratic in
 * V8 — deleted entries stay in the table as holes that every `keys()` walk skips). Bounded, not
 * weak: a received event's bytes are needed for a moment — the event ID, the size check, the
 * signature and content hash checks, all within one receipt — while the event itself may live for
 * the whole process (a memory store keeps every event's JSON). Held weakly they lived as long as
 * the event: buffers per stored event, each pinning a shared 8 KiB allocation pool of `Buffer`,
 * about 1.3 KiB per event in a 20k-event room.
 */
let young = new Map<JsonObject, CachedBytes>();
let old = new Map<JsonObject, CachedBytes>();

/** The event {@link cacheOf} answered last (only ever a frozen one) and its entry. */
let lastEvent: JsonObject | undefined;
let lastEntry: CachedBytes | undefined;

function remember(event: JsonObject, entry: CachedBytes): CachedBytes {
  lastEvent = event;
  lastEntry = entry;
  return entry;
}

/**
 * Events per generation of the bytes cache: twice the reach of the engine's receive look-ahead
 * (a PDU is at most two windows of 32 ahead of the block that checks its content hash), so a
 * PDU's digest taken while parsing is still there when check 3 runs; a miss only costs encoding
 * again. No more: an entry (the digest, and the texts until the signature check takes them) kept
 * past two scavenges (~370 received PDUs apart in the million-event run) is promoted to the old
 * generation and dies there — at 2,048 per generation every entry was (60k-event run: 72 -> 65 MB
 * promoted).
 */
const RECENT_BYTES = 128;

/** The cache entry of a frozen event for `rules` (made on first use); `undefined` for a mutable event. */
function cacheOf(event: JsonObject, rules: RoomVersionRules): CachedBytes | undefined {
  // The same event is asked for several times in a row (its size, then its event ID, its hashes).
  if (event === lastEvent && lastEntry !== undefined && lastEntry.rules === rules) return lastEntry;
  requireObject(event);
  if (!Object.isFrozen(event)) return undefined;
  const hit = young.get(event) ?? old.get(event);
  if (hit !== undefined && hit.rules === rules) return remember(event, hit);
  const entry: CachedBytes = { rules, content: undefined, signing: undefined, contentText: undefined, signingText: undefined, contentDigest: undefined };
  remember(event, entry);
  young.set(event, entry);
  if (young.size >= RECENT_BYTES) {
    old = young;
    young = new Map<JsonObject, CachedBytes>();
  }
  return entry;
}

/** The entry the cache holds for `event` under `rules`, without making one (unlike {@link cacheOf}). */
function entryOf(event: JsonObject, rules: RoomVersionRules): CachedBytes | undefined {
  const e = event === lastEvent && lastEntry !== undefined && lastEntry.rules === rules ? lastEntry : (young.get(event) ?? old.get(event));
  return e !== undefined && e.rules === rules ? e : undefined;
}

/**
 * What the cache holds for `event` under `rules` (internal, for tests): whether its content-hash
 * text or bytes, its signing text or bytes, and its content digest are kept.
 */
export function retainedTexts(event: JsonObject, rules: RoomVersionRules): { readonly content: boolean; readonly signing: boolean; readonly digest: boolean } | undefined {
  const e = entryOf(event, rules);
  if (e === undefined) return undefined;
  return { content: e.contentText !== undefined || e.content !== undefined, signing: e.signingText !== undefined || e.signing !== undefined, digest: e.contentDigest !== undefined };
}

/** Whether the generations hold an entry of `event` (internal, for tests: what {@link transientEntry} leaves out). */
export function isRetained(event: JsonObject): boolean {
  return young.has(event) || old.has(event);
}

/**
 * {@link cacheOf} for an event whose texts are wanted only by the calls that follow at once: the
 * entry is the last one answered (what those calls find first), not put in the generations — for
 * a trusted PDU, whose content hash and signatures are not checked, so nothing would read them
 * later, and they would only be kept, and copied by the garbage collector, for thousands of
 * events. A later call for it finds nothing and encodes again.
 */
function transientEntry(event: JsonObject, rules: RoomVersionRules): CachedBytes | undefined {
  if (event === lastEvent && lastEntry !== undefined && lastEntry.rules === rules) return lastEntry;
  requireObject(event);
  if (!Object.isFrozen(event)) return undefined;
  return remember(event, { rules, content: undefined, signing: undefined, contentText: undefined, signingText: undefined, contentDigest: undefined });
}

/**
 * Whether `event.hashes.sha256` equals the recomputed content hash (C4). A missing or non-string
 * hash is `false`. Padding in the stored value is tolerated (APP › Unpadded Base64 B2).
 * On `false` a receiving server replaces the event with its redacted form (H1 step 3).
 */
export function checkContentHash(event: JsonObject, rules?: RoomVersionRules): boolean {
  if (event === null || typeof event !== 'object') return false;
  const hashes = event['hashes'];
  if (hashes === null || typeof hashes !== 'object' || Array.isArray(hashes)) return false;
  const claimed = (hashes as JsonObject)['sha256'];
  if (typeof claimed !== 'string') return false;
  let computed: string;
  try {
    computed = contentHash(event, rules);
  } catch {
    return false;
  }
  if (claimed === computed) return true;
  const decoded = tryDecodeBase64(claimed);
  return decoded !== undefined && decoded.length === 32 && encodeBase64(decoded) === computed;
}

/**
 * The bytes the reference hash (and every signature) covers (C5, B5, B8): the event redacted by the
 * room version's algorithm, without `signatures` and `unsigned`, as canonical JSON. For v3+ an
 * `event_id` key is removed first (C6: it is not part of the federation PDU).
 */
export function redactedSigningBytes(event: JsonObject, rules: RoomVersionRules): Uint8Array {
  // The event ID (reference hash) and the signature check of one received PDU cover the same
  // bytes: a frozen event (this package's PDUs are deep-frozen) computes them once per room version.
  const cached = cacheOf(event, rules);
  if (cached === undefined) return canonicalBytes(redact(event, rules), rules, signingOmit(rules));
  return (cached.signing ??= cached.signingText !== undefined ? textBytes(cached.signingText) : canonicalBytes(redact(event, rules), rules, signingOmit(rules)));
}

/**
 * Forgets the signing text and bytes cached for the frozen `event` (internal): a signature check
 * calls it once it holds them — nothing else reads them later (the event ID was taken when the PDU
 * was parsed), and kept in the cache's generations they would outlive two scavenges and be
 * promoted, to die in the old generation. A later call encodes again.
 */
export function releaseSigningText(event: JsonObject, rules: RoomVersionRules): void {
  const cached = entryOf(event, rules);
  if (cached === undefined) return;
  cached.signingText = undefined;
  cached.signing = undefined;
}

/**
 * The text {@link redactedSigningBytes} encodes, where `parsePdu` left it cached for the frozen
 * `event` (internal: a signature check verifies it without making its bytes); `undefined` otherwise.
 */
export function redactedSigningText(event: JsonObject, rules: RoomVersionRules): string | undefined {
  return cacheOf(event, rules)?.signingText;
}

/**
 * The SHA-256 reference hash of an event (C5): redact with the room version's algorithm, remove
 * `signatures` and `unsigned` (and, for v3+, any `event_id`: C6), canonical JSON, SHA-256.
 * `hashes` stays in.
 *
 * @returns the 32-byte digest.
 * @throws {@link EventsError} `EVENTS_NOT_ENCODABLE`.
 */
export function referenceHash(event: JsonObject, rules: RoomVersionRules): Uint8Array {
  // A parsed PDU's signing text (made by `parsePdu`) is hashed as it is, without its bytes.
  const text = cacheOf(event, rules)?.signingText;
  return text !== undefined ? sha256Utf8(text) : sha256(redactedSigningBytes(event, rules));
}

/**
 * {@link referenceHash} as unpadded base64 — URL-safe when `urlSafe` — the form event IDs and v12
 * room IDs use (internal): from a parsed PDU's signing text the digest goes straight to text.
 */
export function referenceHashBase64(event: JsonObject, rules: RoomVersionRules, urlSafe: boolean): string {
  const text = cacheOf(event, rules)?.signingText;
  if (text !== undefined) return sha256Utf8Base64(text, urlSafe);
  const digest = sha256(redactedSigningBytes(event, rules));
  return urlSafe ? encodeBase64Url(digest) : encodeBase64(digest);
}
