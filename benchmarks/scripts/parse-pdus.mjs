// parsePdu alone over the profile room's 10,005 PDUs (profile-ingest.mjs builds and caches the
// room), PASSES times, trusted or as received:
//   node benchmarks/scripts/parse-pdus.mjs ROOT PASSES [trusted|received]
// ROOT is the checkout whose built @roomgraph/events is measured (compare two checkouts with the
// same script). Deterministic instruction counts per parse: run it under callgrind with PASSES 1
// and 3 — (3 − 1) / 20,010:
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node --predictable --random-seed=1 \
//     --hash-seed=1 --single-threaded benchmarks/scripts/parse-pdus.mjs . 1|3 trusted
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(process.argv[2] ?? '.');
const passes = Number(process.argv[3] ?? 1);
const mode = process.argv[4] ?? 'trusted';
const F = join(tmpdir(), 'roomgraph-profile-room.json');
if (!existsSync(F)) {
  console.error(`${F} is missing: run benchmarks/scripts/profile-ingest.mjs first (it builds the room)`);
  process.exit(2);
}
const events = await import(pathToFileURL(join(root, 'packages/events/dist/index.js')).href);
const versions = await import(pathToFileURL(join(root, 'packages/room-versions/dist/index.js')).href);
const rules = versions.getRoomVersion('10');
const pdus = JSON.parse(readFileSync(F, 'utf8'));
const options = mode === 'trusted' ? { trusted: true } : undefined;
let n = 0;
for (let p = 0; p < passes; p++) for (const json of pdus) n += events.parsePdu(json, rules, options).eventId.length;
console.log(`${passes} pass(es) of ${pdus.length} PDUs parsed (${mode}); checksum ${n}`);
