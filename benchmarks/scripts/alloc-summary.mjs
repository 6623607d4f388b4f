// Bytes allocated by function in a sampling heap profile (benchmarks/lib/alloc-sampler.mjs, or
// any .heapprofile), the largest first:
//   node benchmarks/scripts/alloc-summary.mjs FILE [TOP]
// Each row: share, MB, function name, file (last three path parts) and line. Objects allocated by
// V8 builtins (Map, Set, iterator `next`, `keys`, …) are attributed to the builtin's own row.
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (file === undefined) {
  console.error('usage: node benchmarks/scripts/alloc-summary.mjs FILE [TOP]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const top = Number(process.argv[3] ?? 40);
const self = new Map();
let total = 0;
const stack = [profile.head];
while (stack.length > 0) {
  const node = stack.pop();
  const cf = node.callFrame;
  const key = `${cf.functionName || '(anonymous)'} ${cf.url.split('/').slice(-3).join('/')}:${cf.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + node.selfSize);
  total += node.selfSize;
  for (const child of node.children) stack.push(child);
}
for (const [key, bytes] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${((bytes / total) * 100).toFixed(1).padStart(5)} % ${(bytes / 1e6).toFixed(1).padStart(8)} MB  ${key}`);
}
console.log(`total ${(total / 1e6).toFixed(0)} MB`);
