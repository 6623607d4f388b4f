#!/usr/bin/env node
// Entry point of the `roomgraph` command; the implementation is compiled to ../dist.
import { availableParallelism } from 'node:os';

// libuv's thread pool runs the off-thread ed25519 checks and LevelDB's I/O. Its default of 4
// threads on a small machine takes CPU from the main thread, which runs the rest of the receipt
// pipeline: cores − 1 threads measured faster (benchmarks/README.md, engine). Set before the pool
// starts; an explicit UV_THREADPOOL_SIZE is respected.
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(1, availableParallelism() - 1));
// A reader that stops early (`roomgraph gen-room … | head`) closes the pipe: the rest of the output
// has nowhere to go, which is the reader's choice, not an error — stop quietly, as Unix tools do,
// instead of Node's unhandled 'error' event and stack trace. Any other write error still throws.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(process.exitCode ?? 0);
  });
}
const { main } = await import('../dist/main.js');
process.exitCode = await main(process.argv.slice(2));
