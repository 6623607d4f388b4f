// A frozen event's content-hash and reference-hash bytes are assembled from one encoding of each of
// its top-level members (parsePdu makes them while measuring the size). They must equal the bytes of
// encoding the whole object, for any event — odd keys, astral keys, redacted content, event_id in
// v1–v2 and v3+, numbers a strict version refuses — and the size check must agree with the length
// of the whole encoding.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeCanonicalJson, type JsonObject, type JsonValue } from '@roomgraph/canonical-json';
import { getRoomVersion } from '@roomgraph/room-versions';
import { contentHash, eventId, hashAndSignEvent, type KeyLookup, parsePdu, PduFormatError, redactedSigningBytes, referenceHash, validatePdu, verifyEventSignatures, verifyEventSignaturesAsync } from '@roomgraph/events';
import { signingKeyFromSeed } from '@roomgraph/crypto';
import { allFixtureEvents } from './fixtures.js';
// The module itself (not the package's build): its `canonicalSize` fills the cache's texts, which
// its hash functions then hash as strings.
import * as hashes from '../src/hashes.js';

const VERSIONS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'] as const;

/** A deep-frozen deep copy (the cached path) — the original stays mutable (the uncached path). */
function frozen<T>(v: T): T {
  const c = structuredClone(v);
  const freeze = (x: unknown): void => {
    if (x !== null && typeof x === 'object') {
      Object.freeze(x);
      for (const y of Object.values(x)) freeze(y);
    }
  };
  freeze(c);
  return c;
}

/** No unpaired surrogate (such strings are not JSON). */
const wellFormed = (s: string): boolean => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);

const key = fc.oneof(
  fc.constantFrom('type', 'content', 'sender', 'event_id', 'hashes', 'signatures', 'unsigned', 'depth', 'membership', 'prev_state', 'origin'),
  fc.string({ unit: 'binary', maxLength: 6 }).filter(wellFormed),
  fc.constantFrom('\u{1F600}', '\uffff', 'ÿ', '\u0000', 'a"b', '__proto__'),
);
const jsonValue: fc.Arbitrary<JsonValue> = fc.letrec<{ v: JsonValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ unit: 'binary', maxLength: 8 }).filter(wellFormed),
    fc.integer(),
    fc.constantFrom(1.5, 2 ** 60, -0, true, false, null),
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(key, tie('v'), { maxKeys: 3 }),
  ),
})).v;
const eventArb = fc
  .record({
    type: fc.constantFrom('m.room.member', 'm.room.create', 'm.room.power_levels', 'm.room.message', 'm.room.join_rules', 'x'),
    content: fc.dictionary(fc.oneof(key, fc.constantFrom('membership', 'creator', 'users', 'join_rule', 'third_party_invite', 'join_authorised_via_users_server')), jsonValue, { maxKeys: 5 }),
    hashes: fc.constant({ sha256: 'abc' }),
    depth: fc.nat(),
    extra: fc.dictionary(key, jsonValue, { maxKeys: 4 }),
  })
  .map(({ extra, ...base }) => {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(extra)) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    return Object.assign(out, base) as JsonObject;
  });

const outcome = (f: () => unknown): unknown => {
  try {
    return f();
  } catch (e) {
    return `throws ${(e as Error).name}: ${(e as Error).message}`;
  }
};

describe('member-assembled hashes of frozen events', () => {
  it('give the same content hash, reference hash and event ID as encoding the whole event', () => {
    fc.assert(
      fc.property(eventArb, fc.constantFrom(...VERSIONS), (ev, v) => {
        const rules = getRoomVersion(v);
        const f = frozen(ev);
        if (v !== '1' && v !== '2') expect(outcome(() => eventId(f, rules))).toEqual(outcome(() => eventId(ev, rules)));
        expect(outcome(() => contentHash(f, rules))).toEqual(outcome(() => contentHash(ev, rules)));
        expect(outcome(() => Buffer.from(redactedSigningBytes(f, rules)).toString())).toEqual(outcome(() => Buffer.from(redactedSigningBytes(ev, rules)).toString()));
        expect(outcome(() => referenceHash(f, rules))).toEqual(outcome(() => referenceHash(ev, rules)));
      }),
      { numRuns: 1500 },
    );
  });

  it('hash the texts canonicalSize made (as strings, without their bytes) to the same digests as the whole encoding', () => {
    let measured = 0;
    fc.assert(
      fc.property(eventArb, fc.constantFrom(...VERSIONS), fc.boolean(), fc.boolean(), (ev, v, bytesFirst, retain) => {
        const rules = getRoomVersion(v);
        const f = frozen(ev);
        // Retained or not (a trusted PDU's), the texts give the same digests and bytes.
        const size = hashes.canonicalSize(f, rules, v !== '1' && v !== '2', retain);
        if (size === undefined) return;
        measured++;
        expect(size).toBe(Buffer.byteLength(encodeCanonicalJson(ev, { strict: false })));
        // Bytes asked for first (a signature check before the event ID) or the digests first.
        const signing = (): string => Buffer.from(hashes.redactedSigningBytes(f, rules)).toString('hex');
        if (bytesFirst) expect(outcome(signing)).toEqual(outcome(() => Buffer.from(hashes.redactedSigningBytes(ev, rules)).toString('hex')));
        expect(outcome(() => hashes.contentHash(f, rules))).toEqual(outcome(() => hashes.contentHash(ev, rules)));
        expect(outcome(() => hashes.referenceHash(f, rules))).toEqual(outcome(() => hashes.referenceHash(ev, rules)));
        expect(outcome(signing)).toEqual(outcome(() => Buffer.from(hashes.redactedSigningBytes(ev, rules)).toString('hex')));
        expect(outcome(() => hashes.checkContentHash(f, rules))).toBe(outcome(() => hashes.checkContentHash(ev, rules)));
      }),
      { numRuns: 1500 },
    );
    expect(measured).toBeGreaterThan(500);
  });

  it('after parsePdu (which fills the cache) the reference sample keeps its Synapse event IDs and content hashes', () => {
    let n = 0;
    for (const { roomVersion, event } of allFixtureEvents()) {
      // (A few are forged — content changed after signing — and list the original's event_id.)
      if (Object.hasOwn(event['content'] as JsonObject, 'x_forged')) continue;
      const rules = getRoomVersion(roomVersion);
      const r = validatePdu(event, rules);
      if (!r.ok) continue;
      const copy = structuredClone(event) as JsonObject;
      if (roomVersion !== '1' && roomVersion !== '2') {
        expect(r.pdu.eventId).toBe(eventId(copy, rules));
        expect(r.pdu.eventId).toBe(event['event_id']);
      }
      expect(contentHash(r.pdu.json, rules)).toBe(contentHash(copy, rules));
      n++;
    }
    expect(n).toBeGreaterThan(1000);
  });

  it('parses a trusted PDU to the same PDU, without keeping its texts for hash and signature checks made later', () => {
    let n = 0;
    for (const { roomVersion, event } of allFixtureEvents()) {
      const rules = getRoomVersion(roomVersion);
      const r = validatePdu(event, rules);
      const t = validatePdu(event, rules, { trusted: true });
      expect(t.ok).toBe(r.ok);
      if (!r.ok || !t.ok) continue;
      expect(t.pdu.eventId).toBe(r.pdu.eventId);
      expect(t.pdu.json).toEqual(r.pdu.json);
      expect(hashes.isRetained(r.pdu.json)).toBe(true);
      expect(hashes.isRetained(t.pdu.json)).toBe(false);
      // Checked anyway, it is encoded again: the same answers.
      expect(contentHash(t.pdu.json, rules)).toBe(contentHash(r.pdu.json, rules));
      expect(Buffer.from(redactedSigningBytes(t.pdu.json, rules)).toString()).toBe(Buffer.from(redactedSigningBytes(r.pdu.json, rules)).toString());
      n++;
    }
    expect(n).toBeGreaterThan(1000);
  });

  it('keeps of a received PDU its content digest, not its texts, and forgets its signing text once its signatures are checked', async () => {
    // The texts live from parsing to the signature check; only the digest waits for the content
    // hash check (check 3, maybe many PDUs later). Texts kept longer are promoted by the GC.
    const key = signingKeyFromSeed(new Uint8Array(32).fill(3), 'k');
    const lookup: KeyLookup = (server, keyId) => (server === 'x' && keyId === 'ed25519:k' ? { publicKey: key.publicKey } : undefined);
    let n = 0;
    for (const v of VERSIONS) {
      const rules = getRoomVersion(v);
      for (const [i, body] of ['a', 'é\u{1F600}', '"\\'].entries()) {
        const base: JsonObject = {
          type: 'm.room.message', room_id: v === '12' ? `!${'A'.repeat(43)}` : '!r:x', sender: '@a:x', origin_server_ts: 1000 + i, depth: 2,
          content: { body, n: i }, prev_events: [], auth_events: [], unsigned: { age: 1 },
          ...(v === '1' || v === '2' ? { event_id: `$e${i}:x` } : {}),
        };
        const signed = hashAndSignEvent(base, rules, { serverName: 'x', key }).event;
        for (const async of [false, true]) {
          const pdu = parsePdu(structuredClone(signed), rules);
          // Parsed: the digest and the signing text (for the check to come), no content text.
          expect(hashes.retainedTexts(pdu.json, rules)).toEqual({ content: false, signing: v !== '1' && v !== '2', digest: true });
          expect(hashes.contentHash(pdu.json, rules)).toBe(hashes.contentHash(structuredClone(signed), rules));
          expect(hashes.checkContentHash(pdu.json, rules)).toBe(true);
          const result = async ? await verifyEventSignaturesAsync(pdu, rules, lookup) : verifyEventSignatures(pdu, rules, lookup);
          expect(result.status).toBe('ok');
          // Checked: the signing text is gone, the digest stays.
          expect(hashes.retainedTexts(pdu.json, rules)).toEqual({ content: false, signing: false, digest: true });
          // Asked again, everything is encoded again: the same answers.
          expect((async ? await verifyEventSignaturesAsync(pdu, rules, lookup) : verifyEventSignatures(pdu, rules, lookup)).status).toBe('ok');
          expect(Buffer.from(redactedSigningBytes(pdu.json, rules)).toString()).toBe(Buffer.from(redactedSigningBytes(structuredClone(signed), rules)).toString());
          expect(hashes.referenceHash(pdu.json, rules)).toEqual(hashes.referenceHash(structuredClone(signed), rules));
          n++;
        }
      }
    }
    expect(n).toBe(VERSIONS.length * 3 * 2);
  });

  it('keeps no texts of a mutable event, retained or not (a change made after is hashed)', () => {
    const rules = getRoomVersion('10');
    for (const retain of [true, false]) {
      const e: Record<string, JsonValue> = { type: 'm.room.message', content: { body: 'a' }, hashes: { sha256: 'x' }, depth: 1, sender: '@a:x' };
      expect(hashes.canonicalSize(e, rules, true, retain)).toBeUndefined();
      const before = hashes.contentHash(e, rules);
      (e['content'] as Record<string, JsonValue>)['body'] = 'b';
      expect(hashes.contentHash(e, rules)).not.toBe(before);
      expect(hashes.contentHash(e, rules)).toBe(hashes.contentHash(frozen(e), rules));
    }
  });

  it('measures the PDU size exactly: at the 65,536-byte limit accepted, one byte over refused', () => {
    fc.assert(
      fc.property(fc.constantFrom(...VERSIONS), fc.constantFrom('a', 'é', '\u{1F600}', '"'), fc.boolean(), (v, unit, inUnsigned) => {
        const rules = getRoomVersion(v);
        const base: Record<string, JsonValue> = {
          type: 'm.room.message', room_id: v === '12' ? `!${'A'.repeat(43)}` : '!r:x', sender: '@a:x', origin_server_ts: 1, depth: 1,
          content: { body: '' }, hashes: { sha256: 'abc' }, signatures: { x: { 'ed25519:1': 'sig' } },
          prev_events: [], auth_events: [], unsigned: { pad: '' },
          ...(v === '1' || v === '2' ? { event_id: '$e:x' } : {}),
        };
        const size = (e: JsonObject): number => Buffer.byteLength(encodeCanonicalJson(e, { strict: false }));
        const fill = (target: number): JsonObject => {
          const e = structuredClone(base);
          const slot = inUnsigned ? (e['unsigned'] as Record<string, JsonValue>) : (e['content'] as Record<string, JsonValue>);
          const field = inUnsigned ? 'pad' : 'body';
          const unitBytes = size({ s: unit.repeat(2) }) - size({ s: unit });
          let s = unit.repeat(Math.floor((target - size(e)) / unitBytes));
          slot[field] = s;
          while (size(e) < target) {
            s += 'a';
            slot[field] = s;
          }
          return e;
        };
        const atLimit = fill(65536);
        expect(size(atLimit)).toBe(65536);
        expect(parsePdu(atLimit, rules).json['type']).toBe('m.room.message');
        const over = fill(65537);
        expect(size(over)).toBeGreaterThan(65536);
        expect(() => parsePdu(over, rules)).toThrow(PduFormatError);
      }),
      { numRuns: 60 },
    );
  });
});
