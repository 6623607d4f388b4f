// Worker of the postgres benchmark suite: `node postgres-worker.mjs URL FILE...` opens a
// PostgresRoomStore, loads the rooms' PDUs (JSON arrays), prints READY, waits for a line on stdin,
// ingests every room concurrently (receivePdus, 100 per call, all receipt checks), prints
// `DONE <accepted>` and exits when stdin ends.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { encodeBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { RoomEngine } from '@roomgraph/engine';
import { PostgresRoomStore } from '@roomgraph/store-postgres';
import { StaticKeySource } from '@roomgraph/transport';

const [url, ...files] = process.argv.slice(2);
const key = signingKeyFromSeed(new Uint8Array(32).fill(7), 'bench');
const keys = new StaticKeySource({ 'a.example': { [key.keyId]: encodeBase64(key.publicKey) } });
const rooms = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
const store = new PostgresRoomStore(url);
await store.open();
const engine = await RoomEngine.open({ serverName: 'b.example', store, keys });
const input = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
process.stdout.write('READY\n');
await input.next();
let accepted = 0;
await Promise.all(rooms.map(async (pdus) => {
  for (let i = 0; i < pdus.length; i += 100) {
    for (const o of await engine.receivePdus('a.example', pdus.slice(i, i + 100))) if (o.status === 'accepted') accepted++;
  }
}));
process.stdout.write(`DONE ${accepted}\n`);
await input.next();
await engine.close();
await store.close();
