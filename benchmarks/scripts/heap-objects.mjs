// What the memory store keeps per stored event, by kind of heap object: ingests the profile room
// (profile-ingest.mjs builds and caches it: 2,000 joins + 8,000 messages, or MEMBERS MESSAGES)
// into a fresh engine on the memory store, in trusted mode, and compares two heap snapshots taken
// after full collections — one with the engine open and empty, one after the ingest:
//   node --expose-gc benchmarks/scripts/heap-objects.mjs [TOP [MEMBERS MESSAGES]]
// It prints objects and bytes per stored event in all, then the TOP (default 25) kinds of object
// (snapshot type and constructor / name) that grew most in count. Every object kept is one the
// scavenger copies (twice, before it is promoted) and the old-generation marker visits, so fewer
// objects per event is less GC, whatever their size. Heap snapshots of the engine are large: the
// default room needs ~1 GB of memory and ~1 min.
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSnapshot } from 'node:v8';
import { encodeBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { RoomEngine } from '@roomgraph/engine';
import { createMemoryStore } from '@roomgraph/store-memory';
import { StaticKeySource } from '@roomgraph/transport';

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc');
  process.exit(2);
}
const top = Number(process.argv[2] ?? 25);
const members = Number(process.argv[3] ?? 2000);
const messages = Number(process.argv[4] ?? 8000);
const F = join(tmpdir(), members === 2000 && messages === 8000 ? 'roomgraph-profile-room.json' : `roomgraph-profile-room-${members}-${messages}.json`);
if (!existsSync(F)) {
  console.error(`${F} is missing: run benchmarks/scripts/profile-ingest.mjs trusted memory 1 ${members} ${messages} first (it builds the room)`);
  process.exit(2);
}
const pdus = JSON.parse(readFileSync(F, 'utf8'));
const key = signingKeyFromSeed(new Uint8Array(32).fill(7), 'bench');
const keys = new StaticKeySource({ 'a.example': { [key.keyId]: encodeBase64(key.publicKey) } });

/** Reads a heap snapshot into counts and self sizes per "type name" (names of strings and code folded). */
async function census() {
  for (let i = 0; i < 4; i++) globalThis.gc();
  const chunks = [];
  for await (const c of getHeapSnapshot()) chunks.push(c);
  const snap = JSON.parse(chunks.join(''));
  chunks.length = 0;
  const meta = snap.snapshot.meta;
  const fields = meta.node_fields;
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const types = meta.node_types[iType];
  const nodes = snap.nodes;
  const strings = snap.strings;
  const byKind = new Map();
  let count = 0;
  let bytes = 0;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + iType]];
    if (type === 'synthetic') continue;
    // Strings, numbers and code are kinds by their type alone; objects by constructor; hidden/array by name.
    const folded = type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number' || type === 'code' || type === 'regexp' || type === 'closure';
    const k = folded ? `${type}` : `${type} ${strings[nodes[i + iName]]}`;
    const size = nodes[i + iSize];
    const e = byKind.get(k);
    if (e === undefined) byKind.set(k, { n: 1, b: size });
    else {
      e.n++;
      e.b += size;
    }
    count++;
    bytes += size;
  }
  return { byKind, count, bytes };
}

const engine = await RoomEngine.open({ ownsStore: true, serverName: 'b.example', store: createMemoryStore(), keys });
// One small ingest first, so that lazily made process-wide state (code, caches' own structure) is
// in both snapshots: a second engine with its own store then takes the measured room.
await engine.receivePdus('a.example', pdus.slice(0, 200), { trusted: true });
await engine.close();
const measured = await RoomEngine.open({ ownsStore: true, serverName: 'b.example', store: createMemoryStore(), keys });
const before = await census();
for (let i = 0; i < pdus.length; i += 100) await measured.receivePdus('a.example', pdus.slice(i, i + 100), { trusted: true });
const after = await census();
const n = (await measured.store.stats()).events;
// Every PDU of the room is stored (all are accepted), or the figures would be per some other count.
if (n !== pdus.length) throw new Error(`${n} events stored of ${pdus.length}`);
console.log(`${n} events stored (${members} joins, ${messages} messages), memory store, trusted import`);
console.log(`objects per event ${((after.count - before.count) / n).toFixed(2)}, bytes per event ${((after.bytes - before.bytes) / n).toFixed(0)} (self sizes, heap snapshot)`);
const rows = [];
for (const [k, a] of after.byKind) {
  const b = before.byKind.get(k) ?? { n: 0, b: 0 };
  rows.push({ k, dn: a.n - b.n, db: a.b - b.b });
}
rows.sort((x, y) => y.dn - x.dn || y.db - x.db);
console.log('objects/event  bytes/event  kind');
for (const r of rows.slice(0, top)) console.log(`${(r.dn / n).toFixed(2).padStart(13)}  ${(r.db / n).toFixed(0).padStart(11)}  ${r.k}`);
await measured.close();
