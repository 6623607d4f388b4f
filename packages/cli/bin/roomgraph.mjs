#!/usr/bin/env node
// Entry point of the `roomgraph` command; the implementation is compiled to ../dist.
import { main } from '../dist/main.js';
process.exitCode = await main(process.argv.slice(2));
