// A room holding many parked events — P messages citing an event nobody has, parked because
// there is no transport to fetch it from (a server sending such events on purpose can make them
// park) — then 300 ordinary events of the room: their receipt time shows what the parked events
// cost every later event of their room. Then 200 more events of the room, every other one first
// (each cites the one before it, missing: 100 more parked), then the others, each freeing one: their
// receipt time shows what taking one parked event out of a big park costs. STORE: memory (default)
// or level (a LevelDB store in a temporary directory).
//   node benchmarks/scripts/parked-events.mjs [P [STORE]]     (default 2000 memory)
import { encodeBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { RoomEngine } from '@roomgraph/engine';
import { buildEvent, parsePdu } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryStore } from '@roomgraph/store-memory';
import { LevelRoomStore } from '@roomgraph/store-level';
import { StaticKeySource } from '@roomgraph/transport';
const key = signingKeyFromSeed(new Uint8Array(32).fill(7), 'bench');
const keys = new StaticKeySource({ 'a.example': { [key.keyId]: encodeBase64(key.publicKey) } });
const P = Number(process.argv[2] ?? 2000);
let clock = 1_700_000_000_000;
const src = await RoomEngine.open({ ownsStore: true, serverName: 'a.example', signingKey: key, store: createMemoryStore(), keys, now: () => (clock += 1) });
const roomId = await src.createRoom({ roomVersion: '10', creator: '@admin:a.example', preset: 'public_chat' });
const head = (await src.timeline(roomId, { limit: 100 })).map((e) => e.json);
const legit = [];
for (let i = 0; i < 300; i++) legit.push((await src.createLocalEvent(roomId, { type: 'm.room.message', sender: '@admin:a.example', content: { body: `m${i}` } })).json);
for (let i = 0; i < 200; i++) legit.push((await src.createLocalEvent(roomId, { type: 'm.room.message', sender: '@admin:a.example', content: { body: `n${i}` } })).json);
const storeKind = process.argv[3] ?? 'memory';
const dir = storeKind === 'level' ? mkdtempSync(join(tmpdir(), 'rg-parked-')) : undefined;
const dst = await RoomEngine.open({ ownsStore: true, serverName: 'b.example', store: dir !== undefined ? new LevelRoomStore(dir) : createMemoryStore(), keys });
await dst.receivePdus('a.example', head);
// The orphans' auth events: the create event, the power levels and the sender's join.
const rules = getRoomVersion('10');
const authPdus = head.filter((j) => j.type === 'm.room.create' || j.type === 'm.room.power_levels' || (j.type === 'm.room.member' && j.state_key === '@admin:a.example')).map((j) => parsePdu(j, rules));
let t = performance.now();
for (let i = 0; i < P; i++) {
  const fakePrev = { eventId: `$fake${String(i).padStart(35, '0')}AAAA`, depth: 5 };
  const e = buildEvent({ roomVersion: '10', type: 'm.room.message', sender: '@admin:a.example', content: { body: `orphan ${i}` }, prevEvents: [fakePrev], authEvents: authPdus, depth: 6, originServerTs: 1_700_000_100_000 + i, roomId }, { serverName: 'a.example', key });
  const o = await dst.receivePdu('a.example', e.json);
  if (o.status !== 'parked') throw new Error(o.status + ' ' + o.reason);
}
console.log('parked', P, 'in', ((performance.now() - t) / P).toFixed(2), 'ms/event');
t = performance.now();
for (let i = 0; i < 300; i++) {
  const o = await dst.receivePdu('a.example', legit[i]);
  if (o.status !== 'accepted') throw new Error(o.status);
  if ((i + 1) % 100 === 0) { console.log('legit', i + 1, ((performance.now() - t) / 100).toFixed(2), 'ms/event'); t = performance.now(); }
}
const more = legit.slice(300);
for (let i = 1; i < more.length; i += 2) {
  const o = await dst.receivePdu('a.example', more[i]);
  if (o.status !== 'parked') throw new Error(o.status);
}
t = performance.now();
for (let i = 0; i < more.length; i += 2) {
  const o = await dst.receivePdu('a.example', more[i]);
  if (o.status !== 'accepted') throw new Error(o.status);
}
console.log('freeing one parked event each (park of', P + 100, '):', ((performance.now() - t) / 100).toFixed(2), 'ms/event');
const accepted = (await dst.timeline(roomId, { limit: 10000 })).filter((e) => e.status === 'accepted').length;
if (accepted !== head.length + legit.length) throw new Error(`${accepted} accepted, expected ${head.length + legit.length}`);
await src.close();
await dst.close();
if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
