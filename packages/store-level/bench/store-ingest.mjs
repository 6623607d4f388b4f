// Store-only trusted-import workload (no engine): the profile room's PDUs (benchmarks/scripts/
// profile-ingest.mjs builds it in the OS temp directory) committed straight into a LevelRoomStore in
// blocks of 100 (`commitMany`, not waiting for durability, a flush per block as the engine's import
// does), each state event with a one-entry snapshot layer over the previous state. Prints, per pass,
// the main thread's CPU µs per event (/proc/thread-self/schedstat) and PDUs/s.
//   node packages/store-level/bench/store-ingest.mjs [journal|plain] [PASSES] [ROOM_FILE]
// Under callgrind (instruction counts, all threads), PASSES 1 and 2: the difference is one warm pass.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LevelRoomStore } from '@roomgraph/store-level';

const journal = (process.argv[2] ?? 'journal') === 'journal';
const passes = Number(process.argv[3] ?? 3);
const file = process.argv[4] ?? join(tmpdir(), 'roomgraph-profile-room.json');
const pdus = JSON.parse(readFileSync(file, 'utf8'));
const cpuUs = () => { try { return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e3; } catch { return NaN; } };
const view = (pdu, i) => Object.freeze({
  eventId: `$e${i}`, roomId: pdu.room_id, type: pdu.type, stateKey: pdu.state_key, sender: pdu.sender,
  originServerTs: pdu.origin_server_ts, depth: pdu.depth, content: pdu.content,
  prevEvents: Object.freeze(pdu.prev_events), authEvents: Object.freeze(pdu.auth_events), json: pdu,
});
const events = pdus.map(view);
const roomId = pdus[0].room_id;
for (let pass = 0; pass < passes; pass++) {
  const dir = mkdtempSync(join(tmpdir(), 'rg-store-ingest-'));
  const store = new LevelRoomStore(dir, { journal });
  await store.open();
  const first = await store.commit({
    roomId, createRoom: { roomVersion: '10', createEventId: events[0].eventId },
    event: { event: events[0], status: 'accepted', stateBefore: { ref: 'b' } },
    snapshots: [{ ref: 'b', parent: null, changes: {} }, { ref: 'a', parent: { ref: 'b' }, changes: { set: [[`${events[0].type}\u0000`, events[0].eventId]] } }],
    forwardExtremities: [events[0].eventId], currentState: { ref: 'a' },
  });
  let state = first.snapshots.get('a');
  const c0 = cpuUs();
  const t0 = performance.now();
  for (let i = 1; i < events.length; i += 100) {
    const block = [];
    let n = 0;
    for (let k = i; k < Math.min(i + 100, events.length); k++) {
      const e = events[k];
      if (e.stateKey === undefined) {
        block.push({ roomId, event: { event: e, status: 'accepted', stateBefore: state }, forwardExtremities: [e.eventId] });
      } else {
        const ref = `s${n++}`;
        block.push({ roomId, event: { event: e, status: 'accepted', stateBefore: state }, snapshots: [{ ref, parent: state, changes: { set: [[`${e.type}\u0000${e.stateKey}`, e.eventId]] } }], forwardExtremities: [e.eventId], currentState: { ref } });
        state = { ref };
      }
    }
    const results = await store.commitMany(block, { durable: false });
    // The block's snapshot refs resolve to IDs in its results.
    if (typeof state === 'object') for (const r of results) { const id = r.snapshots.get(state.ref); if (id !== undefined) state = id; }
    await store.flush();
  }
  const ms = performance.now() - t0;
  const cpu = (cpuUs() - c0) / (events.length - 1);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(journal ? 'journal' : 'plain', ((events.length - 1) / ms * 1000).toFixed(0), 'events/s', cpu.toFixed(2), 'us main-thread CPU/event');
}
