/**
 * Every package README's first code example runs: it is extracted as a module (imports by package
 * name, resolved from the repository root, whose devDependencies link every package) and imported
 * in a fresh temporary working directory, so files it writes land there.
 *
 * And what it prints is what the README says it prints: every example prints something, and a
 * `console.log(...)` line followed by a `// expected` comment must print exactly that (a comment
 * ending in `…` gives the start of the output; a single string may be shown quoted). Each printed
 * line is attributed to the example's source line that printed it (from the call's stack).
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { describe, expect, it, vi } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'test', '.readme-examples');

/** The first ```ts / ```js block of a README, or undefined. */
function firstExample(markdown: string): { lang: string; code: string } | undefined {
  const m = /^```(ts|js)\n([\s\S]*?)^```/m.exec(markdown);
  return m === null ? undefined : { lang: m[1]!, code: m[2]! };
}

/** `console.log(...); // expected` lines of an example: 1-based line number → expected output. */
function annotations(code: string): Map<number, string> {
  const m = new Map<number, string>();
  code.split('\n').forEach((line, i) => {
    const a = /^\s*(?:if \(.*\) )?console\.log\(.*\);\s*\/\/ (.+)$/.exec(line);
    if (a !== null) m.set(i + 1, a[1]!.trim());
  });
  return m;
}

/** Whether `printed` is what the comment says. */
function matches(expected: string, printed: string): boolean {
  if (expected.endsWith('…')) return printed.startsWith(expected.slice(0, -1));
  return printed === expected || `'${printed}'` === expected;
}

const packages = readdirSync(join(root, 'packages')).sort();
const withExamples = packages.filter((p) => firstExample(readFileSync(join(root, 'packages', p, 'README.md'), 'utf8')) !== undefined);

describe('README examples run and print what they say', () => {
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
    const printed: { line: number | undefined; text: string }[] = [];
    const lineRe = new RegExp(`${name}\\.(?:ts|mjs):(\\d+):\\d+`);
    const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      const at = lineRe.exec(new Error().stack ?? '');
      printed.push({ line: at === null ? undefined : Number(at[1]), text: format(...args) });
    });
    const cwd = process.cwd();
    const dir = mkdtempSync(join(tmpdir(), `rg-readme-${name}-`));
    process.chdir(dir);
    try {
      await import(pathToFileURL(file).href);
    } finally {
      spy.mockRestore();
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(printed.length, 'the example prints something').toBeGreaterThan(0);
    const notes = annotations(ex.code);
    expect(notes.size, 'at least one console.log says what it prints').toBeGreaterThan(0);
    for (const [line, expected] of notes) {
      const got = printed.filter((p) => p.line === line).map((p) => p.text);
      expect(got.length, `line ${line} (${expected}) printed`).toBeGreaterThan(0);
      for (const g of got) expect(matches(expected, g), `line ${line}: printed ${JSON.stringify(g)}, the README says ${expected}`).toBe(true);
    }
  });
});
