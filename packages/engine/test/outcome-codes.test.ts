// The outcome vocabulary (engine outcome codes and auth rule codes) is documented in one table,
// docs/errors.md › Library › Outcome codes: every declared code has a row, every row a declaration.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AUTH_RULE_CODES } from '@roomgraph/auth';
import { ENGINE_OUTCOME_CODES } from '@roomgraph/engine';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
const section = doc.slice(doc.indexOf('### Outcome codes'), doc.indexOf('### Error classes'));
const rows = new Map<string, string>();
for (const m of section.matchAll(/^\| `([^`]+)` \| (engine|auth) \|/gm)) rows.set(m[1] as string, m[2] as string);

describe('outcome codes', () => {
  it('engine and auth codes do not collide', () => {
    for (const k of Object.keys(ENGINE_OUTCOME_CODES)) expect(Object.hasOwn(AUTH_RULE_CODES, k), k).toBe(false);
  });
  it('docs/errors.md has one row per declared code, and no other', () => {
    const declared = new Map<string, string>([
      ...Object.keys(ENGINE_OUTCOME_CODES).map((k) => [k, 'engine'] as [string, string]),
      ...Object.keys(AUTH_RULE_CODES).map((k) => [k, 'auth'] as [string, string]),
    ]);
    expect(new Map([...rows].sort())).toEqual(new Map([...declared].sort()));
  });
});
