// The CLI as the fuzzer runs it: the built `roomgraph` main (as bin/roomgraph.mjs runs it), then
// the process's own peak RSS written to fd 3, so the fuzzer measures the child's memory exactly.
import { writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';

process.env.UV_THREADPOOL_SIZE ??= String(Math.max(1, availableParallelism() - 1));
const { main } = await import('../../packages/cli/dist/main.js');
const code = await main(process.argv.slice(2));
try {
  writeSync(3, JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS }) + '\n');
} catch {
  // fd 3 not open (run by hand): nothing to report to.
}
process.exitCode = code;
