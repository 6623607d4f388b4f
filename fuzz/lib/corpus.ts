/**
 * Seeds for the fuzzer: real PDUs, auth cases and state-resolution inputs from the repository's
 * fixtures (test/fixtures/reference-sample: every room version, real hashes and signatures), and
 * the spec's canonical JSON examples.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type { Json };

export interface IngestRoom {
  readonly room_version: string;
  readonly keys: Record<string, Record<string, string>>;
  readonly events: Record<string, Json>[];
  readonly expected: { current_state: Record<string, Record<string, string>>; forward_extremities: string[]; soft_failed: string[]; rejected: string[]; dropped: string[] };
}
export interface AuthCase {
  readonly room_version: string;
  readonly event: Record<string, Json>;
  readonly auth_events: Record<string, Json>[];
  readonly server_keys?: Record<string, Json>;
  readonly expected: { allowed: boolean };
}
export interface StateResCase {
  readonly room_version: string;
  readonly events: Record<string, Json>[];
  readonly state_sets: string[][];
  readonly expected: { resolved: Record<string, Record<string, string>> };
}

const fixture = (name: string): URL => new URL(`../../test/fixtures/${name}`, import.meta.url);
const jsonl = <T>(name: string): T[] =>
  gunzipSync(readFileSync(fixture(`reference-sample/${name}`))).toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as T);

/** Everything the fuzzer mutates. */
export interface Corpus {
  readonly rooms: readonly IngestRoom[];
  /** Every PDU of every room, with its room version. */
  readonly pdus: readonly { readonly v: string; readonly pdu: Record<string, Json> }[];
  readonly auth: readonly AuthCase[];
  readonly stateres: readonly StateResCase[];
  /** The spec's canonical JSON inputs (text). */
  readonly jsonTexts: readonly string[];
}

let cached: Corpus | undefined;

/** Loads the corpus (once). */
export function loadCorpus(): Corpus {
  if (cached !== undefined) return cached;
  const rooms = jsonl<IngestRoom>('ingest.jsonl.gz');
  const vectors = JSON.parse(readFileSync(fixture('spec/vectors.json'), 'utf8')) as { canonical_json: { input_json_text: string }[] };
  cached = {
    rooms,
    pdus: rooms.flatMap((r) => r.events.map((pdu) => ({ v: r.room_version, pdu }))),
    auth: jsonl<AuthCase>('auth.jsonl.gz'),
    stateres: jsonl<StateResCase>('stateres.jsonl.gz'),
    jsonTexts: vectors.canonical_json.map((c) => c.input_json_text),
  };
  return cached;
}
