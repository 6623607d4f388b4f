// A room whose forward extremities pile up: N events, each on the same one event (a forky room,
// or a server sending many concurrent branches), built on a.example and received by b.example.
// Prints, per STEP events, the mean time per event of a.example creating them (explicit
// prev_events) and of b.example receiving them in each mode — how the cost of one event grows
// with the number of extremities the room already has. KIND `messages` (default): every branch
// has the same state; `joins`: each branch is a new user's join, so every extremity has a state
// of its own and the current state is a resolution over all of them; `leaves`: N users join first
// (in a line), then each branch is one of them leaving — every extremity changes a different key
// the others keep; `forked`: N joins as for `joins`, then N messages in a line on the last of them
// (a server building on its own branch: the room keeps N extremities, N distinct states):
//   node benchmarks/scripts/many-extremities.mjs [N [MODES [KIND [STEP [STORE]]]]]
//   (N default 4000; MODES default batch,single,trusted; STEP default 1000; STORE: the receiving
//   store, memory (default) or level — LevelDB in a temporary directory)
import { encodeBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { RoomEngine } from '@roomgraph/engine';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryStore } from '@roomgraph/store-memory';
import { LevelRoomStore } from '@roomgraph/store-level';
import { StaticKeySource } from '@roomgraph/transport';
import { roomPdus } from '../lib/room-pdus.mjs';

const key = signingKeyFromSeed(new Uint8Array(32).fill(7), 'bench');
const keys = new StaticKeySource({ 'a.example': { [key.keyId]: encodeBase64(key.publicKey) } });
const N = Number(process.argv[2] ?? 4000);
const modes = (process.argv[3] ?? 'batch,single,trusted').split(',');
const kind = process.argv[4] ?? 'messages';
const STEP = Number(process.argv[5] ?? 1000);
const storeKind = process.argv[6] ?? 'memory';
if (storeKind !== 'memory' && storeKind !== 'level') throw new Error(`STORE is memory or level, not ${storeKind}`);
if (!['messages', 'joins', 'leaves', 'forked'].includes(kind)) throw new Error(`KIND is messages, joins, leaves or forked, not ${kind}`);
const timed = kind === 'forked' ? 2 * N : N; // events timed (and reported by STEP)
let clock = 1_700_000_000_000;
const src = await RoomEngine.open({ ownsStore: true, serverName: 'a.example', signingKey: key, store: createMemoryStore(), keys, now: () => (clock += 1) });
const roomId = await src.createRoom({ roomVersion: '10', creator: '@admin:a.example', preset: 'public_chat' });
if (kind === 'leaves') {
  for (let i = 0; i < N; i++) {
    const u = `@j${i}:a.example`;
    await src.createLocalEvent(roomId, { type: 'm.room.member', stateKey: u, sender: u, content: { membership: 'join' } });
  }
}
const [base] = await src.forwardExtremities(roomId);
const rows = new Map();
const note = (what, i, ms) => { const r = rows.get(what) ?? []; r.push(ms); rows.set(what, r); };
let t = performance.now();
for (let i = 0; i < N; i++) {
  const u = `@j${i}:a.example`;
  await src.createLocalEvent(roomId, kind !== 'messages'
    ? { type: 'm.room.member', stateKey: u, sender: u, content: { membership: kind === 'leaves' ? 'leave' : 'join' }, prevEvents: [base] }
    : { type: 'm.room.message', sender: '@admin:a.example', content: { msgtype: 'm.text', body: `m${i}` }, prevEvents: [base] });
  if ((i + 1) % STEP === 0) { note('create (local)', i, (performance.now() - t) / STEP); t = performance.now(); }
}
if (kind === 'forked') {
  let [prev] = (await src.timeline(roomId, { limit: 1, direction: 'backwards' })).map((e) => e.eventId);
  for (let i = 0; i < N; i++) {
    ({ eventId: prev } = await src.createLocalEvent(roomId, { type: 'm.room.message', sender: '@admin:a.example', content: { msgtype: 'm.text', body: `m${i}` }, prevEvents: [prev] }));
    if ((N + i + 1) % STEP === 0) { note('create (local)', N + i, (performance.now() - t) / STEP); t = performance.now(); }
  }
}
const pdus = await roomPdus(src, roomId);
await src.close();
const head = pdus.length - timed; // the room's first events (create, join, power levels, …)
const entries = [];
for (const mode of modes) {
  const dir = storeKind === 'level' ? mkdtempSync(join(tmpdir(), 'rg-extremities-')) : undefined;
  const store = dir !== undefined ? new LevelRoomStore(dir) : createMemoryStore();
  const dst = await RoomEngine.open({ ownsStore: true, serverName: 'b.example', store, keys });
  await dst.receivePdus('a.example', pdus.slice(0, head), { trusted: mode === 'trusted' });
  t = performance.now();
  for (let i = head; i < pdus.length; i += 100) {
    const chunk = pdus.slice(i, Math.min(i + 100, pdus.length));
    if (mode === 'single') for (const p of chunk) await dst.receivePdu('a.example', p);
    else await dst.receivePdus('a.example', chunk, { trusted: mode === 'trusted' });
    if ((i - head + chunk.length) % STEP === 0) { note(`receive (${mode})`, i, (performance.now() - t) / STEP); t = performance.now(); }
  }
  const x = (await dst.forwardExtremities(roomId)).length;
  if (x !== N) throw new Error(`${mode}: ${x} forward extremities, expected ${N}`);
  entries.push(`${mode} ${(await store.stats()).snapshotEntries}`);
  await dst.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
}
console.log(kind === 'forked'
  ? `ms per event, by events received (${N} joins on one event, then ${N} messages in a line on the last: ${N} extremities)`
  : `ms per event, by the extremities the room already had (${N} ${kind} on one event)`);
console.log(['', ...Array.from({ length: Math.floor(timed / STEP) }, (_, k) => `${k * STEP}–${(k + 1) * STEP}`)].join(' | '));
for (const [what, ms] of rows) console.log([what, ...ms.map((m) => m.toFixed(2))].join(' | '));
console.log(`state entries stored in snapshot layers by the receiving store: ${entries.join(', ')}`);
