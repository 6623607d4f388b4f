/**
 * Example: property-testing YOUR state resolution against roomgraph's.
 *
 * "My" resolver here is a naive "last writer by depth" resolver: for every key it keeps the event
 * with the greatest depth (ties: greatest event ID). It ignores power levels and auth entirely, so
 * the differential check finds a room where it lets a kicked/banned/demoted user's event win, and
 * fast-check shrinks that room to a handful of events.
 *
 * Run it with `node_modules/.bin/vitest run packages/testkit` (the testkit suite imports it).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkAgreement, roomgraphResolver, type Resolver } from '@roomgraph/testkit';

const lastWriterByDepth: Resolver = (_roomVersion, stateSets, events) => {
  const out = new Map<string, string>();
  for (const set of stateSets) {
    for (const [key, id] of set) {
      const current = out.get(key);
      if (current === undefined) {
        out.set(key, id);
        continue;
      }
      const a = events.get(current)!;
      const b = events.get(id)!;
      if (b.depth > a.depth || (b.depth === a.depth && b.eventId > a.eventId)) out.set(key, id);
    }
  }
  return out;
};

describe('example: a naive resolver against roomgraph', () => {
  it('is caught by checkAgreement, with a small shrunk counterexample', async () => {
    const property = checkAgreement(lastWriterByDepth, roomgraphResolver, { roomVersions: ['10', '12'] });
    const report = await fc.check(property, { numRuns: 2000, seed: 42 });
    expect(report.failed).toBe(true);
    // The shrunk room and the entries on which the resolvers disagree:
    const [shrunk] = report.counterexample!;
    console.log(`${String(report.errorInstance instanceof Error ? report.errorInstance.message : report.errorInstance)}`);
    expect(shrunk.dag.events.length).toBeLessThanOrEqual(14);
    // In your own suite you would simply write:
    //   await assertProperty(checkAgreement(myResolver, roomgraphResolver, { roomVersions: '10' }));
    // and fast-check would throw with the same shrunk, printed counterexample.
  });
});
