// Property-test a state resolution implementation against roomgraph's, then export one generated
// case as `roomgraph resolve` JSON to compare with an implementation in another language.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { encodeCanonicalJson, parseCanonicalJson } from '@roomgraph/canonical-json';
import { main } from '@roomgraph/cli';
import { resolveStateSync } from '@roomgraph/state-res';
import {
  assertProperty,
  checkAgreement,
  checkIdempotence,
  checkOrderIndependence,
  resolutionCase,
  roomgraphResolver,
  toResolveInput,
  toResolveOutput,
  type Resolver,
} from '@roomgraph/testkit';

// 1. Your resolver behind the testkit's Resolver signature: (roomVersion, stateSets, events) → Map.
//    Here a stand-in that calls roomgraph's own code; put your implementation (or a bridge to it) here.
const myResolver: Resolver = (roomVersion, stateSets, events) => resolveStateSync(roomVersion, stateSets, events);

// 2. The ready-made properties: agreement with roomgraph on generated rooms (real signatures
//    are not needed for resolution, so the fast fake-ID mode is used), and two algebraic ones.
await assertProperty(checkAgreement(myResolver, roomgraphResolver, { roomVersions: ['10', '12'] }), { numRuns: 25, seed: 1 });
await assertProperty(checkOrderIndependence(myResolver, { roomVersions: '11' }), { numRuns: 25, seed: 2 });
await assertProperty(checkIdempotence(myResolver, { roomVersions: '1' }), { numRuns: 25, seed: 3 });

// 3. One generated case as `roomgraph resolve` input: every event (with its event_id) and the
//    state sets as lists of event IDs. Feed the same file to the other implementation.
const [c] = fc.sample(resolutionCase({ roomVersions: '10', minActions: 12 }), { numRuns: 1, seed: 42 });
const input = toResolveInput(c!);
const dir = mkdtempSync(join(tmpdir(), 'resolve-case-'));
const file = join(dir, 'case.json');
writeFileSync(file, JSON.stringify(input));

// 4. What `roomgraph resolve < case.json` prints, compared with the answer expected by the testkit.
let out = '';
const code = await main(['resolve'], { stdin: JSON.stringify(input), stdout: { write: (s: string) => (out += s) }, stderr: { write: () => undefined } });
const expected = toResolveOutput(await roomgraphResolver(c!.dag.roomVersion, [...c!.stateSets], c!.dag.eventsById));
if (code !== 0 || encodeCanonicalJson(parseCanonicalJson(out.trim())) !== encodeCanonicalJson(expected)) throw new Error(`roomgraph resolve disagrees: ${out}`);
console.log(`case with ${c!.dag.events.length} events and ${c!.stateSets.length} state sets written to ${file}; roomgraph resolve agrees`);
