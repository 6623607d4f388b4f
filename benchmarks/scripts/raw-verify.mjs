// The baseline of the receipt ratios for the profile room: raw node:crypto ed25519 verification of
// the same PDUs that profile-ingest.mjs ingests (their redacted signing bytes and signatures made
// once, before timing), REPS passes (default 1), each printing verifications per second:
//   node benchmarks/scripts/raw-verify.mjs [REPS]
// Run profile-ingest.mjs once first: it builds and caches the room. For instruction counts, run it
// under callgrind with REPS 1 and 2, like profile-ingest.mjs (the difference = one warm pass).
import { verify } from 'node:crypto';
import { profileSignatures } from '../lib/profile-signatures.mjs';

const { pk, items } = profileSignatures();
const reps = Number(process.argv[2] ?? 1);
for (let r = 0; r < reps; r++) {
  const t0 = performance.now();
  for (const [bytes, sig] of items) if (!verify(null, bytes, pk, sig)) throw new Error('a signature does not verify');
  console.log('raw verify', ((items.length / (performance.now() - t0)) * 1000).toFixed(0), 'per s');
}
