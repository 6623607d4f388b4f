import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { main } from '@roomgraph/cli';
import { publicKeyBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { buildEvent } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { LevelRoomStore } from '@roomgraph/store-level';

interface Room {
  room_version: string;
  keys: Record<string, Record<string, string>>;
  events: Record<string, unknown>[];
  expected: { current_state: object; forward_extremities: string[]; soft_failed: string[]; rejected: string[]; dropped: string[] };
}
const rooms = gunzipSync(readFileSync(new URL('../../../test/fixtures/reference-sample/ingest.jsonl.gz', import.meta.url)))
  .toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Room);
const BIN = fileURLToPath(new URL('../bin/roomgraph.mjs', import.meta.url));

const sorted = (e: Room['expected']) => ({
  current_state: e.current_state,
  forward_extremities: [...e.forward_extremities].sort(),
  soft_failed: [...e.soft_failed].sort(),
  rejected: [...e.rejected].sort(),
  dropped: [...e.dropped].sort(),
});

function keysFile(room: Room): string {
  const dir = mkdtempSync(join(tmpdir(), 'rg-keys-'));
  const p = join(dir, 'keys.json');
  writeFileSync(p, JSON.stringify(room.keys));
  return p;
}

async function run(argv: string[], stdin: string) {
  let out = '';
  let err = '';
  const code = await main(argv, { stdin, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

describe('roomgraph ingest', () => {
  it.each(rooms.map((r, i) => [i, r.room_version, r] as const))('reference room %i (v%s) in memory', async (_i, _v, room) => {
    const r = await run(['ingest', '--keys', keysFile(room)], room.events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual(sorted(room.expected));
  });

  it('on LevelDB, a second run over the same input reports the same, from the store', async () => {
    const room = rooms[9] as Room;
    const dir = mkdtempSync(join(tmpdir(), 'rg-ingest-'));
    try {
      const input = room.events.map((e) => JSON.stringify(e)).join('\n') + '\n';
      const half = room.events.slice(0, 40).map((e) => JSON.stringify(e)).join('\n') + '\n';
      const k = keysFile(room);
      expect((await run(['ingest', '--keys', k, '--store', dir], half)).code).toBe(0);
      const second = await run(['ingest', '--keys', k, '--store', dir], input);
      expect(JSON.parse(second.out)).toEqual(sorted(room.expected));
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
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual(sorted(room.expected));
    expect(r.err).toContain('line 1: not JSON');
    expect(r.err).toContain('line 2: not a JSON object');
  });

  // A validly signed create event from another server for the room's ID, delivered first, is
  // rejected and claims nothing: the room ends as without it (room versions 1–11).
  const firstOfVersion = [...new Map(rooms.filter((r) => r.room_version !== '12').map((r) => [r.room_version, r] as const)).values()];
  it.each(firstOfVersion.map((r) => [r.room_version, r] as const))('a forged create event delivered first changes nothing (v%s)', async (v, room) => {
    const evil = signingKeyFromSeed(new Uint8Array(32).fill(7), 'k1');
    const roomId = room.events[0]?.['room_id'] as string;
    const forged = buildEvent({
      roomVersion: v, type: 'm.room.create', stateKey: '', sender: '@mallory:evil.test', roomId,
      content: { room_version: v, ...(getRoomVersion(v).authorization.creatorInContent ? { creator: '@mallory:evil.test' } : {}) },
      prevEvents: [], authEvents: [], depth: 1, originServerTs: 1_600_000_000_000,
    }, { serverName: 'evil.test', key: evil });
    const withEvil: Room = { ...room, keys: { ...room.keys, 'evil.test': { [evil.keyId]: publicKeyBase64(evil) } } };
    const r = await run(['ingest', '--keys', keysFile(withEvil)], [forged.json, ...room.events].map((e) => JSON.stringify(e)).join('\n') + '\n');
    expect(r.code).toBe(0);
    const want = sorted(room.expected);
    expect(JSON.parse(r.out)).toEqual({ ...want, rejected: [...want.rejected, forged.eventId].sort() });
  });

  // Kills the real process with SIGKILL part-way through, then resumes on the same store.
  it('resumes after SIGKILL with nothing acknowledged lost and nothing half-written', async () => {
    expect(existsSync(fileURLToPath(new URL('../dist/main.js', import.meta.url)))).toBe(true);
    const room = rooms.reduce((a, b) => (b.events.length > a.events.length ? b : a));
    const k = keysFile(room);
    const input = room.events.map((e) => JSON.stringify(e)).join('\n') + '\n';
    const storedAtKill: number[] = [];
    for (const delayMs of [300, 600, 900]) {
      const dir = mkdtempSync(join(tmpdir(), 'rg-crash-'));
      try {
        const child = spawn(process.execPath, [BIN, 'ingest', '--keys', k, '--store', dir], { stdio: ['pipe', 'ignore', 'ignore'] });
        child.stdin.write(input);
        await new Promise((r) => setTimeout(r, delayMs));
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
        const probe = new LevelRoomStore(dir);
        await probe.open();
        storedAtKill.push((await probe.stats()).events);
        await probe.close();
        const resumed = await run(['ingest', '--keys', k, '--store', dir], input);
        expect(resumed.code).toBe(0);
        expect(JSON.parse(resumed.out)).toEqual(sorted(room.expected));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    // At least one kill landed mid-ingest (some events stored, not all).
    expect(storedAtKill.some((n) => n > 0 && n < room.events.length)).toBe(true);
  }, 120_000);
});
