// A room of 100k members and 1M events, ingested with every receipt check (format, signatures,
// content hash, auth ×3, state, extremities) by an engine on the memory or the LevelDB store, with
// receivePdus in batches of 500 (signatures verified ahead on the thread pool; group commit).
//
// The room is built directly with buildEvent (a public room: create, creator join, power levels,
// join rules, then N joins and M messages, each on the previous event), which takes ~1–2 min, and
// cached as JSON lines so that runs on both stores ingest the same PDUs.
//
// Run:  UV_THREADPOOL_SIZE=1 node --expose-gc --max-old-space-size=12000 benchmarks/scripts/million-events.mjs \
//         [--store memory|level] [--members 100000] [--messages 900000] [--cache FILE]
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { PerformanceObserver } from 'node:perf_hooks';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { encodeBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { createRoomEngine } from '@roomgraph/engine';
import { buildEvent, redactedSigningBytes } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { createMemoryStore } from '@roomgraph/store-memory';
import { LevelRoomStore } from '@roomgraph/store-level';
import { StaticKeySource } from '@roomgraph/transport';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const kind = arg('store', 'memory');
const members = Number(arg('members', '100000'));
const messages = Number(arg('messages', '900000'));
const engineCache = arg('engine-cache', undefined);
const cache = arg('cache', join(tmpdir(), `roomgraph-room-${members}-${messages}.jsonl`));
const VERSION = '10';
const rules = getRoomVersion(VERSION);
const key = signingKeyFromSeed(new Uint8Array(32).fill(7), 'bench');
const keys = new StaticKeySource({ 'a.example': { [key.keyId]: encodeBase64(key.publicKey) } });
const signer = { serverName: 'a.example', key };

/** Builds the room and writes its PDUs to `file`, one per line. */
async function build(file) {
  const out = createWriteStream(file);
  const write = (pdu) => (out.write(JSON.stringify(pdu.json) + '\n') ? undefined : new Promise((r) => out.once('drain', r)));
  const roomId = '!million:a.example';
  let ts = 1_700_000_000_000;
  let depth = 0;
  let prev;
  const admin = '@admin:a.example';
  const next = (type, stateKey, sender, content, authEvents) => {
    const pdu = buildEvent({
      roomVersion: rules, type, ...(stateKey !== undefined ? { stateKey } : {}), sender, content,
      prevEvents: prev === undefined ? [] : [prev], authEvents, depth: ++depth, originServerTs: ++ts, roomId,
    }, signer, { validate: false });
    prev = pdu.eventId;
    return pdu;
  };
  const create = next('m.room.create', '', admin, { creator: admin, room_version: VERSION }, []);
  await write(create);
  const adminJoin = next('m.room.member', admin, admin, { membership: 'join' }, [create.eventId]);
  await write(adminJoin);
  const pl = next('m.room.power_levels', '', admin, { users: { [admin]: 100 } }, [create.eventId, adminJoin.eventId]);
  await write(pl);
  const jr = next('m.room.join_rules', '', admin, { join_rule: 'public' }, [create.eventId, adminJoin.eventId, pl.eventId]);
  await write(jr);
  const memberEvent = new Array(members);
  for (let i = 0; i < members; i++) {
    const u = `@u${i}:a.example`;
    const e = next('m.room.member', u, u, { membership: 'join', displayname: `User ${i}` }, [create.eventId, pl.eventId, jr.eventId]);
    memberEvent[i] = e.eventId;
    await write(e);
  }
  for (let i = 0; i < messages; i++) {
    const u = i % members;
    await write(next('m.room.message', undefined, `@u${u}:a.example`, { msgtype: 'm.text', body: `message ${i}` }, [create.eventId, pl.eventId, memberEvent[u]]));
  }
  await new Promise((r) => out.end(r));
}

async function* lines(file) {
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) if (line.length > 0) yield JSON.parse(line);
}

function dirBytes(dir) {
  let n = 0;
  for (const f of readdirSync(dir, { withFileTypes: true })) n += f.isDirectory() ? dirBytes(join(dir, f.name)) : statSync(join(dir, f.name)).size;
  return n;
}

const t00 = performance.now();
if (!existsSync(cache)) {
  await build(cache);
  console.log(`built ${members + 4 + messages} PDUs in ${((performance.now() - t00) / 1000).toFixed(0)} s → ${cache}`);
}

// The raw verify rate of this machine on a sample of the same PDUs, measured in this run.
const pk = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(key.publicKey)]), format: 'der', type: 'spki' });
const sample = [];
for await (const p of lines(cache)) { if (sample.length >= 20_000) break; sample.push([redactedSigningBytes(p, rules), Buffer.from(p.signatures['a.example'][key.keyId], 'base64')]); }
let tv = performance.now();
for (const [b, s] of sample) nodeVerify(null, b, pk, s);
const rawRate = (sample.length / (performance.now() - tv)) * 1000;
sample.length = 0;

const dir = kind === 'level' ? mkdtempSync(join(tmpdir(), 'rg-1m-')) : undefined;
const store = kind === 'level' ? new LevelRoomStore(dir) : createMemoryStore();
const engine = createRoomEngine({ serverName: 'b.example', store, keys, ...(engineCache !== undefined ? { limits: { eventCacheSize: Number(engineCache) } } : {}) });
global.gc?.();
const heap0 = process.memoryUsage().heapUsed;
// Main-thread GC pauses during the ingest (the share of time the engine stood still for the GC).
let gcMs = 0;
const gcObserver = new PerformanceObserver((list) => { for (const e of list.getEntries()) gcMs += e.duration; });
gcObserver.observe({ entryTypes: ['gc'] });
const t0 = performance.now();
let total = 0;
let accepted = 0;
let batch = [];
let lastReport = t0;
let windowStart = t0;
let windowTotal = 0;
let windowGc = 0;
const flush = async () => {
  const outs = await engine.receivePdus('a.example', batch);
  accepted += outs.filter((o) => o.status === 'accepted').length;
  total += batch.length;
  batch = [];
  if (performance.now() - lastReport > 30_000) {
    lastReport = performance.now();
    const window = (lastReport - windowStart) / 1000;
    console.log(`  ${total} events: ${((total - windowTotal) / window).toFixed(0)} PDUs/s in the last ${window.toFixed(0)} s (GC ${((100 * (gcMs - windowGc)) / (window * 1000)).toFixed(0)} % of it), heap ${(process.memoryUsage().heapUsed / 2 ** 30).toFixed(2)} GiB`);
    windowStart = lastReport;
    windowTotal = total;
    windowGc = gcMs;
  }
};
for await (const p of lines(cache)) {
  batch.push(p);
  if (batch.length === 500) await flush();
}
if (batch.length > 0) await flush();
const s = (performance.now() - t0) / 1000;
gcObserver.disconnect();
global.gc?.();
const heap = process.memoryUsage().heapUsed - heap0;
const rate = total / s;
console.log(`${kind}: ingested ${accepted}/${total} in ${s.toFixed(0)} s = ${rate.toFixed(0)} PDUs/s (raw verify ${rawRate.toFixed(0)}/s on one thread: ${(rate / rawRate).toFixed(2)}x); GC pauses ${(gcMs / 1000).toFixed(0)} s (${((100 * gcMs) / (s * 1000)).toFixed(0)} %)`);
console.log(`  heap growth ${(heap / 2 ** 30).toFixed(2)} GiB = ${(heap / total / 1024).toFixed(2)} KiB/event; rss ${(process.memoryUsage().rss / 2 ** 30).toFixed(1)} GiB${dir !== undefined ? `; LevelDB ${(dirBytes(dir) / 2 ** 30).toFixed(2)} GiB on disk = ${(dirBytes(dir) / total).toFixed(0)} bytes/event` : ''}`);
const t1 = performance.now();
const st = await engine.currentState('!million:a.example');
console.log(`  current state: ${st.size} entries read in ${(performance.now() - t1).toFixed(0)} ms`);
const t2 = performance.now();
const m = await engine.membership('!million:a.example', '@u4242:a.example');
console.log(`  one membership lookup: ${m} in ${(performance.now() - t2).toFixed(2)} ms`);
await engine.close();
if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
if (accepted !== total) process.exitCode = 1;
