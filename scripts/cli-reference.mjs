// Rewrites the generated part of docs/cli.md from the commands' own help (build first:
// node_modules/.bin/tsc -b tsconfig.json). packages/cli/test/reference.test.ts checks it is current.
import { readFileSync, writeFileSync } from 'node:fs';
import { cliReference } from '../packages/cli/dist/index.js';

const file = new URL('../docs/cli.md', import.meta.url);
const START = '<!-- generated: roomgraph help (scripts/cli-reference.mjs) -->';
const END = '<!-- end of generated part -->';
const doc = readFileSync(file, 'utf8');
const a = doc.indexOf(START);
const b = doc.indexOf(END);
if (a < 0 || b < a) throw new Error(`docs/cli.md lacks the markers ${START} ... ${END}`);
writeFileSync(file, doc.slice(0, a + START.length) + '\n\n' + cliReference() + doc.slice(b));
console.log('docs/cli.md updated');
