// Room engine ingest: signed PDUs through every receipt check, against the raw node:crypto verify
// rate measured in the same run; memory per event; memory vs LevelDB store.
// Sizes: 1k and 10k members by default; ROOMGRAPH_BENCH_LARGE=1 adds 100k members (120k events);
// ROOMGRAPH_BENCH_HUGE=1 adds a 100k-member room of 1M events (memory store only; run with
// --max-old-space-size=8192; several minutes).
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { RoomEngine } from '@roomgraph/engine';
import { checkContentHash, parsePdu, redactedSigningBytes, stateLookupOf, verifyEventSignatures } from '@roomgraph/events';
import { checkAuth } from '@roomgraph/auth';
import { getRoomVersion } from '@roomgraph/room-versions';
import { createMemoryStore } from '@roomgraph/store-memory';
import { LevelRoomStore } from '@roomgraph/store-level';
import { StaticKeySource } from '@roomgraph/transport';
import { record } from '../lib/measure.mjs';
import { roomPdus } from '../lib/room-pdus.mjs';

const VERSION = '10';
const key = signingKeyFromSeed(new Uint8Array(32).fill(7), 'bench');
const keys = new StaticKeySource({ 'a.example': { [key.keyId]: encodeBase64(key.publicKey) } });

/** Builds a room with `members` joined users and `messages` messages on a source engine; returns the PDUs in order. */
async function buildRoom(members, messages) {
  let clock = 1_700_000_000_000;
  const src = await RoomEngine.open({ ownsStore: true, serverName: 'a.example', signingKey: key, store: createMemoryStore(), keys, now: () => (clock += 1) });
  const roomId = await src.createRoom({ roomVersion: VERSION, creator: '@admin:a.example', preset: 'public_chat' });
  for (let i = 0; i < members; i++) {
    const u = `@u${i}:a.example`;
    await src.createLocalEvent(roomId, { type: 'm.room.member', stateKey: u, sender: u, content: { membership: 'join', displayname: `User ${i}` } });
  }
  for (let i = 0; i < messages; i++) {
    const u = `@u${i % members}:a.example`;
    await src.createLocalEvent(roomId, { type: 'm.room.message', sender: u, content: { msgtype: 'm.text', body: `message ${i} `.repeat(8) } });
  }
  const timeline = await roomPdus(src, roomId);
  await src.close();
  return timeline;
}

/** Collects garbage until the heap stops shrinking (weak references and finalizers need turns). */
async function fullGc() {
  if (global.gc === undefined) return;
  let last = Infinity;
  for (let i = 0; i < 5; i++) {
    global.gc();
    await new Promise((r) => setImmediate(r));
    const now = process.memoryUsage().heapUsed;
    if (now >= last - 1024 * 1024) return;
    last = now;
  }
}

/**
 * mode: 'single' (receivePdu one at a time), 'batch' (receivePdus, 100 at a time: signature checks
 * pipelined on the thread pool), 'trusted' (no signature/hash checks). heap: measure the heap the
 * ingest leaves (full collections before and after it; `heapPerEvent` is undefined otherwise).
 *
 * Timed runs do not force collections: a forced full GC collects the previous engine's objects,
 * and V8 then discards the optimized code that embedded them ("dependent code … reason: weak
 * objects" under --trace-deopt: 30–66 functions per run), so every run re-warmed the JIT (~100
 * recompilations per run instead of 6–20) and measured that (README › engine › the suite against
 * the profile script).
 */
async function ingest(pdus, store, mode, heap = false) {
  const engine = await RoomEngine.open({ ownsStore: true, serverName: 'b.example', store, keys });
  if (heap) await fullGc();
  const heap0 = process.memoryUsage().heapUsed;
  // Main-thread GC pauses during the ingest: the share of the run the engine stood still for the GC.
  let gcMs = 0;
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  gcObserver.observe({ entryTypes: ['gc'] });
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
  // Entries are buffered and delivered from a timer: let the observer see them before stopping it.
  await new Promise((r) => setTimeout(r, 20));
  gcObserver.disconnect();
  if (heap) await fullGc();
  const heapPerEvent = heap ? (process.memoryUsage().heapUsed - heap0) / pdus.length : undefined;
  await engine.close();
  if (accepted !== pdus.length) throw new Error(`only ${accepted}/${pdus.length} accepted`);
  return { ms, perSec: (pdus.length / ms) * 1000, heapPerEvent, gcShare: gcMs / ms };
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
  const src = await RoomEngine.open({ ownsStore: true, serverName: 'a.example', signingKey: key, store: createMemoryStore(), keys, now: () => (clock += 1) });
  const roomId = await src.createRoom({ roomVersion: VERSION, creator: '@admin:a.example', preset: 'public_chat' });
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
  const pdus = await roomPdus(src, roomId);
  const dst = await RoomEngine.open({ ownsStore: true, serverName: 'b.example', store: createMemoryStore(), keys });
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

/** Median of a non-empty list of numbers. */
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** "min / median / max" of a list, formatted with `f`. */
const spread = (xs, f) => (xs.length === 1 ? f(xs[0]) : `${f(Math.min(...xs))} / ${f(median(xs))} / ${f(Math.max(...xs))}`);

/**
 * Runs `fn` under the V8 CPU profiler (100 µs sampling, main thread only: the thread pool's work
 * does not appear), writes the profile to benchmarks/results/profiles/NAME.cpuprofile (open it in
 * Chrome DevTools) and prints the functions with the most self time.
 */
async function profiled(name, fn) {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  let result;
  try {
    result = await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'results', 'profiles');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${name}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    const self = new Map();
    let total = 0;
    for (const n of profile.nodes) {
      const cf = n.callFrame;
      const where = cf.url === '' ? '' : ` ${cf.url.replace(/^.*\/(packages|node_modules)\//, '$1/').replace(/^node:/, '')}:${cf.lineNumber + 1}`;
      const k = `${cf.functionName || '(anonymous)'}${where}`;
      self.set(k, (self.get(k) ?? 0) + n.hitCount);
      total += n.hitCount;
    }
    const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 20);
    console.log(`    profile ${name} (${total} samples of 100 µs; ${file.replace(/^.*\/benchmarks\//, 'benchmarks/')}) — self time:`);
    for (const [k, n] of top) console.log(`      ${((100 * n) / total).toFixed(1).padStart(5)} %  ${k}`);
  }
  return result;
}

/**
 * Rooms smaller than this get no heap/event figure: the process keeps bounded state that turns over
 * rather than grows (`@roomgraph/events`' bytes cache of the last 2,048–4,096 events' canonical
 * texts, the identifier intern table, optimised code), and in a small room that turnover is most of
 * the heap difference (0.0–1.1 KiB seen for the same build on the 3,005-event room; README › engine).
 */
const HEAP_MIN_EVENTS = 50_000;

const MODES = [['memory', 'single'], ['memory', 'batch'], ['memory', 'trusted'], ['level', 'single'], ['level', 'batch'], ['level', 'trusted']];

/**
 * options.runs: how many times each mode is ingested (figures: min / median / max over the runs);
 * options.only: ['memory:single', …] to run only these modes; options.profile: CPU-profile each
 * mode's last run.
 */
export default async function run(options = {}) {
  const runs = options.runs ?? 3;
  const onlyModes = options.only?.filter((x) => x.includes(':'));
  const onlySizes = options.only?.filter((x) => /^[0-9]+$/.test(x)).map(Number);
  const modes = MODES.filter(([k, m]) => onlyModes === undefined || onlyModes.length === 0 || onlyModes.includes(`${k}:${m}`));
  let sizes = [[1000, 2000], [10_000, 5000]];
  if (process.env.ROOMGRAPH_BENCH_LARGE === '1') sizes.push([100_000, 20_000]);
  if (process.env.ROOMGRAPH_BENCH_HUGE === '1') sizes.push([100_000, 900_000]);
  if (onlySizes !== undefined && onlySizes.length > 0) sizes = sizes.filter(([m]) => onlySizes.includes(m));
  console.log(`\n## ingest of signed PDUs (room version ${VERSION}), all receipt checks; ${runs} run(s) of every mode, modes interleaved${options.warmup === true ? ', after one untimed warm-up ingest per mode' : ''}`);
  console.log('   (figures: min / median / max over the runs; ratio = the mode\'s PDUs/s over raw node:crypto ed25519 verify/s of the');
  console.log('    same events, measured on one thread just before that mode in the same run; load = 1-min load average at each start)');
  for (const [members, messages] of sizes) {
    const pdus = await buildRoom(members, messages);
    const huge = pdus.length > 500_000;
    const sample = pdus.slice(0, Math.min(pdus.length, 4000));
    const these = huge ? [['memory', 'batch']] : modes;
    const rows = new Map([['(none) primitives', { rate: [], ratio: [], heap: [], gc: [], load: [] }], ...these.map(([k, m]) => [`${k} ${m}`, { rate: [], ratio: [], heap: [], gc: [], load: [] }])]);
    const verifies = [];
    // --warmup: one untimed ingest per mode first, so that the runs measure steady-state code
    // rather than V8 compiling it (a 3,005-PDU room is mostly warm-up otherwise).
    if (options.warmup === true) {
      for (const [kind, mode] of these) {
        const dir = kind === 'level' ? mkdtempSync(join(tmpdir(), 'rg-bench-')) : undefined;
        await ingest(pdus, kind === 'level' ? new LevelRoomStore(dir, { journal: true }) : createMemoryStore(), mode);
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    }
    for (let r = 0; r < runs; r++) {
      const last = r === runs - 1;
      {
        const row = rows.get('(none) primitives');
        row.load.push(loadavg()[0]);
        const verify = rawVerifyRate(sample);
        verifies.push(verify);
        const floor = primitivesRate(pdus);
        row.rate.push(floor);
        row.ratio.push(floor / verify);
      }
      for (const [kind, mode] of these) {
        const row = rows.get(`${kind} ${mode}`);
        row.load.push(loadavg()[0]);
        const verify = rawVerifyRate(sample);
        verifies.push(verify);
        const dir = kind === 'level' ? mkdtempSync(join(tmpdir(), 'rg-bench-')) : undefined;
        // LevelDB as the CLI opens it: journaled (a commit is durable once in the journal; batches behind).
        const store = kind === 'level' ? new LevelRoomStore(dir, { journal: true }) : createMemoryStore();
        // A 1M-event room measures its heap in its last run instead of ingesting once more.
        const go = () => ingest(pdus, store, mode, huge && last);
        const res = last && options.profile === true ? await profiled(`engine-${members}-${kind}-${mode}`, go) : await go();
        if (dir) rmSync(dir, { recursive: true, force: true });
        row.rate.push(res.perSec);
        row.ratio.push(res.perSec / verify);
        row.gc.push(res.gcShare);
        if (res.heapPerEvent !== undefined) row.heap.push(res.heapPerEvent);
      }
    }
    // Heap per event: one more ingest per mode, after the timed runs (its full collections would
    // disturb the runs that follow them; see ingest()). Not timed.
    for (const [kind, mode] of huge || pdus.length < HEAP_MIN_EVENTS ? [] : these) {
      const dir = kind === 'level' ? mkdtempSync(join(tmpdir(), 'rg-bench-')) : undefined;
      const res = await ingest(pdus, kind === 'level' ? new LevelRoomStore(dir, { journal: true }) : createMemoryStore(), mode, true);
      if (dir) rmSync(dir, { recursive: true, force: true });
      rows.get(`${kind} ${mode}`).heap.push(res.heapPerEvent);
    }
    console.log(`\n  ${members} members, ${pdus.length} events; raw verify/s over the runs: ${spread(verifies, (x) => x.toFixed(0))}`);
    console.log(`  ${'store mode'.padEnd(18)} ${'PDUs/s (min / median / max)'.padEnd(28)} ${'ratio to raw verify'.padEnd(22)} ${'heap/event'.padEnd(10)} ${'GC share'.padEnd(20)} load`);
    const base = `${members} members/${pdus.length} events`;
    record(`${base} › raw verify (baseline)`, median(verifies), 'PDUs/s');
    for (const [name, row] of rows) {
      const key = name === '(none) primitives' ? 'primitives' : name;
      record(`${base} › ${key}`, median(row.rate), 'PDUs/s');
      record(`${base} › ${key} (min)`, Math.min(...row.rate), 'PDUs/s');
      record(`${base} › ${key} (max)`, Math.max(...row.rate), 'PDUs/s');
      record(`ratio › ${members} members › ${key}/raw verify`, median(row.ratio), 'x');
      record(`ratio › ${members} members › ${key}/raw verify (min)`, Math.min(...row.ratio), 'x');
      record(`ratio › ${members} members › ${key}/raw verify (max)`, Math.max(...row.ratio), 'x');
      record(`load › ${members} members › ${key}`, median(row.load), 'load average');
      const heap = row.heap.length > 0 ? `${(median(row.heap) / 1024).toFixed(1)} KiB` : '';
      if (row.heap.length > 0) record(`${base} › ${key} heap/event`, median(row.heap), 'bytes');
      if (row.gc.length > 0) record(`${base} › ${key} GC share`, median(row.gc), 'x');
      const gc = row.gc.length > 0 ? spread(row.gc, (x) => `${(100 * x).toFixed(0)} %`) : '';
      console.log(`  ${name.padEnd(18)} ${spread(row.rate, (x) => x.toFixed(0)).padEnd(28)} ${spread(row.ratio, (x) => `${x.toFixed(2)}x`).padEnd(22)} ${heap.padEnd(10)} ${gc.padEnd(20)} ${spread(row.load, (x) => x.toFixed(1))}`);
    }
    if (pdus.length < HEAP_MIN_EVENTS) console.log(`  (no heap/event for rooms under ${HEAP_MIN_EVENTS} events: the process's bounded caches turning over would be most of it)`);
    // LevelDB against the memory store, mode by mode, run by run (the same run's figures).
    for (const mode of ['single', 'batch', 'trusted']) {
      const m = rows.get(`memory ${mode}`);
      const l = rows.get(`level ${mode}`);
      if (m === undefined || l === undefined) continue;
      const rs = l.rate.map((x, i) => x / m.rate[i]);
      record(`ratio › ${members} members › level/memory ${mode}`, median(rs), 'x');
      console.log(`  LevelDB / memory, ${mode.padEnd(7)} ${spread(rs, (x) => `${x.toFixed(2)}x`)}`);
    }
  }
  console.log('  (targets: memory single >= 0.8x, memory batch >= 0.95x of raw verify; LevelDB >= 0.8x of memory; trusted >= 100k/s memory, >= 50k/s LevelDB.');
  console.log('   single: one PDU per call, verify on the main thread; batch: receivePdus with look-ahead verification');
  console.log('   on a worker thread (a second core), the main thread taking the jobs beyond 8 queued there;');
  console.log('   trusted: import without signature/hash checks)');
  if (options.only !== undefined) return;
  console.log('\n## receiving a merge event: two forks of 50 joins + 50 topic changes each, in rooms of N members');
  const mergeSizes = [1000, 10_000];
  if (process.env.ROOMGRAPH_BENCH_LARGE === '1') mergeSizes.push(100_000);
  for (const m of mergeSizes) {
    const ms = await mergeCost(m, 50);
    record(`merge event › ${m} members`, ms, 'ms');
    console.log(`  ${String(m).padStart(7)} members: ${ms.toFixed(1)} ms for the merge event (state resolution included)`);
  }
}
