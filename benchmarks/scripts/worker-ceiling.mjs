// The verification worker's ceiling: the profile room's signatures verified through
// @roomgraph/crypto's worker (nodeBackend.verifyAsync), in bursts of BURST jobs each awaited
// before the next (as receivePdus calls of BURST PDUs are), against raw node:crypto verify on this
// thread, alternating, REPS rounds:
//   node benchmarks/scripts/worker-ceiling.mjs [REPS [BURST]]
// Run profile-ingest.mjs once first: it builds and caches the room.
import { verify } from 'node:crypto';
import { nodeBackend } from '@roomgraph/crypto';
import { profileSignatures } from '../lib/profile-signatures.mjs';

const { key, pk, items } = profileSignatures();
const reps = Number(process.argv[2] ?? 3);
const burst = Number(process.argv[3] ?? 100);
for (let r = 0; r < reps; r++) {
  let t0 = performance.now();
  for (const [bytes, sig] of items) if (!verify(null, bytes, pk, sig)) throw new Error('a signature does not verify');
  const raw = (items.length / (performance.now() - t0)) * 1000;
  t0 = performance.now();
  for (let i = 0; i < items.length; i += burst) {
    const oks = await Promise.all(items.slice(i, i + burst).map(([bytes, sig]) => nodeBackend.verifyAsync(key.publicKey, bytes, sig)));
    if (!oks.every((x) => x)) throw new Error('a signature does not verify');
  }
  const worker = (items.length / (performance.now() - t0)) * 1000;
  console.log(`raw ${raw.toFixed(0)}/s, worker in bursts of ${burst} ${worker.toFixed(0)}/s: ${(worker / raw).toFixed(3)}x`);
}
