// Room engine ingest: signed PDUs through every receipt check, against the raw node:crypto verify
// rate measured in the same run; memory per event; memory vs LevelDB store.
// Sizes: 1k and 10k members by default; ROOMGRAPH_BENCH_LARGE=1 adds 100k members (120k events);
// ROOMGRAPH_BENCH_HUGE=1 adds a 100k-member room of 1M events (memory store only; run with
// --max-old-space-size=8192; several minutes).
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { createRoomEngine } from '@roomgraph/engine';
import { checkContentHash, parsePdu, redactedSigningBytes, stateLookupOf, verifyEventSignatures } from '@roomgraph/events';
import { checkAuth } from '@roomgraph/auth';
import { getRoomVersion } from '@roomgraph/room-versions';
import { createMemoryStore } from '@roomgraph/store-memory';
import { LevelRoomStore } from '@roomgraph/store-level';
import { StaticKeySource } from '@roomgraph/transport';
import { record } from '../lib/measure.mjs';

const VERSION = '10';
const key = signingKeyFromSeed(new Uint8Array(32).fill(7), 'bench');
const keys = new StaticKeySource({ 'a.example': { [key.keyId]: encodeBase64(key.publicKey) } });

/** Every PDU of a room on `engine`, in stream order. */
async function allPdus(engine, roomId) {
  const out = [];
  let from;
  for (;;) {
    const page = await engine.timeline(roomId, { limit: 5000, ...(from !== undefined ? { from } : {}) });
    out.push(...page.map((e) => e.json));
    if (page.length < 5000) return out;
    from = page[page.length - 1].stream + 1;
  }
}

/** Builds a room with `members` joined users and `messages` messages on a source engine; returns the PDUs in order. */
async function buildRoom(members, messages) {
  let clock = 1_700_000_000_000;
  const src = createRoomEngine({ serverName: 'a.example', signingKey: key, store: createMemoryStore(), keys, now: () => (clock += 1) });
  const roomId = await src.createRoom({ roomVersion: VERSION, creator: '@admin:a.example' });
  for (let i = 0; i < members; i++) {
    const u = `@u${i}:a.example`;
    await src.createLocalEvent(roomId, { type: 'm.room.member', stateKey: u, sender: u, content: { membership: 'join', displayname: `User ${i}` } });
  }
  for (let i = 0; i < messages; i++) {
    const u = `@u${i % members}:a.example`;
    await src.createLocalEvent(roomId, { type: 'm.room.message', sender: u, content: { msgtype: 'm.text', body: `message ${i} `.repeat(8) } });
  }
  const timeline = await allPdus(src, roomId);
  await src.close();
  return timeline;
}

/** mode: 'single' (receivePdu one at a time), 'batch' (receivePdus, 100 at a time: signature checks pipelined on the thread pool), 'trusted' (no signature/hash checks). */
async function ingest(pdus, store, mode) {
  const engine = createRoomEngine({ serverName: 'b.example', store, keys });
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  let accepted = 0;
  if (mode === 'single') {
    for (const p of pdus) if ((await engine.receivePdu('a.example', p)).status === 'accepted') accepted++;
  } else {
    for (let i = 0; i < pdus.length; i += 100) {
      const outs = await engine.receivePdus('a.example', pdus.slice(i, i + 100), { trusted: mode === 'trusted' });
      accepted += outs.filter((o) => o.status === 'accepted').length;
    }
  }
  const ms = performance.now() - t0;
  global.gc?.();
  const heap = process.memoryUsage().heapUsed - heap0;
  await engine.close();
  if (accepted !== pdus.length) throw new Error(`only ${accepted}/${pdus.length} accepted`);
  return { ms, perSec: (pdus.length / ms) * 1000, heapPerEvent: heap / pdus.length };
}

function rawVerifyRate(pdus) {
  const rules = getRoomVersion(VERSION);
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(key.publicKey)]);
  const pk = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  const items = pdus.map((p) => [redactedSigningBytes(p, rules), Buffer.from(p.signatures['a.example'][key.keyId], 'base64')]);
  const t0 = performance.now();
  for (const [bytes, sig] of items) if (!nodeVerify(null, bytes, pk, sig)) throw new Error('bad signature');
  return (items.length / (performance.now() - t0)) * 1000;
}

/**
 * The per-event primitives alone, with no store, state or engine: parsePdu, the signature check on
 * the main thread, the content hash, and auth against the event's auth events. An upper bound for
 * what the engine's one-thread mode can reach.
 */
function primitivesRate(pdus) {
  const rules = getRoomVersion(VERSION);
  const lookup = (s, k) => (s === 'a.example' && k === key.keyId ? { publicKey: key.publicKey } : undefined);
  const byId = new Map();
  const t0 = performance.now();
  for (const j of pdus) {
    const p = parsePdu(j, rules);
    if (verifyEventSignatures(p.json, rules, lookup).status !== 'ok' || !checkContentHash(p.json, rules)) throw new Error('bad event');
    byId.set(p.eventId, p);
    const auth = p.authEvents.map((id) => byId.get(id)).filter((e) => e !== undefined);
    if (p.type !== 'm.room.create' && !checkAuth(p, stateLookupOf(auth), rules, { authEvents: auth }).allowed) throw new Error('auth');
  }
  return (pdus.length / (performance.now() - t0)) * 1000;
}

/**
 * A merge in a big room: a room of `members`, two forks of `perFork` topic/name changes and joins
 * from the same tip, then one event on both tips. Returns the time the receiving engine takes for
 * the merge event alone (state resolution over the two forks' states).
 */
export async function mergeCost(members, perFork) {
  let clock = 1_700_000_000_000;
  const src = createRoomEngine({ serverName: 'a.example', signingKey: key, store: createMemoryStore(), keys, now: () => (clock += 1) });
  const roomId = await src.createRoom({ roomVersion: VERSION, creator: '@admin:a.example' });
  for (let i = 0; i < members; i++) {
    const u = `@u${i}:a.example`;
    await src.createLocalEvent(roomId, { type: 'm.room.member', stateKey: u, sender: u, content: { membership: 'join' } });
  }
  const [tip] = await src.forwardExtremities(roomId);
  const fork = async (tag) => {
    let prev = tip;
    for (let i = 0; i < perFork; i++) {
      const u = `@${tag}${i}:a.example`;
      prev = (await src.createLocalEvent(roomId, { type: 'm.room.member', stateKey: u, sender: u, content: { membership: 'join' }, prevEvents: [prev] })).eventId;
      prev = (await src.createLocalEvent(roomId, { type: 'm.room.topic', stateKey: '', sender: '@admin:a.example', content: { topic: `${tag} ${i}` }, prevEvents: [prev] })).eventId;
    }
    return prev;
  };
  const tipA = await fork('a');
  const tipB = await fork('b');
  const merge = await src.createLocalEvent(roomId, { type: 'm.room.message', sender: '@admin:a.example', content: { body: 'merge' }, prevEvents: [tipA, tipB] });
  const pdus = await allPdus(src, roomId);
  const dst = createRoomEngine({ serverName: 'b.example', store: createMemoryStore(), keys });
  const last = pdus.pop();
  for (let i = 0; i < pdus.length; i += 200) await dst.receivePdus('a.example', pdus.slice(i, i + 200), { trusted: true });
  const t0 = performance.now();
  const [o] = await dst.receivePdus('a.example', [last]);
  const ms = performance.now() - t0;
  if (o.status !== 'accepted' || o.eventId !== merge.eventId) throw new Error(`merge ${o.status}`);
  await src.close();
  await dst.close();
  return ms;
}

export default async function run() {
  const sizes = [[1000, 2000], [10_000, 5000]];
  if (process.env.ROOMGRAPH_BENCH_LARGE === '1') sizes.push([100_000, 20_000]);
  if (process.env.ROOMGRAPH_BENCH_HUGE === '1') sizes.push([100_000, 900_000]);
  console.log(`\n## ingest of signed PDUs (room version ${VERSION}), all receipt checks, one core`);
  console.log('  members  events   store   mode      PDUs/s   raw verify/s  ratio   heap/event');
  for (const [members, messages] of sizes) {
    const pdus = await buildRoom(members, messages);
    const verify = rawVerifyRate(pdus);
    const floor = primitivesRate(pdus);
    record(`${members} members/${pdus.length} events › raw verify (baseline)`, verify, 'PDUs/s');
    record(`${members} members/${pdus.length} events › primitives`, floor, 'PDUs/s');
    console.log(`  ${String(members).padStart(7)} ${String(pdus.length).padStart(7)}   (none)  primitives ${floor.toFixed(0).padStart(6)} ${verify.toFixed(0).padStart(13)}  ${(floor / verify).toFixed(2)}x   (parse + verify + hash + auth, no store)`);
    const huge = pdus.length > 500_000;
    for (const kind of huge ? ['memory'] : ['memory', 'level']) {
      for (const mode of huge ? ['batch'] : ['single', 'batch', 'trusted']) {
        const dir = kind === 'level' ? mkdtempSync(join(tmpdir(), 'rg-bench-')) : undefined;
        const store = kind === 'level' ? new LevelRoomStore(dir) : createMemoryStore();
        const r = await ingest(pdus, store, mode);
        if (dir) rmSync(dir, { recursive: true, force: true });
        record(`${members} members/${pdus.length} events › ${kind} ${mode}`, r.perSec, 'PDUs/s');
        record(`ratio › ${members} members › ${kind} ${mode}/raw verify`, r.perSec / verify, 'x');
        console.log(`  ${String(members).padStart(7)} ${String(pdus.length).padStart(7)}   ${kind.padEnd(6)}  ${mode.padEnd(7)} ${r.perSec.toFixed(0).padStart(8)} ${verify.toFixed(0).padStart(13)}  ${(r.perSec / verify).toFixed(2)}x  ${(r.heapPerEvent / 1024).toFixed(1).padStart(7)} KiB`);
      }
    }
  }
  console.log('  (ratio = engine PDUs/s over raw node:crypto ed25519 verify/s of the same events, one thread; target >= 0.8x.');
  console.log('   single: one PDU per call, verify on the main thread; batch: receivePdus with look-ahead verification');
  console.log('   on the libuv thread pool (uses a second core); trusted: import without signature/hash checks)');
  console.log('\n## receiving a merge event: two forks of 50 joins + 50 topic changes each, in rooms of N members');
  const mergeSizes = [1000, 10_000];
  if (process.env.ROOMGRAPH_BENCH_LARGE === '1') mergeSizes.push(100_000);
  for (const m of mergeSizes) {
    const ms = await mergeCost(m, 50);
    record(`merge event › ${m} members`, ms, 'ms');
    console.log(`  ${String(m).padStart(7)} members: ${ms.toFixed(1)} ms for the merge event (state resolution included)`);
  }
}
