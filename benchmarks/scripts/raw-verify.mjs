// The baseline of the receipt ratios for the profile room: raw node:crypto ed25519 verification of
// the same PDUs that profile-ingest.mjs ingests (their redacted signing bytes and signatures made
// once, before timing), REPS passes (default 1), each printing verifications per second:
//   node benchmarks/scripts/raw-verify.mjs [REPS]
// Run profile-ingest.mjs once first: it builds and caches the room. For instruction counts, run it
// under callgrind with REPS 1 and 2, like profile-ingest.mjs (the difference = one warm pass).
import { createPublicKey, verify } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signingKeyFromSeed } from '@roomgraph/crypto';
import { redactedSigningBytes } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';

const F = join(tmpdir(), 'roomgraph-profile-room.json');
if (!existsSync(F)) {
  console.error(`${F} is missing: run benchmarks/scripts/profile-ingest.mjs first (it builds the room)`);
  process.exit(2);
}
// The key profile-ingest.mjs signs the room with.
const key = signingKeyFromSeed(new Uint8Array(32).fill(7), 'bench');
const rules = getRoomVersion('10');
const pk = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(key.publicKey)]), format: 'der', type: 'spki' });
const items = JSON.parse(readFileSync(F, 'utf8')).map((p) => [redactedSigningBytes(p, rules), Buffer.from(p.signatures['a.example'][key.keyId], 'base64')]);
const reps = Number(process.argv[2] ?? 1);
for (let r = 0; r < reps; r++) {
  const t0 = performance.now();
  for (const [bytes, sig] of items) if (!verify(null, bytes, pk, sig)) throw new Error('a signature does not verify');
  console.log('raw verify', ((items.length / (performance.now() - t0)) * 1000).toFixed(0), 'per s');
}
