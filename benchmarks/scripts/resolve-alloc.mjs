// What the first resolution of a process allocates (issue 11, cold `roomgraph resolve`): parses an
// input file as `roomgraph resolve` does, builds its event views and state maps with ROOT's CLI,
// then runs V8's sampling heap profiler (objects the collectors freed included) around the one
// `resolveStateDeltaSync` call only, and prints the bytes allocated by function (the builtins
// Map/Set `set`/`add`/`push` attributed to their caller, `set <- fn`), largest first.
//
//   node benchmarks/scripts/resolve-alloc.mjs ROOT FILE [TOP] [--out FILE.heapprofile]
//
// ROOT: a built checkout; FILE: an input written by `resolve-cli.mjs --keep DIR`. Sampling interval
// 256 bytes. Compare checkouts on the same FILE (benchmarks/issue-11.md has figures).
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveInputBuilder } from '../lib/resolve-input.mjs';

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args.splice(outAt, 2)[1] : undefined;
const [root, file, topArg] = args;
if (root === undefined || file === undefined) throw new Error('usage: resolve-alloc.mjs ROOT FILE [TOP] [--out FILE]');
const pkg = (name) => import(pathToFileURL(join(root, 'packages', name, 'dist/index.js')).href);
const { parseCanonicalJson } = await pkg('canonical-json');
const ev = await pkg('events');
const { getRoomVersion } = await pkg('room-versions');
const { resolveStateDeltaSync } = await pkg('state-res');
const input = parseCanonicalJson(readFileSync(file), { strict: false });
const rules = getRoomVersion(input.room_version);
const { events, sets } = (await resolveInputBuilder(root, ev, rules))(input);

const session = new Session();
session.connect();
const post = (method, params) => new Promise((res, rej) => session.post(method, params, (e, r) => (e ? rej(e) : res(r))));
await post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
const changes = resolveStateDeltaSync(rules, sets, events).changes.size;
const { profile } = await post('HeapProfiler.stopSampling', {});
if (out !== undefined) writeFileSync(out, JSON.stringify(profile));

const name = (n) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-3).join('/')}:${n.callFrame.lineNumber + 1}`;
const bytes = new Map();
let total = 0;
const walk = (node, parent) => {
  const key = node.callFrame.url === '' ? `${node.callFrame.functionName || '(builtin)'} <- ${parent}` : name(node);
  bytes.set(key, (bytes.get(key) ?? 0) + node.selfSize);
  total += node.selfSize;
  for (const child of node.children) walk(child, name(node));
};
walk(profile.head, '');
for (const [key, b] of [...bytes].sort((x, y) => y[1] - x[1]).slice(0, Number(topArg ?? 25))) {
  console.log(`${((b / total) * 100).toFixed(1).padStart(5)} % ${(b / 1e3).toFixed(0).padStart(7)} kB  ${key}`);
}
console.log(`total ${(total / 1e6).toFixed(2)} MB allocated by the resolution (${changes} changes)`);
