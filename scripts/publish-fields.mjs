// Makes every package in packages/ ready to publish, from one source of truth (the root
// package.json and LICENSE): run it after adding a package (test/publish.test.ts checks the result).
//
// - LICENSE: the root's Apache-2.0 text, copied into the package;
// - repository / homepage / bugs: the root's, with the package's directory;
// - scripts.prepack "tsc -b": a packed package always has a fresh dist/;
// - files: dist's .js / .d.ts / .map (never the .tsbuildinfo build-info file), src (the source maps
//   point into it), README.md, LICENSE;
// - publishConfig.exports: the exports without the workspace-only `source` condition (it points
//   tests and the type-checker at src/*.ts; bundlers do not know it): pnpm pack / pnpm publish write
//   these into the packed package.json.
//
// Usage: node scripts/publish-fields.mjs [--check]   (--check: report what would change, exit 1 if anything)
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const check = process.argv.includes('--check');
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const license = readFileSync(join(root, 'LICENSE'), 'utf8');

/** The exports map without the `source` condition. */
export function publishedExports(exports) {
  if (typeof exports !== 'object' || exports === null) return exports;
  const out = {};
  for (const [k, v] of Object.entries(exports)) {
    if (k === 'source') continue;
    out[k] = typeof v === 'object' && v !== null ? publishedExports(v) : v;
  }
  return out;
}

/** The package.json of packages/<dir> with the publish fields set (key order kept, new keys after `license`). */
export function withPublishFields(pkg, dir) {
  const repoUrl = rootPkg.repository.url;
  const fields = {
    repository: { type: 'git', url: repoUrl, directory: `packages/${dir}` },
    homepage: `${rootPkg.homepage.replace(/#.*$/, '')}/tree/main/packages/${dir}#readme`,
    bugs: rootPkg.bugs,
  };
  const out = {};
  for (const [k, v] of Object.entries(pkg)) {
    if (k in fields) continue;
    out[k] = v;
    if (k === 'license') Object.assign(out, fields);
  }
  if (!('repository' in out)) Object.assign(out, fields);
  out.files = ['dist/**/*.js', 'dist/**/*.d.ts', 'dist/**/*.map', 'src', 'README.md', 'LICENSE', ...(pkg.bin ? ['bin'] : [])];
  out.scripts = { ...(pkg.scripts ?? {}), prepack: 'tsc -b' };
  out.publishConfig = { ...(pkg.publishConfig ?? {}), exports: publishedExports(pkg.exports) };
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let changed = 0;
  for (const dir of readdirSync(join(root, 'packages')).sort()) {
    const file = join(root, 'packages', dir, 'package.json');
    if (!existsSync(file)) continue;
    const before = readFileSync(file, 'utf8');
    const after = JSON.stringify(withPublishFields(JSON.parse(before), dir), null, 2) + '\n';
    const lic = join(root, 'packages', dir, 'LICENSE');
    const licOk = existsSync(lic) && readFileSync(lic, 'utf8') === license;
    if (before !== after || !licOk) {
      changed++;
      console.log(`${check ? 'out of date' : 'updated'}: packages/${dir}`);
      if (!check) {
        writeFileSync(file, after);
        copyFileSync(join(root, 'LICENSE'), lic);
      }
    }
  }
  if (check && changed > 0) process.exitCode = 1;
}
