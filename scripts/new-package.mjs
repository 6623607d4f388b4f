// Scaffolds packages/<name> with the workspace conventions (used once per package).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
const [name, desc, ...deps] = process.argv.slice(2);
const dir = `packages/${name}`;
if (existsSync(dir)) { console.error(`${dir} exists`); process.exit(1); }
mkdirSync(`${dir}/src`, { recursive: true });
mkdirSync(`${dir}/test`, { recursive: true });
const pkg = {
  name: `@roomgraph/${name}`,
  version: '0.1.0',
  description: desc,
  license: 'Apache-2.0',
  type: 'module',
  sideEffects: false,
  engines: { node: '>=20' },
  main: './dist/index.js',
  types: './dist/index.d.ts',
  exports: { '.': { types: './dist/index.d.ts', source: './src/index.ts', default: './dist/index.js' } },
  files: ['dist', 'src', 'README.md'],
  dependencies: Object.fromEntries(deps.map((d) => [`@roomgraph/${d}`, 'workspace:*'])),
};
writeFileSync(`${dir}/package.json`, JSON.stringify(pkg, null, 2) + '\n');
writeFileSync(`${dir}/tsconfig.json`, JSON.stringify({
  extends: '../../tsconfig.base.json',
  compilerOptions: { rootDir: 'src', outDir: 'dist', tsBuildInfoFile: 'dist/.tsbuildinfo' },
  include: ['src'],
  references: deps.map((d) => ({ path: `../${d}` })),
}, null, 2) + '\n');
writeFileSync(`${dir}/src/index.ts`, `/**\n * ${desc}\n * @packageDocumentation\n */\nexport {};\n`);
writeFileSync(`${dir}/README.md`, `# @roomgraph/${name}\n\n${desc}\n`);
// LICENSE, repository/homepage/bugs, prepack, files and publishConfig.exports (test/publish.test.ts).
execFileSync(process.execPath, ['scripts/publish-fields.mjs'], { stdio: 'inherit' });
