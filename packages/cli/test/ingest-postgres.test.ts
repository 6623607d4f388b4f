// `roomgraph ingest --store postgres://…`: the reference-sample rooms give the expected results
// on PostgreSQL (PGlite in-process, or the server of ROOMGRAPH_POSTGRES_URL when it is set), a
// rerun reports the same from the store, and the store is chosen by the URL scheme; events holding
// U+0000 (which PostgreSQL text cannot hold) give the same output as on the memory store.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '@roomgraph/cli';
import { publicKeyBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { RoomEngine } from '@roomgraph/engine';
import { createMemoryStore } from '@roomgraph/store-memory';
import { StaticKeySource } from '@roomgraph/transport';
import { type TestServer, startTestServer } from '@roomgraph/store-postgres/testing';

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

/** The output of a run over `room`'s events alone, as the fixture expects it (as in ingest.test.ts). */
function expectedOutput(room: Room) {
  const e = sorted(room.expected);
  const n = room.events.length;
  return {
    ...e,
    parked: [],
    unparsable: [],
    lines: {
      total: n, blank: 0,
      accepted: n - e.soft_failed.length - e.rejected.length - e.dropped.length,
      soft_failed: e.soft_failed.length, rejected: e.rejected.length, dropped: e.dropped.length, parked: 0,
      unparsable: 0,
    },
  };
}

const tmp = mkdtempSync(join(tmpdir(), 'rg-pg-ingest-'));
function keysFile(i: number, room: Room): string {
  const p = join(tmp, `keys${i}.json`);
  writeFileSync(p, JSON.stringify(room.keys));
  return p;
}
const input = (room: Room) => room.events.map((e) => JSON.stringify(e)).join('\n') + '\n';

async function run(argv: string[], stdin: string) {
  let out = '';
  let err = '';
  const code = await main(argv, { stdin, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

/** The real binary, as a user runs it. */
function runBin(argv: string[], stdin: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out, err }));
    child.stdin.end(stdin);
  });
}

describe('roomgraph ingest --store postgres://…', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  // Each room in its own schema: v1/v2 event IDs repeat across the fixture's rooms.
  it.each(rooms.map((r, i) => [i, r.room_version, r] as const))('reference room %i (v%s)', async (i, _v, room) => {
    const r = await run(['ingest', '--keys', keysFile(i, room), '--store', server.newDatabase().url], input(room));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual(expectedOutput(room));
  });

  it('the binary, twice over the same schema: the rerun reports the same, from the store', async () => {
    const room = rooms[6]!;
    const url = server.newDatabase().url;
    const k = keysFile(6, room);
    const first = await runBin(['ingest', '--keys', k, '--store', url], input(room));
    expect(first.code).toBe(0);
    expect(JSON.parse(first.out)).toEqual(expectedOutput(room));
    const again = await runBin(['ingest', '--keys', k, '--store', url], input(room));
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out)).toEqual(expectedOutput(room));
  });

  it('events holding U+0000 (content, state key, type; a hostile room_id): no crash, the same output as the memory store', async () => {
    const key = signingKeyFromSeed(new Uint8Array(32).fill(5), 'k1');
    const keys = { 'a.test': { [key.keyId]: publicKeyBase64(key) } };
    const store = createMemoryStore();
    const engine = await RoomEngine.open({ serverName: 'a.test', signingKey: key, store, ownsStore: true, keys: new StaticKeySource(keys) });
    const roomId = await engine.createRoom({ roomVersion: '10', creator: '@alice:a.test', preset: 'public_chat', roomIdLocalpart: 'nul' });
    await engine.createLocalEvent(roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: 'a\u0000b', '\u0000': '\u0000' } });
    await engine.createLocalEvent(roomId, { type: 'org.example.nul', stateKey: 'k\u0000', sender: '@alice:a.test', content: { v: '\u0000' } });
    await engine.createLocalEvent(roomId, { type: 'org.example\u0000', stateKey: '\u0000', sender: '@alice:a.test', content: {} });
    const events: Record<string, unknown>[] = (await store.timeline(roomId, { limit: 100 })).map((e) => ({ ...e.json }));
    await engine.close();
    events.push({ ...events[events.length - 1], room_id: '!\u0000:a.test' });
    const text = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
    expect(text).toContain('\\u0000'); // written as JSON escapes, read by the strict parser
    const p = join(tmp, 'keys-nul.json');
    writeFileSync(p, JSON.stringify(keys));
    const memory = await run(['ingest', '--keys', p], text);
    const pg = await run(['ingest', '--keys', p, '--store', server.newDatabase().url], text);
    expect(pg.code).toBe(memory.code);
    expect(pg.err).toBe(memory.err);
    expect(pg.err).toMatch(/line 9: not a PDU \(unknown_room/);
    expect(JSON.parse(pg.out)).toEqual(JSON.parse(memory.out));
    const out = JSON.parse(pg.out);
    expect(out.lines).toMatchObject({ total: events.length, accepted: events.length - 1, dropped: 0, unparsable: 1 });
    expect(out.current_state['org.example.nul']).toEqual({ 'k\u0000': expect.any(String) });
    expect(out.current_state['org.example\u0000']).toEqual({ '\u0000': expect.any(String) });
  });

  it('an unreachable server is a clear STORE_IO error (exit 2)', async () => {
    const r = await run(['ingest', '--keys', keysFile(0, rooms[0]!), '--store', 'postgres://postgres@127.0.0.1:1/none'], input(rooms[0]!));
    expect(r.code).toBe(2);
    expect(JSON.parse(r.err).error.code).toBe('STORE_IO');
  });

  it('an unknown store scheme is a usage error', async () => {
    const r = await run(['ingest', '--keys', keysFile(0, rooms[0]!), '--store', 'mysql://x/y'], input(rooms[0]!));
    expect(r.code).toBe(2);
    expect(JSON.parse(r.err).error.code).toBe('USAGE');
  });
});
