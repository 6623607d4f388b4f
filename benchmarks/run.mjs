#!/usr/bin/env node
// Benchmark dispatcher: `node benchmarks/run.mjs [suite...]` runs the named suites from
// benchmarks/suites/<name>.mjs, or all of them. Suites import the BUILT packages by name, so build
// first: node_modules/.bin/tsc -b tsconfig.json
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpus } from 'node:os';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'suites');
const all = readdirSync(dir).filter((f) => f.endsWith('.mjs')).map((f) => f.slice(0, -4)).sort();
const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!all.includes(name)) {
    console.error(`unknown suite "${name}"; available: ${all.join(', ')}`);
    process.exit(2);
  }
}
console.log(`node ${process.version}, ${cpus().length} CPU(s) (${cpus()[0]?.model ?? 'unknown'})`);
for (const name of wanted.length > 0 ? wanted : all) {
  console.log(`\n# ${name}`);
  const mod = await import(pathToFileURL(join(dir, `${name}.mjs`)).href);
  await mod.default();
}
