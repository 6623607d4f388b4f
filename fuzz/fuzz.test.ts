/**
 * The fuzz suite. Inside `npm test`: a 10,000-case slice with a fixed seed. `npm run fuzz` runs the
 * same code with FUZZ_CASES=1000000 (see fuzz/README.md). Fails on any finding.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { formatReport, runFuzz } from './lib/run.js';

const env = (name: string, dflt: number): number => {
  const v = process.env[name];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : dflt;
};
const CASES = env('FUZZ_CASES', 10_000);
const SEED = env('FUZZ_SEED', 20261126);
const HUGE = env('FUZZ_HUGE_LINE', 2 * 1024 * 1024);
const ROOT = fileURLToPath(new URL('../', import.meta.url));

beforeAll(() => {
  // The CLI children run the built CLI: build it first (incremental), never a stale build.
  execFileSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-b', `${ROOT}packages/cli/tsconfig.json`], { stdio: 'inherit' });
}, 600_000);

it(`${CASES} hostile inputs (seed ${SEED}) through the CLI and the library: only typed errors, one output line per input line, no hang, bounded memory, honest ingest results unchanged`, async () => {
  const full = CASES > 100_000;
  const report = await runFuzz({
    cases: CASES,
    seed: SEED,
    hugeLine: HUGE,
    sizes: full ? { maxString: 200_000, maxArray: 50_000 } : { maxString: 70_000, maxArray: 5_000 },
    maxRssKb: 512 * 1024,
    // The slice: the smallest room of each of 6 room versions; the full run: all 60 rooms.
    ingestRooms: env('FUZZ_INGEST_ROOMS', full ? 60 : 6),
    ...(process.env['FUZZ_ONLY'] !== undefined ? { only: process.env['FUZZ_ONLY'].split(',') } : {}),
    log: full ? (m) => console.log(`[fuzz] ${m}`) : undefined,
  });
  const text = formatReport(report);
  if (process.env['FUZZ_REPORT'] !== undefined) writeFileSync(process.env['FUZZ_REPORT'], text + '\n');
  if (full || report.findings.length > 0) console.log(text);
  if (process.env['FUZZ_ONLY'] === undefined) expect(report.cases).toBeGreaterThanOrEqual(CASES * 0.95);
  expect(report.findings).toEqual([]);
}, env('FUZZ_TIMEOUT_MS', 300_000));
