// What the second core gives ed25519 verification on this machine: the batch mode's ceiling.
//
// `receivePdus` verifies signatures on one worker thread while the main thread runs the other
// receipt checks, so its best possible rate is the worker's verify rate *while the main thread is
// busy* — not the one-thread rate the engine suite divides by. This script measures, in one run,
// with the same 1 KB messages and key:
//   alone     raw node:crypto verify on one thread, nothing else running in the process;
//   parallel  the same on a worker thread while the main thread verifies too (both cores busy);
// and prints each thread's rate and the ratio parallel/alone per thread. On two real cores the
// ratio is ~1.0; on two hyperthreads of one core, or a host that oversubscribes its vCPUs, it is
// lower, and batch ingest cannot reach the one-thread rate times that ratio.
//
// Run: node benchmarks/scripts/parallel-verify.mjs [--seconds 3] [--rounds 5]
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const seconds = arg('seconds', 3);
const rounds = arg('rounds', 5);

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const spki = publicKey.export({ format: 'der', type: 'spki' });
const messages = Array.from({ length: 64 }, (_, i) => Buffer.from(JSON.stringify({ i, pad: 'x'.repeat(1000) })));
const sigs = messages.map((m) => sign(null, m, privateKey));

/** Verifies for `ms` milliseconds; returns verifications per second. */
function loop(ms) {
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 16; i++, n++) if (!verify(null, messages[n & 63], publicKey, sigs[n & 63])) throw new Error('bad signature');
  }
  return n / (ms / 1000);
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const key = createPublicKey({ key: Buffer.from(workerData.spki), format: 'der', type: 'spki' });
const messages = workerData.messages.map((m) => Buffer.from(m));
const sigs = workerData.sigs.map((s) => Buffer.from(s));
parentPort.on('message', (ms) => {
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 16; i++, n++) if (!verify(null, messages[n & 63], key, sigs[n & 63])) throw new Error('bad signature');
  }
  parentPort.postMessage(n / (ms / 1000));
});`;
const worker = new Worker(WORKER, { eval: true, workerData: { spki, messages, sigs } });
const onWorker = (ms) => new Promise((resolve) => { worker.once('message', resolve); worker.postMessage(ms); });

loop(300); // warm up
await onWorker(300);
const fmt = (x) => Math.round(x).toLocaleString('en-US');
const rows = [];
for (let r = 0; r < rounds; r++) {
  const load = loadavg()[0];
  const alone = loop(seconds * 1000);
  const workerAlone = await onWorker(seconds * 1000);
  const w = onWorker(seconds * 1000);
  const mainBusy = loop(seconds * 1000);
  const workerBusy = await w;
  rows.push({ load, alone, workerAlone, mainBusy, workerBusy });
  console.log(`round ${r + 1}: load ${load.toFixed(1)}  main alone ${fmt(alone)}/s  worker alone ${fmt(workerAlone)}/s  ` +
    `both busy: main ${fmt(mainBusy)}/s, worker ${fmt(workerBusy)}/s  worker busy/alone ${(workerBusy / workerAlone).toFixed(2)}x  ` +
    `total busy / main alone ${((mainBusy + workerBusy) / alone).toFixed(2)}x`);
}
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const ratios = rows.map((x) => x.workerBusy / x.workerAlone);
console.log(`worker verify rate with the main thread busy / alone: min ${Math.min(...ratios).toFixed(2)}x, median ${med(ratios).toFixed(2)}x, max ${Math.max(...ratios).toFixed(2)}x`);
await worker.terminate();
