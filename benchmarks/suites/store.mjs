// Stores: commits/s (memory vs LevelDB), state-at-event point lookups and materialisation in a
// 100k-member room, diffs between forks, and LevelDB bytes per event.
// Timed with hand-rolled loops (the operations are async and stateful, so mitata's per-call
// harness does not fit); each figure is the best of 3 runs.
import { mkdtempSync, rmSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryRoomStore } from '@roomgraph/store-memory';
import { LevelRoomStore } from '@roomgraph/store-level';
import { LruCache } from '@roomgraph/store';
import { memberEvent } from '../lib/events.mjs';
import { record } from '../lib/measure.mjs';

const ROOM = '!bench:example.org';
const MEMBERS = 100_000;
const key = (sk) => `14:m.room.member${sk}`;

/** A ~1 KB member event view with the given ID / state key (shares the template's content). */
function view(id, sk, prev) {
  const json = { ...memberEvent, event_id: id, room_id: ROOM, state_key: sk, prev_events: prev };
  return { eventId: id, roomId: ROOM, type: 'm.room.member', stateKey: sk, sender: sk, originServerTs: 0, depth: 1, content: memberEvent.content, prevEvents: prev, authEvents: memberEvent.auth_events, redacts: undefined, json };
}

function dirBytes(dir) {
  let total = 0;
  for (const f of readdirSync(dir)) total += statSync(join(dir, f)).size;
  return total;
}

const fmt = (ns) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);
function line(name, ns) {
  record(name, ns, 'ns');
  console.log(`  ${name.padEnd(58)} ${fmt(ns).padStart(10)}/op  ${(1e9 / ns).toFixed(0).padStart(9)} ops/s`);
}
async function best(fn, rounds = 3) {
  let b = Infinity;
  for (let r = 0; r < rounds; r++) b = Math.min(b, await fn());
  return b;
}

/** Creates the room with MEMBERS joined members in one base snapshot. */
async function seed(store) {
  const set = [['13:m.room.create', '$create']];
  for (let i = 0; i < MEMBERS; i++) set.push([key(`@m${i}:example.org`), `$join${i}`]);
  const r = await store.commit({
    roomId: ROOM,
    createRoom: { roomVersion: '10', createEventId: '$create' },
    event: { event: view('$create', '', []), status: 'accepted', stateBefore: { ref: 'e' } },
    snapshots: [{ ref: 'e', parent: null, changes: {} }, { ref: 's', parent: null, changes: { set } }],
    forwardExtremities: ['$create'],
    currentState: { ref: 's' },
  });
  return r.room.currentState;
}

let seq = 0;
/** Commits n events: state events (new snapshot each) or messages (reuse the snapshot). */
async function ingest(store, n, state) {
  const room = await store.getRoom(ROOM);
  let current = room.currentState;
  let prev = [room.forwardExtremities[0]];
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const id = `$ev${seq++}`;
    const sk = `@new${seq}:example.org`;
    const r = await store.commit(
      state
        ? { roomId: ROOM, event: { event: view(id, sk, prev), status: 'accepted', stateBefore: current }, snapshots: [{ ref: 'a', parent: current, changes: { set: [[key(sk), id]] } }], forwardExtremities: [id], currentState: { ref: 'a' } }
        : { roomId: ROOM, event: { event: { ...view(id, sk, prev), type: 'm.room.message', stateKey: undefined }, status: 'accepted', stateBefore: current }, forwardExtremities: [id] },
    );
    current = r.room.currentState;
    prev = [id];
  }
  return Number(process.hrtime.bigint() - t0) / n;
}

/** The obvious Map LRU: a hit is deleted and re-inserted (moves to the end); evict the first key. */
class MapOrderLru {
  #map = new Map();
  constructor(capacity) { this.capacity = capacity; }
  get(k) { const v = this.#map.get(k); if (v !== undefined) { this.#map.delete(k); this.#map.set(k, v); } return v; }
  set(k, v) { this.#map.delete(k); this.#map.set(k, v); while (this.#map.size > this.capacity) this.#map.delete(this.#map.keys().next().value); }
}

/**
 * The engine's lookup mix in a big room, per event: two hot keys (create, power levels), one
 * member of 100k round robin (a miss that evicts), the new event inserted and read back.
 */
function lruChurn(make) {
  const cap = 50_000;
  const ids = Array.from({ length: 2 * cap }, (_, i) => `$${String(i).padStart(43, 'x')}`);
  const hot = ['$create'.padEnd(44, 'c'), '$pl'.padEnd(44, 'p')];
  const c = make(cap);
  const n = 100_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    for (const h of hot) if (c.get(h) === undefined) c.set(h, 1);
    const k = ids[i % ids.length];
    if (c.get(k) === undefined) c.set(k, i);
    const e = `$e${i}`;
    c.set(e, i);
    c.get(e);
  }
  return Number(process.hrtime.bigint() - t0) / n;
}

export default async function suite() {
  console.log('\n## LRU cache: the engine\'s lookups in a big room (50k entries; 2 hot keys, a 100k-member round robin, new events)');
  const ours = await best(async () => lruChurn((cap) => new LruCache(cap)));
  const naive = await best(async () => lruChurn((cap) => new MapOrderLru(cap)));
  line('LruCache (map + linked recency list), per event', ours);
  line('Map-order LRU (delete + re-insert on hit; baseline), per event', naive);
  record('ratio › LruCache/Map-order LRU', naive / ours, 'x');
  console.log(`  ratio: ${(naive / ours).toFixed(0)}x (V8 keeps deleted Map entries as holes in their hash chains until a rehash: a hot key's chain grows with every refresh)`);
  const root = mkdtempSync(join(tmpdir(), 'roomgraph-bench-store-'));
  try {
    const stores = {
      memory: new MemoryRoomStore(),
      level: new LevelRoomStore(join(root, 'db')),
    };
    console.log(`room: ${MEMBERS} members in one base snapshot; events are ~1 KB member PDUs`);
    const snapshots = {};
    for (const [name, store] of Object.entries(stores)) {
      await store.open();
      const t0 = process.hrtime.bigint();
      await seed(store);
      console.log(`  seed (${name}): ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(0)} ms`);
    }

    console.log('\n## commit (one atomic write per event, 100k-member room)');
    for (const [name, store] of Object.entries(stores)) {
      line(`${name}: message event (reuses state-before snapshot)`, await best(() => ingest(store, 3000, false)));
      line(`${name}: state event (new state snapshot + current state)`, await best(() => ingest(store, 3000, true)));
    }

    console.log('\n## state at an event (100k members, after 9k state changes)');
    for (const [name, store] of Object.entries(stores)) {
      const events = await store.timeline(ROOM, { direction: 'backwards', limit: 2000 });
      const befores = events.map((e) => e.stateBefore);
      snapshots[name] = befores;
      const keys = ['13:m.room.create', '23:m.room.power_levels', '20:m.room.join_rules', key('@m5:example.org'), key('@m99999:example.org'), key('@nobody:example.org')];
      line(`${name}: getStateEntries (6 keys, auth-check shape)`, await best(async () => {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < 20_000; i++) await store.getStateEntries(befores[i % befores.length], keys);
        return Number(process.hrtime.bigint() - t0) / 20_000;
      }));
      line(`${name}: loadState (full 100k map, LRU cold)`, await best(async () => {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < 10; i++) await store.loadState(befores[(i * 97 + seq) % befores.length]);
        seq += 13;
        return Number(process.hrtime.bigint() - t0) / 10;
      }));
      line(`${name}: diffStates (two snapshots 1000 events apart)`, await best(async () => {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < 200; i++) await store.diffStates(befores[i], befores[i + 1000]);
        return Number(process.hrtime.bigint() - t0) / 200;
      }));
      const depths = new Map();
      for (const s of befores.slice(0, 500)) {
        const d = (await store.snapshotInfo(s)).depth;
        depths.set(d, (depths.get(d) ?? 0) + 1);
      }
      console.log(`  ${name}: layer depth histogram of 500 recent snapshots: ${JSON.stringify(Object.fromEntries([...depths].sort()))}`);
    }

    const st = await stores.level.stats();
    await stores.level.close();
    const bytes = dirBytes(join(root, 'db'));
    console.log('\n## LevelDB size');
    console.log(`  ${st.events} events, ${st.snapshots} snapshot layers holding ${st.snapshotEntries} entries (base: ${MEMBERS})`);
    record('LevelDB bytes/event', bytes / st.events, 'bytes');
    console.log(`  ${bytes} bytes on disk = ${(bytes / st.events).toFixed(0)} bytes/event (event JSON ≈ ${JSON.stringify(memberEvent).length} bytes; LevelDB compresses with Snappy)`);
    console.log(`  state entries stored per state event ≈ ${((st.snapshotEntries - MEMBERS - 1) / 9000).toFixed(1)}`);
    await stores.memory.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
