/**
 * Every package README cites the Matrix specification by section with links to the published spec
 * (https://spec.matrix.org/latest/...), and none points at files outside the repository.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const packages = readdirSync(join(root, 'packages')).filter((d) => existsSync(join(root, 'packages', d, 'README.md'))).sort();

describe('package READMEs cite the published spec', () => {
  it.each(packages)('packages/%s/README.md', (dir) => {
    const md = readFileSync(join(root, 'packages', dir, 'README.md'), 'utf8');
    const links = md.match(/\]\(https:\/\/spec\.matrix\.org\/latest\/[^)\s]*\)/g) ?? [];
    expect(links.length, 'add a "## Specification" section linking the spec sections the package implements').toBeGreaterThan(0);
    expect(md).not.toMatch(/\/work\/shared|\.\.\/shared\//);
  });
});
