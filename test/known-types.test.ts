// `@roomgraph/events` answers the event types the spec's rules compare against with its own
// literals (src/intern.ts, `knownType`), so that those comparisons are pointer comparisons. A
// rule on a type missing from its list would still be right, only slower: this test keeps the
// list complete — every event type literal in the packages that implement the rules is in it.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KNOWN_EVENT_TYPES } from '../packages/events/src/intern.js';

const root = fileURLToPath(new URL('..', import.meta.url));

function sourceTexts(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const p = join(dir, name);
    if (statSync(join(root, p)).isDirectory()) out.push(...sourceTexts(p));
    else if (name.endsWith('.ts') && p !== 'packages/events/src/intern.ts') out.push(readFileSync(join(root, p), 'utf8')); // (not the list itself)
  }
  return out;
}

describe('the known event types of @roomgraph/events', () => {
  it('list every event type the rules name', () => {
    const named = new Set<string>();
    for (const pkg of ['auth', 'state-res', 'events', 'engine', 'room-versions']) {
      for (const text of sourceTexts(`packages/${pkg}/src`)) {
        for (const m of text.matchAll(/'(m\.room\.[a-z_]+)'/g)) named.add(m[1] as string);
      }
    }
    expect(named.size).toBeGreaterThan(10); // the scan found the rules
    const missing = [...named].filter((t) => !KNOWN_EVENT_TYPES.includes(t));
    expect(missing).toEqual([]);
  });
});
