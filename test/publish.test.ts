/**
 * Every package in packages/ is ready to publish: the publish fields are in sync with the root
 * (scripts/publish-fields.mjs writes them), and `pnpm pack` of every package, installed into a clean
 * project offline (the tarballs plus the pnpm store the workspace install filled), works: the
 * library imports, and the `roomgraph` command makes, ingests and draws a room.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const packages = readdirSync(join(root, 'packages')).filter((d) => existsSync(join(root, 'packages', d, 'package.json'))).sort();
const read = (p: string): Record<string, unknown> => JSON.parse(readFileSync(join(root, p), 'utf8')) as Record<string, unknown>;
const rootPkg = read('package.json');
const LICENSE = readFileSync(join(root, 'LICENSE'), 'utf8');
const HINT = 'run: node scripts/publish-fields.mjs';

/** The `source` condition anywhere in an exports map. */
function hasSource(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  return Object.entries(v).some(([k, x]) => k === 'source' || hasSource(x));
}

/** Minimal tar reader: the file names and the text of `package/package.json`. */
function readTarball(file: string): { names: string[]; manifest: Record<string, unknown> } {
  const buf = gunzipSync(readFileSync(file));
  const names: string[] = [];
  let manifest: Record<string, unknown> = {};
  for (let off = 0; off + 512 <= buf.length;) {
    const name = buf.toString('utf8', off, off + 100).replace(/\0.*$/s, '');
    if (name === '') break;
    const prefix = buf.toString('utf8', off + 345, off + 500).replace(/\0.*$/s, '');
    const size = parseInt(buf.toString('utf8', off + 124, off + 136).replace(/\0.*$/s, '').trim() || '0', 8);
    const full = prefix !== '' ? `${prefix}/${name}` : name;
    names.push(full);
    if (full === 'package/package.json') manifest = JSON.parse(buf.toString('utf8', off + 512, off + 512 + size)) as Record<string, unknown>;
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return { names, manifest };
}

describe('packages are ready to publish', () => {
  it('the root has the Apache-2.0 licence text and the repository, homepage and bugs fields', () => {
    expect(LICENSE).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(LICENSE).toContain('END OF TERMS AND CONDITIONS');
    expect(rootPkg['license']).toBe('Apache-2.0');
    expect(rootPkg['repository']).toMatchObject({ type: 'git', url: expect.stringMatching(/^git\+https:\/\//) });
    expect(rootPkg['homepage']).toMatch(/^https:\/\//);
    expect(rootPkg['bugs']).toMatchObject({ url: expect.stringMatching(/^https:\/\//) });
  });

  it.each(packages)('packages/%s: LICENSE, repository/homepage/bugs, prepack build, files, publishConfig.exports', (dir) => {
    const pkg = read(`packages/${dir}/package.json`);
    expect(readFileSync(join(root, 'packages', dir, 'LICENSE'), 'utf8'), HINT).toBe(LICENSE);
    expect(pkg['license']).toBe('Apache-2.0');
    expect(pkg['repository'], HINT).toEqual({ type: 'git', url: (rootPkg['repository'] as { url: string }).url, directory: `packages/${dir}` });
    expect(pkg['homepage'], HINT).toBe(`${String(rootPkg['homepage']).replace(/#.*$/, '')}/tree/main/packages/${dir}#readme`);
    expect(pkg['bugs'], HINT).toEqual(rootPkg['bugs']);
    expect((pkg['scripts'] as Record<string, string> | undefined)?.['prepack'], HINT).toBe('tsc -b');
    const files = pkg['files'] as string[];
    expect(files, HINT).toEqual(expect.arrayContaining(['dist/**/*.js', 'dist/**/*.d.ts', 'LICENSE', 'README.md']));
    expect(files).not.toContain('dist');
    const published = (pkg['publishConfig'] as { exports?: unknown } | undefined)?.exports;
    expect(published, HINT).toBeDefined();
    expect(hasSource(published)).toBe(false);
    // The same entry points as the workspace exports, only without `source`.
    expect(Object.keys(published as object).sort()).toEqual(Object.keys(pkg['exports'] as object).sort());
  });
});

describe('pnpm pack of every package, installed into a clean project, works', () => {
  const work = mkdtempSync(join(tmpdir(), 'rg-pack-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const tarballs = join(work, 'tarballs');
  const app = join(work, 'app');
  const pnpm = (args: string[], cwd: string): string =>
    execFileSync('npx', ['--yes', 'pnpm@12.4.2', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'error' } });

  it('packs every package (prepack builds dist/): LICENSE, dist, no build info, no `source` condition, no workspace: ranges', () => {
    pnpm(['-r', '--filter', './packages/*', 'pack', '--pack-destination', tarballs], root);
    const made = readdirSync(tarballs).sort();
    expect(made).toEqual(packages.map((d) => `roomgraph-${d}-${String(read(`packages/${d}/package.json`)['version'])}.tgz`).sort());
    for (const t of made) {
      const { names, manifest } = readTarball(join(tarballs, t));
      expect(names, t).toContain('package/LICENSE');
      expect(names, t).toContain('package/README.md');
      expect(names, t).toContain('package/dist/index.js');
      expect(names, t).toContain('package/dist/index.d.ts');
      expect(names.filter((n) => /tsbuildinfo/.test(n)), t).toEqual([]);
      expect(hasSource(manifest['exports']), t).toBe(false);
      expect(JSON.stringify(manifest['dependencies'] ?? {}), t).not.toContain('workspace:');
      expect(manifest['repository'], t).toBeDefined();
    }
  }, 300_000);

  it('installs offline into a clean project; the library and the roomgraph command run', () => {
    mkdirSync(app, { recursive: true });
    const deps: Record<string, string> = {};
    for (const t of readdirSync(tarballs)) {
      const { manifest } = readTarball(join(tarballs, t));
      deps[String(manifest['name'])] = `file:${join(tarballs, t)}`;
    }
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'clean-app', private: true, type: 'module', dependencies: { ...deps, 'fast-check': '4.10.2' } }, null, 2));
    // The tarballs name each other by version: overrides point those names at the tarballs too.
    writeFileSync(join(app, 'pnpm-workspace.yaml'), [
      'packages: []',
      'allowBuilds:',
      '  classic-level: true',
      'overrides:',
      ...Object.entries(deps).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`),
      '',
    ].join('\n'));
    pnpm(['install', '--offline'], app);
    writeFileSync(join(app, 'example.mjs'), `
import { RoomEngine } from '@roomgraph/engine';
import { createMemoryStore } from '@roomgraph/store-memory';
import { StaticKeySource } from '@roomgraph/transport';
import { generateRoom } from '@roomgraph/testkit/room';
import { encodeCanonicalJson } from '@roomgraph/canonical-json';
const room = generateRoom({ roomVersion: '12', members: 5, events: 40, forks: 2 });
const engine = await RoomEngine.open({ ownsStore: true, serverName: 'x.example', store: createMemoryStore(), keys: new StaticKeySource(room.keys) });
let accepted = 0;
for (const p of room.events()) for (const o of await engine.receivePdus(p.json.sender.split(':')[1], [p.json])) if (o.status === 'accepted') accepted++;
await engine.close();
console.log(encodeCanonicalJson({ accepted, of: room.eventCount }));
`);
    expect(JSON.parse(execFileSync(process.execPath, ['example.mjs'], { cwd: app, encoding: 'utf8' }))).toEqual({ accepted: 40, of: 40 });
    const bin = join(app, 'node_modules', '.bin', 'roomgraph');
    const sh = (cmd: string): string => execFileSync('sh', ['-c', cmd], { cwd: app, encoding: 'utf8' });
    expect(sh(`${bin} --version`)).toMatch(/^roomgraph \d+\.\d+\.\d+/);
    sh(`${bin} gen-room --members 8 --events 60 --forks 2 --keys KEYS.json > room.jsonl 2>/dev/null`);
    const summary = JSON.parse(sh(`${bin} ingest --keys KEYS.json --store db < room.jsonl`)) as { rejected: string[]; forward_extremities: string[] };
    expect(summary.rejected).toEqual([]);
    expect(summary.forward_extremities).toHaveLength(1);
    expect(sh(`${bin} graph --store db`)).toMatch(/<svg [\s\S]*class="node ev accepted/);
  }, 300_000);
});
