// docs/architecture.md is the map of the code: every path it names must exist, and every source
// file of the engine, state resolution and the authorization rules must appear in it (a new or
// renamed module fails this test until the map says where it belongs).
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const p = join(dir, name);
    if (statSync(join(root, p)).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts')) out.push(relative(root, join(root, p)));
  }
  return out;
}

describe('docs/architecture.md', () => {
  const named = [...doc.matchAll(/`((?:packages|test|docs|benchmarks)\/[^`\s]+)`/g)].map((m) => m[1] as string);

  it('names modules', () => {
    expect(named.length).toBeGreaterThan(50);
  });

  it.each([...new Set(named)])('%s exists', (path) => {
    expect(existsSync(join(root, path)), path).toBe(true);
  });

  it.each(['packages/engine/src', 'packages/state-res/src', 'packages/auth/src'])('names every source file of %s', (dir) => {
    const missing = sources(dir).filter((f) => !named.includes(f));
    expect(missing).toEqual([]);
  });
});
