import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '@roomgraph/cli';
import { publicKeyBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { buildEvent } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { LevelRoomStore } from '@roomgraph/store-level';
import { createMemoryStore } from '@roomgraph/store-memory';
import { RoomEngine } from '@roomgraph/engine';
import { StaticKeySource } from '@roomgraph/transport';

interface Room {
  room_version: string;
  keys: Record<string, Record<string, string>>;
  events: Record<string, unknown>[];
  expected: { current_state: object; forward_extremities: string[]; soft_failed: string[]; rejected: string[]; dropped: string[] };
}
const rooms = gunzipSync(readFileSync(new URL('../../../test/fixtures/reference-sample/ingest.jsonl.gz', import.meta.url)))
  .toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Room);
const BIN = fileURLToPath(new URL('../bin/roomgraph.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const sorted = (e: Room['expected']) => ({
  current_state: e.current_state,
  forward_extremities: [...e.forward_extremities].sort(),
  soft_failed: [...e.soft_failed].sort(),
  rejected: [...e.rejected].sort(),
  dropped: [...e.dropped].sort(),
});

/** The output of a run over `room`'s events alone (plus `extra` accounting), as the fixture expects it. */
function expectedOutput(room: Room, extra: { unparsable?: object[]; blank?: number; total?: number } = {}) {
  const e = sorted(room.expected);
  const n = room.events.length;
  return {
    ...e,
    parked: [],
    unparsable: extra.unparsable ?? [],
    lines: {
      total: extra.total ?? n, blank: extra.blank ?? 0,
      accepted: n - e.soft_failed.length - e.rejected.length - e.dropped.length,
      soft_failed: e.soft_failed.length, rejected: e.rejected.length, dropped: e.dropped.length, parked: 0,
      unparsable: (extra.unparsable ?? []).length,
    },
  };
}

/** The five fields every version of `ingest` printed. */
const classic = (o: Record<string, unknown>) => ({
  current_state: o['current_state'], forward_extremities: o['forward_extremities'], soft_failed: o['soft_failed'], rejected: o['rejected'], dropped: o['dropped'],
});

function keysFile(room: Pick<Room, 'keys'>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rg-keys-'));
  const p = join(dir, 'keys.json');
  writeFileSync(p, JSON.stringify(room.keys));
  return p;
}

const jsonl = (events: readonly unknown[]): string => events.map((e) => JSON.stringify(e)).join('\n') + '\n';

async function run(argv: string[], stdin: string | Uint8Array, stderr: { isTTY?: boolean } = {}) {
  let out = '';
  let err = '';
  const code = await main(argv, { stdin, stdout: { write: (s: string) => (out += s) }, stderr: { ...stderr, write: (s: string) => (err += s) } });
  return { code, out, err };
}

/** Two adjacent events of `room` where the second cites the first as a prev event, at or after `from`. */
function adjacentPair(room: Room, from: number): number {
  const idOf = (e: Record<string, unknown>): string => String(e['event_id']);
  for (let i = from; i + 1 < room.events.length; i++) {
    const prev = room.events[i + 1]?.['prev_events'] as unknown[];
    const ids = prev.map((p) => (Array.isArray(p) ? String(p[0]) : String(p)));
    if (ids.includes(idOf(room.events[i] as Record<string, unknown>))) return i;
  }
  throw new Error('no adjacent pair');
}
const swapped = (room: Room, i: number): Record<string, unknown>[] => {
  const ev = [...room.events];
  [ev[i], ev[i + 1]] = [ev[i + 1] as Record<string, unknown>, ev[i] as Record<string, unknown>];
  return ev;
};

describe('roomgraph ingest', () => {
  it.each(rooms.map((r, i) => [i, r.room_version, r] as const))('reference room %i (v%s) in memory', async (_i, _v, room) => {
    const r = await run(['ingest', '--keys', keysFile(room)], jsonl(room.events));
    expect(r.code).toBe(0);
    expect(classic(JSON.parse(r.out))).toEqual(sorted(room.expected));
    expect(JSON.parse(r.out)).toEqual(expectedOutput(room));
  });

  it('on LevelDB, a second run over the same input reports the same, from the store', async () => {
    const room = rooms[9] as Room;
    const dir = mkdtempSync(join(tmpdir(), 'rg-ingest-'));
    try {
      const input = jsonl(room.events);
      const half = jsonl(room.events.slice(0, 40));
      const k = keysFile(room);
      expect((await run(['ingest', '--keys', k, '--store', dir], half)).code).toBe(0);
      const second = await run(['ingest', '--keys', k, '--store', dir], input);
      expect(classic(JSON.parse(second.out))).toEqual(sorted(room.expected));
      expect(JSON.parse(second.out)).toEqual(expectedOutput(room));
      const third = await run(['ingest', '--keys', k, '--store', dir], input);
      expect(third.out).toBe(second.out);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad input: unreadable keys file and garbage lines', async () => {
    const bad = await run(['ingest', '--keys', '/nonexistent/keys.json'], '');
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.err).error.code).toBe('BAD_KEYS_FILE');
    const room = rooms[0] as Room;
    const r = await run(['ingest', '--keys', keysFile(room)], 'not json\n[1,2]\n{"type":5}\n' + room.events.map((e) => JSON.stringify(e)).join('\n'));
    // Some lines were unparsable: exit 1, each accounted for by line number and code.
    expect(r.code).toBe(1);
    expect(classic(JSON.parse(r.out))).toEqual(sorted(room.expected));
    const out = JSON.parse(r.out);
    expect(out.unparsable).toEqual([
      { line: 1, code: 'JSON_SYNTAX', message: expect.any(String) },
      { line: 2, code: 'NOT_JSON_OBJECT', message: expect.any(String) },
      { line: 3, code: 'NOT_A_PDU', message: expect.any(String) },
    ]);
    expect(out.lines.total).toBe(room.events.length + 3);
    expect(out.lines.unparsable).toBe(3);
    expect(r.err).toContain('line 1: not JSON');
    expect(r.err).toContain('line 2: not a JSON object');
  });

  it('reads bytes: an invalid UTF-8 line is unparsable (JSON_INVALID_UTF8), never decoded to U+FFFD; the others count as before', async () => {
    const room = rooms[10] as Room;
    const input = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n'), Buffer.from(jsonl(room.events))]);
    const r = await run(['ingest', '--keys', keysFile(room)], input);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.out);
    expect(out).toEqual(expectedOutput(room, { total: room.events.length + 1, unparsable: [{ line: 1, code: 'JSON_INVALID_UTF8', message: expect.any(String) }] }));
  });

  it('a bare CR is JSON whitespace inside a line, not a line end; CRLF ends lines', async () => {
    const room = rooms[12] as Room;
    const lines = room.events.map((e) => JSON.stringify(e).replace(/^\{/, '{\r'));
    const r = await run(['ingest', '--keys', keysFile(room)], lines.join('\r\n') + '\r\n');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual(expectedOutput(room));
  });

  it('a line longer than --max-bytes is unparsable (INPUT_TOO_LARGE) and processing continues', async () => {
    const room = rooms[12] as Room;
    const longest = Math.max(...room.events.map((e) => Buffer.byteLength(JSON.stringify(e))));
    const huge = `{"type":"m.room.message","content":{"body":"${'x'.repeat(longest + 10)}"}}`;
    const input = `${jsonl(room.events.slice(0, 3))}${huge}\n${jsonl(room.events.slice(3))}`;
    const r = await run(['ingest', '--keys', keysFile(room), '--max-bytes', String(longest)], input);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual(expectedOutput(room, { total: room.events.length + 1, unparsable: [{ line: 4, code: 'INPUT_TOO_LARGE', message: expect.stringContaining(String(longest)) }] }));
    expect(JSON.parse((await run(['ingest', '--keys', keysFile(room), '--max-bytes', 'lots'], '')).err).error.code).toBe('USAGE');
  });

  it('blank lines are counted, not unparsable', async () => {
    const room = rooms[12] as Room;
    const r = await run(['ingest', '--keys', keysFile(room)], `\n${jsonl(room.events)} \n`);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual(expectedOutput(room, { total: room.events.length + 2, blank: 2 }));
  });

  // An event delivered before its prev event is parked, and processed when the prev event arrives:
  // it is reported with the status it ended with (here soft-failed, rejected or accepted).
  const unique = (room: Room, id: string): boolean => room.events.filter((e) => e['event_id'] === id).length === 1;
  const parkedCase = (ri: number, want: 'soft_failed' | 'rejected' | 'accepted') => {
    const room = rooms[ri] as Room;
    for (let i = 10; ; i = i + 1) {
      i = adjacentPair(room, i);
      const [a, b] = [String(room.events[i]?.['event_id']), String(room.events[i + 1]?.['event_id'])];
      const status = room.expected.soft_failed.includes(b) ? 'soft_failed' : room.expected.rejected.includes(b) ? 'rejected' : 'accepted';
      if (unique(room, a) && unique(room, b) && status === want) return [ri, want, room, i, b] as const;
    }
  };
  it.each([parkedCase(5, 'soft_failed'), parkedCase(7, 'rejected'), parkedCase(9, 'accepted')])('an event delivered before its prev event is reported with its final status; two runs print the same (room %i: %s)', async (_ri, want, room, i, late) => {
    const input = jsonl(swapped(room, i));
    const k = keysFile(room);
    const a = await run(['ingest', '--keys', k], input);
    expect(a.code).toBe(0);
    // Parked on delivery (stderr says so), processed when its prev event arrived: final status reported.
    expect(a.err).toContain(`line ${i + 1}: ${late} parked`);
    expect(JSON.parse(a.out)).toEqual(expectedOutput(room));
    if (want !== 'accepted') expect(JSON.parse(a.out)[want]).toContain(late);
    expect((await run(['ingest', '--keys', k], input)).out).toBe(a.out);
    // On LevelDB: the second run over the same store prints the same as the first.
    const dir = mkdtempSync(join(tmpdir(), 'rg-ingest-'));
    try {
      const first = await run(['ingest', '--keys', k, '--store', dir], input);
      const second = await run(['ingest', '--keys', k, '--store', dir], input);
      expect(first.out).toBe(a.out);
      expect(second.out).toBe(first.out);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an event whose prev event never arrives stays parked, with its line and code', async () => {
    const room = rooms[12] as Room;
    // A message (no other event's auth event) whose successor cites it as a prev event.
    let i = adjacentPair(room, 3);
    while (room.events[i]?.['state_key'] !== undefined) i = adjacentPair(room, i + 1);
    const missing = room.events[i] as Record<string, unknown>;
    const events = room.events.filter((e) => e !== missing);
    const r = await run(['ingest', '--keys', keysFile(room)], jsonl(events));
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out);
    const missingId = String(missing['event_id']);
    const entry = (out.parked as { line: number; code: string; reason: string }[]).find((p) => p.reason.includes(missingId));
    expect(entry).toMatchObject({ code: 'prev_events.missing', event_id: expect.stringMatching(/^\$/) });
    // Its line is an event citing the missing one.
    expect(JSON.stringify(events[(entry?.line ?? 0) - 1]?.['prev_events'])).toContain(missingId);
    for (const p of out.parked) expect(p.code).toMatch(/^(prev|auth)_events\.missing$/);
    expect(out.lines.parked).toBe(out.parked.length);
    const c = out.lines as Record<string, number>;
    expect(c['blank']! + c['accepted']! + c['soft_failed']! + c['rejected']! + c['dropped']! + c['parked']! + c['unparsable']!).toBe(c['total']);
    expect(c['total']).toBe(events.length);
  });

  it('several rooms: {"rooms":{...}}, each room as when ingested alone', async () => {
    // Two rooms of one server (the reference rooms each have keys of their own).
    const key = signingKeyFromSeed(new Uint8Array(32).fill(3), 'k1');
    const keys = { 'a.test': { [key.keyId]: publicKeyBase64(key) } };
    const store = createMemoryStore();
    const engine = await RoomEngine.open({ serverName: 'a.test', signingKey: key, store, ownsStore: true, keys: new StaticKeySource(keys) });
    const ids: string[] = [];
    for (const v of ['10', '12']) {
      const roomId = await engine.createRoom({ roomVersion: v, creator: '@alice:a.test', preset: 'public_chat', ...(v === '10' ? { roomIdLocalpart: 'ten' } : {}) });
      await engine.createLocalEvent(roomId, { type: 'm.room.topic', stateKey: '', sender: '@alice:a.test', content: { topic: `room ${v}` } });
      ids.push(roomId);
    }
    const [e1, e2] = await Promise.all(ids.map(async (id) => (await store.timeline(id, { limit: 100 })).map((e) => e.json)));
    await engine.close();
    const k = keysFile({ keys });
    const alone1 = JSON.parse((await run(['ingest', '--keys', k], jsonl(e1 ?? []))).out);
    const alone2 = JSON.parse((await run(['ingest', '--keys', k], jsonl(e2 ?? []))).out);
    expect(alone1.current_state['m.room.topic']).toBeDefined();
    expect(alone2.current_state['m.room.topic']).toBeDefined();
    const r = await run(['ingest', '--keys', k], jsonl([...(e1 ?? []), { not: 'a pdu' }, ...(e2 ?? [])]));
    expect(r.code).toBe(1);
    const out = JSON.parse(r.out);
    const room = (o: Record<string, unknown>) => ({ ...classic(o), parked: o['parked'] });
    expect(Object.keys(out).sort()).toEqual(['dropped', 'lines', 'rooms', 'unparsable']);
    expect(Object.keys(out.rooms).sort()).toEqual([...ids].sort());
    expect(out.rooms[ids[0]!]).toEqual(room(alone1));
    expect(out.rooms[ids[1]!]).toEqual(room(alone2));
    expect(out.unparsable).toEqual([{ line: (e1 ?? []).length + 1, code: 'NOT_A_PDU', message: expect.any(String) }]);
    expect(out.lines).toEqual({ total: (e1 ?? []).length + (e2 ?? []).length + 1, blank: 0, accepted: (e1 ?? []).length + (e2 ?? []).length, soft_failed: 0, rejected: 0, dropped: 0, parked: 0, unparsable: 1 });
  });

  it('a forged copy of a stored event, dropped, does not hide the event\'s own status (fuzz finding)', async () => {
    const room = rooms[7] as Room;
    const target = room.expected.rejected[0] as string;
    const at = room.events.findIndex((e) => e['event_id'] === target);
    // A v10 copy with a changed signed field: another event (its ID is its hash), badly signed,
    // dropped — and reported by the ID its line gives, the original's.
    const original = room.events[at] as Record<string, unknown>;
    const forged = { ...original, origin_server_ts: (original['origin_server_ts'] as number) + 1 };
    const events = [...room.events.slice(0, at + 1), forged, ...room.events.slice(at + 1)];
    const r = await run(['ingest', '--keys', keysFile(room)], jsonl(events));
    const out = JSON.parse(r.out);
    expect(classic(out)).toEqual(sorted(room.expected));
    expect(out.rejected).toContain(target);
    expect(out.lines.dropped).toBe(room.expected.dropped.length + 1);
    expect(out.lines.total).toBe(events.length);
  });

  // A validly signed create event from another server for the room's ID, delivered first, is
  // rejected and claims nothing: the room ends as without it (room versions 1–11).
  const firstOfVersion = [...new Map(rooms.filter((r) => r.room_version !== '12').map((r) => [r.room_version, r] as const)).values()];
  const evil = signingKeyFromSeed(new Uint8Array(32).fill(7), 'k1');
  const forgedCreate = (v: string, roomId: string) => buildEvent({
    roomVersion: v, type: 'm.room.create', stateKey: '', sender: '@mallory:evil.test', roomId,
    content: { room_version: v, ...(getRoomVersion(v).authorization.creatorInContent ? { creator: '@mallory:evil.test' } : {}) },
    prevEvents: [], authEvents: [], depth: 1, originServerTs: 1_600_000_000_000,
  }, { serverName: 'evil.test', key: evil });
  it.each(firstOfVersion.map((r) => [r.room_version, r] as const))('a forged create event delivered first changes nothing (v%s)', async (v, room) => {
    const forged = forgedCreate(v, room.events[0]?.['room_id'] as string);
    const withEvil: Room = { ...room, keys: { ...room.keys, 'evil.test': { [evil.keyId]: publicKeyBase64(evil) } } };
    const r = await run(['ingest', '--keys', keysFile(withEvil)], jsonl([forged.json, ...room.events]));
    expect(r.code).toBe(0);
    const want = sorted(room.expected);
    expect(classic(JSON.parse(r.out))).toEqual({ ...want, rejected: [...want.rejected, forged.eventId].sort() });
  });

  it('a rejected event of another room delivered first is not the summarised room', async () => {
    const room = rooms[10] as Room;
    const forged = forgedCreate('11', '!elsewhere:example.com');
    const withEvil: Room = { ...room, keys: { ...room.keys, 'evil.test': { [evil.keyId]: publicKeyBase64(evil) } } };
    const r = await run(['ingest', '--keys', keysFile(withEvil)], jsonl([forged.json, ...room.events]));
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out);
    expect(out.rooms).toBeUndefined();
    const want = sorted(room.expected);
    expect(classic(out)).toEqual({ ...want, rejected: [...want.rejected, forged.eventId].sort() });
  });

  it('--progress writes plain progress lines on stderr; a terminal gets a redrawn bar; stdout is unchanged', async () => {
    const room = rooms[12] as Room;
    const k = keysFile(room);
    const plain = await run(['ingest', '--keys', k, '--progress'], jsonl(room.events));
    expect(plain.code).toBe(0);
    expect(JSON.parse(plain.out)).toEqual(expectedOutput(room));
    expect(plain.err).toMatch(new RegExp(`^roomgraph ingest: ${room.events.length} lines  \\d+ lines/s  done in \\d+:\\d\\d$`, 'm'));
    const tty = await run(['ingest', '--keys', k], jsonl(room.events), { isTTY: true });
    expect(tty.out).toBe(plain.out);
    expect(tty.err).toContain('\r\x1b[K');
    expect(tty.err.endsWith('\n')).toBe(true);
    const quiet = await run(['ingest', '--keys', k], jsonl(room.events));
    expect(quiet.err).toBe('');
  });

  it('--help documents the input, the output and the exit status', async () => {
    const r = await run(['ingest', '--help'], '');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Exit status: 0');
    expect(r.out).toContain('1 some line was');
    expect(r.out).toContain('--max-bytes');
    expect(r.out).toContain('--progress');
  });

  // Kills the real process with SIGKILL part-way through, then resumes on the same store. The
  // kill points are gates, not timers: the input is written up to a batch boundary with stdin left
  // open, and the kill comes once the child reports (on stderr) that it parked an event placed
  // just before that boundary — so it has processed a known part of the input and not the rest.
  describe('SIGKILL', () => {
    beforeAll(() => {
      // The child runs the built CLI: build it first, so the test never runs a stale build.
      execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', join(ROOT, 'packages/cli/tsconfig.json')], { stdio: 'inherit' });
    }, 300_000);

    it('resumes after SIGKILL with nothing acknowledged lost and nothing half-written', async () => {
      const room = rooms.reduce((a, b) => (b.events.length > a.events.length ? b : a));
      const k = keysFile(room);
      const input = jsonl(room.events);
      const storedAtKill: number[] = [];
      for (const batchEnd of [64, 128, 192]) {
        const i = adjacentPair(room, batchEnd - 8);
        expect(i + 1).toBeLessThan(batchEnd);
        const order = swapped(room, i);
        const dir = mkdtempSync(join(tmpdir(), 'rg-crash-'));
        try {
          const child = spawn(process.execPath, [BIN, 'ingest', '--keys', k, '--store', dir], { stdio: ['pipe', 'ignore', 'pipe'] });
          const exited = new Promise((r) => child.once('exit', r));
          const parkedId = String(order[i]?.['event_id']);
          let err = '';
          const gate = new Promise<void>((resolve, reject) => {
            child.stderr.on('data', (d: Buffer) => {
              err += d.toString();
              if (err.includes(`${parkedId} parked`)) resolve();
            });
            child.once('exit', () => reject(new Error(`child exited before the gate: ${err}`)));
          });
          child.stdin.write(jsonl(order.slice(0, batchEnd)));
          await gate;
          child.kill('SIGKILL');
          await exited;
          const probe = new LevelRoomStore(dir);
          await probe.open();
          storedAtKill.push((await probe.stats()).events);
          await probe.close();
          const resumed = await run(['ingest', '--keys', k, '--store', dir], input);
          expect(resumed.code).toBe(0);
          expect(classic(JSON.parse(resumed.out))).toEqual(sorted(room.expected));
          expect(JSON.parse(resumed.out)).toEqual(expectedOutput(room));
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
      // Every kill landed mid-ingest (by construction: the rest of the input was never written).
      expect(storedAtKill.every((n) => n < room.events.length)).toBe(true);
    }, 120_000);
  });
});
