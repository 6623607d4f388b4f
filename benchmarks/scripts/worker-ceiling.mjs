// The verification worker's ceiling: the profile room's signatures verified through
// @roomgraph/crypto's worker (nodeBackend.verifyAsync), in bursts of BURST jobs each awaited
// before the next (as receivePdus calls of BURST PDUs are), against raw node:crypto verify on this
// thread, alternating, REPS rounds:
//   node benchmarks/scripts/worker-ceiling.mjs [REPS [BURST]]
// Run profile-ingest.mjs once first: it builds and caches the room.
import { createPublicKey, verify } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeBackend, signingKeyFromSeed } from '@roomgraph/crypto';
import { redactedSigningBytes } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';

const F = join(tmpdir(), 'roomgraph-profile-room.json');
if (!existsSync(F)) {
  console.error(`${F} is missing: run benchmarks/scripts/profile-ingest.mjs first (it builds the room)`);
  process.exit(2);
}
const key = signingKeyFromSeed(new Uint8Array(32).fill(7), 'bench');
const rules = getRoomVersion('10');
const pk = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(key.publicKey)]), format: 'der', type: 'spki' });
const items = JSON.parse(readFileSync(F, 'utf8')).map((p) => [redactedSigningBytes(p, rules), new Uint8Array(Buffer.from(p.signatures['a.example'][key.keyId], 'base64'))]);
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
