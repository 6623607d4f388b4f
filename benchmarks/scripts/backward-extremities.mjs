// What finding a room's backward extremities costs in a big room: a room of EVENTS events
// (generateRoom: 1,000 members, then messages) imported by an engine (trusted), then
// backwardExtremities() called once, 5 more times with nothing new stored (median), and once after
// one more event is stored — what every `backfill` call without `from` pays first. (The imported
// room has none: the cost is reading what the room's stored events cite.)
//   node benchmarks/scripts/backward-extremities.mjs [EVENTS]     (default 200000)
import { RoomEngine } from '@roomgraph/engine';
import { createMemoryStore } from '@roomgraph/store-memory';
import { generateRoom } from '@roomgraph/testkit/room';
import { StaticKeySource } from '@roomgraph/transport';

const events = Number(process.argv[2] ?? 200000);
const room = generateRoom({ roomVersion: '10', members: 1000, events, servers: 3 });
const pdus = [...room.events()].map((p) => p.json);
const engine = await RoomEngine.open({ ownsStore: true, serverName: 'zz.example', store: createMemoryStore(), keys: new StaticKeySource(room.keys) });
const last = pdus.pop();
for (let i = 0; i < pdus.length; i += 1000) await engine.receivePdus('a.example', pdus.slice(i, i + 1000), { trusted: true });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const once = async () => {
  const t0 = performance.now();
  const x = await engine.backwardExtremities(room.roomId);
  return [performance.now() - t0, x.length];
};
const first = await once();
const again = [];
for (let r = 0; r < 5; r++) again.push((await once())[0]);
await engine.receivePdus('a.example', [last], { trusted: true });
const after = (await once())[0];
console.log(`room of ${pdus.length + 1} events: backwardExtremities first call ${first[0].toFixed(1)} ms (${first[1]} extremities); again, nothing new: median ${median(again).toFixed(2)} ms of 5; after one more event stored: ${after.toFixed(2)} ms`);
await engine.close();
