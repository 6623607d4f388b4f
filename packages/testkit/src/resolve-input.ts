/**
 * Exports a generated state resolution case as the input of `roomgraph resolve` — the JSON another
 * implementation can be fed too, to compare answers outside JavaScript:
 * `{"room_version","events":[PDU + "event_id"],"state_sets":[["$id", ...], ...]}` (the CLI's
 * `resolve` command; Server-Server API › Room State Resolution).
 * @module
 */
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import { splitStateKey } from '@roomgraph/events';
import type { RoomDag } from './dag.js';
import type { ResolutionCase } from './properties.js';

/**
 * The `roomgraph resolve` input of a case: every event of the DAG (each PDU with its `event_id`
 * added), and each state set as the list of its event IDs (sorted).
 * @example
 * ```ts
 * const [c] = fc.sample(resolutionCase({ roomVersions: '10' }), { numRuns: 1, seed: 42 });
 * writeFileSync('case.json', JSON.stringify(toResolveInput(c)));
 * // roomgraph resolve < case.json   →   {"resolved":{"<type>":{"<state_key>":"$id"}}}
 * ```
 */
export function toResolveInput(c: ResolutionCase | { readonly dag: RoomDag; readonly stateSets: readonly ReadonlyMap<string, string>[] }): JsonObject {
  const events: JsonValue[] = c.dag.events.map((e) => ({ ...e.json, event_id: e.eventId }) as JsonObject);
  return {
    room_version: c.dag.roomVersion,
    events,
    state_sets: c.stateSets.map((s) => [...s.values()].sort()),
  };
}

/**
 * The output shape of `roomgraph resolve` for a resolved state (`stateKeyOf` keys → event IDs):
 * `{"resolved":{"<type>":{"<state_key>":"$id"}}}`, to compare with the CLI's or another
 * implementation's answer.
 */
export function toResolveOutput(state: ReadonlyMap<string, string>): JsonObject {
  const out: Record<string, Record<string, string>> = {};
  for (const k of [...state.keys()].sort()) {
    const [type, sk] = splitStateKey(k);
    (out[type] ??= {})[sk] = state.get(k)!;
  }
  return { resolved: out };
}
