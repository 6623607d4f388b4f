import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import { decodeBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { getRoomVersion } from '@roomgraph/room-versions';
import {
  EventsError,
  PduFormatError,
  buildEvent,
  checkContentHash,
  eventId,
  hashAndSignEvent,
  parsePdu,
  redact,
  roomIdFromCreateEvent,
  selectAuthEvents,
  stateLookupOf,
  toRoomEvent,
  verifyEventSignatures,
  requiredSigningServers,
  type KeyLookup,
  type Pdu,
} from '@roomgraph/events';
import { allFixtureEvents, readJsonl, vectors } from './fixtures.js';

const VERSIONS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'];
const vec = vectors();
const seed = (vec['signing_key'] as JsonObject)['seed_unpadded_base64'] as string;
const key = signingKeyFromSeed(seed, '1');
const signer = { serverName: 'domain', key };
const lookup: KeyLookup = (server, keyId) => (server === 'domain' && keyId === 'ed25519:1' ? { publicKey: key.publicKey } : undefined);

describe('official event-signing vectors (v1-v10 redaction)', () => {
  for (const v of vec['event_signing'] as JsonObject[]) {
    it(String(v['name']), () => {
      // A vector with an event_id is a v1-v2 event (v3+ PDUs have no event_id, C6).
      for (const rv of Object.hasOwn(v['input'] as JsonObject, 'event_id') ? ['1', '2'] : ['1', '5', '10']) {
        const { event } = hashAndSignEvent(v['input'] as JsonObject, getRoomVersion(rv), signer);
        expect(event).toEqual(v['expected']);
      }
      const derived = v['derived_not_official'] as JsonObject | undefined;
      // (The derived v11 value of the event_id vector keeps event_id in the signed bytes; a v11 PDU has
      // no event_id (C6), so that one is not comparable.)
      if (derived?.['signature_if_v11_redaction'] !== undefined && !Object.hasOwn(v['input'] as JsonObject, 'event_id')) {
        const { event } = hashAndSignEvent(v['input'] as JsonObject, getRoomVersion('11'), signer);
        expect(((event['signatures'] as JsonObject)['domain'] as JsonObject)['ed25519:1']).toBe(derived['signature_if_v11_redaction']);
      }
      expect(verifyEventSignatures(v['expected'] as JsonObject, getRoomVersion('1'), lookup).status).toBe('ok');
    });
  }
});

describe('signatures of the reference sample', () => {
  it('every non-forged event verifies with its server keys; forged ones do not', () => {
    let ok = 0;
    let failed = 0;
    for (const line of readJsonl('auth.jsonl.gz').filter((_, i) => i % 3 === 0)) {
      const rules = getRoomVersion(line['room_version'] as string);
      const keys = line['server_keys'] as Record<string, { key_id: string; public_key: string }>;
      const kl: KeyLookup = (server, keyId) => {
        const k = keys[server];
        return k !== undefined && k.key_id === keyId ? { publicKey: decodeBase64(k.public_key) } : undefined;
      };
      for (const e of [line['event'] as JsonObject, ...(line['auth_events'] as JsonObject[])]) {
        const r = verifyEventSignatures(e, rules, kl);
        if (r.status === 'ok') ok++;
        else failed++;
        // Also on the parsed Pdu and on a redacted copy (B8).
        expect(verifyEventSignatures(parsePdu(e, rules), rules, kl).status).toBe(r.status);
        expect(verifyEventSignatures(redact(e, rules), rules, kl).status).toBe(r.status);
      }
    }
    expect(ok).toBeGreaterThan(500);
    expect(failed).toBe(0);
    let forgedChecked = 0;
    for (const line of readJsonl('ingest.jsonl.gz')) {
      const rules = getRoomVersion(line['room_version'] as string);
      const keys = line['keys'] as Record<string, Record<string, string>>;
      const kl: KeyLookup = (server, keyId) => {
        const k = keys[server]?.[keyId];
        return k !== undefined ? { publicKey: decodeBase64(k) } : undefined;
      };
      for (const e of line['events'] as JsonObject[]) {
        if (!Object.hasOwn(e['content'] as JsonObject, 'x_forged')) continue;
        forgedChecked++;
        // Forged content only breaks the signature when the content is covered by redaction, or the hash.
        const sigOk = verifyEventSignatures(e, rules, kl).status === 'ok';
        expect(sigOk && checkContentHash(e, rules) && eventId(e, rules) === e['event_id']).toBe(false);
      }
    }
    expect(forgedChecked).toBeGreaterThan(0);
  });
});

describe('verifyEventSignatures outcomes', () => {
  const rules = getRoomVersion('10');
  const other = signingKeyFromSeed(new Uint8Array(32).fill(7), 'k2');
  const pdu = buildEvent({ roomVersion: rules, type: 'm.room.message', sender: '@a:domain', content: { body: 'x' }, prevEvents: [], authEvents: [], depth: 1, originServerTs: 1000, roomId: '!r:domain' }, signer);

  it('ok / missing-signature / missing-key / bad-signature', () => {
    expect(verifyEventSignatures(pdu, rules, lookup)).toEqual({ status: 'ok', servers: ['domain'] });
    expect(verifyEventSignatures({ ...pdu.json, signatures: {} }, rules, lookup).status).toBe('missing-signature');
    expect(verifyEventSignatures({ ...pdu.json, signatures: { domain: {} } }, rules, lookup).status).toBe('missing-signature');
    expect(verifyEventSignatures(pdu, rules, () => undefined)).toMatchObject({ status: 'missing-key', server: 'domain', keyIds: ['ed25519:1'] });
    expect(verifyEventSignatures(pdu, rules, () => ({ publicKey: other.publicKey }))).toMatchObject({ status: 'bad-signature', keyId: 'ed25519:1' });
    const junk = { ...pdu.json, signatures: { domain: { 'ed25519:1': 'not base64!' } } };
    expect(verifyEventSignatures(junk, rules, lookup).status).toBe('bad-signature');
    // Unknown extra keys and other algorithms are skipped.
    const extra = { ...pdu.json, signatures: { domain: { ...(pdu.signatures['domain'] ?? {}), 'ed25519:zzz': 'AAAA', 'curve:1': 'x' } } };
    expect(verifyEventSignatures(extra, rules, lookup).status).toBe('ok');
    // Never throws on malformed input.
    expect(verifyEventSignatures({ sender: 5 } as unknown as JsonObject, rules, lookup).status).toBe('missing-signature');
  });

  it('a parsed PDU (its cached signing text verified) answers as its JSON copy (bytes made to verify) does', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300, size: 'max' }), fc.constantFrom('1', '3', '10', '12'), fc.boolean(), (body, v, tamper) => {
        const r = getRoomVersion(v);
        // The type is signed (kept by redaction): non-ASCII text in the signed bytes.
        const built = buildEvent({ roomVersion: r, type: `org.x.${[...body].slice(0, 20).join('')}`, sender: '@a:domain', content: { body }, prevEvents: [], authEvents: [], depth: 1, originServerTs: 1000, roomId: Number(v) >= 12 ? '!' + 'B'.repeat(43) : '!r:domain' }, signer);
        const json = JSON.parse(JSON.stringify(built.json)) as Record<string, JsonValue>;
        if (tamper) {
          const sig = decodeBase64((json['signatures'] as Record<string, Record<string, string>>)['domain']!['ed25519:1']!);
          sig[3]! ^= 0x10;
          json['signatures'] = { domain: { 'ed25519:1': Buffer.from(sig).toString('base64').replace(/=+$/, '') } };
        }
        const parsed = parsePdu(JSON.parse(JSON.stringify(json)) as unknown, r);
        const expected = tamper ? 'bad-signature' : 'ok';
        expect(verifyEventSignatures(json, r, lookup).status).toBe(expected);
        expect(verifyEventSignatures(parsed, r, lookup)).toEqual(verifyEventSignatures(json, r, lookup));
        // Also with another key: bad on both.
        const otherKey: KeyLookup = () => ({ publicKey: other.publicKey });
        expect(verifyEventSignatures(parsed, r, otherKey).status).toBe('bad-signature');
      }),
      { numRuns: 120 },
    );
  });

  it('key validity is enforced from v5 only (B12)', () => {
    for (const v of ['4', '5']) {
      const r = getRoomVersion(v);
      const e = buildEvent({ roomVersion: r, type: 'm.room.message', sender: '@a:domain', content: {}, prevEvents: [], authEvents: [], depth: 1, originServerTs: 5000, roomId: '!r:domain' }, signer);
      const expired: KeyLookup = () => ({ publicKey: key.publicKey, validUntilTs: 4999 });
      const atTs: KeyLookup = () => ({ publicKey: key.publicKey, validUntilTs: 5000 });
      expect(verifyEventSignatures(e, r, expired).status).toBe(v === '4' ? 'ok' : 'missing-key');
      expect(verifyEventSignatures(e, r, atTs).status).toBe('ok');
    }
  });

  it('v1-v2 also require the event_id server (B9)', () => {
    const r = getRoomVersion('1');
    const e = hashAndSignEvent({ event_id: '$x:elsewhere', type: 'm', sender: '@a:domain', content: {}, room_id: '!r:domain', depth: 1, origin_server_ts: 1, prev_events: [], auth_events: [], hashes: {}, signatures: {} }, r, signer).event;
    expect(requiredSigningServers(e, r)).toEqual(['domain', 'elsewhere']);
    expect(verifyEventSignatures(e, r, lookup)).toMatchObject({ status: 'missing-signature', server: 'elsewhere' });
    expect(requiredSigningServers(e, getRoomVersion('3'))).toEqual(['domain']);
  });
});

function buildChain(v: string): Pdu[] {
  const rules = getRoomVersion(v);
  const base = { roomVersion: v, sender: '@alice:domain', originServerTs: 1700000000000 };
  const v12 = !rules.eventFormat.createEventHasRoomId;
  const create = buildEvent({ ...base, type: 'm.room.create', stateKey: '', content: v12 || Number(v) >= 11 ? { room_version: v } : { room_version: v, creator: '@alice:domain' }, prevEvents: [], authEvents: [], depth: 1, roomId: v12 ? undefined : '!room:domain' }, signer);
  const roomId = v12 ? roomIdFromCreateEvent(create.json) : '!room:domain';
  const join = buildEvent({ ...base, type: 'm.room.member', stateKey: '@alice:domain', content: { membership: 'join' }, prevEvents: [create], authEvents: v12 ? [] : [create], depth: 2, roomId }, signer);
  const state = stateLookupOf([create, join]);
  const skeleton = { type: 'm.room.message', stateKey: undefined, sender: '@alice:domain', content: { body: 'hi' } };
  const authIds = selectAuthEvents(skeleton, state, rules);
  const byId = new Map([create, join].map((e) => [e.eventId, e]));
  const msg = buildEvent({ ...base, type: 'm.room.message', content: { body: 'hi' }, prevEvents: [join], authEvents: authIds.map((id) => byId.get(id)!), depth: 3, roomId }, signer);
  const redaction = buildEvent({ ...base, type: 'm.room.redaction', content: {}, redacts: msg.eventId, prevEvents: [msg], authEvents: authIds.map((id) => byId.get(id)!), depth: 4, roomId }, signer);
  return [create, join, msg, redaction];
}

describe('buildEvent per room version', () => {
  for (const v of VERSIONS) {
    it(`v${v}: builds a valid, hashed, signed room whose IDs recompute`, () => {
      const rules = getRoomVersion(v);
      const [create, join, msg, redaction] = buildChain(v) as [Pdu, Pdu, Pdu, Pdu];
      for (const e of [create, join, msg, redaction]) {
        expect(Object.isFrozen(e)).toBe(true);
        expect(Object.isFrozen(e.json)).toBe(true);
        const reparsed = parsePdu(JSON.parse(JSON.stringify(e.json)), rules);
        expect(reparsed.eventId).toBe(e.eventId);
        expect(eventId(e.json, rules)).toBe(e.eventId);
        expect(checkContentHash(e.json, rules)).toBe(true);
        expect(verifyEventSignatures(e, rules, lookup).status).toBe('ok');
      }
      if (Number(v) <= 2) {
        expect(create.eventId).toMatch(/^\$[A-Za-z0-9_-]{18}:domain$/);
        expect((join.json['prev_events'] as JsonValue[])[0]).toEqual([create.eventId, { sha256: expect.stringMatching(/^[A-Za-z0-9+/]{43}$/) }]);
      } else {
        expect(join.json['prev_events']).toEqual([create.eventId]);
      }
      if (Number(v) === 12) {
        expect(Object.hasOwn(create.json, 'room_id')).toBe(false);
        expect(join.roomId).toBe('!' + create.eventId.slice(1));
        expect(msg.authEvents).toEqual([join.eventId]);
      } else {
        expect(msg.authEvents).toEqual([create.eventId, join.eventId]);
      }
      // redacts location (E6)
      expect(redaction.redacts).toBe(msg.eventId);
      if (Number(v) >= 11) {
        expect(redaction.content['redacts']).toBe(msg.eventId);
        expect(Object.hasOwn(redaction.json, 'redacts')).toBe(false);
      } else {
        expect(redaction.json['redacts']).toBe(msg.eventId);
        expect(Object.hasOwn(redaction.content, 'redacts')).toBe(false);
      }
    });
  }

  it('v1 event IDs can be deterministic; v1 references accept {eventId, sha256}', () => {
    const e = buildEvent({ roomVersion: '1', type: 'm.room.message', sender: '@a:domain', content: {}, prevEvents: [{ eventId: '$p:domain', sha256: 'abc' }], authEvents: [], depth: 2, originServerTs: 1, roomId: '!r:domain', eventIdLocalpart: 'fixed' }, signer);
    expect(e.eventId).toBe('$fixed:domain');
    expect(e.json['prev_events']).toEqual([['$p:domain', { sha256: 'abc' }]]);
  });

  it('argument errors', () => {
    const common = { type: 'm.room.message', sender: '@a:domain', content: {}, authEvents: [], depth: 2, originServerTs: 1, roomId: '!r:domain' };
    expect(() => buildEvent({ ...common, roomVersion: '1', prevEvents: ['$p:domain'] }, signer)).toThrow(EventsError);
    expect(() => buildEvent({ ...common, roomVersion: '10', prevEvents: [], roomId: undefined }, signer)).toThrow(/roomId/);
    expect(() => buildEvent({ ...common, roomVersion: '12', type: 'm.room.create', prevEvents: [], roomId: '!x' }, signer)).toThrow(/no room_id/);
    expect(() => buildEvent({ ...common, roomVersion: '10', prevEvents: [], sender: 'bad' }, signer)).toThrow(PduFormatError);
    expect(() => buildEvent({ ...common, roomVersion: '10', prevEvents: [5 as unknown as string] }, signer)).toThrow(EventsError);
  });

  it('validate: false returns the same event faster', () => {
    const input = { roomVersion: '10', type: 'm.room.message', sender: '@a:domain', content: { b: 1 }, prevEvents: [], authEvents: [], depth: 2, originServerTs: 1, roomId: '!r:domain' };
    const a = buildEvent(input, signer);
    const b = buildEvent(input, signer, { validate: false });
    expect(b.json).toEqual(a.json);
    expect(b.eventId).toBe(a.eventId);
    expect(Object.isFrozen(b.json)).toBe(true);
  });
});

describe('selectAuthEvents', () => {
  it('picks create (not v12), power levels, sender and target members, join rules, 3pid invite, authorising user', () => {
    const ev = (type: string, stateKey: string): JsonObject => ({ type, state_key: stateKey, event_id: `$${type}/${stateKey}`, content: {} });
    for (const v of ['7', '9', '12']) {
      const rules = getRoomVersion(v);
      const state = stateLookupOf([
        ev('m.room.create', ''), ev('m.room.power_levels', ''), ev('m.room.join_rules', ''), ev('m.room.member', '@s:x'),
        ev('m.room.member', '@t:x'), ev('m.room.member', '@via:x'), ev('m.room.third_party_invite', 'tok'), ev('m.room.name', ''),
      ].map((j) => toRoomEvent(j, rules)));
      const invite = selectAuthEvents({ type: 'm.room.member', stateKey: '@t:x', sender: '@s:x', content: { membership: 'invite', third_party_invite: { signed: { token: 'tok' } } } }, state, rules);
      const create = v === '12' ? [] : ['$m.room.create/'];
      expect(invite).toEqual([...create, '$m.room.power_levels/', '$m.room.member/@s:x', '$m.room.member/@t:x', '$m.room.join_rules/', '$m.room.third_party_invite/tok']);
      const join = selectAuthEvents({ type: 'm.room.member', stateKey: '@s:x', sender: '@s:x', content: { membership: 'join', join_authorised_via_users_server: '@via:x' } }, state, rules);
      expect(join).toEqual([...create, '$m.room.power_levels/', '$m.room.member/@s:x', '$m.room.join_rules/', ...(v === '7' ? [] : ['$m.room.member/@via:x'])]);
      expect(selectAuthEvents({ type: 'm.room.create', stateKey: '', sender: '@s:x', content: {} }, state, rules)).toEqual([]);
      expect(selectAuthEvents({ type: 'm.room.message', stateKey: undefined, sender: '@nobody:x', content: {} }, state, rules)).toEqual([...create, '$m.room.power_levels/']);
      const leave = selectAuthEvents({ type: 'm.room.member', stateKey: '@t:x', sender: '@s:x', content: { membership: 'leave' } }, state, rules);
      expect(leave).toEqual([...create, '$m.room.power_levels/', '$m.room.member/@s:x', '$m.room.member/@t:x']);
    }
  });
});

// ---- properties ----
const text = fc.string({ maxLength: 20 });
const contentArb = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }) as fc.Arbitrary<JsonObject>;
const safeContent = contentArb.map((c) => JSON.parse(JSON.stringify(c, (_k, val: unknown) => (typeof val === 'number' ? Math.trunc(val) % 1000000 : val))) as JsonObject);

const built = fc.record({
  v: fc.constantFrom(...VERSIONS),
  type: fc.constantFrom('m.room.message', 'm.room.member', 'm.room.power_levels', 'm.room.create', 'm.room.join_rules', 'org.custom'),
  stateKey: fc.option(text, { nil: undefined }),
  content: safeContent,
  depth: fc.nat({ max: 1000000 }),
  ts: fc.nat(),
});

function build(b: { v: string; type: string; stateKey: string | undefined; content: JsonObject; depth: number; ts: number }): Pdu {
  const rules = getRoomVersion(b.v);
  const noRoom = b.type === 'm.room.create' && !rules.eventFormat.createEventHasRoomId;
  const ref = Number(b.v) <= 2 ? { eventId: '$p:domain', sha256: 'aGFzaA' } : Number(b.v) === 3 ? '$' + 'A'.repeat(43) : '$' + '_'.repeat(43);
  return buildEvent({ roomVersion: b.v, type: b.type, stateKey: b.stateKey, sender: '@a:domain', content: b.content, prevEvents: [ref], authEvents: [], depth: b.depth, originServerTs: b.ts, roomId: noRoom ? undefined : Number(b.v) >= 12 ? '!' + 'B'.repeat(43) : '!r:domain' }, signer);
}

describe('buildEvent properties', () => {
  it('a built event parses, its content hash checks, its signature verifies, its ID recomputes', () => {
    fc.assert(
      fc.property(built, (b) => {
        const rules = getRoomVersion(b.v);
        const pdu = build(b);
        const again = parsePdu(JSON.parse(JSON.stringify(pdu.json)) as unknown, rules);
        expect(again.eventId).toBe(pdu.eventId);
        expect(checkContentHash(pdu.json, rules)).toBe(true);
        expect(verifyEventSignatures(pdu, rules, lookup).status).toBe('ok');
        expect(eventId(redact(pdu.json, rules), rules)).toBe(pdu.eventId);
      }),
      { numRuns: 150 },
    );
  });

  it('changing any byte of content or of a signed field breaks the hash or the signature', () => {
    fc.assert(
      fc.property(built, fc.nat(), fc.nat(), (b, pick, bit) => {
        const rules = getRoomVersion(b.v);
        const pdu = build(b);
        const canonical = JSON.stringify(pdu.json);
        // Mutate one character inside a string value of the event (never inside signatures/unsigned).
        const fields = ['type', 'sender', 'room_id', 'state_key', 'content', 'depth', 'origin_server_ts', 'prev_events', 'hashes'].filter((k) => Object.hasOwn(pdu.json, k));
        const field = fields[pick % fields.length]!;
        const original = JSON.stringify(pdu.json[field]);
        let mutated: JsonValue;
        if (typeof pdu.json[field] === 'number') mutated = (pdu.json[field] as number) + 1 + (bit % 5);
        else {
          const chars = [...original];
          const positions = chars.map((c, i) => (/[A-Za-z0-9@:!$._/-]/.test(c) ? i : -1)).filter((i) => i >= 0);
          if (positions.length === 0) return;
          const at = positions[bit % positions.length]!;
          chars[at] = chars[at] === 'a' ? 'b' : 'a';
          try {
            mutated = JSON.parse(chars.join('')) as JsonValue;
          } catch {
            return;
          }
        }
        if (JSON.stringify(mutated) === original) return;
        const forged = { ...(JSON.parse(canonical) as JsonObject), [field]: mutated };
        const hashOk = checkContentHash(forged, rules);
        const sigOk = verifyEventSignatures(forged, rules, lookup).status === 'ok';
        expect(hashOk && sigOk).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe('fixture sanity', () => {
  it('has events of all versions', () => {
    expect(new Set(allFixtureEvents().map((e) => e.roomVersion)).size).toBe(12);
  });
});

describe('verifyEventSignatures of a value that is not an event (fuzz finding: a TypeError reading .json of null)', () => {
  it.each(['1', '3', '10', '12'])('v%s: missing-signature, never a throw; requiredSigningServers: EVENTS_INVALID_ARGUMENT', (v) => {
    const rules = getRoomVersion(v);
    for (const x of [null, undefined, 'x', 5, [], { json: null }, { json: 'x' }]) {
      expect(verifyEventSignatures(x as unknown as JsonObject, rules, () => undefined)).toMatchObject({ status: 'missing-signature', server: '' });
    }
    for (const x of [null, 'x', 5, []]) {
      expect(() => requiredSigningServers(x as unknown as JsonObject, rules)).toThrow(expect.objectContaining({ name: 'EventsError', code: 'EVENTS_INVALID_ARGUMENT' }));
    }
  });
});
