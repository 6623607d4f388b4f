// A worker process for the multi-process PostgreSQL tests: one engine on a PostgresRoomStore
// ingesting reference-sample rooms PDU by PDU, printing `ACK <event_id>` once each delivery is
// acknowledged (durable), then `DONE`.
// Usage: node --import ../../../store-level/test/crash/register.mjs worker.mjs '<config JSON>'
// config: { url, rooms: number[] (fixture indices, delivered interleaved round-robin),
//           killInTransaction?: number (print `INTX` and hang inside that write transaction,
//           before COMMIT, for the parent to SIGKILL) }
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { RoomEngine } from '@roomgraph/engine';
import { PostgresRoomStore } from '@roomgraph/store-postgres';
import { StaticKeySource } from '@roomgraph/transport';

const config = JSON.parse(process.argv[2]);
const fixtures = new URL('../../../../test/fixtures/reference-sample/ingest.jsonl.gz', import.meta.url);
const all = gunzipSync(readFileSync(fixtures)).toString('utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
const rooms = config.rooms.map((i) => all[i]);

let transactions = 0;
const store = new PostgresRoomStore(config.url, {
  beforeCommit: async (info) => {
    transactions++;
    if (config.killInTransaction !== undefined && transactions === config.killInTransaction) {
      process.stdout.write(`INTX ${JSON.stringify(info.events)}\n`);
      await new Promise(() => undefined); // hang until killed
    }
  },
});
// One engine per room, all on this process's one store: the fixture's rooms sign with different
// keys under the same server names and key IDs, so each room needs its own key source.
const engines = await Promise.all(rooms.map((r) => RoomEngine.open({ serverName: 'observer.test', store, keys: new StaticKeySource(r.keys) })));

// Round-robin over the rooms' event lists.
const queues = rooms.map((r) => [...r.events]);
for (;;) {
  let any = false;
  for (const [i, q] of queues.entries()) {
    const ev = q.shift();
    if (ev === undefined) continue;
    any = true;
    const sender = typeof ev.sender === 'string' ? ev.sender : '';
    const o = await engines[i].receivePdu(sender.slice(sender.indexOf(':') + 1), ev);
    process.stdout.write(`ACK ${o.eventId} ${o.status}\n`);
  }
  if (!any) break;
}
for (const e of engines) await e.close();
await store.close();
process.stdout.write('DONE\n');
