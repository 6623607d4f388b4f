// The suite is self-contained: everything a test reads lives in the repository. The setup file
// test/setup/no-outside-reads.ts makes any read beside the repository throw; these tests check that
// guard works, and that no tracked file mentions the reference folder that sits beside the
// repository on the machines it is developed on.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const beside = join(dirname(root.replace(/\/$/, '')), 'beside-the-repository', 'x.json');

describe('the test suite reads nothing outside the repository', () => {
  it('a synchronous read beside the repository throws OUTSIDE_REPOSITORY_READ', () => {
    expect(() => readFileSync(beside)).toThrow(expect.objectContaining({ code: 'OUTSIDE_REPOSITORY_READ' }));
    expect(() => existsSync(beside)).toThrow(expect.objectContaining({ code: 'OUTSIDE_REPOSITORY_READ' }));
    expect(() => readFileSync(pathToFileURL(beside))).toThrow(expect.objectContaining({ code: 'OUTSIDE_REPOSITORY_READ' }));
  });

  it('an asynchronous read beside the repository throws too', async () => {
    await expect(async () => readFile(beside)).rejects.toMatchObject({ code: 'OUTSIDE_REPOSITORY_READ' });
  });

  it('reads inside the repository work', () => {
    expect(readFileSync(join(root, 'test/fixtures/README.md'), 'utf8')).toContain('Test fixtures');
  });

  /** Every text file of the repository (not installed or built output, not git's own files). */
  function sourceFiles(dir: string): string[] {
    const skip = new Set(['node_modules', '.git', 'dist', 'api']);
    return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
      const rel = dir === '' ? e.name : `${dir}/${e.name}`;
      if (e.isDirectory()) return skip.has(e.name) ? [] : sourceFiles(rel);
      return e.isFile() && !/\.(gz|tsbuildinfo)$/.test(e.name) ? [rel] : [];
    });
  }

  it('no file names the reference folder beside the repository', () => {
    const files = sourceFiles('');
    expect(files.length).toBeGreaterThan(100);
    // Built from parts so that this file does not name it either.
    const needles = ['..' + '/shared', 'shared' + '/spec', 'shared' + '/fixtures'];
    const offenders = files.filter((f) => {
      const text = readFileSync(join(root, f), 'utf8');
      return needles.some((n) => text.includes(n));
    });
    expect(offenders).toEqual([]);
  });
});
