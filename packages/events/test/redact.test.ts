import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import { getRoomVersion } from '@roomgraph/room-versions';
import { checkContentHash, contentHash, eventId, redact, referenceHash, roomIdFromCreateEvent } from '@roomgraph/events';
import { allFixtureEvents } from './fixtures.js';

// The checklist §e tables (E1, E2), written out independently of the room-version flags.
const VERSIONS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'] as const;
const n = (v: string): number => Number(v);

const TOP_ALWAYS = ['event_id', 'type', 'room_id', 'sender', 'state_key', 'content', 'hashes', 'signatures', 'depth', 'prev_events', 'auth_events', 'origin_server_ts'];
const TOP_PRE_V11 = ['origin', 'membership', 'prev_state'];
const TOP_NEVER = ['unsigned', 'redacts', 'age_ts', 'outlier', 'custom_key', 'age', 'destinations'];

function keptTop(v: string): string[] {
  return n(v) <= 10 ? [...TOP_ALWAYS, ...TOP_PRE_V11] : TOP_ALWAYS;
}

const PL = ['ban', 'events', 'events_default', 'kick', 'redact', 'state_default', 'users', 'users_default'];
function keptContent(type: string, v: string): string[] | 'all' {
  const x = n(v);
  switch (type) {
    case 'm.room.member':
      return x >= 9 ? ['membership', 'join_authorised_via_users_server'] : ['membership'];
    case 'm.room.create':
      return x >= 11 ? 'all' : ['creator'];
    case 'm.room.join_rules':
      return x >= 8 ? ['join_rule', 'allow'] : ['join_rule'];
    case 'm.room.power_levels':
      return x >= 11 ? [...PL, 'invite'] : PL;
    case 'm.room.history_visibility':
      return ['history_visibility'];
    case 'm.room.aliases':
      return x <= 5 ? ['aliases'] : [];
    case 'm.room.redaction':
      return x >= 11 ? ['redacts'] : [];
    default:
      return [];
  }
}

// Every content key any version keeps for any type, plus keys no version keeps.
const ALL_CONTENT: JsonObject = {
  membership: 'join', join_authorised_via_users_server: '@a:x', third_party_invite: { signed: { token: 't', mxid: '@a:x' }, display_name: 'A' },
  creator: '@a:x', room_version: '11', 'm.federate': false, additional_creators: ['@b:y'], predecessor: { room_id: '!r:x' }, type: 'm.space',
  join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: '!r:x' }],
  ban: 50, events: { 'm.room.name': 50 }, events_default: 0, kick: 50, redact: 50, state_default: 50, users: { '@a:x': 100 }, users_default: 0, invite: 0, notifications: { room: 50 },
  history_visibility: 'shared', aliases: ['#a:x'], redacts: '$ev', body: 'hello', displayname: 'A', avatar_url: 'mxc://x/y', reason: 'r', name: 'n', topic: 't', url: 'u',
};
const TYPES = ['m.room.member', 'm.room.create', 'm.room.join_rules', 'm.room.power_levels', 'm.room.history_visibility', 'm.room.aliases', 'm.room.redaction', 'm.room.message', 'm.room.name', 'm.room.topic', 'm.room.encryption', 'org.example.custom'];

function sink(type: string): JsonObject {
  const top: Record<string, JsonValue> = {};
  for (const k of [...TOP_ALWAYS, ...TOP_PRE_V11, ...TOP_NEVER]) top[k] = `value of ${k}`;
  top['type'] = type;
  top['content'] = ALL_CONTENT;
  top['depth'] = 5;
  top['prev_events'] = ['$p'];
  top['hashes'] = { sha256: 'h' };
  top['signatures'] = { x: { 'ed25519:1': 's' } };
  return top;
}

describe('redaction: every kept and dropped key, per event type, all 12 room versions (E1, E2)', () => {
  for (const v of VERSIONS) {
    const rules = getRoomVersion(v);
    describe(`room version ${v}`, () => {
      for (const type of TYPES) {
        it(`${type}`, () => {
          const input = sink(type);
          const out = redact(input, rules);
          // Top level: exactly the kept keys that were present.
          expect(Object.keys(out).sort()).toEqual(keptTop(v).sort());
          for (const k of keptTop(v)) expect(out[k]).toEqual(input[k] === undefined ? undefined : k === 'content' ? out[k] : input[k]);
          for (const k of TOP_NEVER) expect(Object.hasOwn(out, k)).toBe(false);
          // Content.
          const content = out['content'] as JsonObject;
          const keep = keptContent(type, v);
          if (keep === 'all') {
            expect(content).toEqual(ALL_CONTENT);
          } else {
            const expected: Record<string, JsonValue> = {};
            for (const k of keep) expected[k] = ALL_CONTENT[k] as JsonValue;
            if (type === 'm.room.member' && n(v) >= 11) expected['third_party_invite'] = { signed: { token: 't', mxid: '@a:x' } };
            expect(content).toEqual(expected);
          }
          if (keep !== 'all') expect(Object.hasOwn(content, 'notifications')).toBe(false);
        });
      }
    });
  }
});

describe('redaction details', () => {
  const v11 = getRoomVersion('11');
  const v10 = getRoomVersion('10');
  const member = (tpi: JsonValue): JsonObject => ({ type: 'm.room.member', content: { membership: 'invite', third_party_invite: tpi } });

  it('v11 third_party_invite: kept as {signed} only when it is an object with signed (E4, like Synapse)', () => {
    expect(redact(member({ signed: 1, other: 2 }), v11)['content']).toEqual({ membership: 'invite', third_party_invite: { signed: 1 } });
    expect(redact(member({ signed: null }), v11)['content']).toEqual({ membership: 'invite', third_party_invite: { signed: null } });
    expect(redact(member({ display_name: 'x' }), v11)['content']).toEqual({ membership: 'invite' });
    expect(redact(member('str'), v11)['content']).toEqual({ membership: 'invite' });
    expect(redact(member(['signed']), v11)['content']).toEqual({ membership: 'invite' });
    expect(redact(member({ signed: 1 }), v10)['content']).toEqual({ membership: 'invite' });
  });

  it('never adds keys (E5): absent content stays absent, non-object content becomes {}', () => {
    expect(redact({ type: 'm.room.member' }, v11)).toEqual({ type: 'm.room.member' });
    expect(redact({ type: 'm.room.member', content: 'x' }, v11)).toEqual({ type: 'm.room.member', content: {} });
    expect(redact({ type: 'm.room.member', content: { body: 1 } }, v11)).toEqual({ type: 'm.room.member', content: {} });
    expect(redact({}, v11)).toEqual({});
  });

  it('content rule applies by type alone, state key or not (E3)', () => {
    expect(redact({ type: 'm.room.power_levels', content: { ban: 1, x: 2 } }, v10)['content']).toEqual({ ban: 1 });
  });

  it('returns a new deep-frozen object and never mutates the input', () => {
    const input = { type: 'm.room.create', content: { creator: '@a:x', nested: { deep: [1, { x: 2 }] } }, unsigned: { age: 1 } };
    const before = JSON.stringify(input);
    const out = redact(input, v11);
    expect(JSON.stringify(input)).toBe(before);
    expect(Object.isFrozen(input)).toBe(false);
    expect(Object.isFrozen(out)).toBe(true);
    const content = out['content'] as { nested: { deep: [number, object] } };
    expect(Object.isFrozen(content)).toBe(true);
    expect(Object.isFrozen(content.nested.deep[1])).toBe(true);
    expect(content).not.toBe(input.content);
  });

  it('a __proto__ content key is copied as data, not as a prototype', () => {
    const input = JSON.parse('{"type":"m.room.create","content":{"__proto__":{"polluted":1},"creator":"@a:x"}}') as JsonObject;
    const out = redact(input, v11)['content'] as JsonObject;
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect((out as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

const jsonValue = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<JsonValue>;
const eventArb = fc.record(
  {
    type: fc.constantFrom(...TYPES),
    content: fc.dictionary(fc.constantFrom(...Object.keys(ALL_CONTENT), 'x', 'y'), jsonValue, { maxKeys: 8 }),
    sender: fc.constant('@a:x'),
    room_id: fc.constant('!r:x'),
    origin: fc.constant('x'),
    unsigned: fc.dictionary(fc.string(), jsonValue, { maxKeys: 2 }),
    hashes: fc.constant({ sha256: 'abc' }),
    signatures: fc.constant({}),
    depth: fc.nat(),
    origin_server_ts: fc.nat(),
    prev_events: fc.constant([]),
    auth_events: fc.constant([]),
    junk: jsonValue,
  },
  { requiredKeys: ['type', 'sender', 'hashes', 'depth', 'origin_server_ts'] },
) as fc.Arbitrary<JsonObject>;

describe('redaction properties', () => {
  it('is idempotent in every room version', () => {
    fc.assert(
      fc.property(eventArb, fc.constantFrom(...VERSIONS), (ev, v) => {
        const rules = getRoomVersion(v);
        const once = redact(ev, rules);
        expect(redact(once, rules)).toEqual(once);
      }),
      { numRuns: 500 },
    );
  });

  it('never changes the reference hash or the event ID', () => {
    fc.assert(
      fc.property(eventArb, fc.constantFrom(...VERSIONS.filter((v) => n(v) >= 3)), (ev, v) => {
        const rules = getRoomVersion(v);
        let before: Uint8Array;
        try {
          before = referenceHash(ev, rules);
        } catch {
          return; // floats in a strict version: not encodable, nothing to compare
        }
        expect(referenceHash(redact(ev, rules), rules)).toEqual(before);
        expect(eventId(redact(ev, rules), rules)).toBe(eventId(ev, rules));
      }),
      { numRuns: 300 },
    );
  });

  it('fixture events keep their IDs when redacted', () => {
    const sample = allFixtureEvents().filter((_, i) => i % 7 === 0);
    for (const { roomVersion, event } of sample) {
      const rules = getRoomVersion(roomVersion);
      if (Object.hasOwn(event['content'] as JsonObject, 'x_forged')) continue;
      expect(eventId(redact(event, rules), rules)).toBe(event['event_id']);
    }
  });
});

describe('values that are not JSON data: typed errors, never a stack overflow', () => {
  const deep = (n: number): JsonValue => {
    let v: JsonValue = 'x';
    for (let i = 0; i < n; i++) v = [v];
    return v;
  };
  const cyclic = (): JsonObject => {
    const o: Record<string, unknown> = { a: 1 };
    o['self'] = o;
    return o as JsonObject;
  };
  const cases: readonly [string, () => JsonValue, string][] = [
    ['a cyclic value', cyclic, 'CANONICAL_JSON_CYCLE'],
    ['a self-containing array', () => { const a: unknown[] = []; a.push(a); return a as JsonValue; }, 'CANONICAL_JSON_CYCLE'],
    ['a 100k-deep value', () => deep(100_000), 'CANONICAL_JSON_DEPTH'],
    ['a 513-deep value', () => deep(513), 'CANONICAL_JSON_DEPTH'],
  ];
  const base = (v: string, extra: JsonObject): JsonObject => ({
    ...(n(v) <= 2 ? { event_id: '$e:x' } : {}), room_id: '!r:x', type: 'm.room.create', sender: '@a:x', state_key: '', depth: 1,
    origin_server_ts: 1, prev_events: [], auth_events: [], hashes: { sha256: 'x' }, ...extra,
  });
  const expectTyped = (f: () => unknown, detail: string): void => {
    let caught: unknown;
    try { f(); } catch (e) { caught = e; }
    expect(caught).toMatchObject({ name: 'EventsError', code: 'EVENTS_NOT_ENCODABLE' });
    expect((caught as Error).message).toContain(detail);
  };
  it.each(VERSIONS.flatMap((v) => cases.map(([name, make, code]) => [v, name, make, code] as const)))('v%s: %s (%s)', (v, _name, make, code) => {
    const rules = getRoomVersion(v);
    // In a kept top-level key, in kept content (v11+ keeps all create content), and in `signatures`.
    expectTyped(() => redact(base(v, { depth: make() }), rules), code);
    expectTyped(() => redact(base(v, { signatures: { x: make() } as JsonObject }), rules), code);
    if (n(v) >= 11) expectTyped(() => redact(base(v, { content: { room_version: v, x: make() } }), rules), code);
    if (n(v) >= 3) expectTyped(() => eventId(base(v, { prev_events: [make()] }), rules), code);
    // Dropped keys are not copied, so they cannot fail.
    expect(redact(base(v, { unsigned: make() as JsonObject }), rules)['unsigned']).toBeUndefined();
    // 512 levels are fine (the encoder's limit), as for the encoder.
    expect(() => redact(base(v, { depth: deep(511) }), rules)).not.toThrow();
  });
});

describe('a value that is not an object: EVENTS_INVALID_ARGUMENT (fuzz finding: TypeError from the byte cache / Object.keys)', () => {
  const notObjects: readonly unknown[] = [null, 'x', '', 5, 1e300, true, ['m.room.create'], undefined];
  it.each(VERSIONS)('v%s: redact, eventId, contentHash, referenceHash, checkContentHash', (v) => {
    const rules = getRoomVersion(v);
    for (const x of notObjects) {
      for (const f of [() => redact(x as JsonObject, rules), () => eventId(x as JsonObject, rules), () => contentHash(x as JsonObject, rules), () => contentHash(x as JsonObject), () => referenceHash(x as JsonObject, rules), () => roomIdFromCreateEvent(x as JsonObject)]) {
        expect(f).toThrow(expect.objectContaining({ name: 'EventsError', code: 'EVENTS_INVALID_ARGUMENT' }));
      }
      expect(checkContentHash(x as JsonObject, rules)).toBe(false);
    }
  });
});
