// Soak child: a long trusted ingest across many rooms on the memory store, measuring how much heap
// the engine itself holds afterwards (heap after GC with the engine, minus heap after GC once the
// engine is closed and dropped: the store, which holds the data, stays). Prints one JSON line.
// Usage: node --expose-gc --import ../../../store-level/test/crash/register.mjs heap.mjs <rooms...> ; env SOAK_CACHES=bounded|default
import { RoomEngine } from '@roomgraph/engine';
import { createMemoryStore } from '@roomgraph/store-memory';
import { generateRoom } from '@roomgraph/testkit/room';
import { StaticKeySource } from '@roomgraph/transport';

if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
const EVENTS_PER_ROOM = 48;
/** Small bounds, so that a short run passes every one of them many times over. */
const BOUNDED = { events: 200, stateAfter: 200, resolutionRooms: 4, resolutionEventsPerRoom: 64, serverCountsRooms: 4, noParkedRooms: 8, parkedRooms: 4, backwardRooms: 4, memberKeysRooms: 4, invites: 8 };

function heapAfterGc() {
  for (let i = 0; i < 6; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
}

/** Ingests `rooms` rooms into a fresh engine; the engine's retained heap and the events' outcomes. */
async function run(rooms, caches) {
  const store = createMemoryStore();
  let keys;
  let engine;
  const statuses = {};
  for (let i = 0; i < rooms; i++) {
    const room = generateRoom({ roomVersion: '10', members: 6, events: EVENTS_PER_ROOM, forks: 3, forkLength: 2, roomId: `!soak${i}:a.example` });
    if (engine === undefined) {
      keys = new StaticKeySource(room.keys);
      engine = await RoomEngine.open({ serverName: 'observer.example', store, keys, ...(caches !== undefined ? { limits: { caches } } : {}) });
    }
    const outcomes = await engine.receivePdus('a.example', [...room.events()].map((p) => p.json), { trusted: true });
    for (const o of outcomes) statuses[o.status] = (statuses[o.status] ?? 0) + 1;
  }
  const withEngine = heapAfterGc();
  await engine.close();
  engine = undefined;
  const withoutEngine = heapAfterGc();
  const out = { rooms, events: rooms * EVENTS_PER_ROOM, engineRetained: withEngine - withoutEngine, heapWithStore: withoutEngine, statuses };
  await store.close();
  return out;
}

const caches = process.env.SOAK_CACHES === 'bounded' ? BOUNDED : undefined;
const results = [];
for (const rooms of process.argv.slice(2).map(Number)) results.push(await run(rooms, caches));
process.stdout.write(JSON.stringify(results) + '\n');
