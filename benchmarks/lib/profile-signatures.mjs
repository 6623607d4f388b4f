// The profile room's signatures, for the scripts that verify them without the engine
// (raw-verify.mjs, worker-ceiling.mjs): the room profile-ingest.mjs builds and caches, the key it
// signs with, and per PDU its redacted signing bytes and its signature (made once, before timing).
import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signingKeyFromSeed } from '@roomgraph/crypto';
import { redactedSigningBytes } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';

/**
 * `{ key, pk, items }`: the signing key (`key.publicKey`), its node:crypto KeyObject, and
 * `[signingBytes, signature]` per PDU of the profile room. Exits with a hint when the room has not
 * been built yet.
 */
export function profileSignatures() {
  const F = join(tmpdir(), 'roomgraph-profile-room.json');
  if (!existsSync(F)) {
    console.error(`${F} is missing: run benchmarks/scripts/profile-ingest.mjs first (it builds the room)`);
    process.exit(2);
  }
  // The key profile-ingest.mjs signs the room with.
  const key = signingKeyFromSeed(new Uint8Array(32).fill(7), 'bench');
  const rules = getRoomVersion('10');
  const pk = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(key.publicKey)]), format: 'der', type: 'spki' });
  const items = JSON.parse(readFileSync(F, 'utf8')).map((p) => [redactedSigningBytes(p, rules), new Uint8Array(Buffer.from(p.signatures['a.example'][key.keyId], 'base64'))]);
  return { key, pk, items };
}
