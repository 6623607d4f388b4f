import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main, commands, parseFlags, CliError } from '@roomgraph/cli';

const vectors = JSON.parse(readFileSync(new URL('../../../test/fixtures/spec/vectors.json', import.meta.url), 'utf8')) as {
  canonical_json: { input_json_text: string; expected_canonical_json: string }[];
  signing_key: { seed_unpadded_base64: string; derived_not_official: { public_key_unpadded_base64: string } };
  json_signing: { input: object; expected: Record<string, unknown> }[];
  event_signing: { input: object; expected: object; expected_content_hash_sha256: string }[];
};
const SEED = vectors.signing_key.seed_unpadded_base64;
const PK = vectors.signing_key.derived_not_official.public_key_unpadded_base64;

async function run(argv: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    stdin,
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
  });
  return { code, out, err };
}

describe('canonicalize', () => {
  for (const [i, v] of vectors.canonical_json.entries()) {
    it(`spec example ${i + 1}`, async () => {
      // Example 10 contains 1e10 (a float token): only --lenient loads it.
      const r = await run(i === 9 ? ['canonicalize', '--lenient'] : ['canonicalize'], v.input_json_text);
      expect(r).toEqual({ code: 0, out: v.expected_canonical_json + '\n', err: '' });
    });
  }
  it('floats are an error object on stderr with exit 2', async () => {
    const r = await run(['canonicalize'], '{"a":1.5}');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(JSON.parse(r.err)).toEqual({ error: { code: 'JSON_FLOAT', message: expect.stringContaining('1.5') } });
    expect(r.err.endsWith('\n')).toBe(true);
  });
  it('--lenient encodes floats as JSON.stringify does', async () => {
    expect((await run(['canonicalize', '--lenient'], '{"b":1.5,"a":1e2}')).out).toBe('{"a":100,"b":1.5}\n');
  });
  it('invalid JSON, duplicate keys', async () => {
    expect(JSON.parse((await run(['canonicalize'], '{"a":')).err).error.code).toBe('JSON_SYNTAX');
    expect(JSON.parse((await run(['canonicalize'], '{"a":1,"a":2}')).err).error.code).toBe('JSON_DUPLICATE_KEY');
    expect(JSON.parse((await run(['canonicalize'], '')).err).error.code).toBe('JSON_SYNTAX');
  });
  it('accepts stdin as bytes and invalid UTF-8 is an error', async () => {
    expect((await run(['canonicalize'], Buffer.from('{"b":1,"a":"é"}') as unknown as string)).out).toBe('{"a":"é","b":1}\n');
    const r = await run(['canonicalize'], Buffer.from([0x22, 0xff, 0x22]) as unknown as string);
    expect(JSON.parse(r.err).error.code).toBe('JSON_INVALID_UTF8');
  });
});

describe('--jsonl', () => {
  it('one result line per input line, a bad line in the middle does not stop processing', async () => {
    const r = await run(['canonicalize', '--jsonl'], '{"b":1,"a":2}\n{"a":1.5}\n\n[3, 2]\nnot json\n{"z":{"y":1,"x":2}}\n');
    const lines = r.out.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toBe('{"a":2,"b":1}');
    expect(JSON.parse(lines[1]!).error.code).toBe('JSON_FLOAT');
    expect(JSON.parse(lines[2]!).error.code).toBe('EMPTY_LINE');
    expect(lines[3]).toBe('[3,2]');
    expect(JSON.parse(lines[4]!).error.code).toBe('JSON_SYNTAX');
    expect(lines[5]).toBe('{"z":{"x":2,"y":1}}');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
  });
  it('exit 0 when every line succeeds; no trailing newline and CRLF are fine', async () => {
    const r = await run(['canonicalize', '--jsonl'], '{"b":1}\r\n{"a":2}');
    expect(r).toEqual({ code: 0, out: '{"b":1}\n{"a":2}\n', err: '' });
    expect(await run(['canonicalize', '--jsonl'], '')).toEqual({ code: 0, out: '', err: '' });
  });
  it('works for sign / verify / content-hash too', async () => {
    const input = vectors.json_signing.map((v) => JSON.stringify(v.input)).join('\n') + '\n[]\n';
    const signed = await run(['sign', '--jsonl', '--server', 'domain', '--key-id', 'ed25519:1', '--seed', SEED], input);
    const lines = signed.out.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0]!)).toEqual(vectors.json_signing[0]!.expected);
    expect(JSON.parse(lines[1]!)).toEqual(vectors.json_signing[1]!.expected);
    expect(JSON.parse(lines[2]!).error.code).toBe('NOT_JSON_OBJECT');
    const verified = await run(['verify', '--jsonl', '--server=domain', '--key-id=ed25519:1', `--public-key=${PK}`], lines.join('\n'));
    expect(verified.out.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { valid: true },
      { valid: true },
      { valid: false, reason: expect.stringMatching(/^MISSING_SIGNATURE: /) },
    ]);
  });
});

describe('sign, verify, content-hash on the spec vectors', () => {
  it('sign outputs canonical JSON equal to the expected signed object', async () => {
    for (const v of vectors.json_signing) {
      const r = await run(['sign', '--server', 'domain', '--key-id', 'ed25519:1', '--seed', SEED], JSON.stringify(v.input));
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out)).toEqual(v.expected);
      expect((await run(['canonicalize'], r.out)).out).toBe(r.out);
    }
  });
  it('sign keeps other signatures and unsigned', async () => {
    const r = await run(['sign', '--server', 'domain', '--key-id', 'ed25519:1', '--seed', SEED], '{"a":1,"signatures":{"x.org":{"ed25519:z":"abc"}},"unsigned":{"age":1}}');
    const o = JSON.parse(r.out);
    expect(o.signatures['x.org']).toEqual({ 'ed25519:z': 'abc' });
    expect(o.unsigned).toEqual({ age: 1 });
    expect(o.signatures.domain['ed25519:1']).toBe(vectors.json_signing[0] && (await run(['sign', '--server', 'domain', '--key-id', 'ed25519:1', '--seed', SEED], '{"a":1}')).out.match(/"ed25519:1":"([^"]+)"/)![1]);
  });
  it('verify: valid, tampered, wrong key', async () => {
    const expected = JSON.stringify(vectors.json_signing[1]!.expected);
    const args = ['verify', '--server', 'domain', '--key-id', 'ed25519:1', '--public-key', PK];
    expect((await run(args, expected)).out).toBe('{"valid":true}\n');
    const bad = await run(args, expected.replace('"Two"', '"Three"'));
    expect(bad.code).toBe(0);
    expect(JSON.parse(bad.out)).toEqual({ valid: false, reason: expect.stringMatching(/^INVALID_SIGNATURE: /) });
    const missing = await run(['verify', '--server', 'other', '--key-id', 'ed25519:1', '--public-key', PK], expected);
    expect(JSON.parse(missing.out)).toEqual({ valid: false, reason: expect.stringMatching(/^MISSING_SIGNATURE: /) });
  });
  it('content-hash of the event signing vectors', async () => {
    for (const v of vectors.event_signing) {
      for (const ev of [v.input, v.expected]) {
        const r = await run(['content-hash'], JSON.stringify(ev));
        expect(r).toEqual({ code: 0, out: `{"sha256":"${v.expected_content_hash_sha256}"}\n`, err: '' });
      }
    }
    expect(JSON.parse((await run(['content-hash'], '"x"')).err).error.code).toBe('NOT_JSON_OBJECT');
  });
});

describe('usage errors and help', () => {
  it('unknown command: error object on stderr, exit 2', async () => {
    const r = await run(['nope']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.err).error.code).toBe('UNKNOWN_COMMAND');
  });
  it('bad flags: exit 2 with USAGE', async () => {
    for (const argv of [
      ['canonicalize', '--bogus'],
      ['canonicalize', 'positional'],
      ['sign', '--server', 'x', '--key-id', 'ed25519:1'],
      ['sign', '--server'],
      ['canonicalize', '--jsonl=yes'],
    ]) {
      const r = await run(argv, '{}');
      expect(r.code).toBe(2);
      expect(JSON.parse(r.err).error.code).toBe('USAGE');
    }
  });
  it('bad key material: typed error codes', async () => {
    const r = await run(['sign', '--server', 'x', '--key-id', 'ed25519:a-b', '--seed', SEED], '{}');
    expect([r.code, JSON.parse(r.err).error.code]).toEqual([2, 'KEY_INVALID_VERSION']);
    const s = await run(['sign', '--server', 'x', '--key-id', 'ed25519:1', '--seed', 'AAAA'], '{}');
    expect(JSON.parse(s.err).error.code).toBe('KEY_INVALID_SEED');
    const k = await run(['sign', '--server', 'x', '--key-id', 'rsa:1', '--seed', SEED], '{}');
    expect(JSON.parse(k.err).error.code).toBe('USAGE');
  });
  it('help lists every command', async () => {
    for (const argv of [['--help'], ['help'], ['-h']]) {
      const r = await run(argv);
      expect(r.code).toBe(0);
      for (const c of commands) expect(r.out).toContain(c.name);
    }
    expect((await run([])).code).toBe(2);
    const h = await run(['help', 'sign']);
    expect(h.out).toContain('--seed');
    expect((await run(['sign', '--help'])).out).toContain('--key-id');
    expect((await run(['help', 'nope'])).code).toBe(2);
  });
  it('parseFlags', () => {
    expect(parseFlags(['--a', 'x', '--b', '--c=y=z'], { a: { type: 'string', description: '' }, b: { type: 'boolean', description: '' }, c: { type: 'string', description: '' } })).toEqual({ a: 'x', b: true, c: 'y=z' });
    expect(() => parseFlags(['--__proto__', 'x'], {})).toThrow(CliError);
  });
});

describe('demo', () => {
  // The demo itself is owned by the engine work; here only its registration and help are checked.
  it('is registered and has help', async () => {
    const r = await run(['demo', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('roomgraph demo');
  });
});
