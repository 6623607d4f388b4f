/**
 * The guides in docs/guides/ show only code that runs: every ```ts block is a file of
 * docs/examples/ (marked `<!-- example: PATH -->` and identical to it), type-checked with the tests
 * (tsconfig.tests.json) and run here. The store adapter's conformance run registers its tests below.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
// The store adapter guide's conformance run (registers the suite's tests in this file).
import '../docs/examples/store-adapter/conformance.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const guidesDir = join(root, 'docs', 'guides');
const guides = readdirSync(guidesDir).filter((f) => f.endsWith('.md')).sort();

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}
const examples = walk(join(root, 'docs', 'examples')).filter((f) => f.endsWith('.ts')).map((f) => relative(root, f)).sort();

/** The ```ts blocks of a guide, with the example file each is marked with (if any). */
function tsBlocks(md: string): { file: string | undefined; code: string }[] {
  const out: { file: string | undefined; code: string }[] = [];
  const re = /(?:<!-- example: (\S+) -->\n)?```ts\n([\s\S]*?)^```/gm;
  for (let m = re.exec(md); m !== null; m = re.exec(md)) out.push({ file: m[1], code: m[2]! });
  return out;
}

describe('guides', () => {
  it('the guides exist', () => {
    expect(guides).toEqual(expect.arrayContaining(['benchmarks.md', 'embedding.md', 'property-testing.md', 'store-adapter.md']));
  });

  it.each(guides)('docs/guides/%s: every ts block is an example file, verbatim', (g) => {
    for (const b of tsBlocks(readFileSync(join(guidesDir, g), 'utf8'))) {
      expect(b.file, `a \`\`\`ts block of ${g} is not marked <!-- example: docs/examples/... -->`).toBeDefined();
      expect(b.code.trimEnd(), `${g}: the block differs from ${b.file}`).toBe(readFileSync(join(root, b.file!), 'utf8').trimEnd());
    }
  });

  it('every example file is shown by a guide', () => {
    const shown = new Set(guides.flatMap((g) => tsBlocks(readFileSync(join(guidesDir, g), 'utf8')).map((b) => b.file)));
    expect(examples.filter((e) => !shown.has(e))).toEqual([]);
  });

  // Runnable examples (library modules and the conformance registration are exercised above).
  const runnable = examples.filter((e) => !/\/(log-store|conformance)\.ts$/.test(e));
  /** The "It prints:" block a guide shows after an example, if any. */
  const printed = (file: string): string | undefined => {
    for (const g of guides) {
      const md = readFileSync(join(guidesDir, g), 'utf8');
      const at = md.indexOf(`<!-- example: ${file} -->`);
      if (at < 0) continue;
      const m = /^```\n\nIt prints:\n\n```text\n([\s\S]*?)^```/m.exec(md.slice(at));
      return m?.[1];
    }
    return undefined;
  };
  it.each(runnable)('%s runs (and prints what its guide says)', async (file) => {
    const cwd = process.cwd();
    const dir = mkdtempSync(join(tmpdir(), 'rg-guide-'));
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { lines.push(a.map(String).join(' ')); });
    process.chdir(dir);
    try {
      await import(pathToFileURL(join(root, file)).href);
    } finally {
      spy.mockRestore();
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
    const expected = printed(file);
    if (expected !== undefined) expect(lines.join('\n')).toBe(expected.trimEnd());
  }, 120_000);

  it('benchmarks guide: run.mjs --help, --list and --compare behave as described', () => {
    const run = (args: string[]): string => execFileSync(process.execPath, [join(root, 'benchmarks', 'run.mjs'), ...args], { encoding: 'utf8' });
    const help = run(['--help']);
    expect(help).toContain('--json [FILE]');
    expect(help).toContain('--compare A.json B.json');
    expect(run(['--list']).trim().split('\n')).toEqual(expect.arrayContaining(['canonical-json', 'engine', 'state-res']));
    const dir = mkdtempSync(join(tmpdir(), 'rg-bench-json-'));
    try {
      const a = { meta: { date: 'a', node: 'v20' }, results: { s: { 't': { value: 200, unit: 'ns' }, 'r': { value: 1000, unit: 'PDUs/s' } } } };
      const b = { meta: { date: 'b', node: 'v20' }, results: { s: { 't': { value: 100, unit: 'ns' }, 'r': { value: 500, unit: 'PDUs/s' } } } };
      writeFileSync(join(dir, 'a.json'), JSON.stringify(a));
      writeFileSync(join(dir, 'b.json'), JSON.stringify(b));
      const out = run(['--compare', join(dir, 'a.json'), join(dir, 'b.json')]);
      // Half the time is twice as fast; half the rate is half as fast.
      expect(out).toMatch(/\bt\s+100 ns\s+was\s+200 ns\s+2\.00x/);
      expect(out).toMatch(/\br\s+500 PDUs\/s\s+was\s+1000 PDUs\/s\s+0\.50x/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
