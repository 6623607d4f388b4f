// Shared helpers for the events tests: the reference-sample fixtures (Synapse-computed PDUs).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { JsonObject } from '@roomgraph/canonical-json';

/** The repository's test fixtures (test/fixtures/, see its README for sources and licences). */
const fixtures = new URL('../../../test/fixtures/', import.meta.url);

/** Reads a gzipped JSON-lines fixture from test/fixtures/reference-sample/. */
export function readJsonl(name: string): JsonObject[] {
  const text = gunzipSync(readFileSync(new URL(`reference-sample/${name}`, fixtures))).toString('utf8');
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as JsonObject);
}

/** The spec's vectors.json. */
export function vectors(): JsonObject {
  return JSON.parse(readFileSync(new URL('spec/vectors.json', fixtures), 'utf8')) as JsonObject;
}

/** Every PDU in the three reference-sample files, with its room version (deduplicated by event_id). */
export function allFixtureEvents(): Array<{ roomVersion: string; event: JsonObject }> {
  const seen = new Map<string, { roomVersion: string; event: JsonObject }>();
  const add = (roomVersion: string, event: JsonObject): void => {
    const id = event['event_id'] as string;
    if (!seen.has(`${roomVersion} ${id}`)) seen.set(`${roomVersion} ${id}`, { roomVersion, event });
  };
  for (const line of readJsonl('auth.jsonl.gz')) {
    const v = line['room_version'] as string;
    add(v, line['event'] as JsonObject);
    for (const e of line['auth_events'] as JsonObject[]) add(v, e);
  }
  for (const name of ['stateres.jsonl.gz', 'ingest.jsonl.gz']) {
    for (const line of readJsonl(name)) {
      const v = line['room_version'] as string;
      for (const e of line['events'] as JsonObject[]) add(v, e);
    }
  }
  return [...seen.values()];
}
