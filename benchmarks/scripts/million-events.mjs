// A 100k-member room of 1M events (built on one engine, ingested by another with every receipt
// check, memory store, receivePdus in batches of 500). Takes ~40 min on 2 cores (most of it building).
// Run: UV_THREADPOOL_SIZE=1 node --expose-gc --max-old-space-size=16000 benchmarks/scripts/million-events.mjs
import { encodeBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { createRoomEngine } from '@roomgraph/engine';
import { createMemoryStore } from '@roomgraph/store-memory';
import { StaticKeySource } from '@roomgraph/transport';
const key = signingKeyFromSeed(new Uint8Array(32).fill(7), 'bench');
const keys = new StaticKeySource({ 'a.example': { [key.keyId]: encodeBase64(key.publicKey) } });
let clock = 1_700_000_000_000;
const t00 = performance.now();
const src = createRoomEngine({ serverName: 'a.example', signingKey: key, store: createMemoryStore({ eventCacheSize: 2_000_000 }), keys, now: () => (clock += 1) });
const roomId = await src.createRoom({ roomVersion: '10', creator: '@admin:a.example' });
const members = 100_000, messages = 900_000;
for (let i = 0; i < members; i++) { const u = `@u${i}:a.example`; await src.createLocalEvent(roomId, { type: 'm.room.member', stateKey: u, sender: u, content: { membership: 'join' } }); }
for (let i = 0; i < messages; i++) await src.createLocalEvent(roomId, { type: 'm.room.message', sender: `@u${i % members}:a.example`, content: { msgtype: 'm.text', body: `message ${i}` } });
const pdus = [];
let from;
for (;;) { const page = await src.timeline(roomId, { limit: 10000, ...(from !== undefined ? { from } : {}) }); pdus.push(...page.map((e) => e.json)); if (page.length < 10000) break; from = page[page.length - 1].stream + 1; }
await src.close();
console.log('built', pdus.length, 'events in', ((performance.now() - t00) / 1000).toFixed(0), 's');
global.gc?.();
const heap0 = process.memoryUsage().heapUsed;
const dst = createRoomEngine({ serverName: 'b.example', store: createMemoryStore(), keys });
const t0 = performance.now();
let accepted = 0;
for (let i = 0; i < pdus.length; i += 500) { const outs = await dst.receivePdus('a.example', pdus.slice(i, i + 500)); accepted += outs.filter((o) => o.status === 'accepted').length; }
const s = (performance.now() - t0) / 1000;
global.gc?.();
console.log(`ingested ${accepted}/${pdus.length} in ${s.toFixed(0)} s = ${(pdus.length / s).toFixed(0)} PDUs/s; heap growth ${((process.memoryUsage().heapUsed - heap0) / 2 ** 30).toFixed(2)} GiB = ${((process.memoryUsage().heapUsed - heap0) / pdus.length / 1024).toFixed(2)} KiB/event; rss ${(process.memoryUsage().rss / 2 ** 30).toFixed(1)} GiB`);
const t1 = performance.now(); const st = await dst.currentState(roomId); console.log('current state entries', st.size, 'in', (performance.now() - t1).toFixed(0), 'ms');
