// The suite is self-contained: everything a test reads lives in the repository. The setup file
// test/setup/no-outside-reads.ts makes any read beside the repository throw; these tests check that
// guard works, and that no tracked file mentions the reference folder that sits beside the
// repository on the machines it is developed on.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isBesideRepository, layout } from './setup/no-outside-reads.js';

const root = fileURLToPath(new URL('..', import.meta.url));
// A folder beside the repository, as if it had been there when the suite started (CI's clone has
// nothing beside it, so the live checks below name one).
layout.siblings.add('beside-the-repository');
const beside = join(layout.parent, 'beside-the-repository', 'x.json');

describe('which paths are beside the repository', () => {
  const at = (root: string, siblings: string[]) => ({ root, parent: root.slice(0, root.lastIndexOf('/')), siblings: new Set(siblings) });
  it('a developer checkout with reference material beside it', () => {
    const l = at('/work/main', ['reference', 'wt']);
    expect(isBesideRepository('/work/reference/spec/vectors.json', l)).toBe(true);
    expect(isBesideRepository('/work/wt/x/file', l)).toBe(true);
    expect(isBesideRepository('/work/main/test/fixtures/README.md', l)).toBe(false);
    expect(isBesideRepository('/tmp/store-1/db', l)).toBe(false);
  });
  it('a clone directly in the temporary folder: temporary folders made by tests are not beside it', () => {
    const l = at('/tmp/rg', ['reference', 'other-checkout']);
    expect(isBesideRepository('/tmp/reference/fixtures/a.gz', l)).toBe(true);
    expect(isBesideRepository('/tmp/roomgraph-test-abc123/db', l)).toBe(false);
    expect(isBesideRepository('/tmp/rg/packages/x', l)).toBe(false);
  });
  it('a clone in an empty folder has nothing beside it', () => {
    const l = at('/tmp/ci-x1/roomgraph', []);
    expect(isBesideRepository('/tmp/ci-x1/anything', l)).toBe(false);
    expect(isBesideRepository('/tmp/ci-x1/roomgraph/README.md', l)).toBe(false);
  });
});

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
