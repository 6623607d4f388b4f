// Workspace rules, checked so that a violation fails CI rather than review: dependencies point
// down the stack only, the engine depends on storage and transport interfaces (never on an
// implementation), tsconfig references match package dependencies, third-party versions are pinned.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (p: string) => JSON.parse(readFileSync(join(root, p), 'utf8')) as Record<string, unknown>;

// Each package may depend only on the packages listed here (lower layers).
const ALLOWED: Record<string, readonly string[]> = {
  'canonical-json': [],
  'room-versions': [],
  crypto: ['canonical-json'],
  events: ['canonical-json', 'crypto', 'room-versions'],
  auth: ['events', 'room-versions', 'crypto', 'canonical-json'],
  'state-res': ['auth', 'events', 'room-versions'],
  store: ['events', 'room-versions', 'state-res'],
  'store-memory': ['store', 'events', 'room-versions', 'state-res'],
  'store-level': ['store', 'events', 'room-versions', 'state-res'],
  transport: ['events', 'crypto', 'room-versions', 'canonical-json'],
  'federation-http': ['transport', 'events', 'crypto', 'room-versions', 'canonical-json'],
  engine: ['store', 'transport', 'state-res', 'auth', 'events', 'crypto', 'room-versions', 'canonical-json'],
  testkit: ['state-res', 'auth', 'events', 'crypto', 'room-versions', 'canonical-json'],
  cli: ['federation-http', 'testkit', 'engine', 'store-level', 'store-memory', 'store', 'transport', 'state-res', 'auth', 'events', 'crypto', 'room-versions', 'canonical-json'],
};

const packages = readdirSync(join(root, 'packages')).sort();

describe('workspace layering', () => {
  it('knows every package', () => {
    expect(packages).toEqual(Object.keys(ALLOWED).sort());
  });

  it.each(packages)('%s depends only on lower layers, pinned, with matching tsconfig references', (name) => {
    const pkg = read(`packages/${name}/package.json`);
    const deps = (pkg['dependencies'] ?? {}) as Record<string, string>;
    const internal = Object.keys(deps).filter((d) => d.startsWith('@roomgraph/')).map((d) => d.slice('@roomgraph/'.length));
    for (const d of internal) expect(ALLOWED[name], `${name} -> ${d}`).toContain(d);
    for (const [d, v] of Object.entries(deps)) {
      if (d.startsWith('@roomgraph/')) expect(v).toBe('workspace:*');
      else expect(v, `${name}: ${d} must be pinned`).toMatch(/^\d+\.\d+\.\d+$/);
    }
    for (const [d, v] of Object.entries((pkg['devDependencies'] ?? {}) as Record<string, string>)) {
      expect(v, `${name}: devDependency ${d} must be pinned`).toMatch(d.startsWith('@roomgraph/') ? /^workspace:\*$/ : /^\d+\.\d+\.\d+$/);
    }
    const tsconfig = read(`packages/${name}/tsconfig.json`);
    const refs = ((tsconfig['references'] ?? []) as { path: string }[]).map((r) => r.path.replace('../', '')).sort();
    expect(refs).toEqual([...internal].sort());
  });

  it('the tests are type-checked with the sources\' strictness (tsconfig.tests.json, run by the test job)', () => {
    const t = read('tsconfig.tests.json');
    expect(t['extends']).toBe('./tsconfig.base.json');
    expect(t['include']).toEqual(expect.arrayContaining(['packages/*/test/**/*.ts', 'test/**/*.ts']));
    expect(readFileSync(join(root, 'scripts/bootstrap.mjs'), 'utf8')).toContain("['-p', 'tsconfig.tests.json']");
  });

  it('the engine depends on no storage or transport implementation at run time', () => {
    const deps = Object.keys((read('packages/engine/package.json')['dependencies'] ?? {}) as object);
    expect(deps).not.toContain('@roomgraph/store-memory');
    expect(deps).not.toContain('@roomgraph/store-level');
    expect(deps).not.toContain('level');
  });
});
