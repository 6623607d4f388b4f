// The room comes from generateRoom (@roomgraph/testkit/room, the generator `roomgraph gen-room`
// uses): a public room — create, admin join, power levels, join rule, then N joins and M messages,
// each on the previous event, all signed by a.example — which takes ~1–2 min for a million events,
// and is cached as JSON lines so that runs on both stores ingest the same PDUs. The same file:
//   roomgraph gen-room --members N --events N+4+M --servers 1 --keys KEYS.json > room.jsonl
//
// Run:  UV_THREADPOOL_SIZE=1 node --expose-gc --max-old-space-size=12000 benchmarks/scripts/million-events.mjs \
//         [--store memory|level] [--members 100000] [--messages 900000] [--cache FILE] [--batch 64]
// PDUs go to `receivePdus` in calls of --batch (default 64: what `roomgraph ingest` passes per
// call; a federation transaction carries at most 50). The caller's own parsed PDUs of a call live
// until the call returns, so a bigger batch keeps more of them alive through scavenges (earlier
// runs used 500).
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { PerformanceObserver } from 'node:perf_hooks';
import { createWriteStream, existsSync, mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeCanonicalJson } from '@roomgraph/canonical-json';
import { decodeBase64 } from '@roomgraph/crypto';
import { RoomEngine } from '@roomgraph/engine';
import { redactedSigningBytes } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { createMemoryStore } from '@roomgraph/store-memory';
import { LevelRoomStore } from '@roomgraph/store-level';
import { generateRoom } from '@roomgraph/testkit/room';
import { StaticKeySource } from '@roomgraph/transport';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const kind = arg('store', 'memory');
const members = Number(arg('members', '100000'));
const messages = Number(arg('messages', '900000'));
const engineCache = arg('engine-cache', undefined);
const batchSize = Number(arg('batch', '64'));
const cache = arg('cache', join(tmpdir(), `roomgraph-gen-room-${members}-${messages}.jsonl`));
const VERSION = '10';
const rules = getRoomVersion(VERSION);
const room = generateRoom({ roomVersion: VERSION, members, events: members + 4 + messages, servers: 1 });
const keys = new StaticKeySource(room.keys);
const serverKey = room.serverKeys[0];

/** Writes the room's PDUs to `file`, one per line. */
async function build(file) {
  const out = createWriteStream(file);
  const write = (pdu) => (out.write(encodeCanonicalJson(pdu.json) + '\n') ? undefined : new Promise((r) => out.once('drain', r)));
  for (const pdu of room.events()) await write(pdu);
  await new Promise((r) => out.end(r));
}

// The PDUs of the file, parsed one at a time as they are taken (as a server parses a request's
// body). Read in 64 KiB chunks and split by hand: readline's async iterator allocated ~4 KB per
// line of its own (a promise and an event per line, a regular expression match), a share of
// the run's allocations — and so of its scavenges — that was the harness's, not the engine's.
async function* lines(file) {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 16);
    // The bytes after the last newline so far (bytes: a chunk may end inside a UTF-8 sequence).
    let carry = Buffer.alloc(0);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      // (Cut after the last newline: a UTF-8 sequence never contains the byte 0x0a.)
      const end = buf.lastIndexOf(10, bytesRead - 1);
      if (end < 0) {
        carry = Buffer.concat([carry, buf.subarray(0, bytesRead)]);
        continue;
      }
      const text = carry.length > 0 ? Buffer.concat([carry, buf.subarray(0, end)]).toString('utf8') : buf.toString('utf8', 0, end);
      carry = Buffer.from(buf.subarray(end + 1, bytesRead));
      let from = 0;
      for (let nl = text.indexOf('\n'); ; nl = text.indexOf('\n', from)) {
        const line = nl < 0 ? text.slice(from) : text.slice(from, nl);
        if (line.length > 0) yield JSON.parse(line);
        if (nl < 0) break;
        from = nl + 1;
      }
    }
    if (carry.length > 0) yield JSON.parse(carry.toString('utf8'));
  } finally {
    await fh.close();
  }
}

function dirBytes(dir) {
  let n = 0;
  for (const f of readdirSync(dir, { withFileTypes: true })) {
    if (f.isDirectory()) n += dirBytes(join(dir, f.name));
    // (A table file LevelDB's compaction removes while the directory is walked is not counted.)
    else n += statSync(join(dir, f.name), { throwIfNoEntry: false })?.size ?? 0;
  }
  return n;
}

const t00 = performance.now();
if (!existsSync(cache)) {
  await build(cache);
  console.log(`built ${members + 4 + messages} PDUs in ${((performance.now() - t00) / 1000).toFixed(0)} s → ${cache}`);
}

// The raw verify rate of this machine on a sample of the same PDUs, measured in this run.
const pk = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(decodeBase64(serverKey.publicKey))]), format: 'der', type: 'spki' });
const sample = [];
for await (const p of lines(cache)) { if (sample.length >= 20_000) break; sample.push([redactedSigningBytes(p, rules), Buffer.from(p.signatures['a.example'][serverKey.keyId], 'base64')]); }
let tv = performance.now();
for (const [b, s] of sample) nodeVerify(null, b, pk, s);
const rawRate = (sample.length / (performance.now() - tv)) * 1000;
sample.length = 0;

const dir = kind === 'level' ? mkdtempSync(join(tmpdir(), 'rg-1m-')) : undefined;
const store = kind === 'level' ? new LevelRoomStore(dir) : createMemoryStore();
const engine = await RoomEngine.open({ ownsStore: true, serverName: 'b.example', store, keys, ...(engineCache !== undefined ? { limits: { eventCacheSize: Number(engineCache) } } : {}) });
global.gc?.();
const heap0 = process.memoryUsage().heapUsed;
// Main-thread GC pauses during the ingest (the share of time the engine stood still for the GC).
let gcMs = 0;
// By kind as well (perf_hooks' constants: 1 minor = scavenge, 4 major = mark-compact, 8 incremental marking, 16 weak callbacks).
const gcByKind = new Map();
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcMs += e.duration;
    const kind = e.detail?.kind ?? 0;
    gcByKind.set(kind, (gcByKind.get(kind) ?? 0) + e.duration);
  }
});
gcObserver.observe({ entryTypes: ['gc'] });
// (A marker for `--trace-gc` output: the collections after it are the ingest's.)
console.log(`ingesting into ${kind === 'level' ? 'LevelDB' : 'the memory store'}, ${batchSize} PDUs per call…`);
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
  if (batch.length === batchSize) await flush();
}
if (batch.length > 0) await flush();
const s = (performance.now() - t0) / 1000;
gcObserver.disconnect();
global.gc?.();
const heap = process.memoryUsage().heapUsed - heap0;
const rate = total / s;
console.log(`${kind}: ingested ${accepted}/${total} in ${s.toFixed(0)} s = ${rate.toFixed(0)} PDUs/s (raw verify ${rawRate.toFixed(0)}/s on one thread: ${(rate / rawRate).toFixed(2)}x); GC pauses ${(gcMs / 1000).toFixed(0)} s (${((100 * gcMs) / (s * 1000)).toFixed(0)} %)`);
const GC_KINDS = { 1: 'scavenges', 4: 'mark-compact', 8: 'incremental marking', 16: 'weak callbacks' };
console.log(`  GC by kind: ${[...gcByKind].sort((a, b) => b[1] - a[1]).map(([k, ms]) => `${GC_KINDS[k] ?? `kind ${k}`} ${(ms / 1000).toFixed(1)} s`).join(', ')}`);
console.log(`  heap growth ${(heap / 2 ** 30).toFixed(2)} GiB = ${(heap / total / 1024).toFixed(2)} KiB/event; rss ${(process.memoryUsage().rss / 2 ** 30).toFixed(1)} GiB${dir !== undefined ? `; LevelDB ${(dirBytes(dir) / 2 ** 30).toFixed(2)} GiB on disk = ${(dirBytes(dir) / total).toFixed(0)} bytes/event` : ''}`);
const t1 = performance.now();
const st = await engine.currentState(room.roomId);
console.log(`  current state: ${st.size} entries read in ${(performance.now() - t1).toFixed(0)} ms`);
const t2 = performance.now();
const m = await engine.membership(room.roomId, '@u42:a.example');
console.log(`  one membership lookup: ${m} in ${(performance.now() - t2).toFixed(2)} ms`);
await engine.close();
if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
if (accepted !== total) process.exitCode = 1;
