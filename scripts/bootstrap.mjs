#!/usr/bin/env node
// One entry point for the README's commands: installs the pinned toolchain (pnpm 12.4.2 through
// npx, then the locked dependencies), builds every package, then runs the requested job.
// Usage: node scripts/bootstrap.mjs <setup|test|demo|bench|docs|fuzz> [args...]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PNPM = ['npx', '--yes', 'pnpm@12.4.2'];
const [job = 'test', ...rest] = process.argv.slice(2);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env, ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const bin = (name) => join(root, 'node_modules', '.bin', name);

function install() {
  const lock = join(root, 'pnpm-lock.yaml');
  const stamp = join(root, 'node_modules', '.roomgraph-install-stamp');
  const want = existsSync(lock) ? createHash('sha256').update(readFileSync(lock)).update(readFileSync(join(root, 'package.json'))).digest('hex') : 'none';
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  run(PNPM[0], [...PNPM.slice(1), 'install', ...(existsSync(lock) ? ['--frozen-lockfile'] : []), '--config.confirmModulesPurge=false'], { env: { ...process.env, CI: 'true' } });
  const now = createHash('sha256').update(readFileSync(lock)).update(readFileSync(join(root, 'package.json'))).digest('hex');
  writeFileSync(stamp, now);
}
function build() {
  run(bin('tsc'), ['-b', 'tsconfig.json']);
}

/**
 * The one-line test summary: "N passed, N failed[, N skipped][, N files failed to load]", followed by
 * "FAILED" whenever vitest's exit status is not 0 (and "no test report" when it wrote none).
 */
function summarize(j, status) {
  if (j === undefined) return `FAILED: vitest exited with status ${status} and wrote no test report`;
  // A file whose suite failed with no test results never loaded (an import threw).
  const unloaded = (j.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0);
  const failed = j.numFailedTests + unloaded.length;
  const skipped = j.numPendingTests + j.numTodoTests;
  let line = `${j.numPassedTests} passed, ${failed} failed`;
  if (skipped > 0) line += `, ${skipped} skipped`;
  if (unloaded.length > 0) line += ` (${unloaded.length} test file${unloaded.length === 1 ? '' : 's'} failed to load: ${unloaded.map((f) => f.name.slice(root.length + 1)).join(', ')})`;
  if (status !== 0 || failed > 0) line += ` — FAILED (exit status ${status})`;
  return line;
}

install();
build();
switch (job) {
  case 'setup':
    break;
  case 'test': {
    // The tests are TypeScript too: type-check them (strict, as the sources) before running them.
    run(bin('tsc'), ['-p', 'tsconfig.tests.json']);
    // The summary line is printed from vitest's JSON report. The previous run's report is deleted
    // first, so a run that dies before writing one can never print stale figures; a test file that
    // failed to load (it threw at import, or a fixture is missing) counts as a failure.
    const report = join(root, 'node_modules', '.roomgraph-test-report.json');
    rmSync(report, { force: true });
    const r = spawnSync(bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...rest], { cwd: root, stdio: 'inherit' });
    const status = r.status ?? 1;
    console.log(summarize(existsSync(report) ? JSON.parse(readFileSync(report, 'utf8')) : undefined, status));
    process.exit(status);
  }
  case 'fuzz': {
    // The fuzz suite (fuzz/README.md): 1,000,000 hostile inputs by default. Flags: --cases N,
    // --seed S, --only target,target, --huge-line BYTES, --report FILE (default fuzz/last-run.txt).
    const flag = (name, dflt) => {
      const i = rest.indexOf(`--${name}`);
      return i >= 0 && rest[i + 1] !== undefined ? rest[i + 1] : dflt;
    };
    const env = {
      ...process.env,
      FUZZ_CASES: flag('cases', '1000000'),
      FUZZ_SEED: flag('seed', '20261126'),
      FUZZ_HUGE_LINE: flag('huge-line', String(100 * 1024 * 1024)),
      FUZZ_REPORT: flag('report', join(root, 'fuzz', 'last-run.txt')),
      FUZZ_TIMEOUT_MS: String(6 * 3600 * 1000),
      ...(flag('only', undefined) !== undefined ? { FUZZ_ONLY: flag('only') } : {}),
    };
    const r = spawnSync(bin('vitest'), ['run', 'fuzz/'], { cwd: root, stdio: 'inherit', env });
    process.exit(r.status ?? 1);
  }
  case 'demo':
    run(process.execPath, [join(root, 'packages/cli/bin/roomgraph.mjs'), 'demo', ...rest]);
    break;
  case 'demo-federation':
    run(process.execPath, [join(root, 'scripts/federation-demo.mjs'), ...rest]);
    break;
  case 'docs':
    run(bin('typedoc'), ['--options', 'typedoc.json', ...rest]);
    break;
  case 'bench':
    run(process.execPath, [join(root, 'benchmarks/run.mjs'), ...rest]);
    break;
  default:
    console.error(`unknown job ${job}`);
    process.exit(2);
}
