#!/usr/bin/env node
// Trusted import (receivePdus(origin, pdus, { trusted: true })) of one room: the block path
// (receipt/import-block.ts, store.commitMany) against the per-event path (the same store with
// commitMany hidden), interleaved run by run, on the memory store and LevelDB (journaled, as the
// CLI opens it). Build first: node_modules/.bin/tsc -b tsconfig.json
//
//   node benchmarks/scripts/trusted-import.mjs [--members N] [--messages N] [--runs N] [--chunk N] [--only memory|level]
//
// Prints PDUs/s (min / median / max over the runs) and the ratio block / per-event within each run,
// by wall-clock time and by the process's CPU time (user + system: on a shared machine the CPU
// figure is less disturbed by other jobs taking the cores).
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { RoomEngine } from '@roomgraph/engine';
import { getRoomVersion } from '@roomgraph/room-versions';
import { parsePdu } from '@roomgraph/events';
import { createMemoryStore } from '@roomgraph/store-memory';
import { LevelRoomStore } from '@roomgraph/store-level';
import { StaticKeySource } from '@roomgraph/transport';
import { roomPdus } from '../lib/room-pdus.mjs';

const { values: opt } = parseArgs({ options: {
  members: { type: 'string', default: '1000' }, messages: { type: 'string', default: '2000' },
  runs: { type: 'string', default: '5' }, chunk: { type: 'string', default: '100' }, only: { type: 'string' },
} });
const members = Number(opt.members);
const messages = Number(opt.messages);
const runs = Number(opt.runs);
const chunk = Number(opt.chunk);

const key = signingKeyFromSeed(new Uint8Array(32).fill(7), 'bench');
const keys = new StaticKeySource({ 'a.example': { [key.keyId]: encodeBase64(key.publicKey) } });

async function buildRoom() {
  let clock = 1_700_000_000_000;
  const src = await RoomEngine.open({ ownsStore: true, serverName: 'a.example', signingKey: key, store: createMemoryStore(), keys, now: () => (clock += 1) });
  const roomId = await src.createRoom({ roomVersion: '10', creator: '@admin:a.example', preset: 'public_chat' });
  for (let i = 0; i < members; i++) {
    const u = `@u${i}:a.example`;
    await src.createLocalEvent(roomId, { type: 'm.room.member', stateKey: u, sender: u, content: { membership: 'join', displayname: `User ${i}` } });
  }
  for (let i = 0; i < messages; i++) {
    await src.createLocalEvent(roomId, { type: 'm.room.message', sender: `@u${i % members}:a.example`, content: { msgtype: 'm.text', body: `message ${i} `.repeat(8) } });
  }
  const out = await roomPdus(src, roomId);
  await src.close();
  return out;
}

/** The store with commitMany hidden: the engine takes the per-event path. */
function perEvent(store) {
  return new Proxy(store, {
    get(t, p) {
      if (p === 'commitMany') return undefined;
      const v = Reflect.get(t, p, t);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
}

async function ingest(pdus, kind, path) {
  const dir = kind === 'level' ? mkdtempSync(join(tmpdir(), 'rg-trusted-')) : undefined;
  const raw = kind === 'level' ? new LevelRoomStore(dir, { journal: true }) : createMemoryStore();
  const engine = await RoomEngine.open({ ownsStore: true, serverName: 'b.example', store: path === 'block' ? raw : perEvent(raw), keys });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let accepted = 0;
  for (let i = 0; i < pdus.length; i += chunk) {
    for (const o of await engine.receivePdus('a.example', pdus.slice(i, i + chunk), { trusted: true })) if (o.status === 'accepted') accepted++;
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  await engine.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (accepted !== pdus.length) throw new Error(`only ${accepted}/${pdus.length} accepted`);
  return { wall: (pdus.length / ms) * 1000, cpu: (pdus.length / cpuMs) * 1000 };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const spread = (xs, f) => `${f(Math.min(...xs))} / ${f(median(xs))} / ${f(Math.max(...xs))}`;

const pdus = await buildRoom();
// parsePdu alone over the same PDUs (the per-event floor the engine cannot go below).
const rules = getRoomVersion('10');
const parseRates = [];
console.log(`trusted import: ${members} members, ${pdus.length} events (v10), receivePdus ${chunk} at a time, ${runs} runs; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
const kinds = opt.only !== undefined ? [opt.only] : ['memory', 'level'];
const rows = new Map();
const loads = [];
for (let r = 0; r < runs; r++) {
  loads.push(loadavg()[0]);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (const j of pdus) parsePdu(j, rules);
  const c = process.cpuUsage(c0);
  parseRates.push({ wall: (pdus.length / (performance.now() - t0)) * 1000, cpu: (pdus.length / (c.user + c.system)) * 1e6 });
  for (const kind of kinds) {
    const per = process.env.RG_BLOCK_ONLY === '1' ? { wall: 1, cpu: 1 } : await ingest(pdus, kind, 'per-event');
    const block = await ingest(pdus, kind, 'block');
    const ratio = { wall: block.wall / per.wall, cpu: block.cpu / per.cpu };
    for (const [name, v] of [[`${kind} per-event`, per], [`${kind} block`, block], [`${kind} block/per-event`, ratio]]) {
      if (!rows.has(name)) rows.set(name, []);
      rows.get(name).push(v);
    }
  }
}
console.log(`  ${''.padEnd(24)} ${'wall clock'.padEnd(30)} per CPU second (user + system)`);
const line = (name, xs, ratio) => {
  const f = (x) => (ratio ? `${x.toFixed(2)}x` : x.toFixed(0));
  console.log(`  ${name.padEnd(24)} ${spread(xs.map((x) => x.wall), f).padEnd(30)} ${spread(xs.map((x) => x.cpu), f)}`);
};
line('parsePdu alone (PDUs/s)', parseRates, false);
for (const [name, xs] of rows) line(name.endsWith('/per-event') ? name : `${name} (PDUs/s)`, xs, name.endsWith('/per-event'));
console.log(`  (min / median / max over the runs; 1-min load average at each run's start: ${spread(loads, (x) => x.toFixed(1))})`);
