import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CanonicalJsonParseError, encodeCanonicalJson, parseCanonicalJson } from '@roomgraph/canonical-json';

function parseError(input: string | Uint8Array, options?: Parameters<typeof parseCanonicalJson>[1]): CanonicalJsonParseError {
  try {
    parseCanonicalJson(input, options);
  } catch (e) {
    expect(e).toBeInstanceOf(CanonicalJsonParseError);
    return e as CanonicalJsonParseError;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

describe('parseCanonicalJson accepts JSON', () => {
  it('values, whitespace and any key order', () => {
    expect(parseCanonicalJson(' { "b" : [ 1 , -2 , 0 , true , false , null , "x" ] ,\n\t"a":{}\r} ')).toEqual({
      b: [1, -2, 0, true, false, null, 'x'],
      a: {},
    });
    expect(parseCanonicalJson('"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u65E5\\ud83d\\ude00😀"')).toBe('"\\/\b\f\n\r\té日😀😀');
    expect(parseCanonicalJson('9007199254740991')).toBe(9007199254740991);
    expect(parseCanonicalJson('-9007199254740991')).toBe(-9007199254740991);
    expect(Object.is(parseCanonicalJson('-0'), 0)).toBe(true);
    expect(parseCanonicalJson('[[],{}]')).toEqual([[], {}]);
  });

  it('bytes input (UTF-8)', () => {
    expect(parseCanonicalJson(new TextEncoder().encode('{"a":"日本語"}'))).toEqual({ a: '日本語' });
  });

  it('"__proto__", "constructor", "prototype" are plain own keys; the prototype is untouched', () => {
    const v = parseCanonicalJson('{"__proto__":{"x":1},"constructor":{"prototype":{"y":2}},"toString":3}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__', 'constructor', 'toString']);
    expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toEqual({ x: 1 });
    expect((v as { x?: unknown }).x).toBeUndefined();
    expect(({} as { x?: unknown }).x).toBeUndefined();
    expect(({} as { y?: unknown }).y).toBeUndefined();
    expect(v.toString).toBe(3);
    // Deep-equals an ordinary object built the same way.
    const expected: Record<string, unknown> = {};
    Object.defineProperty(expected, '__proto__', { value: { x: 1 }, enumerable: true, writable: true, configurable: true });
    expected['constructor'] = { prototype: { y: 2 } };
    expected['toString'] = 3;
    expect(v).toEqual(expected);
  });

  it('lenient mode accepts floats, exponents and big integers', () => {
    expect(parseCanonicalJson('[1.5,-0.0,1e10,2E-2,9007199254740993]', { strict: false })).toEqual([1.5, 0, 1e10, 0.02, 9007199254740992]);
  });
});

describe('parseCanonicalJson rejects', () => {
  const cases: [string, string, string, number, string?][] = [
    // input, code, path, position
    ['{"a":1,"a":2}', 'JSON_DUPLICATE_KEY', '$.a', 7],
    ['{"x":{"__proto__":1,"__proto__":2}}', 'JSON_DUPLICATE_KEY', '$.x.__proto__', 20],
    ['{"toString":1,"toString":1}', 'JSON_DUPLICATE_KEY', '$.toString', 14],
    ['1.0', 'JSON_FLOAT', '$', 0],
    ['{"a":[0,1e10]}', 'JSON_FLOAT', '$.a[1]', 8],
    ['-1E+2', 'JSON_FLOAT', '$', 0],
    ['9007199254740992', 'JSON_INTEGER_RANGE', '$', 0],
    ['-9007199254740992', 'JSON_INTEGER_RANGE', '$', 0],
    ['01', 'JSON_SYNTAX', '$', 1],
    ['-01', 'JSON_SYNTAX', '$', 2],
    ['+1', 'JSON_SYNTAX', '$', 0],
    ['-', 'JSON_SYNTAX', '$', 1],
    ['.5', 'JSON_SYNTAX', '$', 0],
    ['1.', 'JSON_SYNTAX', '$', 2],
    ['1e', 'JSON_SYNTAX', '$', 2],
    ['', 'JSON_SYNTAX', '$', 0],
    ['   ', 'JSON_SYNTAX', '$', 3],
    ['[1,]', 'JSON_SYNTAX', '$[1]', 3],
    ['[1 2]', 'JSON_SYNTAX', '$[0]', 3],
    ['{"a":1,}', 'JSON_SYNTAX', '$', 7],
    ['{a:1}', 'JSON_SYNTAX', '$', 1],
    ["{'a':1}", 'JSON_SYNTAX', '$', 1],
    ['{"a" 1}', 'JSON_SYNTAX', '$.a', 5],
    ['[', 'JSON_SYNTAX', '$[0]', 1],
    ['{"a":', 'JSON_SYNTAX', '$.a', 5],
    ['"abc', 'JSON_SYNTAX', '$', 4],
    ['"a\nb"', 'JSON_SYNTAX', '$', 2],
    ['"\\x"', 'JSON_SYNTAX', '$', 1],
    ['"\\u12G4"', 'JSON_SYNTAX', '$', 1],
    ['"\\ud800"', 'JSON_LONE_SURROGATE', '$', 1],
    ['"\\ud800\\u0041"', 'JSON_LONE_SURROGATE', '$', 1],
    ['"\\udc00\\ud800"', 'JSON_LONE_SURROGATE', '$', 1],
    ['{"k":"a\ud800"}', 'JSON_LONE_SURROGATE', '$.k', 7],
    ['{"\udfff":1}', 'JSON_LONE_SURROGATE', '$', 2],
    ['True', 'JSON_SYNTAX', '$', 0],
    ['nul', 'JSON_SYNTAX', '$', 0],
    ['NaN', 'JSON_SYNTAX', '$', 0],
    ['Infinity', 'JSON_SYNTAX', '$', 0],
    ['[1] x', 'JSON_TRAILING_DATA', '$', 4],
    ['{}{}', 'JSON_TRAILING_DATA', '$', 2],
    ['\ufeff{}', 'JSON_SYNTAX', '$', 0],
    ['\u00a0{}', 'JSON_SYNTAX', '$', 0],
    ['/*c*/1', 'JSON_SYNTAX', '$', 0],
  ];
  for (const [input, code, path, position] of cases) {
    it(`${JSON.stringify(input)} → ${code}`, () => {
      const e = parseError(input);
      expect([e.code, e.path, e.position]).toEqual([code, path, position]);
    });
  }

  it('non-string, non-bytes input', () => {
    expect(parseError(42 as unknown as string).code).toBe('JSON_SYNTAX');
    expect(parseError(null as unknown as string).code).toBe('JSON_SYNTAX');
  });

  it('numbers overflowing to Infinity even in lenient mode', () => {
    expect(parseError('1e400', { strict: false }).code).toBe('JSON_INTEGER_RANGE');
    expect(parseError('-1e400', { strict: false }).code).toBe('JSON_INTEGER_RANGE');
  });

  it('leading zeros even in lenient mode', () => {
    expect(parseError('00', { strict: false }).code).toBe('JSON_SYNTAX');
  });

  it('nesting deeper than maxDepth (default 512)', () => {
    expect(parseCanonicalJson('['.repeat(512) + ']'.repeat(512))).toBeDefined();
    // 512 levels parse to exactly that value: 511 arrays each holding one array, the innermost empty.
    let v: unknown = parseCanonicalJson('['.repeat(512) + ']'.repeat(512));
    for (let d = 1; d < 512; d++) {
      expect(Array.isArray(v) && v.length === 1).toBe(true);
      v = (v as unknown[])[0];
    }
    expect(v).toEqual([]);
    expect(encodeCanonicalJson(parseCanonicalJson('{"a":'.repeat(511) + '[7]' + '}'.repeat(511)))).toBe('{"a":'.repeat(511) + '[7]' + '}'.repeat(511));
    expect(parseError('['.repeat(513) + ']'.repeat(513)).code).toBe('JSON_DEPTH');
    expect(parseError('{"a":'.repeat(4) + '1' + '}'.repeat(4), { maxDepth: 3 }).code).toBe('JSON_DEPTH');
    expect(parseError('['.repeat(100000)).code).toBe('JSON_DEPTH');
    // A huge custom limit still fails with the typed error, not a stack overflow.
    expect(parseError('['.repeat(1_000_000), { maxDepth: 10_000_000 }).code).toBe('JSON_DEPTH');
  });

  it('invalid UTF-8 bytes, with a byte position', () => {
    for (const bytes of [[0x22, 0xff, 0x22], [0x22, 0xc3, 0x22], [0x22, 0xed, 0xa0, 0x80, 0x22], [0x22, 0xc0, 0xaf, 0x22], [0x22, 0xe6, 0x97]]) {
      const e = parseError(new Uint8Array(bytes));
      expect(e.code).toBe('JSON_INVALID_UTF8');
      expect(e.position).toBe(1);
    }
  });

  it('byte positions count UTF-8 bytes', () => {
    expect(parseError(new TextEncoder().encode('["日本", 1.5]')).position).toBe(11);
    expect(parseError('["日本", 1.5]').position).toBe(7);
  });

  it('requireCanonical', () => {
    expect(parseCanonicalJson('{"a":1,"b":[2]}', { requireCanonical: true })).toEqual({ a: 1, b: [2] });
    for (const t of ['{"b":1,"a":2}', '{"a": 1}', '"\\u00e9"', '"\\/"', '-0', '{"a":1} ']) {
      expect(parseError(t, { requireCanonical: true }).code).toBe('JSON_NOT_CANONICAL');
    }
  });
});

describe('fuzz: nothing but CanonicalJsonParseError escapes', () => {
  const check = (input: string | Uint8Array, strict: boolean) => {
    try {
      parseCanonicalJson(input, { strict });
    } catch (e) {
      if (!(e instanceof CanonicalJsonParseError)) throw e;
      expect(typeof e.code).toBe('string');
      expect(Number.isInteger(e.position)).toBe(true);
    }
  };
  it('arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), fc.boolean(), (s, strict) => check(s, strict)), { numRuns: 3000 });
  });
  it('arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (b, strict) => check(b, strict)), { numRuns: 3000 });
  });
  it('JSON-ish token soup', () => {
    const tok = fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '\\', 'u', 'd800', '"a"', '1', '-', '0', '.', 'e', 'true', 'null', ' ', '\ud83d', '\ude00', '__proto__');
    fc.assert(fc.property(fc.array(tok, { maxLength: 30 }), fc.boolean(), (t, strict) => check(t.join(''), strict)), { numRuns: 5000 });
  });
  it('agrees with JSON.parse on everything it accepts', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        let ours: unknown;
        try {
          ours = parseCanonicalJson(text, { strict: false });
        } catch (e) {
          expect(e).toBeInstanceOf(CanonicalJsonParseError);
          return;
        }
        expect(ours).toEqual(JSON.parse(text));
      }),
      { numRuns: 2000 },
    );
  });
});
