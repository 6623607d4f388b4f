// Stores for the graph tests: a reference room with rejected, soft-failed and merge events, and a
// generated room with hostile strings in a signed event (markup in a type, a state key and a body).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { encodeCanonicalJson } from '@roomgraph/canonical-json';
import { buildEvent, type Pdu } from '@roomgraph/events';
import { generateRoom, generatedServerKey } from '@roomgraph/testkit/room';
import { main } from '@roomgraph/cli';

interface Room {
  room_version: string;
  keys: Record<string, Record<string, string>>;
  events: Record<string, unknown>[];
  expected: { current_state: object; forward_extremities: string[]; soft_failed: string[]; rejected: string[]; dropped: string[] };
}

export async function run(argv: string[], stdin = '') {
  let out = '';
  let err = '';
  const code = await main(argv, { stdin, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

/** The reference room with the most kinds of outcome (rejected, soft-failed, several extremities). */
export function referenceRoom(): Room {
  const rooms = gunzipSync(readFileSync(new URL('../../../test/fixtures/reference-sample/ingest.jsonl.gz', import.meta.url)))
    .toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Room);
  return rooms.filter((r) => r.expected.rejected.length > 0 && r.expected.soft_failed.length > 0).reduce((a, b) => (b.events.length > a.events.length ? b : a));
}

/** Ingests the reference room into a new store; returns its directory and the ingest summary. */
export async function referenceStore(work: string): Promise<{ dir: string; room: Room }> {
  const room = referenceRoom();
  const keys = join(work, 'ref-keys.json');
  writeFileSync(keys, JSON.stringify(room.keys));
  const dir = join(work, 'ref-db');
  const r = await run(['ingest', '--keys', keys, '--store', dir], room.events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  if (r.code !== 0) throw new Error(r.err);
  return { dir, room };
}

/** Markup that must never become markup in the SVG or the page. */
export const HOSTILE = '</script><img src=x onerror="window.__pwned=1">';

/** A generated room (forks) plus signed events carrying {@link HOSTILE} in a type, a state key and a body. */
export async function hostileStore(work: string): Promise<{ dir: string; hostileIds: string[] }> {
  const room = generateRoom({ roomVersion: '10', members: 6, events: 60, forks: 2, servers: 1 });
  const pdus: Pdu[] = [...room.events()];
  const byId = new Map(pdus.map((p) => [p.eventId, p]));
  const create = pdus[0]!;
  const adminJoin = pdus[1]!;
  const pl = pdus[2]!;
  const signer = { serverName: 'a.example', key: generatedServerKey('a.example').key };
  let prev = pdus[pdus.length - 1]!;
  const extra: Pdu[] = [];
  for (const [type, stateKey, body] of [[`org.example.${HOSTILE}`, HOSTILE, HOSTILE], ['m.room.message', undefined, HOSTILE]] as const) {
    const e = buildEvent({
      roomVersion: '10', type, ...(stateKey !== undefined ? { stateKey } : {}), sender: room.admin,
      content: { body, msgtype: 'm.text' }, prevEvents: [prev], authEvents: [create, pl, adminJoin],
      depth: prev.depth + 1, originServerTs: 1_800_000_000_000 + extra.length, roomId: room.roomId,
    }, signer);
    extra.push(e);
    byId.set(e.eventId, e);
    prev = e;
  }
  const keys = join(work, 'hostile-keys.json');
  writeFileSync(keys, JSON.stringify(room.keys));
  const dir = join(work, 'hostile-db');
  const r = await run(['ingest', '--keys', keys, '--store', dir], [...pdus, ...extra].map((p) => encodeCanonicalJson(p.json)).join('\n') + '\n');
  if (r.code !== 0) throw new Error(r.err);
  const summary = JSON.parse(r.out) as { rejected: string[]; soft_failed: string[] };
  if (summary.rejected.length + summary.soft_failed.length > 0) throw new Error(`hostile events not accepted: ${r.out}`);
  return { dir, hostileIds: extra.map((e) => e.eventId) };
}

export function workDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `rg-${name}-`));
}
