// A room holding many parked events — P messages citing an event nobody has, parked because
// there is no transport to fetch it from (a server sending such events on purpose can make them
// park) — then 300 ordinary events of the room: their receipt time shows what the parked events
// cost every later event of their room.
//   node benchmarks/scripts/parked-events.mjs [P]     (default 2000)
import { encodeBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { RoomEngine } from '@roomgraph/engine';
import { buildEvent, parsePdu } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { createMemoryStore } from '@roomgraph/store-memory';
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
const dst = await RoomEngine.open({ ownsStore: true, serverName: 'b.example', store: createMemoryStore(), keys });
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
for (let i = 0; i < legit.length; i++) {
  const o = await dst.receivePdu('a.example', legit[i]);
  if (o.status !== 'accepted') throw new Error(o.status);
  if ((i + 1) % 100 === 0) { console.log('legit', i + 1, ((performance.now() - t) / 100).toFixed(2), 'ms/event'); t = performance.now(); }
}
await src.close();
await dst.close();
