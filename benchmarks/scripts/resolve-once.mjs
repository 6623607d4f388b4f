// One cold `roomgraph resolve` of an input file in this process, for instruction counts (issue 11):
// parses the file as the CLI does, builds the event views and state maps (with ROOT's CLI
// `resolveInputOf` when it has one, else as the CLI did before it: one key string per event),
// then runs PASSES resolutions (`resolveStateDeltaSync`), each on views built afresh. PASSES 0
// builds the views once and resolves nothing: the baseline whose count is subtracted.
//
//   node benchmarks/scripts/resolve-once.mjs ROOT FILE PASSES
//
// ROOT: a built checkout (its packages/*/dist are used); FILE: an input written by
// `resolve-cli.mjs --keep DIR`. Under callgrind (see benchmarks/issue-11.md, "Less work per conflicted event";
// the command is there), (count of PASSES 1) − (count of PASSES 0) is the instructions of the first
// resolution of a process.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveInputBuilder } from '../lib/resolve-input.mjs';

const [root, file, passesArg] = process.argv.slice(2);
if (root === undefined || file === undefined) throw new Error('usage: resolve-once.mjs ROOT FILE [PASSES]');
const passes = Number(passesArg ?? 1);
const pkg = (name) => import(pathToFileURL(join(root, 'packages', name, 'dist/index.js')).href);
const { parseCanonicalJson } = await pkg('canonical-json');
const ev = await pkg('events');
const { getRoomVersion } = await pkg('room-versions');
const { resolveStateDeltaSync } = await pkg('state-res');
const text = readFileSync(file);
const input = parseCanonicalJson(text, { strict: false });
const rules = getRoomVersion(input.room_version);
const views = await resolveInputBuilder(root, ev, rules);

let n = 0;
if (passes === 0) n = views(input).events.size;
for (let p = 0; p < passes; p++) {
  const { events, sets } = views(input);
  n += resolveStateDeltaSync(rules, sets, events).changes.size;
}
console.log(n);
