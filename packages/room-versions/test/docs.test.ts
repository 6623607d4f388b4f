import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderRulesTable } from '@roomgraph/room-versions';

describe('docs/room-versions.md', () => {
  it('holds the current flag matrix', () => {
    const doc = readFileSync(new URL('../../../docs/room-versions.md', import.meta.url), 'utf8');
    expect(doc).toContain(renderRulesTable());
  });
});
