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
  errors: [],
  'canonical-json': ['errors'],
  'room-versions': ['errors'],
  crypto: ['canonical-json', 'errors'],
  events: ['canonical-json', 'crypto', 'room-versions', 'errors'],
  auth: ['events', 'room-versions', 'crypto', 'canonical-json'],
  'state-res': ['auth', 'events', 'room-versions', 'canonical-json', 'errors'],
  store: ['events', 'room-versions', 'state-res', 'errors'],
  'store-memory': ['store', 'events', 'room-versions', 'state-res'],
  'store-level': ['store', 'events', 'room-versions', 'state-res'],
  'store-postgres': ['store'],
  transport: ['events', 'crypto', 'room-versions', 'canonical-json', 'errors'],
  'federation-http': ['transport', 'events', 'crypto', 'room-versions', 'canonical-json', 'errors'],
  engine: ['store', 'transport', 'state-res', 'auth', 'events', 'crypto', 'room-versions', 'canonical-json', 'errors'],
  testkit: ['state-res', 'auth', 'events', 'crypto', 'room-versions', 'canonical-json'],
  cli: ['federation-http', 'testkit', 'engine', 'store-level', 'store-memory', 'store-postgres', 'store', 'transport', 'state-res', 'auth', 'events', 'crypto', 'room-versions', 'canonical-json', 'errors'],
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

/** Every `.ts` file under `dir` (recursively), as paths relative to the repository root. */
function tsFiles(dir: string): string[] {
  const out: string[] = [];
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(join(root, dir), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.name.endsWith('.ts') || e.name.endsWith('.mts')) out.push(p);
  }
  return out;
}

/** The packages a source imports (`import … from`, `export … from`, `import(…)`), by package name. */
function importedPackages(files: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const f of files) {
    // Comments may show imports (examples); only code counts.
    const text = readFileSync(join(root, f), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of text.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm)) {
      const spec = (m[1] ?? m[2] ?? m[3]) as string;
      if (spec.startsWith('.') || spec.startsWith('node:')) continue;
      out.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string));
    }
  }
  return out;
}

describe('declared dependencies match imports', () => {
  it.each(packages)('%s: every dependency is imported by src, every import of src is a dependency', (name) => {
    const pkg = read(`packages/${name}/package.json`);
    // Peer dependencies (vitest for the store's conformance suite, fast-check for testkit) count.
    const deps = new Set([...Object.keys((pkg['dependencies'] ?? {}) as object), ...Object.keys((pkg['peerDependencies'] ?? {}) as object)]);
    const used = importedPackages(tsFiles(`packages/${name}/src`));
    expect([...used].filter((u) => !deps.has(u)).sort(), 'imported, not declared').toEqual([]);
    const peers = new Set(Object.keys((pkg['peerDependencies'] ?? {}) as object));
    expect([...deps].filter((d) => !used.has(d) && !peers.has(d)).sort(), 'declared, not imported').toEqual([]);
  });

  it.each(packages)('%s: every import of its tests is a dependency or devDependency', (name) => {
    const pkg = read(`packages/${name}/package.json`);
    const declared = new Set([
      ...Object.keys((pkg['dependencies'] ?? {}) as object), ...Object.keys((pkg['peerDependencies'] ?? {}) as object),
      ...Object.keys((pkg['devDependencies'] ?? {}) as object), `@roomgraph/${name}`,
    ]);
    // The root links every package and the test tooling for every test.
    const root_ = read('package.json');
    for (const d of Object.keys((root_['devDependencies'] ?? {}) as object)) if (!d.startsWith('@roomgraph/')) declared.add(d);
    const used = importedPackages(tsFiles(`packages/${name}/test`));
    expect([...used].filter((u) => !declared.has(u)).sort()).toEqual([]);
  });
});

describe('one error base class', () => {
  it('every typed error of every package extends RoomgraphError (@roomgraph/errors), never Error directly', () => {
    const offenders: string[] = [];
    for (const name of packages) {
      if (name === 'errors') continue;
      for (const f of tsFiles(`packages/${name}/src`)) {
        if (/\bextends\s+Error\b/.test(readFileSync(join(root, f), 'utf8'))) offenders.push(f);
      }
    }
    expect(offenders).toEqual([]);
  });
});
