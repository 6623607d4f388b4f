#!/usr/bin/env node
// Benchmark dispatcher (see benchmarks/README.md and `node benchmarks/run.mjs --help`).
// Suites import the BUILT packages by name, so build first: node_modules/.bin/tsc -b tsconfig.json
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpus, loadavg, totalmem } from 'node:os';
import { format } from 'node:util';
import { beginSuite, results } from './lib/measure.mjs';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'suites');
const all = readdirSync(dir).filter((f) => f.endsWith('.mjs')).map((f) => f.slice(0, -4)).sort();

const HELP = `Usage: node benchmarks/run.mjs [options] [suite...]

Runs the named suites of benchmarks/suites/ (default: all of them) and prints each suite's tables
and ratios; every ratio divides two figures measured in the same run (or, where a suite says
"recorded", a reference figure written down elsewhere, named with its source).

Suites: ${all.join(', ')}

Options:
  --json [FILE]        also write every figure as JSON (to FILE, or to stdout with the human-readable
                       output moved to stderr): {"meta":{node,cpus,cpu,memory_gib,uv_threadpool_size,
                       load_average_at_start,date,suites},
                       "results":{"<suite>":{"<figure>":{"value":N,"unit":"ns|ms|PDUs/s|x|..."}}}}
  --compare A.json B.json
                       compare two --json runs figure by figure: B's value, A's, and B's speed
                       relative to A (>1 = B faster; times and sizes: A/B, rates and ratios: B/A)
  --runs N             engine: ingest every mode N times (default 3) and report min / median / max
  --only SPEC          engine: only these modes and room sizes, comma-separated STORE:MODE and member
                       counts (e.g. memory:single,level:batch,10000); the merge figures are then skipped
  --warmup             engine: ingest the room once in every mode, untimed, before the runs (the
                       figures are then steady-state rates, not mostly V8 warming up)
  --profile            engine: CPU-profile each mode's last run (node:inspector) and print the
                       functions with the most self time; profiles go to benchmarks/results/profiles/
  --list               print the suite names
  --help               this help

Environment: ROOMGRAPH_BENCH_LARGE=1 (engine: add a 100k-member room), UV_THREADPOOL_SIZE=1
(recommended for engine: one verification thread, see README).

Examples:
  node_modules/.bin/tsc -b tsconfig.json
  node benchmarks/run.mjs canonical-json crypto
  node benchmarks/run.mjs --json before.json state-res
  node benchmarks/run.mjs --json after.json state-res
  node benchmarks/run.mjs --compare before.json after.json
`;

const LOWER_IS_BETTER = new Set(['ns', 'ms', 's', 'bytes', 'x (time)']);

function compare(fileA, fileB) {
  const a = JSON.parse(readFileSync(fileA, 'utf8'));
  const b = JSON.parse(readFileSync(fileB, 'utf8'));
  console.log(`A: ${fileA} (${a.meta?.date ?? '?'}, node ${a.meta?.node ?? '?'})\nB: ${fileB} (${b.meta?.date ?? '?'}, node ${b.meta?.node ?? '?'})`);
  for (const suite of Object.keys(b.results ?? {})) {
    const ra = a.results?.[suite];
    if (ra === undefined) continue;
    console.log(`\n# ${suite}`);
    for (const [key, { value, unit }] of Object.entries(b.results[suite])) {
      const old = ra[key];
      if (old === undefined || old.unit !== unit) continue;
      const speed = LOWER_IS_BETTER.has(unit) ? old.value / value : value / old.value;
      const note = Number.isFinite(speed) ? `${speed.toFixed(2)}x` : 'n/a';
      console.log(`  ${key.padEnd(72)} ${fmt(value, unit).padStart(14)}  was ${fmt(old.value, unit).padStart(14)}  ${note}`);
    }
  }
}

function fmt(v, unit) {
  if (unit === 'ns') return v >= 1e6 ? `${(v / 1e6).toFixed(2)} ms` : v >= 1e3 ? `${(v / 1e3).toFixed(2)} µs` : `${v.toFixed(0)} ns`;
  if (unit === 'ms') return `${v.toFixed(2)} ms`;
  if (unit === 'x' || unit === 'x (time)') return `${v.toFixed(2)}x`;
  return `${v.toFixed(0)} ${unit}`;
}

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(HELP);
  process.exit(0);
}
if (args.includes('--list')) {
  console.log(all.join('\n'));
  process.exit(0);
}
const ci = args.indexOf('--compare');
if (ci >= 0) {
  const [fa, fb] = [args[ci + 1], args[ci + 2]];
  if (fa === undefined || fb === undefined) {
    console.error('--compare needs two JSON files (from --json)');
    process.exit(2);
  }
  compare(fa, fb);
  process.exit(0);
}
let jsonTarget;
const wanted = [];
/** Options handed to every suite (suites ignore those they do not use). */
const suiteOptions = { runs: 3, only: undefined, profile: false, warmup: false };
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runs') {
    suiteOptions.runs = Number(args[++i]);
    if (!Number.isInteger(suiteOptions.runs) || suiteOptions.runs < 1) {
      console.error('--runs needs a positive integer');
      process.exit(2);
    }
  } else if (args[i] === '--only') {
    suiteOptions.only = String(args[++i] ?? '').split(',').filter((x) => x !== '');
  } else if (args[i] === '--profile') {
    suiteOptions.profile = true;
  } else if (args[i] === '--warmup') {
    suiteOptions.warmup = true;
  } else if (args[i] === '--json') {
    const next = args[i + 1];
    jsonTarget = next !== undefined && next.endsWith('.json') ? (i++, next) : '-';
  } else if (args[i].startsWith('--')) {
    console.error(`unknown option ${args[i]}; see --help`);
    process.exit(2);
  } else {
    wanted.push(args[i]);
  }
}
for (const name of wanted) {
  if (!all.includes(name)) {
    console.error(`unknown suite "${name}"; available: ${all.join(', ')}`);
    process.exit(2);
  }
}
// With --json to stdout, the human-readable output goes to stderr.
if (jsonTarget === '-') console.log = (...a) => process.stderr.write(format(...a) + '\n');
const meta = {
  node: process.version,
  cpus: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memory_gib: Math.round(totalmem() / 2 ** 30),
  uv_threadpool_size: process.env.UV_THREADPOOL_SIZE ?? 'default',
  load_average_at_start: loadavg()[0],
  date: new Date().toISOString(),
  suites: wanted.length > 0 ? wanted : all,
};
console.log(`node ${meta.node}, ${meta.cpus} CPU(s) (${meta.cpu})`);
for (const name of meta.suites) {
  console.log(`\n# ${name}`);
  beginSuite(name);
  const mod = await import(pathToFileURL(join(dir, `${name}.mjs`)).href);
  await mod.default(suiteOptions);
}
if (jsonTarget !== undefined) {
  const text = JSON.stringify({ meta, results }, null, 1) + '\n';
  if (jsonTarget === '-') process.stdout.write(text);
  else writeFileSync(jsonTarget, text);
}
