// Crash-test writer: commits state events in a loop and prints each event ID on stdout once its
// commit has been acknowledged. The parent kills this process with SIGKILL at some point.
// Usage: node --import ./register.mjs child.mjs <dir>
import { LevelRoomStore } from '@roomgraph/store-level';
import { fakeEvent } from '@roomgraph/store/conformance';

const ROOM = '!crash:example.org';
const key = (sk) => `14:m.room.member${sk}`;
// argv[3] === 'journal': the store journals its commits (LevelStoreOptions.journal).
const store = new LevelRoomStore(process.argv[2], { journal: process.argv[3] === 'journal' });
await store.open();
let current;
let prev;
let start = 0;
const existing = await store.getRoom(ROOM);
if (existing !== undefined) {
  // Resume after a previous kill.
  current = existing.currentState;
  prev = existing.forwardExtremities[0];
  start = existing.lastStream;
} else {
  const base = [];
  for (let i = 0; i < 3000; i++) base.push([key(`@base${i}:x`), `$base${i}`]);
  const created = await store.commit({
    roomId: ROOM,
    createRoom: { roomVersion: '12', createEventId: '$create' },
    event: { event: fakeEvent('$create', { type: 'm.room.create', stateKey: '', roomId: ROOM }), status: 'accepted', stateBefore: { ref: 'b' } },
    snapshots: [{ ref: 'b', parent: null, changes: {} }, { ref: 'a', parent: { ref: 'b' }, changes: { set: [['13:m.room.create', '$create'], ...base] } }],
    forwardExtremities: ['$create'],
    currentState: { ref: 'a' },
  });
  process.stdout.write('$create\n');
  current = created.room.currentState;
  prev = '$create';
}
for (let i = start; ; i++) {
  const id = `$e${i}`;
  // Every event is a member event; every 7th is an outlier; every 50th replaces many entries.
  const outlier = i % 7 === 6;
  const set = [[key(`@u${i}:x`), id]];
  if (i % 50 === 49) for (let j = 0; j < 400; j++) set.push([key(`@base${(i * 13 + j) % 3000}:x`), id]);
  const r = await store.commit(
    outlier
      ? { roomId: ROOM, event: { event: fakeEvent(id, { roomId: ROOM, prev: [prev], auth: ['$create'] }), status: 'outlier' } }
      : {
          roomId: ROOM,
          event: { event: fakeEvent(id, { type: 'm.room.member', stateKey: `@u${i}:x`, roomId: ROOM, prev: [prev], auth: ['$create'], depth: i + 2 }), status: 'accepted', stateBefore: current },
          snapshots: [{ ref: 'after', parent: current, changes: { set } }],
          forwardExtremities: [id],
          currentState: { ref: 'after' },
        },
  );
  if (!outlier) {
    current = r.room.currentState;
    prev = id;
  }
  process.stdout.write(`${id}\n`);
}
