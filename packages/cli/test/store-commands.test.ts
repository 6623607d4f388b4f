// The commands that make rooms and keys (gen-room, keygen) and read a store written by ingest
// (export, state, why, extremities, auth-chain), the --help of every command and --version.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { commands, main } from '@roomgraph/cli';
import { LevelRoomStore } from '@roomgraph/store-level';
import type { StoredEvent } from '@roomgraph/store';

interface Room {
  room_version: string;
  keys: Record<string, Record<string, string>>;
  events: Record<string, unknown>[];
  expected: { current_state: object; forward_extremities: string[]; soft_failed: string[]; rejected: string[]; dropped: string[] };
}
const rooms = gunzipSync(readFileSync(new URL('../../../test/fixtures/reference-sample/ingest.jsonl.gz', import.meta.url)))
  .toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Room);

const work = mkdtempSync(join(tmpdir(), 'rg-store-cmds-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string): string => join(work, `${name}-${n++}`);

async function run(argv: string[], stdin = '') {
  let out = '';
  let err = '';
  const code = await main(argv, { stdin, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}
const errorCode = (r: { err: string }): string => (JSON.parse(r.err) as { error: { code: string } }).error.code;

async function storedStatuses(dir: string): Promise<Map<string, string>> {
  const store = new LevelRoomStore(dir);
  await store.open();
  const out = new Map<string, string>();
  try {
    for (const roomId of await store.listRooms()) {
      for (const e of await store.timeline(roomId, { limit: 100_000 })) out.set(e.eventId, `${e.status} ${(e as StoredEvent).rejection?.rule ?? ''}`);
    }
  } finally {
    await store.close();
  }
  return out;
}

async function genRoom(args: string[]): Promise<{ keys: string; jsonl: string; lines: string[] }> {
  const keys = fresh('keys') + '.json';
  const r = await run(['gen-room', '--keys', keys, ...args]);
  expect(r.err).toMatch(/^roomgraph gen-room: \d+ events of room /);
  expect(r.code).toBe(0);
  return { keys, jsonl: r.out, lines: r.out.trimEnd().split('\n') };
}

describe('roomgraph gen-room', () => {
  it.each(['1', '2', '3', '6', '10', '11', '12'])('room version %s with forks: every event accepted, one extremity, the branches\' topics resolved', async (v) => {
    const g = await genRoom(['--members', '12', '--events', '90', '--forks', '3', '--room-version', v]);
    expect(g.lines).toHaveLength(90);
    const parsed = g.lines.map((l) => JSON.parse(l) as { type: string; prev_events: unknown[] });
    // Fork rounds: merge events name one head per branch.
    expect(parsed.filter((p) => p.prev_events.length === 3).length).toBeGreaterThan(0);
    expect(Object.keys(JSON.parse(readFileSync(g.keys, 'utf8')) as object).sort()).toEqual(['a.example', 'b.example', 'c.example']);
    const r = await run(['ingest', '--keys', g.keys], g.jsonl);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out) as Room['expected'] & { current_state: Record<string, Record<string, string>> };
    expect(s.rejected).toEqual([]);
    expect(s.soft_failed).toEqual([]);
    expect(s.dropped).toEqual([]);
    expect(s.forward_extremities).toHaveLength(1);
    expect(Object.keys(s.current_state['m.room.member'] ?? {})).toHaveLength(13);
    expect(s.current_state['m.room.topic']?.['']).toMatch(/^\$/);
  });

  it('is deterministic, and a linear room has one prev event per event', async () => {
    const a = await genRoom(['--members', '5', '--events', '40']);
    const b = await genRoom(['--members', '5', '--events', '40']);
    expect(a.jsonl).toBe(b.jsonl);
    expect(a.lines.every((l) => (JSON.parse(l) as { prev_events: unknown[] }).prev_events.length <= 1)).toBe(true);
  });

  it('refuses impossible sizes and unknown room versions with typed errors', async () => {
    const few = await run(['gen-room', '--keys', fresh('k'), '--members', '10', '--events', '5']);
    expect(few.code).toBe(2);
    expect(errorCode(few)).toBe('USAGE');
    const nan = await run(['gen-room', '--keys', fresh('k'), '--members', 'ten']);
    expect(errorCode(nan)).toBe('USAGE');
    const v = await run(['gen-room', '--keys', fresh('k'), '--room-version', '99']);
    expect(v.code).toBe(2);
    expect(errorCode(v)).toMatch(/ROOM_VERSION/);
  });
});

describe('roomgraph keygen', () => {
  it('writes a key that signs, and a KEYS.json entry that verifies it (other entries kept)', async () => {
    const keys = fresh('keys') + '.json';
    writeFileSync(keys, JSON.stringify({ 'other.example': { 'ed25519:x': 'AAAA' } }));
    const r = await run(['keygen', '--server', 'example.org', '--keys', keys]);
    expect(r.code).toBe(0);
    const key = JSON.parse(r.out) as { server_name: string; key_id: string; seed: string; public_key: string };
    expect(key.server_name).toBe('example.org');
    expect(key.key_id).toMatch(/^ed25519:[A-Za-z0-9_]{6}$/);
    const file = JSON.parse(readFileSync(keys, 'utf8')) as Record<string, Record<string, string>>;
    expect(file).toEqual({ 'other.example': { 'ed25519:x': 'AAAA' }, 'example.org': { [key.key_id]: key.public_key } });
    const signed = await run(['sign', '--server', 'example.org', '--key-id', key.key_id, '--seed', key.seed], '{"a":1}');
    expect(signed.code).toBe(0);
    const ok = await run(['verify', '--server', 'example.org', '--key-id', key.key_id, '--public-key', file['example.org']![key.key_id]!], signed.out);
    expect(JSON.parse(ok.out)).toEqual({ valid: true });
  });

  it('is deterministic with --seed, and refuses bad server names and key IDs', async () => {
    const seed = 'YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1';
    const a = await run(['keygen', '--server', 'domain', '--key-id', 'ed25519:1', '--seed', seed]);
    const b = await run(['keygen', '--server', 'domain', '--key-id', 'ed25519:1', '--seed', seed]);
    expect(a.out).toBe(b.out);
    expect(errorCode(await run(['keygen', '--server', 'bad server']))).toBe('USAGE');
    expect(errorCode(await run(['keygen', '--server', 'a.example', '--key-id', 'rsa:1']))).toBe('USAGE');
  });
});

describe('roomgraph export: ingest -> export -> ingest into a fresh store', () => {
  // Every reference room (rejected, soft-failed, dropped and parked events included).
  it.each(rooms.map((r, i) => [i, r.room_version, r] as const))('reference room %i (v%s): same state, extremities and statuses', async (_i, _v, room) => {
    const keys = fresh('keys') + '.json';
    writeFileSync(keys, JSON.stringify(room.keys));
    const first = fresh('db');
    const second = fresh('db');
    const a = await run(['ingest', '--keys', keys, '--store', first], room.events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    expect(a.code).toBe(0);
    const exported = await run(['export', '--store', first]);
    expect(exported.code).toBe(0);
    const b = await run(['ingest', '--keys', keys, '--store', second], exported.out);
    expect(b.code).toBe(0);
    const sa = JSON.parse(a.out) as Room['expected'] & { lines: Record<string, number> };
    const sb = JSON.parse(b.out) as Room['expected'] & { lines: Record<string, number> };
    // Dropped events are never stored, so the export does not hold them (nor their lines).
    expect({ ...sb, dropped: [], lines: undefined }).toEqual({ ...sa, dropped: [], lines: undefined });
    expect(sb.dropped).toEqual([]);
    expect(sb.lines).toEqual({ ...sa.lines, total: sa.lines['total']! - sa.lines['dropped']!, dropped: 0 });
    expect(await storedStatuses(second)).toEqual(await storedStatuses(first));
    // And once more: an export of the copy is byte for byte the export of the original.
    expect((await run(['export', '--store', second])).out).toBe(exported.out);
  });
});

describe('roomgraph state, why, extremities, auth-chain', () => {
  // A reference room with rejected and soft-failed events.
  const room = rooms.find((r) => r.expected.rejected.length > 0 && r.expected.soft_failed.length > 0)!;
  const db = fresh('db');
  const keys = fresh('keys') + '.json';
  let summary: Room['expected'] & { current_state: Record<string, Record<string, string>> };
  it('ingest a room with rejected and soft-failed events', async () => {
    expect(room).toBeDefined();
    writeFileSync(keys, JSON.stringify(room.keys));
    const r = await run(['ingest', '--keys', keys, '--store', db], room.events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    summary = JSON.parse(r.out) as typeof summary;
  });

  it('state: the current state is what ingest printed; --at gives the state before, --after adds the event', async () => {
    const cur = await run(['state', '--store', db]);
    expect(JSON.parse(cur.out)).toEqual(summary.current_state);
    const pl = summary.current_state['m.room.power_levels']![''];
    const before = JSON.parse((await run(['state', '--store', db, '--at', pl!])).out) as Record<string, Record<string, string>>;
    const after = JSON.parse((await run(['state', '--store', db, '--at', pl!, '--after'])).out) as Record<string, Record<string, string>>;
    expect(before['m.room.power_levels']?.['']).not.toBe(pl);
    expect(after['m.room.power_levels']?.['']).toBe(pl);
    expect(errorCode(await run(['state', '--store', db, '--after']))).toBe('USAGE');
  });

  it('why: status, rule and reason of a rejected and of a soft-failed event; accepted and unknown events', async () => {
    for (const [id, status] of [[summary.rejected[0]!, 'rejected'], [summary.soft_failed[0]!, 'soft-failed']] as const) {
      const r = await run(['why', '--store', db, id]);
      expect(r.code).toBe(0);
      const w = JSON.parse(r.out) as Record<string, unknown>;
      expect(w).toMatchObject({ event_id: id, status });
      expect(w['rule']).toMatch(/^[a-z_]+(\.[a-z_0-9]+)*$/);
      expect(typeof w['reason']).toBe('string');
      expect(typeof w['meaning']).toBe('string');
    }
    const acc = JSON.parse((await run(['why', '--store', db, '--event', summary.forward_extremities[0]!])).out) as Record<string, unknown>;
    expect(acc['status']).toBe('accepted');
    expect(acc['rule']).toBeUndefined();
    const unknown = await run(['why', '--store', db, '$nope']);
    expect(unknown.code).toBe(2);
    expect(errorCode(unknown)).toBe('EVENT_NOT_FOUND');
    expect(errorCode(await run(['why', '--store', db]))).toBe('USAGE');
  });

  it('extremities and auth-chain', async () => {
    const ex = JSON.parse((await run(['extremities', '--store', db])).out) as { forward_extremities: string[] };
    expect(ex.forward_extremities).toEqual(summary.forward_extremities);
    const pl = summary.current_state['m.room.power_levels']!['']!;
    const chain = JSON.parse((await run(['auth-chain', '--store', db, pl])).out) as { auth_chain: { event_id: string; type: string }[] };
    expect(chain.auth_chain[0]?.type).toBe('m.room.create');
    expect(chain.auth_chain.map((e) => e.event_id)).not.toContain(pl);
  });

  it('a missing store is an error, never a new empty store', async () => {
    const dir = fresh('nothing');
    const r = await run(['state', '--store', dir]);
    expect(r.code).toBe(2);
    expect(errorCode(r)).toBe('STORE_NOT_FOUND');
    expect(existsSync(dir)).toBe(false);
    expect(errorCode(await run(['extremities', '--store', db, '--room', '!unknown:x']))).toBe('STORE_UNKNOWN_ROOM');
  });
});

describe('help and version', () => {
  it.each(commands.map((c) => [c.name]))('roomgraph %s --help shows its flags, input shape and an example', async (name) => {
    const r = await run([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`roomgraph ${name} —`);
    expect(r.out).toMatch(/Example/);
    expect(r.out).toContain(`roomgraph ${name}`);
    expect((await run(['help', name])).out).toBe(r.out);
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`roomgraph ${pkg.version} (node ${process.versions.node})\n`);
  });
});
