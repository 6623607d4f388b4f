/** Test helper: loads test/fixtures/reference-sample/auth.jsonl.gz. */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { JsonObject } from '@roomgraph/canonical-json';

/** One line of auth.jsonl.gz. */
export interface AuthFixture {
  readonly room_version: string;
  readonly event: JsonObject;
  readonly auth_events: readonly JsonObject[];
  readonly expected: { readonly allowed: boolean };
  readonly server_keys?: Record<string, { key_id: string; public_key: string }>;
}

/** Absolute URL of a reference-sample fixture (test/fixtures/reference-sample/). */
export const fixtureUrl = (name: string): URL => new URL(`../../../test/fixtures/reference-sample/${name}`, import.meta.url);

/** All auth fixture lines. */
export function loadAuthFixtures(): AuthFixture[] {
  const text = gunzipSync(readFileSync(fixtureUrl('auth.jsonl.gz'))).toString('utf8');
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as AuthFixture);
}
