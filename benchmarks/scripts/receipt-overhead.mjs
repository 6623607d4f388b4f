// Single-mode receipt (`receivePdu`, one PDU per call, memory store) of the profile room with
// node:crypto's synchronous ed25519 verify answering `true` without verifying: what the receipt
// costs besides the verify itself (key objects, signing bytes, parse, checks, commit, promises).
// Every other step runs as in profile-ingest.mjs; each pass prints the main thread's CPU µs per
// event, the GC pauses per event and the outcomes:
//   node benchmarks/scripts/receipt-overhead.mjs [REPS]
// Run profile-ingest.mjs once first: it builds and caches the room. Deterministic instruction
// counts (the verify stubbed, so OpenSSL's path under valgrind does not matter): run it under
// callgrind with REPS 1 and 2 — the difference / 10,005 = instructions per warm event:
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node --predictable --random-seed=1 \
//     --hash-seed=1 --single-threaded benchmarks/scripts/receipt-overhead.mjs 1
import crypto from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { encodeBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { RoomEngine } from '@roomgraph/engine';
import { createMemoryStore } from '@roomgraph/store-memory';
import { StaticKeySource } from '@roomgraph/transport';

const F = join(tmpdir(), 'roomgraph-profile-room.json');
if (!existsSync(F)) {
  console.error(`${F} is missing: run benchmarks/scripts/profile-ingest.mjs first (it builds the room)`);
  process.exit(2);
}
const reps = Number(process.argv[2] ?? 3);
// The synchronous verify (the callback form, used by the verification worker, stays real).
const realVerify = crypto.verify;
crypto.verify = (alg, data, key, sig, cb) => {
  if (cb !== undefined) return realVerify(alg, data, key, sig, cb);
  if (!ArrayBuffer.isView(data) || !ArrayBuffer.isView(sig)) throw new TypeError('verify: data and signature must be views');
  return true;
};
syncBuiltinESMExports();
const key = signingKeyFromSeed(new Uint8Array(32).fill(7), 'bench');
const keys = new StaticKeySource({ 'a.example': { [key.keyId]: encodeBase64(key.publicKey) } });
const pdus = JSON.parse(readFileSync(F, 'utf8'));
const threadCpuUs = () => { try { return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e3; } catch { return NaN; } };
let gcMs = 0;
new PerformanceObserver((l) => { for (const e of l.getEntries()) gcMs += e.duration; }).observe({ entryTypes: ['gc'] });
for (let rep = 0; rep < reps; rep++) {
  const engine = await RoomEngine.open({ ownsStore: true, serverName: 'b.example', store: createMemoryStore(), keys });
  const gc0 = gcMs;
  const c0 = threadCpuUs();
  const counts = {};
  for (const p of pdus) { const s = (await engine.receivePdu('a.example', p)).status; counts[s] = (counts[s] ?? 0) + 1; }
  const cpu = (threadCpuUs() - c0) / pdus.length;
  // (GC entries are delivered to the observer asynchronously.)
  await new Promise((r) => setTimeout(r, 10));
  await engine.close();
  console.log('single memory, verify stubbed:', cpu.toFixed(1), 'us main-thread CPU/event, GC', ((gcMs - gc0) * 1000 / pdus.length).toFixed(1), 'us/event', JSON.stringify(counts));
}
