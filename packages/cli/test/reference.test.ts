import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cliReference, commands } from '@roomgraph/cli';

describe('docs/cli.md', () => {
  it('holds every command\'s current help (regenerate: node scripts/cli-reference.mjs)', () => {
    const doc = readFileSync(new URL('../../../docs/cli.md', import.meta.url), 'utf8');
    expect(doc).toContain(cliReference());
    for (const c of commands) expect(doc).toContain(`### \`roomgraph ${c.name}\``);
  });
});
