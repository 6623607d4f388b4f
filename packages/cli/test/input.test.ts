/**
 * Reading stdin as bytes: every command, --jsonl or not. Invalid UTF-8 is an error (never U+FFFD),
 * lines end only at LF / CRLF (a bare CR is JSON whitespace), and a size limit bounds what is kept.
 */
import { describe, expect, it } from 'vitest';
import { type InputLine, Progress, commands, inputLines, main, readInput } from '@roomgraph/cli';

async function run(argv: string[], stdin: string | Uint8Array | AsyncIterable<Uint8Array> = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdin: stdin as never, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}
const bytes = (...parts: (string | number[] | Uint8Array)[]): Uint8Array => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p as number[]))));
const errCode = (line: string): string => (JSON.parse(line) as { error: { code: string } }).error.code;

async function collect(src: AsyncIterable<InputLine>): Promise<(string | { tooLong: number })[]> {
  const out: (string | { tooLong: number })[] = [];
  for await (const l of src) out.push(l.tooLong === true ? { tooLong: l.size } : Buffer.from(l.bytes).toString('latin1'));
  return out;
}
async function* chunked(data: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

/** The JSON commands and an input that each accepts (one line). */
const VALID: Record<string, [string[], string]> = {
  canonicalize: [[], '{"a":1}'],
  sign: [['--server', 'x', '--key-id', 'ed25519:1', '--seed', 'YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1'], '{"a":1}'],
  verify: [['--server', 'x', '--key-id', 'ed25519:1', '--public-key', 'XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI'], '{"a":1}'],
  'content-hash': [[], '{"a":1}'],
  resolve: [[], '{"room_version":"10","events":[],"state_sets":[]}'],
  'event-id': [['--room-version', '1'], '{"event_id":"$a:b"}'],
  redact: [['--room-version', '10'], '{"type":"m.room.message","content":{"body":"x"}}'],
  validate: [['--room-version', '10'], '{"a":1}'],
  'room-id': [['--room-version', '12'], '{"type":"m.room.create","content":{"room_version":"12"},"sender":"@a:b"}'],
  'auth-check': [[], '{"room_version":"10","event":{"event_id":"$e","type":"m.room.message","sender":"@a:b","content":{}},"auth_events":[]}'],
};

describe('every JSON command reads bytes', () => {
  it('covers every JSON command', () => {
    expect(Object.keys(VALID).sort()).toEqual(commands.filter((c) => c.kind === 'json').map((c) => c.name).sort());
  });
  it.each(Object.entries(VALID))('%s: invalid UTF-8 is JSON_INVALID_UTF8 (an error line with --jsonl; exit 2 without), the other lines unaffected', async (name, [flags, good]) => {
    const bad = bytes('{"a":"', [0xff, 0xfe], '"}');
    const one = await run([name, ...flags], bad);
    expect(one.code).toBe(2);
    expect(errCode(one.err)).toBe('JSON_INVALID_UTF8');
    const ok = await run([name, ...flags, '--jsonl'], good + '\n');
    const r = await run([name, ...flags, '--jsonl'], bytes(good, '\n', bad, '\n', good, '\n'));
    expect(r.code).toBe(0);
    const lines = r.out.split('\n').slice(0, -1);
    expect(lines).toHaveLength(3);
    expect(lines[0] + '\n').toBe(ok.out);
    expect(errCode(lines[1]!)).toBe('JSON_INVALID_UTF8');
    expect(lines[2] + '\n').toBe(ok.out);
    // Overlong encodings, surrogates encoded in UTF-8, truncated sequences: all invalid.
    for (const b of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80]]) {
      expect(errCode((await run([name, ...flags, '--jsonl'], bytes('"', b, '"\n'))).out)).toBe('JSON_INVALID_UTF8');
    }
  });
  it.each(Object.entries(VALID))('%s: a bare CR inside a line is whitespace, one output line per input line', async (name, [flags, good]) => {
    const ok = await run([name, ...flags, '--jsonl'], good + '\n');
    const withCr = good.replace(/^\{/, '{\r').replace(/\}$/, '\r}');
    const r = await run([name, ...flags, '--jsonl'], `${withCr}\n${withCr}\r\n\r\n`);
    const lines = r.out.split('\n').slice(0, -1);
    expect(lines).toHaveLength(3);
    expect(lines[0] + '\n').toBe(ok.out);
    expect(lines[1] + '\n').toBe(ok.out);
    expect(errCode(lines[2]!)).toBe('EMPTY_LINE');
  });
  it.each(Object.entries(VALID))('%s: --max-bytes: a longer line is INPUT_TOO_LARGE and processing continues; a longer document is an error', async (name, [flags, good]) => {
    const max = Buffer.byteLength(good);
    const long = `{"pad":"${'x'.repeat(max)}"}`;
    const r = await run([name, ...flags, '--jsonl', '--max-bytes', String(max)], `${good}\n${long}\n${good}\n`);
    const lines = r.out.split('\n').slice(0, -1);
    expect(lines).toHaveLength(3);
    expect(errCode(lines[1]!)).toBe('INPUT_TOO_LARGE');
    expect(lines[0]).toBe(lines[2]);
    expect(lines[0]).not.toContain('INPUT_TOO_LARGE');
    const doc = await run([name, ...flags, '--max-bytes', String(max)], long);
    expect([doc.code, errCode(doc.err)]).toEqual([2, 'INPUT_TOO_LARGE']);
    expect(errCode((await run([name, ...flags, '--max-bytes', '0'], good)).err)).toBe('USAGE');
  });
});

describe('inputLines', () => {
  const data = bytes('a\r\nb\rc\n\n', [0xff], '\nlast');
  it.each([1, 2, 3, 64])('splits at LF only, drops the CR of CRLF, at any chunking (%i-byte chunks)', async (size) => {
    expect(await collect(inputLines(chunked(data, size), 100))).toEqual(['a', 'b\rc', '', '\xff', 'last']);
  });
  it('a final line end starts no extra line; empty input has no lines', async () => {
    expect(await collect(inputLines('x\n'))).toEqual(['x']);
    expect(await collect(inputLines(''))).toEqual([]);
    expect(await collect(inputLines('\n'))).toEqual(['']);
  });
  it.each([1, 7, 4096])('a line over the limit is reported with its size and not kept (%i-byte chunks)', async (size) => {
    const input = bytes('short\n', 'y'.repeat(5000), '\r\n', 'z'.repeat(10), '\n', 'w'.repeat(11));
    expect(await collect(inputLines(chunked(input, size), 10))).toEqual(['short', { tooLong: 5000 }, 'zzzzzzzzzz', { tooLong: 11 }]);
  });
  it('a 10-byte line with its CRLF is within a 10-byte limit', async () => {
    expect(await collect(inputLines(chunked(bytes('0123456789\r\n'), 3), 10))).toEqual(['0123456789']);
  });
  it('readInput stops at the limit with INPUT_TOO_LARGE', async () => {
    expect(Buffer.from(await readInput('abc', 3)).toString()).toBe('abc');
    await expect(readInput(chunked(bytes('abcd'), 1), 3)).rejects.toMatchObject({ code: 'INPUT_TOO_LARGE' });
  });
});

describe('Progress', () => {
  const clock = () => {
    let t = 0;
    return { now: () => t, advance: (ms: number) => { t += ms; } };
  };
  it('plain lines: one per interval, with rate, percentage and ETA when the size is known; a final line', () => {
    const c = clock();
    const out: string[] = [];
    const p = new Progress({ write: (s) => out.push(s), mode: 'lines', totalBytes: 1000, intervalMs: 2000, now: c.now, prefix: 'x: ' });
    p.update(10, 100);
    expect(out).toEqual([]);
    c.advance(2000);
    p.update(400, 250);
    expect(out).toEqual(['x: 25%  400 events  200 events/s  ETA 0:06\n']);
    c.advance(1000);
    p.update(500, 300);
    expect(out).toHaveLength(1);
    c.advance(1000);
    p.update(800, 500);
    expect(out[1]).toBe('x: 50%  800 events  200 events/s  ETA 0:04\n');
    p.finish();
    expect(out[2]).toBe('x: 800 events  200 events/s  done in 0:04\n');
  });
  it('unknown size: bytes read instead of an ETA', () => {
    const c = clock();
    const out: string[] = [];
    const p = new Progress({ write: (s) => out.push(s), mode: 'lines', now: c.now, unit: 'lines' });
    c.advance(2000);
    p.update(10, 3 * 1024 * 1024);
    expect(out).toEqual(['10 lines  5 lines/s  3.0 MiB read\n']);
  });
  it('bar: redrawn in place, cleared for other messages, ends with a newline', () => {
    const c = clock();
    const out: string[] = [];
    const p = new Progress({ write: (s) => out.push(s), mode: 'bar', totalBytes: 100, now: c.now });
    c.advance(100);
    p.update(5, 50);
    expect(out[0]).toBe('\r\x1b[K[############............]  50%  5 events  50 events/s  ETA 0:00');
    p.clear();
    expect(out[1]).toBe('\r\x1b[K');
    p.clear();
    expect(out).toHaveLength(2);
    p.finish();
    expect(out[2]?.endsWith('done in 0:00\n')).toBe(true);
  });
});
