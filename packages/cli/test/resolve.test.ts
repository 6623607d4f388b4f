import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { main } from '@roomgraph/cli';

async function run(argv: string[], stdin: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdin, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

interface Room {
  room_version: string;
  events: object[];
  state_sets: string[][];
  expected: { resolved: Record<string, Record<string, string>> };
}
const rooms = gunzipSync(readFileSync(new URL('../../../test/fixtures/reference-sample/stateres.jsonl.gz', import.meta.url)))
  .toString('utf8')
  .split('\n')
  .filter((l) => l !== '')
  .map((l) => JSON.parse(l) as Room);
const inputOf = (r: Room): string => JSON.stringify({ room_version: r.room_version, events: r.events, state_sets: r.state_sets });

describe('roomgraph resolve', () => {
  it('resolves fixture rooms (one per room version)', async () => {
    const seen = new Set<string>();
    for (const room of rooms) {
      if (seen.has(room.room_version)) continue;
      seen.add(room.room_version);
      const r = await run(['resolve'], inputOf(room));
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out)).toEqual({ resolved: room.expected.resolved });
    }
    expect(seen.size).toBe(12);
  });
  it('--jsonl resolves every fixture room, one line each', async () => {
    const r = await run(['resolve', '--jsonl'], rooms.map(inputOf).join('\n') + '\n');
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(rooms.length);
    lines.forEach((l, i) => expect(JSON.parse(l)).toEqual({ resolved: rooms[i]!.expected.resolved }));
  });
  it('--timings adds parse_ms and resolve_ms', async () => {
    const r = await run(['resolve', '--timings'], inputOf(rooms[0]!));
    const out = JSON.parse(r.out) as { resolved: object; timings: { parse_ms: number; resolve_ms: number } };
    expect(out.resolved).toEqual(rooms[0]!.expected.resolved);
    expect(Number.isInteger(out.timings.parse_ms) && Number.isInteger(out.timings.resolve_ms)).toBe(true);
  });
  it('reports bad input as error objects', async () => {
    const bad = async (input: object) => JSON.parse((await run(['resolve'], JSON.stringify(input))).err).error.code as string;
    expect(await bad({ room_version: 'nope', events: [], state_sets: [] })).toBe('ROOM_VERSION_UNKNOWN');
    expect(await bad({ room_version: '10', events: [], state_sets: [['$x']] })).toBe('UNKNOWN_EVENT');
    expect(await bad({ room_version: '10', events: {}, state_sets: [] })).toBe('BAD_INPUT');
  });
  it('no state sets → empty state', async () => {
    expect(JSON.parse((await run(['resolve'], '{"room_version":"10","events":[],"state_sets":[]}')).out)).toEqual({ resolved: {} });
  });
});
