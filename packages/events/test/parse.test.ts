import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCanonicalJson, type JsonObject, type JsonValue } from '@roomgraph/canonical-json';
import { getRoomVersion } from '@roomgraph/room-versions';
import {
  MAX_PDU_BYTES,
  PduFormatError,
  parsePdu,
  parsePduText,
  validatePdu,
  type PduProblem,
  type PduProblemCode,
  isValidServerName,
  isValidUserId,
  isValidRoomId,
  isValidEventId,
  utf8ByteLength,
} from '@roomgraph/events';

const VERSIONS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'];
const STD_ID = '$' + 'abc+/'.repeat(8) + 'xyz'; // 43 chars of standard base64
const URL_ID = '$' + 'abc-_'.repeat(8) + 'xyz';
const V12_ROOM = '!' + 'Rm-_9'.repeat(8) + 'abc';

function idFor(v: string, n = 0): string {
  const x = Number(v);
  if (x <= 2) return `$ev${n}:example.org`;
  return (x === 3 ? STD_ID : URL_ID).slice(0, 40) + String(n).padStart(4, '0');
}
function ref(v: string, n = 0): JsonValue {
  return Number(v) <= 2 ? [idFor(v, n), { sha256: 'aGFzaA' }] : idFor(v, n);
}

/** A structurally valid PDU of room version `v`. */
function base(v: string, over: Record<string, JsonValue | undefined> = {}): Record<string, JsonValue> {
  const x = Number(v);
  const e: Record<string, JsonValue> = {
    type: 'm.room.message',
    sender: '@alice:example.org',
    content: { body: 'hello', msgtype: 'm.text' },
    origin_server_ts: 1700000000000,
    depth: 12,
    hashes: { sha256: 'aGFzaA' },
    signatures: { 'example.org': { 'ed25519:1': 'c2ln' } },
    prev_events: [ref(v, 1)],
    auth_events: [ref(v, 2), ref(v, 3)],
    room_id: x >= 12 ? V12_ROOM : '!room:example.org',
  };
  if (x <= 2) e['event_id'] = '$abc:example.org';
  for (const [k, val] of Object.entries(over)) {
    if (val === undefined) delete e[k];
    else e[k] = val;
  }
  return e;
}

function problems(input: unknown, v: string, opts?: { skipReferenceLimits?: boolean }): PduProblem[] {
  const r = validatePdu(input, getRoomVersion(v), opts);
  return r.ok ? [] : [...r.problems];
}
/** The problems' codes — the same for a trusted parse, which skips no check of the format (nor the size). */
function codes(input: unknown, v: string): PduProblemCode[] {
  const found = problems(input, v).map((p) => p.code);
  const trusted = validatePdu(input, getRoomVersion(v), { trusted: true });
  expect(trusted.ok ? [] : trusted.problems.map((p) => p.code)).toEqual(found);
  return found;
}

describe('valid PDUs', () => {
  for (const v of VERSIONS) {
    it(`room version ${v}: a valid PDU parses to a frozen Pdu; the input is untouched`, () => {
      const input = base(v, { state_key: '', type: 'm.room.topic', unsigned: { age: 5 } });
      if (Number(v) >= 3) input['event_id'] = '$convenience';
      const before = JSON.stringify(input);
      const pdu = parsePdu(input, getRoomVersion(v));
      expect(JSON.stringify(input)).toBe(before);
      expect(Object.isFrozen(input)).toBe(false);
      expect(Object.isFrozen(pdu)).toBe(true);
      expect(Object.isFrozen(pdu.json)).toBe(true);
      expect(Object.isFrozen(pdu.content)).toBe(true);
      expect(Object.isFrozen(pdu.prevEvents)).toBe(true);
      expect(Object.isFrozen((pdu.json['signatures'] as JsonObject)['example.org'])).toBe(true);
      expect(pdu.roomVersion).toBe(v);
      expect(pdu.stateKey).toBe('');
      expect(pdu.prevEvents).toEqual([idFor(v, 1)]);
      expect(pdu.authEvents).toEqual([idFor(v, 2), idFor(v, 3)]);
      expect(pdu.unsigned).toEqual({ age: 5 });
      if (Number(v) <= 2) expect(pdu.eventId).toBe('$abc:example.org');
      else {
        expect(Object.hasOwn(pdu.json, 'event_id')).toBe(false);
        expect(pdu.eventId).toMatch(Number(v) === 3 ? /^\$[A-Za-z0-9+/]{43}$/ : /^\$[A-Za-z0-9_-]{43}$/);
      }
    });
  }

  it('redacts: top level in v1-v10, content in v11+', () => {
    expect(parsePdu(base('10', { type: 'm.room.redaction', redacts: idFor('10', 9) }), getRoomVersion('10')).redacts).toBe(idFor('10', 9));
    expect(parsePdu(base('11', { type: 'm.room.redaction', content: { redacts: idFor('11', 9) } }), getRoomVersion('11')).redacts).toBe(idFor('11', 9));
    // A top-level redacts in v11 is an unknown key: ignored.
    expect(parsePdu(base('11', { type: 'm.room.redaction', redacts: 'junk', content: {} }), getRoomVersion('11')).redacts).toBeUndefined();
  });

  it('the eventId option skips the computation (trusted store)', () => {
    expect(parsePdu(base('10'), getRoomVersion('10'), { eventId: '$given' }).eventId).toBe('$given');
  });

  it('historical user IDs are accepted as sender (APP › Historical User IDs)', () => {
    for (const sender of ['@:example.org', '@Alice Smith!:example.org', '@\u0001é:example.org:8448', '@a:[::1]:80']) {
      expect(codes(base('10', { sender }), '10')).toEqual([]);
    }
  });

  it('v12: create without room_id is valid; with one it is left to auth rule 1.2', () => {
    const create = base('12', { type: 'm.room.create', state_key: '', content: { room_version: '12' }, room_id: undefined, prev_events: [], auth_events: [] });
    const pdu = parsePdu(create, getRoomVersion('12'));
    expect(pdu.roomId).toBeUndefined();
    expect(codes({ ...create, room_id: V12_ROOM }, '12')).toEqual([]);
  });

  it('backfill: skipReferenceLimits lifts the 20/10 limits only', () => {
    const e = base('10', { prev_events: Array.from({ length: 25 }, (_, i) => ref('10', i)), auth_events: Array.from({ length: 12 }, (_, i) => ref('10', i)) });
    expect(problems(e, '10', { skipReferenceLimits: true })).toEqual([]);
    expect(codes(e, '10')).toEqual(['TOO_MANY_PREV_EVENTS', 'TOO_MANY_AUTH_EVENTS']);
  });
});

describe('every PduFormatError problem code', () => {
  const cases: Array<[PduProblemCode, string, unknown, string]> = [
    ['NOT_AN_OBJECT', '10', [1, 2], '$'],
    ['NOT_AN_OBJECT', '10', 'text', '$'],
    ['NOT_AN_OBJECT', '10', null, '$'],
    ['NOT_AN_OBJECT', '10', new Date(), '$'],
    ['MISSING_FIELD', '10', base('10', { sender: undefined }), '$.sender'],
    ['MISSING_FIELD', '10', base('10', { hashes: {} }), '$.hashes.sha256'],
    ['MISSING_FIELD', '1', base('1', { event_id: undefined }), '$.event_id'],
    ['MISSING_FIELD', '11', base('11', { room_id: undefined }), '$.room_id'],
    ['MISSING_FIELD', '12', base('12', { room_id: undefined }), '$.room_id'],
    ['MISSING_FIELD', '12', base('12', { prev_events: undefined }), '$.prev_events'],
    ['WRONG_TYPE', '10', base('10', { content: [] }), '$.content'],
    ['WRONG_TYPE', '10', base('10', { depth: '12' }), '$.depth'],
    ['WRONG_TYPE', '5', base('5', { depth: 1.5 }), '$.depth'],
    ['WRONG_TYPE', '10', base('10', { state_key: 5 }), '$.state_key'],
    ['WRONG_TYPE', '10', base('10', { unsigned: 'x' }), '$.unsigned'],
    ['WRONG_TYPE', '10', base('10', { signatures: { 'example.org': 'x' } }), '$.signatures["example.org"]'],
    ['WRONG_TYPE', '10', base('10', { signatures: { 'example.org': { 'ed25519:1': 1 } } }), '$.signatures["example.org"]["ed25519:1"]'],
    ['WRONG_TYPE', '10', base('10', { prev_events: [5] }), '$.prev_events[0]'],
    ['WRONG_TYPE', '10', base('10', { redacts: 5 }), '$.redacts'],
    ['WRONG_TYPE', '10', base('10', { hashes: { sha256: 1 } }), '$.hashes.sha256'],
    ['INVALID_JSON_VALUE', '10', { ...base('10'), content: { a: undefined } }, '$.content.a'],
    ['INVALID_JSON_VALUE', '5', { ...base('5'), content: { a: Number.NaN } }, '$.content.a'],
    ['INVALID_JSON_VALUE', '10', { ...base('10'), content: { a: new Map() } }, '$.content.a'],
    ['INVALID_JSON_VALUE', '10', { ...base('10'), content: { a: () => 1 } }, '$.content.a'],
    ['INVALID_JSON_VALUE', '10', { ...base('10'), content: { a: 10n } }, '$.content.a'],
    ['LONE_SURROGATE', '5', base('5', { content: { body: 'x\ud800' } }), '$.content.body'],
    ['LONE_SURROGATE', '10', base('10', { content: { '\udc00': 1 } }), '$.content["\\udc00"]'],
    ['FLOAT_NOT_ALLOWED', '6', base('6', { content: { n: 1.5 } }), '$.content.n'],
    ['INTEGER_OUT_OF_RANGE', '6', base('6', { content: { n: 2 ** 53 } }), '$.content.n'],
    ['INTEGER_OUT_OF_RANGE', '12', base('12', { content: { n: [-(2 ** 53)] } }), '$.content.n[0]'],
    ['FIELD_TOO_LONG', '10', base('10', { type: 't'.repeat(256) }), '$.type'],
    ['INVALID_USER_ID', '10', base('10', { sender: 'alice' }), '$.sender'],
    ['INVALID_USER_ID', '10', base('10', { sender: '@alice' }), '$.sender'],
    ['INVALID_USER_ID', '10', base('10', { sender: '@a:bad_host' }), '$.sender'],
    ['INVALID_USER_ID', '10', base('10', { sender: '@a\u0000b:example.org' }), '$.sender'],
    ['INVALID_USER_ID', '10', base('10', { sender: '@a:example.org:123456' }), '$.sender'],
    ['INVALID_ROOM_ID', '10', base('10', { room_id: 'room:example.org' }), '$.room_id'],
    ['INVALID_ROOM_ID', '10', base('10', { room_id: '!room' }), '$.room_id'],
    ['INVALID_ROOM_ID', '12', base('12', { room_id: '!room:example.org' }), '$.room_id'],
    ['INVALID_EVENT_ID', '1', base('1', { event_id: 'abc:example.org' }), '$.event_id'],
    ['INVALID_EVENT_ID', '2', base('2', { event_id: '$abc' }), '$.event_id'],
    ['INVALID_EVENT_ID', '3', base('3', { prev_events: [URL_ID] }), '$.prev_events[0]'],
    ['INVALID_EVENT_ID', '4', base('4', { auth_events: [STD_ID] }), '$.auth_events[0]'],
    ['INVALID_EVENT_ID', '1', base('1', { prev_events: [['$nodomain', { sha256: 'x' }]] }), '$.prev_events[0][0]'],
    ['INVALID_EVENT_ID', '10', base('10', { redacts: 'nope' }), '$.redacts'],
    ['INVALID_EVENT_REFERENCE', '1', base('1', { prev_events: ['$a:example.org'] }), '$.prev_events[0]'],
    ['INVALID_EVENT_REFERENCE', '2', base('2', { auth_events: [['$a:example.org']] }), '$.auth_events[0]'],
    ['INVALID_EVENT_REFERENCE', '2', base('2', { auth_events: [['$a:example.org', {}]] }), '$.auth_events[0]'],
    ['INVALID_EVENT_REFERENCE', '2', base('2', { auth_events: [['$a:example.org', { sha256: 'x' }, 3]] }), '$.auth_events[0]'],
    ['TOO_MANY_PREV_EVENTS', '10', base('10', { prev_events: Array.from({ length: 21 }, (_, i) => ref('10', i)) }), '$.prev_events'],
    ['TOO_MANY_AUTH_EVENTS', '2', base('2', { auth_events: Array.from({ length: 11 }, (_, i) => ref('2', i)) }), '$.auth_events'],
    ['DEPTH_OUT_OF_RANGE', '10', base('10', { depth: -1 }), '$.depth'],
    ['DEPTH_OUT_OF_RANGE', '5', base('5', { depth: 2 ** 64 }), '$.depth'],
    ['TIMESTAMP_OUT_OF_RANGE', '1', base('1', { origin_server_ts: 2 ** 64 }), '$.origin_server_ts'],
  ];
  for (const [code, v, input, path] of cases) {
    it(`${code} at ${path} (v${v})`, () => {
      const ps = problems(input, v);
      expect(ps.some((p) => p.code === code && p.path === path)).toBe(true);
      expect(() => parsePdu(input, getRoomVersion(v))).toThrow(PduFormatError);
    });
  }

  it('NESTING_TOO_DEEP', () => {
    let deep: JsonValue = 1;
    for (let i = 0; i < 600; i++) deep = [deep];
    expect(codes(base('10', { content: { deep } }), '10')).toContain('NESTING_TOO_DEEP');
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(codes({ ...base('10'), content: cyclic }, '10')).toContain('INVALID_JSON_VALUE');
  });

  it('INVALID_JSON from text', () => {
    const err = (() => {
      try {
        parsePduText('{"type": ', getRoomVersion('10'));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(PduFormatError);
    expect((err as PduFormatError).code).toBe('PDU_FORMAT');
    expect((err as PduFormatError).problems[0]?.code).toBe('INVALID_JSON');
    expect(() => parsePduText('{"a":1,"a":2}', getRoomVersion('10'))).toThrow(/duplicate|PDU/i);
  });

  it('lists every problem, not only the first', () => {
    const input = base('10', { sender: 'bad', depth: -3, type: 5, content: { f: 1.5 }, prev_events: [1, 2] });
    const ps = problems(input, '10');
    expect(ps.map((p) => p.code).sort()).toEqual(['DEPTH_OUT_OF_RANGE', 'FLOAT_NOT_ALLOWED', 'INVALID_USER_ID', 'WRONG_TYPE', 'WRONG_TYPE', 'WRONG_TYPE'].sort());
    try {
      parsePdu(input, getRoomVersion('10'));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PduFormatError);
      expect((e as PduFormatError).problems).toHaveLength(6);
      expect((e as PduFormatError).message).toMatch(/and 5 more problems/);
      expect(Object.isFrozen((e as PduFormatError).problems)).toBe(true);
    }
  });

  it('lenient versions (v1-v5) accept floats and big integers in content', () => {
    for (const v of ['1', '3', '5']) expect(codes(base(v, { content: { f: 1.5, big: 2 ** 60, neg: -(2 ** 60) } }), v)).toEqual([]);
    for (const v of ['6', '9', '12']) expect(codes(base(v, { content: { f: 1.5 } }), v)).toEqual(['FLOAT_NOT_ALLOWED']);
  });
});

describe('size and field limits at and just past each boundary', () => {
  function padTo(v: string, target: number): Record<string, JsonValue> {
    const e = base(v, { content: { body: '' } });
    const without = new TextEncoder().encode(encodeCanonicalJson(e)).length;
    e['content'] = { body: 'x'.repeat(target - without) };
    expect(new TextEncoder().encode(encodeCanonicalJson(e)).length).toBe(target);
    return e;
  }
  for (const v of ['1', '3', '10', '12']) {
    it(`65536 bytes of canonical JSON is accepted, 65537 is not (v${v})`, () => {
      expect(codes(padTo(v, MAX_PDU_BYTES), v)).toEqual([]);
      expect(codes(padTo(v, MAX_PDU_BYTES + 1), v)).toEqual(['EVENT_TOO_LARGE']);
    });
  }

  it('characters of 3 UTF-8 bytes count 3 each: 25,000 of them are too large, trusted or not', () => {
    // (A trusted PDU short enough in UTF-16 units to fit even at 3 bytes each is not measured
    // exactly: this one is not, it must be.)
    for (const v of ['3', '10']) {
      expect(codes(base(v, { content: { body: '€'.repeat(21_500) } }), v)).toEqual([]);
      expect(codes(base(v, { content: { body: '€'.repeat(25_000) } }), v)).toEqual(['EVENT_TOO_LARGE']);
    }
  });

  it('the size counts signatures and unsigned but not a v3+ convenience event_id', () => {
    const e = padTo('10', MAX_PDU_BYTES);
    expect(codes({ ...e, event_id: '$' + 'x'.repeat(100) }, '10')).toEqual([]);
    expect(codes({ ...e, unsigned: {} }, '10')).toEqual(['EVENT_TOO_LARGE']);
  });

  it('the size is measured on canonical (whitespace-free, UTF-8) text', () => {
    const e = padTo('10', MAX_PDU_BYTES - 1);
    const body = (e['content'] as JsonObject)['body'] as string;
    // One 2-byte character instead of one ASCII one: exactly 65536 bytes.
    expect(codes({ ...e, content: { body: body.slice(1) + 'é' } }, '10')).toEqual([]);
    expect(codes({ ...e, content: { body: body.slice(1) + '😀' } }, '10')).toEqual(['EVENT_TOO_LARGE']);
    const text = JSON.stringify(padTo('10', MAX_PDU_BYTES), null, 2);
    expect(text.length).toBeGreaterThan(MAX_PDU_BYTES);
    expect(() => parsePduText(text, getRoomVersion('10'))).not.toThrow();
  });

  it('property: the size decision equals encoding the whole PDU (any unsigned, signatures, content; every version)', () => {
    const member = fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.string({ maxLength: 30 }), fc.integer(), fc.constant(null)), { maxKeys: 4 });
    fc.assert(
      fc.property(
        fc.constantFrom(...VERSIONS),
        fc.option(member, { nil: undefined }),
        fc.dictionary(fc.constantFrom('a.example', 'b.example'), fc.dictionary(fc.constantFrom('ed25519:1', 'ed25519:x'), fc.string({ maxLength: 20 }))),
        fc.integer({ min: -40, max: 40 }),
        fc.string({ maxLength: 4, unit: 'binary' }),
        (v, unsigned, signatures, delta, tail) => {
          const e = base(v, { content: { body: '' } });
          if (unsigned !== undefined) e['unsigned'] = unsigned;
          e['signatures'] = signatures;
          const wellFormed = (tail as unknown as { isWellFormed(): boolean }).isWellFormed();
          const t = wellFormed ? tail : '';
          const without = utf8ByteLength(encodeCanonicalJson(e));
          const pad = Math.max(0, MAX_PDU_BYTES + delta - without - utf8ByteLength(t));
          e['content'] = { body: 'x'.repeat(pad) + t };
          const size = utf8ByteLength(encodeCanonicalJson(e, { strict: false }));
          expect(codes(e, v).includes('EVENT_TOO_LARGE')).toBe(size > MAX_PDU_BYTES);
        },
      ),
      { numRuns: 200 },
    );
  });

  const user = (bytes: number, ch = 'a'): string => {
    const domain = ':example.org';
    const local = ch.repeat(Math.floor((bytes - 1 - domain.length) / utf8ByteLength(ch)));
    return '@' + local + 'a'.repeat(bytes - 1 - domain.length - utf8ByteLength(local)) + domain;
  };
  it('sender: 255 bytes ok, 256 too long (bytes, not characters)', () => {
    expect(utf8ByteLength(user(255))).toBe(255);
    expect(codes(base('10', { sender: user(255) }), '10')).toEqual([]);
    expect(codes(base('10', { sender: user(256) }), '10')).toEqual(['FIELD_TOO_LONG']);
    const wide = user(256, 'é');
    expect(wide.length).toBeLessThan(256);
    expect(codes(base('10', { sender: wide }), '10')).toEqual(['FIELD_TOO_LONG']);
    expect(codes(base('10', { sender: user(255, 'é') }), '10')).toEqual([]);
  });

  it('type and state_key: 255 bytes ok, 256 too long', () => {
    expect(codes(base('10', { type: 't'.repeat(255) }), '10')).toEqual([]);
    expect(codes(base('10', { type: 't'.repeat(256) }), '10')).toEqual(['FIELD_TOO_LONG']);
    expect(codes(base('10', { state_key: 's'.repeat(255) }), '10')).toEqual([]);
    expect(codes(base('10', { state_key: 's'.repeat(256) }), '10')).toEqual(['FIELD_TOO_LONG']);
    expect(codes(base('10', { state_key: 'é'.repeat(128) }), '10')).toEqual(['FIELD_TOO_LONG']);
  });

  it('room_id (v1-v11) and event_id (v1-v2): 255 bytes ok, 256 too long', () => {
    const rid = (n: number): string => '!' + 'r'.repeat(n - 1 - ':example.org'.length) + ':example.org';
    expect(codes(base('11', { room_id: rid(255) }), '11')).toEqual([]);
    expect(codes(base('11', { room_id: rid(256) }), '11')).toEqual(['FIELD_TOO_LONG']);
    const eid = (n: number): string => '$' + 'e'.repeat(n - 1 - ':example.org'.length) + ':example.org';
    expect(codes(base('2', { event_id: eid(255) }), '2')).toEqual([]);
    expect(codes(base('2', { event_id: eid(256) }), '2')).toEqual(['FIELD_TOO_LONG']);
  });

  it('prev_events 20 / auth_events 10 at the limit; 21 / 11 past it', () => {
    for (const v of ['2', '10']) {
      expect(codes(base(v, { prev_events: Array.from({ length: 20 }, (_, i) => ref(v, i)), auth_events: Array.from({ length: 10 }, (_, i) => ref(v, i)) }), v)).toEqual([]);
      expect(codes(base(v, { prev_events: Array.from({ length: 21 }, (_, i) => ref(v, i)) }), v)).toEqual(['TOO_MANY_PREV_EVENTS']);
      expect(codes(base(v, { auth_events: Array.from({ length: 11 }, (_, i) => ref(v, i)) }), v)).toEqual(['TOO_MANY_AUTH_EVENTS']);
    }
  });

  it('depth: 0 and the maximum are accepted; -1 and max+1 are not', () => {
    expect(codes(base('6', { depth: 0 }), '6')).toEqual([]);
    expect(codes(base('6', { depth: 2 ** 53 - 1 }), '6')).toEqual([]);
    expect(codes(base('6', { depth: 2 ** 53 }), '6')).toEqual(['INTEGER_OUT_OF_RANGE', 'DEPTH_OUT_OF_RANGE']);
    expect(codes(base('5', { depth: 2 ** 53 }), '5')).toEqual([]);
    expect(codes(base('5', { depth: 2 ** 62 }), '5')).toEqual([]);
    expect(codes(base('5', { depth: 2 ** 64 }), '5')).toEqual(['DEPTH_OUT_OF_RANGE']);
    expect(codes(base('1', { depth: -1 }), '1')).toEqual(['DEPTH_OUT_OF_RANGE']);
  });
});

describe('parsePduText', () => {
  it('strict versions reject float tokens, even integral ones like 1.0 (A11, like Synapse)', () => {
    const text = JSON.stringify(base('6')).replace('"depth":12', '"depth":12.0');
    try {
      parsePduText(text, getRoomVersion('6'));
      expect.unreachable();
    } catch (e) {
      expect((e as PduFormatError).problems.map((p) => p.code)).toContain('FLOAT_NOT_ALLOWED');
    }
    expect(parsePduText(text, getRoomVersion('5')).depth).toBe(12);
  });

  it('reports the other problems too when a number token fails strict parsing', () => {
    const text = JSON.stringify(base('10', { sender: 'bad', content: { n: 1 } })).replace('"n":1', '"n":1e3');
    try {
      parsePduText(text, getRoomVersion('10'));
      expect.unreachable();
    } catch (e) {
      expect((e as PduFormatError).problems.map((p) => p.code).sort()).toEqual(['FLOAT_NOT_ALLOWED', 'INVALID_USER_ID']);
    }
  });

  it('accepts bytes and text and gives the same PDU', () => {
    const text = JSON.stringify(base('11'));
    const a = parsePduText(text, getRoomVersion('11'));
    const b = parsePduText(new TextEncoder().encode(text), getRoomVersion('11'));
    expect(a.eventId).toBe(b.eventId);
    expect(a.json).toEqual(b.json);
    expect(() => parsePduText(new Uint8Array([0x7b, 0xff, 0x7d]), getRoomVersion('11'))).toThrow(PduFormatError);
    expect(() => parsePduText('[]', getRoomVersion('11'))).toThrow(/object/);
  });
});

describe('identifier grammars', () => {
  it('server names (APP › Server Name examples)', () => {
    for (const s of ['matrix.org', 'matrix.org:8888', '1.2.3.4', '1.2.3.4:1234', '[1234:5678::abcd]', '[1234:5678::abcd]:5678', 'localhost', 'MATRIX.ORG'])
      expect(isValidServerName(s)).toBe(true);
    for (const s of ['', 'a_b.org', 'x.org:', 'x.org:123456', '[1234', 'x.org:80:80', 'exa mple.org', 'é.org', '[g::1]'])
      expect(isValidServerName(s)).toBe(false);
    expect(isValidServerName('a'.repeat(255))).toBe(true);
    expect(isValidServerName('a'.repeat(256))).toBe(false);
  });

  it('user IDs: strict and historical', () => {
    expect(isValidUserId('@alice:example.org', { historical: false })).toBe(true);
    expect(isValidUserId('@Alice:example.org', { historical: false })).toBe(false);
    expect(isValidUserId('@Alice:example.org')).toBe(true);
    expect(isValidUserId('@:example.org', { historical: false })).toBe(false);
    expect(isValidUserId('@:example.org')).toBe(true);
    expect(isValidUserId('@a\ud800:example.org')).toBe(false);
    expect(isValidUserId('@😀:example.org')).toBe(true);
  });

  it('room and event IDs per version', () => {
    const r11 = getRoomVersion('11');
    const r12 = getRoomVersion('12');
    expect(isValidRoomId('!abc:example.org', r11)).toBe(true);
    expect(isValidRoomId('!:example.org', r11)).toBe(true);
    expect(isValidRoomId(V12_ROOM, r12)).toBe(true);
    expect(isValidRoomId(V12_ROOM + 'a', r12)).toBe(false);
    expect(isValidRoomId('!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ', r12)).toBe(true);
    expect(isValidEventId('$a4ecee13e2accdadf56c1025:example.com', getRoomVersion('1'))).toBe(true);
    expect(isValidEventId('$acR1l0raoZnm60CBwAVgqbZqoO/mYU81xysh1u7XcJk', getRoomVersion('3'))).toBe(true);
    expect(isValidEventId('$acR1l0raoZnm60CBwAVgqbZqoO/mYU81xysh1u7XcJk', getRoomVersion('4'))).toBe(false);
    expect(isValidEventId('$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg', getRoomVersion('4'))).toBe(true);
    expect(isValidEventId('$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg', getRoomVersion('3'))).toBe(false);
    // The sigil is part of the form (one expression tests the whole ID).
    expect(isValidEventId('#Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg', getRoomVersion('4'))).toBe(false);
    expect(isValidEventId('#acR1l0raoZnm60CBwAVgqbZqoO/mYU81xysh1u7XcJk', getRoomVersion('3'))).toBe(false);
    expect(isValidRoomId('$Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ', r12)).toBe(false);
  });

  it('a room ID found valid before is valid again in its own form only; others are still checked', () => {
    const r1 = getRoomVersion('1');
    const r11 = getRoomVersion('11');
    const r12 = getRoomVersion('12');
    const id = '!abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ:x';
    expect(id.length).toBe(46);
    for (let i = 0; i < 2; i++) {
      expect(isValidRoomId(id, r11)).toBe(true);
      expect(isValidRoomId(id, r12)).toBe(false);
      expect(isValidRoomId('!abc:exa mple.org', r11)).toBe(false);
      expect(isValidRoomId('!abc', r1)).toBe(false);
      expect(isValidRoomId('!a\u0000b:example.org', r11)).toBe(false);
      expect(isValidRoomId('!abc:example.org', r1)).toBe(true);
    }
  });
});
