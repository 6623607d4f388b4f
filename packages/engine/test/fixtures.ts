import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** ../shared beside the repository root. */
export const SHARED = join(fileURLToPath(new URL('.', import.meta.url)), '../../../../shared');

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
  const text = gunzipSync(readFileSync(join(SHARED, 'fixtures/reference-sample', name))).toString('utf8');
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as T);
}
