#!/usr/bin/env node
// Entry point of the `roomgraph` command; the implementation is compiled to ../dist.
import { availableParallelism } from 'node:os';

// libuv's thread pool runs the off-thread ed25519 checks and LevelDB's I/O. Its default of 4
// threads on a small machine takes CPU from the main thread, which runs the rest of the receipt
// pipeline: cores − 1 threads measured faster (benchmarks/README.md, engine). Set before the pool
// starts; an explicit UV_THREADPOOL_SIZE is respected.
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(1, availableParallelism() - 1));
const { main } = await import('../dist/main.js');
process.exitCode = await main(process.argv.slice(2));
