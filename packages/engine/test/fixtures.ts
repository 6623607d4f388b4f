import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository's test fixtures (test/fixtures/, see its README for sources and licences). */
export const FIXTURES = join(fileURLToPath(new URL('.', import.meta.url)), '../../../test/fixtures');

export interface IngestRoom {
  readonly room_version: string;
  readonly seed: number;
  readonly keys: Record<string, Record<string, string>>;
  readonly events: Record<string, unknown>[];
  readonly expected: {
    readonly current_state: Record<string, Record<string, string>>;
    readonly forward_extremities: string[];
    readonly soft_failed: string[];
    readonly rejected: string[];
    readonly dropped: string[];
  };
}

export function readJsonl<T>(name: string): T[] {
  const text = gunzipSync(readFileSync(join(FIXTURES, 'reference-sample', name))).toString('utf8');
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as T);
}
