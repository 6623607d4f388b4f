import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import stableStringify from 'fast-json-stable-stringify';
import {
  CanonicalJsonError,
  compareCodePoints,
  encodeCanonicalJson,
  encodeCanonicalJsonBytes,
  encodeCanonicalMembers,
  parseCanonicalJson,
  sortKeys,
} from '@roomgraph/canonical-json';

interface Vectors {
  canonical_json: { input_json_text: string; expected_canonical_json: string }[];
}
const vectors = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/spec/vectors.json', import.meta.url), 'utf8'),
) as Vectors;

function errorOf(fn: () => unknown): CanonicalJsonError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CanonicalJsonError);
    return e as CanonicalJsonError;
  }
  throw new Error('expected an error');
}

describe('spec vectors (APP › Canonical JSON › Examples, checklist A12)', () => {
  it('has the 10 official examples', () => {
    expect(vectors.canonical_json).toHaveLength(10);
  });
  for (const [i, v] of vectors.canonical_json.entries()) {
    it(`example ${i + 1}: ${v.expected_canonical_json}`, () => {
      // The last example contains 1e10, a float token: it loads only in lenient mode (like Synapse).
      const value = parseCanonicalJson(v.input_json_text, { strict: false });
      expect(encodeCanonicalJson(value)).toBe(v.expected_canonical_json);
      expect(encodeCanonicalJson(JSON.parse(v.input_json_text))).toBe(v.expected_canonical_json);
      expect(new TextDecoder().decode(encodeCanonicalJsonBytes(value))).toBe(v.expected_canonical_json);
    });
  }
});

describe('encoding rules', () => {
  it('sorts keys by code point, not UTF-16 code unit (A3)', () => {
    // U+FFFF is a single unit 0xFFFF; U+10000 is 0xD800 0xDC00 — code-unit order would put it first.
    expect(encodeCanonicalJson({ '\u{10000}': 2, '\uffff': 1 })).toBe('{"\uffff":1,"\u{10000}":2}');
    expect(encodeCanonicalJson({ 'a\u{1F600}': 1, 'a\ue000': 2, a: 3, b: 4 })).toBe(
      '{"a":3,"a\ue000":2,"a\u{1F600}":1,"b":4}',
    );
    expect(encodeCanonicalJson({ '\u{1F600}': 1, '\u{10000}': 2 })).toBe('{"\u{10000}":2,"\u{1F600}":1}');
    expect(encodeCanonicalJson({ 本: 2, 日: 1 })).toBe('{"日":1,"本":2}');
  });

  it('compareCodePoints agrees with comparing code point arrays', () => {
    const cp = (s: string) => Array.from(s, (c) => c.codePointAt(0)!);
    const ref = (a: string, b: string) => {
      const x = cp(a);
      const y = cp(b);
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
      return x.length - y.length;
    };
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        expect(Math.sign(compareCodePoints(a, b))).toBe(Math.sign(ref(a, b)));
      }),
      { numRuns: 2000 },
    );
  });

  it('escapes exactly ", \\ and U+0000–U+001F, with lowercase hex (A5)', () => {
    let all = '';
    for (let c = 0; c < 0x20; c++) all += String.fromCharCode(c);
    expect(encodeCanonicalJson(all)).toBe(
      '"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f' +
        '\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f"',
    );
    expect(encodeCanonicalJson('"\\/\u007f\u2028\u2029é😀')).toBe('"\\"\\\\/\u007f\u2028\u2029é😀"');
    expect(encodeCanonicalJson({ 'k"\n': 1 })).toBe('{"k\\"\\n":1}');
  });

  it('writes non-ASCII raw as UTF-8 (A1)', () => {
    expect(Array.from(encodeCanonicalJsonBytes({ a: '日😀' }))).toEqual(Array.from(new TextEncoder().encode('{"a":"日😀"}')));
    expect(encodeCanonicalJsonBytes({})).toBeInstanceOf(Uint8Array);
  });

  it('encodes integers, the range limits, -0 and literals (A4, A6)', () => {
    expect(encodeCanonicalJson([0, -0, 1, -1, 2 ** 53 - 1, -(2 ** 53) + 1, true, false, null])).toBe(
      '[0,0,1,-1,9007199254740991,-9007199254740991,true,false,null]',
    );
    expect(encodeCanonicalJson([[], {}, [[]], { a: {} }])).toBe('[[],{},[[]],{"a":{}}]');
  });

  it('accepts null-prototype objects and own "__proto__" keys', () => {
    const o = Object.create(null) as Record<string, number>;
    o.b = 1;
    o.a = 2;
    expect(encodeCanonicalJson(o)).toBe('{"a":2,"b":1}');
    expect(encodeCanonicalJson(parseCanonicalJson('{"__proto__":{"x":1},"a":1}'))).toBe('{"__proto__":{"x":1},"a":1}');
  });

  it('omitKeys leaves out top-level keys only', () => {
    const v = { signatures: { a: 1 }, unsigned: 2, b: { unsigned: 3 }, a: 1 };
    expect(encodeCanonicalJson(v, { omitKeys: ['signatures', 'unsigned'] })).toBe('{"a":1,"b":{"unsigned":3}}');
    expect(new TextDecoder().decode(encodeCanonicalJsonBytes(v, { omitKeys: ['signatures', 'unsigned'] }))).toBe('{"a":1,"b":{"unsigned":3}}');
    expect(encodeCanonicalJson({ '\u{10000}': 1, x: 2, '\uffff': 3 }, { omitKeys: ['x'] })).toBe('{"\uffff":3,"\u{10000}":1}');
    expect(encodeCanonicalJson([1], { omitKeys: ['x'] })).toBe('[1]');
    // Omitted keys are not validated either.
    expect(encodeCanonicalJson({ a: 1, bad: 1.5 }, { omitKeys: ['bad'] })).toBe('{"a":1}');
  });

  it('orders integer-like keys as strings', () => {
    expect(encodeCanonicalJson({ 9: 'a', 10: 'b', '-1': 'c', a: 1 })).toBe('{"-1":"c","10":"b","9":"a","a":1}');
  });
});

describe('invalid values raise CanonicalJsonError with code and path', () => {
  const cases: [string, () => unknown, string, string][] = [
    ['float', () => encodeCanonicalJson({ content: { x: [1, 1.5] } }), 'CANONICAL_JSON_FLOAT', '$.content.x[1]'],
    ['2^53', () => encodeCanonicalJson({ depth: 2 ** 53 }), 'CANONICAL_JSON_INTEGER_RANGE', '$.depth'],
    ['-(2^53)', () => encodeCanonicalJson({ a: -(2 ** 53) }), 'CANONICAL_JSON_INTEGER_RANGE', '$.a'],
    ['1e300', () => encodeCanonicalJson([1e300]), 'CANONICAL_JSON_INTEGER_RANGE', '$[0]'],
    ['NaN', () => encodeCanonicalJson({ a: NaN }), 'CANONICAL_JSON_NON_FINITE', '$.a'],
    ['Infinity', () => encodeCanonicalJson({ a: Infinity }, { strict: false }), 'CANONICAL_JSON_NON_FINITE', '$.a'],
    ['-Infinity', () => encodeCanonicalJson(-Infinity), 'CANONICAL_JSON_NON_FINITE', '$'],
    ['undefined', () => encodeCanonicalJson({ content: { users: { '@a:b': undefined } } }), 'CANONICAL_JSON_INVALID_TYPE', '$.content.users["@a:b"]'],
    ['function', () => encodeCanonicalJson({ f: () => 1 }), 'CANONICAL_JSON_INVALID_TYPE', '$.f'],
    ['symbol', () => encodeCanonicalJson([Symbol('x')]), 'CANONICAL_JSON_INVALID_TYPE', '$[0]'],
    ['bigint', () => encodeCanonicalJson({ n: 1n }), 'CANONICAL_JSON_INVALID_TYPE', '$.n'],
    ['Map', () => encodeCanonicalJson({ m: new Map() }), 'CANONICAL_JSON_INVALID_TYPE', '$.m'],
    ['Set', () => encodeCanonicalJson({ m: new Set() }), 'CANONICAL_JSON_INVALID_TYPE', '$.m'],
    ['Date', () => encodeCanonicalJson({ d: new Date(0) }), 'CANONICAL_JSON_INVALID_TYPE', '$.d'],
    ['Uint8Array', () => encodeCanonicalJson({ b: new Uint8Array(2) }), 'CANONICAL_JSON_INVALID_TYPE', '$.b'],
    ['class instance', () => encodeCanonicalJson({ c: new (class Foo {})() }), 'CANONICAL_JSON_INVALID_TYPE', '$.c'],
    ['boxed string', () => encodeCanonicalJson({ s: new String('x') }), 'CANONICAL_JSON_INVALID_TYPE', '$.s'],
    // eslint-disable-next-line no-sparse-arrays
    ['array hole', () => encodeCanonicalJson([1, , 3]), 'CANONICAL_JSON_INVALID_TYPE', '$[1]'],
    ['lone high surrogate', () => encodeCanonicalJson({ body: 'a\ud800b' }), 'CANONICAL_JSON_LONE_SURROGATE', '$.body'],
    ['lone low surrogate', () => encodeCanonicalJson(['\udc00']), 'CANONICAL_JSON_LONE_SURROGATE', '$[0]'],
    ['reversed pair', () => encodeCanonicalJson('\udc00\ud800'), 'CANONICAL_JSON_LONE_SURROGATE', '$'],
    ['lone surrogate key', () => encodeCanonicalJson({ a: { '\ud83d': 1 } }), 'CANONICAL_JSON_LONE_SURROGATE', '$.a["\\ud83d"]'],
  ];
  for (const [name, fn, code, path] of cases) {
    it(name, () => {
      const e = errorOf(fn);
      expect(e.code).toBe(code);
      expect(e.path).toBe(path);
      expect(e.message).toContain(path);
    });
  }

  it('cycles', () => {
    const a: Record<string, unknown> = { x: [] };
    (a.x as unknown[]).push({ back: a });
    const e = errorOf(() => encodeCanonicalJson({ root: a }));
    expect(e.code).toBe('CANONICAL_JSON_CYCLE');
    expect(e.path).toBe('$.root.x[0].back');
  });

  it('shared (non-cyclic) references are fine', () => {
    const shared = { a: 1 };
    expect(encodeCanonicalJson({ x: shared, y: [shared, shared] })).toBe('{"x":{"a":1},"y":[{"a":1},{"a":1}]}');
  });

  it('depth limit', () => {
    let v: unknown = 1;
    for (let i = 0; i < 600; i++) v = [v];
    expect(errorOf(() => encodeCanonicalJson(v)).code).toBe('CANONICAL_JSON_DEPTH');
    let w: unknown = 1;
    for (let i = 0; i < 10; i++) w = { a: w };
    expect(errorOf(() => encodeCanonicalJson(w, { maxDepth: 9 })).code).toBe('CANONICAL_JSON_DEPTH');
    expect(encodeCanonicalJson(w, { maxDepth: 10 })).toContain('{"a":1}');
  });
});

describe('lenient mode (room versions 1-5, checklist A8)', () => {
  it('writes floats and out-of-range numbers as JSON.stringify does', () => {
    for (const n of [1.5, -0.25, 2 ** 53, -(2 ** 60), 1e21, 1.7976931348623157e308, 5e-324]) {
      expect(encodeCanonicalJson({ n }, { strict: false })).toBe(`{"n":${JSON.stringify(n)}}`);
    }
    expect(encodeCanonicalJson(-0, { strict: false })).toBe('0');
  });
  it('still rejects everything else', () => {
    expect(errorOf(() => encodeCanonicalJson({ a: undefined }, { strict: false })).code).toBe('CANONICAL_JSON_INVALID_TYPE');
    expect(errorOf(() => encodeCanonicalJson(NaN, { strict: false })).code).toBe('CANONICAL_JSON_NON_FINITE');
  });
});

/** Arbitrary JSON with integer numbers in the canonical range, well-formed strings, and keys from `keys`. */
function jsonWithKeys(keys: fc.Arbitrary<string>) {
  return fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constant(null),
      fc.boolean(),
      fc.maxSafeInteger(),
      fc.string({ unit: 'grapheme' }),
      fc.array(tie('value'), { maxLength: 5 }),
      fc.dictionary(keys, tie('value'), { maxKeys: 5 }),
    ),
  })).value;
}

// Any well-formed keys.
const intJson = jsonWithKeys(fc.string({ unit: 'grapheme' }));

// ASCII keys (no surrogates), to compare with fast-json-stable-stringify, which sorts by UTF-16 units.
const bmpJson = jsonWithKeys(fc.string({ unit: 'binary-ascii' }));

function shuffleKeys(v: unknown, seed: number): unknown {
  if (Array.isArray(v)) return v.map((x) => shuffleKeys(x, seed));
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    const order = keys.map((k, i) => [k, (i * 7919 + seed) % 101] as const).sort((a, b) => a[1] - b[1]);
    const out: Record<string, unknown> = {};
    for (const [k] of order) {
      if (k === '__proto__') Object.defineProperty(out, k, { value: shuffleKeys((v as Record<string, unknown>)[k], seed), enumerable: true, writable: true, configurable: true });
      else out[k] = shuffleKeys((v as Record<string, unknown>)[k], seed);
    }
    return out;
  }
  return v;
}

describe('properties', () => {
  it('parse(encode(x)) deep-equals x', () => {
    fc.assert(
      fc.property(intJson, (x) => {
        const text = encodeCanonicalJson(x);
        expect(parseCanonicalJson(text)).toStrictEqual(JSON.parse(text));
        expect(parseCanonicalJson(text)).toEqual(x);
        // The output is its own canonical form.
        expect(parseCanonicalJson(text, { requireCanonical: true })).toEqual(x);
      }),
      { numRuns: 500 },
    );
  });

  it('encodeCanonicalJsonBytes is the UTF-8 of encodeCanonicalJson', () => {
    fc.assert(
      fc.property(intJson, (x) => {
        expect(Array.from(encodeCanonicalJsonBytes(x))).toEqual(Array.from(new TextEncoder().encode(encodeCanonicalJson(x))));
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic and independent of key insertion order', () => {
    fc.assert(
      fc.property(intJson, fc.nat(100), (x, seed) => {
        expect(encodeCanonicalJson(shuffleKeys(x, seed))).toBe(encodeCanonicalJson(x));
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with fast-json-stable-stringify when keys have no surrogates', () => {
    fc.assert(
      fc.property(bmpJson, (x) => {
        expect(encodeCanonicalJson(x)).toBe(stableStringify(x));
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with JSON.stringify on strings (well-formed)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(encodeCanonicalJson(s)).toBe(JSON.stringify(s));
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects every string with a lone surrogate', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        if ((s as unknown as { isWellFormed(): boolean }).isWellFormed()) expect(encodeCanonicalJson(s)).toBe(JSON.stringify(s));
        else expect(errorOf(() => encodeCanonicalJson({ k: s })).code).toBe('CANONICAL_JSON_LONE_SURROGATE');
      }),
      { numRuns: 1000 },
    );
    // fast-check's strings are well-formed, so the rejection above never runs: strings that do
    // hold a lone surrogate (a high one not followed by a low one, or a low one not preceded by a
    // high one) anywhere, as a value and as a key.
    const wellFormed = fc.string({ unit: 'binary' });
    const lone = fc.tuple(wellFormed, fc.integer({ min: 0xd800, max: 0xdfff }), wellFormed).map(([a, u, b]) => {
      const high = u < 0xdc00;
      // Keep it lone: no low surrogate right after a high one, no high one right before a low one.
      const before = !high && /[\ud800-\udbff]$/.test(a) ? `${a}x` : a;
      const after = high && /^[\udc00-\udfff]/.test(b) ? `x${b}` : b;
      return before + String.fromCharCode(u) + after;
    });
    let checked = 0;
    fc.assert(
      fc.property(lone, (s) => {
        expect((s as unknown as { isWellFormed(): boolean }).isWellFormed()).toBe(false);
        expect(errorOf(() => encodeCanonicalJson({ k: s })).code).toBe('CANONICAL_JSON_LONE_SURROGATE');
        expect(errorOf(() => encodeCanonicalJson({ [s]: 1 })).code).toBe('CANONICAL_JSON_LONE_SURROGATE');
        expect(errorOf(() => encodeCanonicalJson([s])).code).toBe('CANONICAL_JSON_LONE_SURROGATE');
        checked++;
      }),
      { numRuns: 1000 },
    );
    expect(checked).toBe(1000);
  });
});

describe('sortKeys', () => {
  it('orders like the default sort (UTF-16 code units), short and long arrays, repeats and surrogates', () => {
    const str = fc.oneof(fc.string({ unit: 'binary', maxLength: 6 }), fc.constantFrom('a', 'b', 'ab', '', '\ud800', '\ue000', 'é'));
    fc.assert(
      fc.property(fc.array(str, { maxLength: 40, size: 'max' }), (keys) => {
        const want = [...keys].sort();
        const copy = [...keys];
        const got = sortKeys(copy);
        expect(got).toBe(copy);
        expect(got).toEqual(want);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('encodeCanonicalMembers', () => {
  const outcome = (f: () => string): string => {
    try {
      return 'ok:' + f();
    } catch (e) {
      return 'error:' + (e as CanonicalJsonError).code + ' at ' + JSON.stringify((e as CanonicalJsonError).path);
    }
  };
  it('joined, is the object encoded whole (keys in code point order, astral keys, omitted keys, floats lenient or strict)', () => {
    const anyKey = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 4 }), fc.constantFrom('\ud83d\ude00', '\uffff', 'a', 'signatures', '\ud800'));
    const value = fc.oneof(intJson, fc.double(), fc.constant(1.5), fc.constant('\udc00'));
    fc.assert(
      fc.property(fc.dictionary(anyKey, value, { maxKeys: 12, size: 'max' }), fc.boolean(), fc.constantFrom(undefined, ['signatures'], ['a', 'b']), (o, strict, omitKeys) => {
        const opts = { strict, ...(omitKeys !== undefined ? { omitKeys } : {}) };
        const got = outcome(() => {
          const m = encodeCanonicalMembers(o, opts);
          expect(m.texts).toHaveLength(m.keys.length);
          m.keys.forEach((k, i) => expect((m.texts[i] as string).startsWith(JSON.stringify(k) + ':')).toBe(true));
          return '{' + m.texts.join(',') + '}';
        });
        expect(got).toBe(outcome(() => encodeCanonicalJson(o, opts)));
      }),
      { numRuns: 2000 },
    );
  });
  it('refuses what is not a plain object', () => {
    for (const v of [[], null, 'x', new Map(), new Date(0)]) {
      expect(errorOf(() => encodeCanonicalMembers(v as object)).code).toBe('CANONICAL_JSON_INVALID_TYPE');
    }
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(errorOf(() => encodeCanonicalMembers(cyclic)).code).toBe('CANONICAL_JSON_CYCLE');
  });
});
