// What serving history costs in a big room: a room of MEMBERS joins spread over 26 servers (from
// generateRoom, the generator `roomgraph gen-room` uses), imported by an engine; then a server with
// members in it asks for history — `GET /backfill` of 100 events from the room's newest event and
// over its joins (each join has a state of its own), `GET /event` of one join, `GET /state_ids` and
// `POST /get_missing_events` at the newest event. Each answer's time is printed (median of 5
// requests, each answered by a new view of what that server may see, as every request is).
//   node benchmarks/scripts/serve-history.mjs [MEMBERS]     (default 20000)
import { RoomEngine } from '@roomgraph/engine';
import { createMemoryStore } from '@roomgraph/store-memory';
import { generateRoom } from '@roomgraph/testkit/room';
import { StaticKeySource } from '@roomgraph/transport';

const members = Number(process.argv[2] ?? 20000);
const room = generateRoom({ roomVersion: '10', members, events: members + 4 + 20, servers: 26 });
const pdus = [...room.events()].map((p) => p.json);
const engine = await RoomEngine.open({ ownsStore: true, serverName: 'zz.example', store: createMemoryStore(), keys: new StaticKeySource(room.keys) });
for (let i = 0; i < pdus.length; i += 500) await engine.receivePdus('a.example', pdus.slice(i, i + 500), { trusted: true });
const [tip] = await engine.forwardExtremities(room.roomId);
const joinId = (await engine.timeline(room.roomId, { limit: 1, from: Math.floor(members / 2) }))[0].eventId;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function time(what, f) {
  const ms = [];
  let n = 0;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    n = (await f()).length ?? 1;
    ms.push(performance.now() - t0);
  }
  console.log(`${what}: ${median(ms).toFixed(1)} ms (median of 5; min ${Math.min(...ms).toFixed(1)}), ${n} events`);
}
console.log(`room of ${members} members over 26 servers, ${pdus.length} events`);
await time('backfill 100 from the newest event (b.example)', () => engine.onBackfill('b.example', room.roomId, [tip], 100));
await time('backfill 100 from a join halfway (b.example)', () => engine.onBackfill('b.example', room.roomId, [joinId], 100));
await time('one join event (b.example)', async () => [await engine.onGetEvent('b.example', joinId)]);
await time('state_ids at the newest event (b.example)', async () => (await engine.onGetStateIds('b.example', room.roomId, tip)).pduIds);
await time('get_missing_events, 100 before the newest event (b.example)', () => engine.onGetMissingEvents('b.example', room.roomId, { earliestEvents: [], latestEvents: [tip], limit: 100 }));
await engine.close();
