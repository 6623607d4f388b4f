/**
 * Every package README's first code example runs: it is extracted as a module (imports by package
 * name, resolved from the repository root, whose devDependencies link every package) and imported
 * in a fresh temporary working directory, so files it writes land there.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'test', '.readme-examples');

/** The first ```ts / ```js block of a README, or undefined. */
function firstExample(markdown: string): { lang: string; code: string } | undefined {
  const m = /^```(ts|js)\n([\s\S]*?)^```/m.exec(markdown);
  return m === null ? undefined : { lang: m[1]!, code: m[2]! };
}

const packages = readdirSync(join(root, 'packages')).sort();
const withExamples = packages.filter((p) => firstExample(readFileSync(join(root, 'packages', p, 'README.md'), 'utf8')) !== undefined);

describe('README examples run', () => {
  it('every package except the CLI (shell examples, tested in its own suite) has one', () => {
    expect(packages.filter((p) => !withExamples.includes(p))).toEqual(['cli']);
  });

  it.each(withExamples)('packages/%s/README.md', async (name) => {
    const ex = firstExample(readFileSync(join(root, 'packages', name, 'README.md'), 'utf8'))!;
    if (/from 'vitest'/.test(ex.code)) {
      // A test-file example (testkit's): it is a file of that package, run by its own suite.
      expect(name).toBe('testkit');
      expect(readFileSync(join(root, 'packages', name, 'examples', 'my-resolver.test.ts'), 'utf8')).toContain('checkAgreement');
      return;
    }
    mkdirSync(out, { recursive: true });
    const file = join(out, `${name}.${ex.lang === 'ts' ? 'ts' : 'mjs'}`);
    writeFileSync(file, ex.code);
    const cwd = process.cwd();
    const dir = mkdtempSync(join(tmpdir(), `rg-readme-${name}-`));
    process.chdir(dir);
    try {
      await import(pathToFileURL(file).href);
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
