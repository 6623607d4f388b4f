// The room engine on LogRoomStore: ingest a generated room, close, reopen, and read it back.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RoomEngine } from '@roomgraph/engine';
import { generateRoom } from '@roomgraph/testkit/room';
import { StaticKeySource } from '@roomgraph/transport';
import { LogRoomStore } from './log-store.js';

const file = join(mkdtempSync(join(tmpdir(), 'log-store-')), 'rooms.log');
const room = generateRoom({ roomVersion: '12', members: 10, events: 60, forks: 2 });
const keys = new StaticKeySource(room.keys);

// RoomEngine.open opens the store; ownsStore: the engine's close() closes it too.
const engine = await RoomEngine.open({ serverName: 'example.org', store: new LogRoomStore(file), ownsStore: true, keys });
for (const pdu of room.events()) {
  const origin = String(pdu.json['sender']).split(':')[1]!;
  const [outcome] = await engine.receivePdus(origin, [pdu.json]);
  if (outcome?.status !== 'accepted') throw new Error(`${pdu.eventId}: ${outcome?.status}`);
}
await engine.close();

// A new process would do exactly this: open the file again.
const store = new LogRoomStore(file);
await store.open();
const info = await store.getRoom(room.roomId);
console.log(`${(await store.stats()).events} events; forward extremities ${info?.forwardExtremities.join(', ')}`);
if ((await store.stats()).events !== room.eventCount) throw new Error('events lost across reopen');
await store.close();
