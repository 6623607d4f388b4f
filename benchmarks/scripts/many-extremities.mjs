// A room whose forward extremities pile up: N messages, each on the same one event (a forky room,
// or a server sending many concurrent branches), built on a.example and received by b.example.
// Prints, per 1,000 events, the mean time per event of a.example creating them (explicit
// prev_events) and of b.example receiving them in each mode — how the cost of one event grows
// with the number of extremities the room already has:
//   node benchmarks/scripts/many-extremities.mjs [N [MODES]]     (N default 4000; MODES default batch,single,trusted)
import { encodeBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { RoomEngine } from '@roomgraph/engine';
import { createMemoryStore } from '@roomgraph/store-memory';
import { StaticKeySource } from '@roomgraph/transport';
import { roomPdus } from '../lib/room-pdus.mjs';

const key = signingKeyFromSeed(new Uint8Array(32).fill(7), 'bench');
const keys = new StaticKeySource({ 'a.example': { [key.keyId]: encodeBase64(key.publicKey) } });
const N = Number(process.argv[2] ?? 4000);
const modes = (process.argv[3] ?? 'batch,single,trusted').split(',');
let clock = 1_700_000_000_000;
const src = await RoomEngine.open({ ownsStore: true, serverName: 'a.example', signingKey: key, store: createMemoryStore(), keys, now: () => (clock += 1) });
const roomId = await src.createRoom({ roomVersion: '10', creator: '@admin:a.example', preset: 'public_chat' });
const [base] = await src.forwardExtremities(roomId);
const rows = new Map();
const note = (what, i, ms) => { const r = rows.get(what) ?? []; r.push(ms); rows.set(what, r); };
let t = performance.now();
for (let i = 0; i < N; i++) {
  await src.createLocalEvent(roomId, { type: 'm.room.message', sender: '@admin:a.example', content: { msgtype: 'm.text', body: `m${i}` }, prevEvents: [base] });
  if ((i + 1) % 1000 === 0) { note('create (local)', i, (performance.now() - t) / 1000); t = performance.now(); }
}
const pdus = await roomPdus(src, roomId);
await src.close();
const head = pdus.length - N; // the room's first events (create, join, power levels, …)
for (const mode of modes) {
  const dst = await RoomEngine.open({ ownsStore: true, serverName: 'b.example', store: createMemoryStore(), keys });
  await dst.receivePdus('a.example', pdus.slice(0, head), { trusted: mode === 'trusted' });
  t = performance.now();
  for (let i = head; i < pdus.length; i += 100) {
    const chunk = pdus.slice(i, Math.min(i + 100, pdus.length));
    if (mode === 'single') for (const p of chunk) await dst.receivePdu('a.example', p);
    else await dst.receivePdus('a.example', chunk, { trusted: mode === 'trusted' });
    if ((i - head + chunk.length) % 1000 === 0) { note(`receive (${mode})`, i, (performance.now() - t) / 1000); t = performance.now(); }
  }
  const x = (await dst.forwardExtremities(roomId)).length;
  if (x !== N) throw new Error(`${mode}: ${x} forward extremities, expected ${N}`);
  await dst.close();
}
console.log(`ms per event, by the extremities the room already had (${N} messages on one event)`);
console.log(['', ...Array.from({ length: Math.floor(N / 1000) }, (_, k) => `${k * 1000}–${(k + 1) * 1000}`)].join(' | '));
for (const [what, ms] of rows) console.log([what, ...ms.map((m) => m.toFixed(2))].join(' | '));
