// One cold `roomgraph resolve` of an input file in this process, for instruction counts (issue 11):
// parses the file as the CLI does, builds the event views and state maps (with ROOT's CLI
// `resolveInputOf` when it has one, else as the CLI did before it: one key string per event),
// then runs PASSES resolutions (`resolveStateDeltaSync`), each on views built afresh. PASSES 0
// builds the views once and resolves nothing: the baseline whose count is subtracted.
//
//   node benchmarks/scripts/resolve-once.mjs ROOT FILE PASSES
//
// ROOT: a built checkout (its packages/*/dist are used); FILE: an input written by
// `resolve-cli.mjs --keep DIR`. Under callgrind (see benchmarks/README.md, "`roomgraph resolve` in
// a fresh process"), (count of PASSES 1) − (count of PASSES 0) is the instructions of the first
// resolution of a process.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [root, file, passesArg] = process.argv.slice(2);
if (root === undefined || file === undefined) throw new Error('usage: resolve-once.mjs ROOT FILE [PASSES]');
const passes = Number(passesArg ?? 1);
const pkg = (name) => import(pathToFileURL(join(root, 'packages', name, 'dist/index.js')).href);
const { parseCanonicalJson } = await pkg('canonical-json');
const ev = await pkg('events');
const { getRoomVersion } = await pkg('room-versions');
const { resolveStateDeltaSync } = await pkg('state-res');
const cliViews = join(root, 'packages/cli/dist/commands/resolve.js');
const cli = existsSync(cliViews) ? await import(pathToFileURL(cliViews).href) : {};
const text = readFileSync(file);
let input = parseCanonicalJson(text, { strict: false });
const rules = getRoomVersion(input.room_version);
let used = false; // the CLI's views intern strings in the parsed input: a second pass parses again

function views() {
  if (cli.resolveInputOf !== undefined) {
    if (used) input = parseCanonicalJson(text, { strict: false });
    used = true;
    return cli.resolveInputOf(input);
  }
  const events = new Map();
  for (const j of input.events) { const e = ev.toRoomEvent(j, rules); events.set(e.eventId, e); }
  const keyOf = new Map();
  const sets = input.state_sets.map((list) => {
    const m = new Map();
    for (const id of list) {
      let k = keyOf.get(id);
      if (k === undefined) { const e = events.get(id); keyOf.set(id, (k = ev.stateKeyOf(e.type, e.stateKey))); }
      m.set(k, id);
    }
    return m;
  });
  return { events, sets };
}

let n = 0;
if (passes === 0) n = views().events.size;
for (let p = 0; p < passes; p++) {
  const { events, sets } = views();
  n += resolveStateDeltaSync(rules, sets, events).changes.size;
}
console.log(n);
