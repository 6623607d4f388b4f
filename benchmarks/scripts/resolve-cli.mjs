// `roomgraph resolve` as users run it: a fresh process per resolution (issue 11, "resolve on a cold
// process"). Generates the state-res suite's rooms (suites/state-res.mjs `buildRoom`: two forks of a
// room version 10 room) as `roomgraph resolve` input files, runs the CLI as a new process several
// times per case, and reports min/median/max of:
//   - cold resolve: the `--timings` `resolve_ms` of the first (only) resolution of a fresh process —
//     the state resolution call alone; reading stdin, JSON parsing and building the event views are
//     not in it;
//   - parse: the `--timings` `parse_ms` (building the event views and state maps from the parsed
//     JSON; the JSON parse itself is before it and in no `--timings` figure);
//   - wall: the whole process, spawn to exit (Node start-up, module loading, reading and parsing
//     the input, resolution, output);
//   - warm resolve: the same document given K more times as JSON lines to one process (`--jsonl`):
//     the median `resolve_ms` of lines 2..K+1 of each process.
// Every run's output is checked equal to the in-process `resolveStateSync` answer.
//
//   node benchmarks/scripts/resolve-cli.mjs [--runs N] [--warm K] [--cases 10000/500/2500,...]
//        [--keep DIR] [--cpu-prof DIR] [--json FILE] [--bin PATH]
//
// --bin PATH: the `roomgraph` entry point to run (default: this checkout's packages/cli/bin/
// roomgraph.mjs); e.g. another checkout's, built, for a before/after comparison on the same inputs.
// --cpu N: also run N fresh processes per case that do what `roomgraph resolve` does with the
// checkout's built packages (parse, event views, state maps, resolveStateDeltaSync) and report the
// main thread's CPU time of the views and of the resolution (/proc/thread-self/schedstat, Linux):
// unlike wall time, it does not grow when other jobs share the machine's cores.
//
// --cpu-prof DIR: run each cold process under `node --cpu-prof --cpu-prof-dir DIR` (profiles are
// written there; the timings of those runs include the profiler's overhead).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { splitStateKey } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { resolveStateSync } from '@roomgraph/state-res';
import { buildRoom } from '../suites/state-res.mjs';
import { resolveInputBuilder } from '../lib/resolve-input.mjs';

const here = dirname(fileURLToPath(import.meta.url));
let BIN = join(here, '../../packages/cli/bin/roomgraph.mjs');

const ALL_CASES = [
  [1_000, 100, 10], [1_000, 500, 100],
  [10_000, 100, 10], [10_000, 500, 100], [10_000, 500, 2_500],
  [100_000, 500, 10], [100_000, 500, 100], [100_000, 500, 2_500],
];
// Recorded reference figures (the reference homeserver's state resolution, issue #5; not measured here).
const RECORDED = { '10000/500/100': 75, '10000/500/2500': 190, '100000/500/100': 1400 };

function parseArgs(argv) {
  const o = { runs: 5, warm: 5, cases: ALL_CASES, keep: undefined, cpuProf: undefined, json: undefined, cpu: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => { const x = argv[++i]; if (x === undefined) throw new Error(`${a} needs a value`); return x; };
    if (a === '--runs') o.runs = Number(v());
    else if (a === '--warm') o.warm = Number(v());
    else if (a === '--cases') o.cases = v().split(',').map((c) => c.split('/').map(Number));
    else if (a === '--keep') o.keep = v();
    else if (a === '--cpu-prof') o.cpuProf = v();
    else if (a === '--json') o.json = v();
    else if (a === '--bin') BIN = resolve(v());
    else if (a === '--cpu') o.cpu = Number(v());
    else if (a === '--child-cpu') { childCpu(v(), v()).then(() => process.exit(0)); return undefined; }
    else if (a === '--help' || a === '-h') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

/** The `roomgraph resolve` input document of a room, and the expected `resolved` object. */
function caseDocument(members, pls, joins) {
  const room = buildRoom(members, pls, joins);
  const events = room.order.map((e) => ({ ...e.json, event_id: e.eventId }));
  const doc = { room_version: '10', events, state_sets: room.sets.map((s) => [...s.values()]) };
  const resolved = resolveStateSync(getRoomVersion('10'), room.sets, room.events);
  const expected = {};
  for (const [k, id] of resolved) {
    const [type, sk] = splitStateKey(k);
    (expected[type] ??= {})[sk] = id;
  }
  return { text: JSON.stringify(doc), expected };
}

function sameResolved(got, expected) {
  const a = Object.keys(got), b = Object.keys(expected);
  if (a.length !== b.length) return false;
  for (const t of b) {
    const x = got[t], y = expected[t];
    if (x === undefined || Object.keys(x).length !== Object.keys(y).length) return false;
    for (const sk of Object.keys(y)) if (x[sk] !== y[sk]) return false;
  }
  return true;
}

function runCli(file, bytes, extra, nodeFlags) {
  const input = readFileSync(file);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [...nodeFlags, BIN, 'resolve', '--timings', '--max-bytes', String(bytes + 16), ...extra], { input, maxBuffer: 1 << 30 });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`roomgraph resolve exited ${r.status}: ${r.stderr.toString().slice(0, 500)}`);
  const lines = r.stdout.toString().trim().split('\n').map((l) => JSON.parse(l));
  return { wall, lines };
}

const stats = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
};
const f = (ms) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
const mmm = (s) => `${f(s.min)} / ${f(s.median)} / ${f(s.max)}`;

/** --child-cpu ROOT FILE (internal): one cold resolution with ROOT's packages; prints main-thread CPU ms. */
async function childCpu(root, file) {
  const pkg = (name) => import(pathToFileURL(join(root, 'packages', name, 'dist/index.js')).href);
  const { parseCanonicalJson } = await pkg('canonical-json');
  const ev = await pkg('events');
  const { getRoomVersion } = await pkg('room-versions');
  const { resolveStateDeltaSync } = await pkg('state-res');
  const cpu = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  // The CLI's own view building when ROOT's CLI exports it (`resolveInputOf`), else what the CLI
  // did before it.
  const input = parseCanonicalJson(readFileSync(file), { strict: false });
  const rules = getRoomVersion(input.room_version);
  const views = await resolveInputBuilder(root, ev, rules);
  const c0 = cpu();
  const { events, sets } = views(input);
  const c1 = cpu();
  resolveStateDeltaSync(rules, sets, events);
  const c2 = cpu();
  console.log(JSON.stringify({ views_cpu_ms: c1 - c0, resolve_cpu_ms: c2 - c1 }));
}

const opts = parseArgs(process.argv.slice(2));
if (opts === undefined) await new Promise(() => {}); // --child-cpu: exits when done
const dir = opts.keep ?? mkdtempSync(join(tmpdir(), 'roomgraph-resolve-cli-'));
mkdirSync(dir, { recursive: true });
if (opts.cpuProf !== undefined) mkdirSync(opts.cpuProf, { recursive: true });
const load0 = loadavg();
console.log(`${BIN}\nroomgraph resolve, fresh process per run: ${opts.runs} cold runs, ${opts.warm} warm lines per warm process; node ${process.version}; load average ${load0.map((x) => x.toFixed(2)).join(' ')}`);
console.log('times in ms, min / median / max. cold resolve = `--timings` resolve_ms of the first resolution of a fresh process (the state resolution call only); parse = parse_ms (event views + state maps; JSON parsing is in neither figure); wall = whole process; warm = resolve_ms of later --jsonl lines in one process');
console.log('\n| members | PL | joins/fork | input MB | cold resolve | parse | wall | warm resolve | recorded ref | ref / cold median |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
const out = [];
const cpuRows = [];
for (const [members, pls, joins] of opts.cases) {
  const name = `${members}/${pls}/${joins}`;
  const file = join(dir, `resolve-${members}-${pls}-${joins}.json`);
  const { text, expected } = caseDocument(members, pls, joins);
  writeFileSync(file, text);
  const bytes = statSync(file).size;
  const cold = [], parse = [], wall = [], warm = [];
  for (let r = 0; r < opts.runs; r++) {
    const nodeFlags = opts.cpuProf !== undefined ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProf, '--cpu-prof-name', `resolve-${members}-${pls}-${joins}-${r}.cpuprofile`] : [];
    const res = runCli(file, bytes, [], nodeFlags);
    const line = res.lines[0];
    if (!sameResolved(line.resolved, expected)) throw new Error(`${name}: the CLI's answer differs from resolveStateSync's`);
    cold.push(line.timings.resolve_ms);
    parse.push(line.timings.parse_ms);
    wall.push(res.wall);
  }
  if (opts.warm > 0) {
    // One process, K+1 copies of the document as JSON lines: the first is cold, the rest warm.
    const wfile = join(dir, `resolve-${members}-${pls}-${joins}.jsonl`);
    writeFileSync(wfile, Array.from({ length: opts.warm + 1 }, () => text).join('\n') + '\n');
    for (let r = 0; r < Math.min(3, opts.runs); r++) {
      const res = runCli(wfile, bytes, ['--jsonl'], []);
      if (res.lines.length !== opts.warm + 1) throw new Error(`${name}: expected ${opts.warm + 1} lines`);
      for (const l of res.lines) if (l.error !== undefined || !sameResolved(l.resolved, expected)) throw new Error(`${name}: a --jsonl answer differs`);
      warm.push(stats(res.lines.slice(1).map((l) => l.timings.resolve_ms)).median);
    }
  }
  const cpuResolve = [], cpuViews = [];
  const root = join(dirname(BIN), '../../..');
  for (let r = 0; r < opts.cpu; r++) {
    const c = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child-cpu', root, file], { maxBuffer: 1 << 20 });
    if (c.status !== 0) throw new Error(`--cpu child failed: ${c.stderr.toString().slice(0, 500)}`);
    const j = JSON.parse(c.stdout.toString());
    cpuResolve.push(j.resolve_cpu_ms);
    cpuViews.push(j.views_cpu_ms);
  }
  const row = { case: name, members, pls, joins, input_bytes: bytes, cold_resolve_ms: stats(cold), parse_ms: stats(parse), wall_ms: stats(wall), warm_resolve_ms: warm.length > 0 ? stats(warm) : undefined, cpu_resolve_ms: opts.cpu > 0 ? stats(cpuResolve) : undefined, cpu_views_ms: opts.cpu > 0 ? stats(cpuViews) : undefined, runs: { cold, parse, wall, warm, cpuResolve, cpuViews } };
  out.push(row);
  const ref = RECORDED[name];
  if (opts.cpu > 0) cpuRows.push(`| ${members.toLocaleString('en')} | ${pls} | ${joins.toLocaleString('en')} | ${mmm(row.cpu_resolve_ms)} | ${mmm(row.cpu_views_ms)} |`);
  console.log(`| ${members.toLocaleString('en')} | ${pls} | ${joins.toLocaleString('en')} | ${(bytes / 2 ** 20).toFixed(1)} | ${mmm(row.cold_resolve_ms)} | ${mmm(row.parse_ms)} | ${mmm(row.wall_ms)} | ${warm.length > 0 ? mmm(row.warm_resolve_ms) : '–'} | ${ref !== undefined ? `~${ref}` : ''} | ${ref !== undefined ? `${(ref / Math.max(row.cold_resolve_ms.median, 0.5)).toFixed(1)}x` : ''} |`);
}
if (cpuRows.length > 0) {
  console.log(`\nmain-thread CPU ms of a cold resolution (${opts.cpu} fresh processes per case; min / median / max)\n`);
  console.log('| members | PL | joins/fork | resolve (resolveStateDeltaSync) | event views + state maps |');
  console.log('| ---: | ---: | ---: | ---: | ---: |');
  for (const r of cpuRows) console.log(r);
}
const load1 = loadavg();
console.log(`\nload average at end ${load1.map((x) => x.toFixed(2)).join(' ')}`);
if (opts.json !== undefined) writeFileSync(opts.json, JSON.stringify({ meta: { node: process.version, date: new Date().toISOString(), load_start: load0, load_end: load1, runs: opts.runs, warm: opts.warm }, cases: out }, null, 2));
if (opts.keep === undefined) rmSync(dir, { recursive: true, force: true });
