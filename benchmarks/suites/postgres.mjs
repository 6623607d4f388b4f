// The PostgreSQL store: ingest rate and state-at-event latency against LevelDB and memory in one
// run, then the aggregate ingest rate with 1, 2 and 4 processes on one database — different rooms,
// then one room (every process delivering all of it, racing: the room lock serialises them).
//
// Server: ROOMGRAPH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test (each run in a
// fresh schema, dropped at the end). Sizes: ROOMGRAPH_BENCH_PG_MEMBERS / _MESSAGES (default
// 1,000 members + 4,000 messages for the store comparison) and _ROOMS_EVENTS (default 1,500
// events per room, 4 rooms, for the process scaling).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { encodeBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { RoomEngine } from '@roomgraph/engine';
import { createMemoryStore } from '@roomgraph/store-memory';
import { LevelRoomStore } from '@roomgraph/store-level';
import { PostgresRoomStore } from '@roomgraph/store-postgres';
import { StaticKeySource } from '@roomgraph/transport';
import { roomPdus } from '../lib/room-pdus.mjs';

const VERSION = '10';
const SEED = 7;
const key = signingKeyFromSeed(new Uint8Array(32).fill(SEED), 'bench');
const keys = new StaticKeySource({ 'a.example': { [key.keyId]: encodeBase64(key.publicKey) } });
const SERVER = process.env.ROOMGRAPH_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test';
const WORKER = fileURLToPath(new URL('../scripts/postgres-worker.mjs', import.meta.url));

/** A room of `members` joins then `messages` messages, built on a source engine; its PDUs in order. */
async function buildRoom(members, messages, tag) {
  let clock = 1_700_000_000_000;
  const src = await RoomEngine.open({ serverName: 'a.example', signingKey: key, store: createMemoryStore(), keys, now: () => (clock += 1) });
  const roomId = await src.createRoom({ roomVersion: VERSION, creator: `@admin${tag}:a.example`, preset: 'public_chat' });
  for (let i = 0; i < members; i++) {
    const u = `@u${i}:a.example`;
    await src.createLocalEvent(roomId, { type: 'm.room.member', stateKey: u, sender: u, content: { membership: 'join', displayname: `User ${i}` } });
  }
  for (let i = 0; i < messages; i++) {
    await src.createLocalEvent(roomId, { type: 'm.room.message', sender: `@u${i % members}:a.example`, content: { msgtype: 'm.text', body: `message ${i} `.repeat(8) } });
  }
  const pdus = await roomPdus(src, roomId);
  await src.close();
  return pdus;
}

async function sql(text) {
  const c = new pg.Client({ connectionString: SERVER });
  await c.connect();
  try {
    return (await c.query(text)).rows;
  } finally {
    await c.end();
  }
}

function schemaUrl(schema) {
  const u = new URL(SERVER);
  u.searchParams.set('schema', schema);
  return u.toString();
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];

/** Ingests `pdus` (receivePdus, 100 per call) into a store; PDUs/s. */
async function ingest(store, pdus, trusted) {
  const engine = await RoomEngine.open({ serverName: 'b.example', store, keys });
  const t0 = performance.now();
  let accepted = 0;
  for (let i = 0; i < pdus.length; i += 100) {
    for (const o of await engine.receivePdus('a.example', pdus.slice(i, i + 100), { trusted })) if (o.status === 'accepted') accepted++;
  }
  const ms = performance.now() - t0;
  if (accepted !== pdus.length) throw new Error(`only ${accepted}/${pdus.length} accepted`);
  return (pdus.length / ms) * 1000;
}

/** State at `sample` events on a fresh store instance (cold caches): full state, and a 6-key point lookup. */
async function stateLatency(store, sample) {
  const engine = await RoomEngine.open({ serverName: 'b.example', store, keys });
  await store.open();
  const full = [];
  const point = [];
  for (const id of sample) {
    // The point lookup first, on cold caches (its layers come from the database), then the full state.
    const e = await store.getEvent(id);
    let t = performance.now();
    await store.getStateEntries(e.stateBefore, ['13:m.room.create', '19:m.room.power_levels', '16:m.room.join_rules', `14:m.room.member${e.json.sender}`, '14:m.room.member@u1:a.example', '14:m.room.member@u2:a.example']);
    point.push(performance.now() - t);
    t = performance.now();
    const s = await engine.stateAt(id);
    full.push(performance.now() - t);
    if (s.size === 0) throw new Error('empty state');
  }
  return { full, point };
}

/** Runs `procs` worker processes, each ingesting its files; resolves to the wall time from GO to the last DONE. */
async function runProcs(url, fileSets) {
  const children = fileSets.map((files) => spawn(process.execPath, [WORKER, url, ...files], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, UV_THREADPOOL_SIZE: '1' } }));
  const lines = children.map((c) => {
    const waiting = [];
    const got = [];
    let buf = '';
    c.stdout.on('data', (d) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const l = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const w = waiting.shift();
        if (w) w(l);
        else got.push(l);
      }
    });
    return () => new Promise((resolve) => (got.length > 0 ? resolve(got.shift()) : waiting.push(resolve)));
  });
  for (const next of lines) if ((await next()) !== 'READY') throw new Error('worker did not start');
  const t0 = performance.now();
  for (const c of children) c.stdin.write('GO\n');
  let accepted = 0;
  for (const next of lines) {
    const l = await next();
    if (!l.startsWith('DONE ')) throw new Error(`worker: ${l}`);
    accepted += Number(l.slice(5));
  }
  const ms = performance.now() - t0;
  for (const c of children) c.stdin.end();
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r)))));
  return { ms, accepted };
}

export default async function run() {
  const members = Number(process.env.ROOMGRAPH_BENCH_PG_MEMBERS ?? 1000);
  const messages = Number(process.env.ROOMGRAPH_BENCH_PG_MESSAGES ?? 4000);
  const perRoom = Number(process.env.ROOMGRAPH_BENCH_PG_ROOMS_EVENTS ?? 1500);
  const redacted = new URL(SERVER);
  redacted.password = redacted.password ? '***' : '';
  console.log(`  server: ${redacted} (${(await sql('SHOW server_version'))[0].server_version}), synchronous_commit=${(await sql('SHOW synchronous_commit'))[0].synchronous_commit}`);
  const schemas = [];
  const fresh = () => {
    const s = `rg_bench_${randomBytes(5).toString('hex')}`;
    schemas.push(s);
    return schemaUrl(s);
  };
  const tmp = mkdtempSync(join(tmpdir(), 'rg-bench-pg-'));
  try {
    const pdus = await buildRoom(members, messages, 0);
    console.log(`\n## ingest, ${pdus.length} signed PDUs (room v${VERSION}, ${members} members), receivePdus x100; then state at 300 events (fresh store instance)`);
    console.log('  store     mode      PDUs/s   state at event: full (median / p90)   6-key lookup (median / p90)');
    const sample = [];
    for (let i = 0; i < 300; i++) sample.push(1 + ((i * 7919) % (pdus.length - 1))); // not the create event (empty state before)
    for (const kind of ['memory', 'level', 'postgres', 'postgres-nolock']) {
      for (const trusted of [false, true]) {
        const dir = kind === 'level' ? mkdtempSync(join(tmp, 'level-')) : undefined;
        const url = kind.startsWith('postgres') ? fresh() : undefined;
        const make = () => (kind === 'memory' ? mem : kind === 'level' ? new LevelRoomStore(dir) : new PostgresRoomStore(url));
        const mem = createMemoryStore();
        const store = make();
        // The cost of the room lock: the same ingest with the engine taking no cross-process lock
        // (safe here: one process).
        if (kind === 'postgres-nolock') store.lockRoom = undefined;
        const rate = await ingest(store, pdus, trusted);
        await store.close?.();
        let lat = '';
        if (!trusted && kind !== 'postgres-nolock') {
          const ids = [];
          const again = kind === 'memory' ? store : make();
          await again.open();
          for (const i of sample) {
            const [e] = await again.timeline((await again.listRooms())[0], { from: i + 1, limit: 1 });
            ids.push(e.eventId);
          }
          await again.close();
          const reopened = kind === 'memory' ? store : make();
          const { full, point } = await stateLatency(reopened, ids);
          await reopened.close();
          lat = `${median(full).toFixed(2)} / ${p90(full).toFixed(2)} ms`.padStart(26) + `${(median(point) * 1000).toFixed(0)} / ${(p90(point) * 1000).toFixed(0)} µs`.padStart(30);
        }
        console.log(`  ${kind.padEnd(9)} ${(trusted ? 'trusted' : 'batch').padEnd(8)} ${rate.toFixed(0).padStart(7)}   ${lat}`);
      }
    }
    console.log('  (batch: every receipt check, signatures verified ahead on the thread pool; trusted: no signature/hash checks.');
    console.log('   postgres-nolock: the engine takes no cross-process room lock (one process only), to show its cost.');
    console.log('   lookup: getStateEntries of 6 keys, first touch of the event on a fresh store (its layers read from the database);\n   full: then engine.stateAt(id), the full state materialised.)');

    // Several processes. 4 rooms of ~perRoom events; files of PDUs for the workers.
    const roomMembers = Math.max(50, Math.floor(perRoom / 5));
    const rooms = [];
    for (let r = 0; r < 4; r++) {
      const p = await buildRoom(roomMembers, perRoom - roomMembers - 4, r + 1);
      const f = join(tmp, `room${r}.json`);
      writeFileSync(f, JSON.stringify(p));
      rooms.push({ file: f, events: p.length });
    }
    const total = rooms.reduce((n, r) => n + r.events, 0);
    console.log(`\n## processes on one database (each: an engine on a PostgresRoomStore, receivePdus x100, all checks, UV_THREADPOOL_SIZE=1)`);
    console.log(`  different rooms: 4 rooms of ${rooms[0].events} events split among the processes (their rooms concurrently)`);
    for (const procs of [1, 2, 4]) {
      const sets = Array.from({ length: procs }, (_, k) => rooms.filter((_, r) => r % procs === k).map((r) => r.file));
      const { ms, accepted } = await runProcs(fresh(), sets);
      if (accepted !== total) throw new Error(`accepted ${accepted}/${total}`);
      console.log(`    ${procs} process(es): ${((total / ms) * 1000).toFixed(0).padStart(6)} PDUs/s  (${total} events in ${(ms / 1000).toFixed(1)} s)`);
    }
    console.log(`  one room: every process delivers all ${rooms[0].events} events of one room (racing; the room lock serialises them)`);
    for (const procs of [1, 2, 4]) {
      const sets = Array.from({ length: procs }, () => [rooms[0].file]);
      const { ms } = await runProcs(fresh(), sets);
      console.log(`    ${procs} process(es): ${((rooms[0].events / ms) * 1000).toFixed(0).padStart(6)} distinct PDUs/s  (all done in ${(ms / 1000).toFixed(1)} s)`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    if (schemas.length > 0) await sql(schemas.map((s) => `DROP SCHEMA IF EXISTS "${s}" CASCADE`).join(';'));
  }
}
