/**
 * The ingest target: each reference room's honest events, in order, with hostile lines mixed in —
 * garbage, byte- and structure-mutated PDUs, mutated and exact copies of the room's own events
 * (after the original: a copy with tampered content delivered *first* is legitimately accepted in
 * its redacted form, SS › Checks performed on receipt of a PDU, so it would change the room by the
 * protocol's own rules), and events validly signed by a hostile server whose key is in KEYS.json:
 * a forged m.room.create for the room's ID (sometimes as the very first line), and messages, topics
 * and power levels from a user who never joined (all must be rejected). The room must end exactly
 * as the reference homeserver's answer for the honest events says: current state, forward
 * extremities, and the statuses of the honest events.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type JsonObject, type JsonValue, encodeCanonicalJson } from '@roomgraph/canonical-json';
import { publicKeyBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { buildEvent, eventId } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import type { IngestRoom, Json } from './corpus.js';
import { type Finding, STACK, type TargetStats, bump } from './findings.js';
import { type Sizes, mutateBytes, mutatedLine } from './mutate.js';
import type { Rng } from './rng.js';

const CHILD = fileURLToPath(new URL('./cli-child.mjs', import.meta.url));
const EVIL = signingKeyFromSeed(new Uint8Array(32).fill(0x66), 'k1');

/** The room's ID (v12: the create event's ID with "!" for "$"). */
function roomIdOf(room: IngestRoom): string {
  const create = room.events[0] as JsonObject;
  const r = create['room_id'];
  return typeof r === 'string' ? r : `!${eventId(create, getRoomVersion(room.room_version)).slice(1)}`;
}

/** Events signed by evil.test that must all be rejected (or, for a v12 create, make another room). */
function evilEvents(rng: Rng, room: IngestRoom, count: number): JsonObject[] {
  const v = room.room_version;
  const rules = getRoomVersion(v);
  const roomId = roomIdOf(room);
  const out: JsonObject[] = [];
  const signer = { serverName: 'evil.test', key: EVIL };
  const create = room.events[0] as JsonObject;
  for (let i = 0; i < count; i++) {
    const kind = rng.int(4);
    if (kind === 0) {
      out.push(buildEvent({
        roomVersion: v, type: 'm.room.create', stateKey: '', sender: '@mallory:evil.test',
        ...(rules.eventFormat.createEventHasRoomId ? { roomId } : {}),
        content: { room_version: v, ...(rules.authorization.creatorInContent ? { creator: '@mallory:evil.test' } : {}), n: rng.u32() },
        prevEvents: [], authEvents: [], depth: 1, originServerTs: 1_600_000_000_000 + i,
      }, signer).json);
      continue;
    }
    const prev = room.events[1 + rng.int(room.events.length - 1)] as JsonObject;
    const auth = rules.eventFormat.createEventInAuthEvents ? [create] : [];
    const [type, stateKey, content] = kind === 1 ? ['m.room.message', undefined, { body: `evil ${i}` }]
      : kind === 2 ? ['m.room.topic', '', { topic: `evil ${i}` }]
        : ['m.room.power_levels', '', { users: { '@mallory:evil.test': 100 } }];
    out.push(buildEvent({
      roomVersion: v, type, ...(stateKey !== undefined ? { stateKey } : {}), sender: '@mallory:evil.test', roomId, content,
      prevEvents: [prev], authEvents: auth, depth: 1_000, originServerTs: 1_600_000_000_000 + i,
    }, signer).json);
  }
  return out;
}

/** The input for one room: honest lines in order, `hostile` hostile lines mixed in. */
export function ingestInput(rng: Rng, room: IngestRoom, others: readonly { pdu: Record<string, Json> }[], hostile: number, sizes: Sizes): Buffer[] {
  const lines: Buffer[][] = room.events.map((e) => [Buffer.from(JSON.stringify(e))]);
  const before: Buffer[] = [];
  const evil = evilEvents(rng, room, Math.max(1, Math.floor(hostile / 8)));
  let left = hostile;
  // A forged create as the very first line, half the time.
  if (rng.chance(0.5)) {
    before.push(Buffer.from(JSON.stringify(evil[0])));
    left--;
  }
  for (; left > 0; left--) {
    const at = rng.int(room.events.length);
    const slot = lines[at] as Buffer[];
    switch (rng.int(6)) {
      case 0: slot.push(Buffer.from(JSON.stringify(rng.pick(evil)))); break;
      case 1: slot.push(mutatedLine(rng, room.events[rng.int(at + 1)], sizes)); break; // a copy of this or an earlier event, after it
      case 2: slot.push(Buffer.from(JSON.stringify(room.events[rng.int(at + 1)]))); break; // an exact duplicate, after the original
      case 3: slot.push(mutatedLine(rng, rng.pick(others).pdu, sizes)); break; // another room's PDU, mutated
      case 4: slot.push(mutateBytes(rng, Buffer.from(JSON.stringify(room.events[rng.int(at + 1)])))); break;
      default: slot.push(Buffer.from(rng.pick(['', ' ', '{}', '[]', 'null', '{"a":1}', '\r', '{"type":"m.room.create"}', '\ufeff{}', '{"room_id":5}']))); break;
    }
  }
  return [...before, ...lines.flat()];
}

interface Summary {
  current_state: Record<string, Record<string, string>>;
  forward_extremities: string[];
  soft_failed: string[];
  rejected: string[];
  dropped: string[];
}

/** Ingests one room with hostile lines through the CLI and checks the honest outcome. */
export async function runIngestRoom(
  rng: Rng, room: IngestRoom, others: readonly { pdu: Record<string, Json> }[], hostile: number, sizes: Sizes,
  stats: TargetStats, findings: Finding[], maxRssKb: number,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rg-fuzz-ingest-'));
  const keysPath = join(dir, 'keys.json');
  writeFileSync(keysPath, JSON.stringify({ ...room.keys, 'evil.test': { [EVIL.keyId]: publicKeyBase64(EVIL) } }));
  const input = ingestInput(rng, room, others, hostile, sizes);
  const find = (kind: string, detail: string): void => {
    if (findings.filter((f) => f.target === 'cli:ingest').length < 50) findings.push({ target: 'cli:ingest', kind, detail: `room v${room.room_version} ${roomIdOf(room)}: ${detail}` });
  };
  try {
    const child = spawn(process.execPath, [CHILD, 'ingest', '--keys', keysPath], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let rss = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { if (err.length < 1_000_000) err += d.toString(); });
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => { rss += d.toString(); });
    const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000 + input.length * 5);
    child.stdin.on('error', () => undefined);
    for (const line of input) {
      if (!child.stdin.write(line)) await new Promise((r) => child.stdin.once('drain', r));
      if (!child.stdin.write('\n')) await new Promise((r) => child.stdin.once('drain', r));
    }
    child.stdin.end();
    const code = await closed;
    clearTimeout(timer);
    stats.cases += hostile;
    try {
      stats.maxRssKb = Math.max(stats.maxRssKb ?? 0, (JSON.parse(rss) as { maxRssKb: number }).maxRssKb);
      if ((stats.maxRssKb ?? 0) > maxRssKb) find('memory', `peak RSS ${Math.round((stats.maxRssKb ?? 0) / 1024)} MiB`);
    } catch { /* reported below as an exit problem */ }
    if (code !== 0 && code !== 1) {
      find('exit-status', `exit ${String(code)}; stderr ${err.slice(-500)}`);
      return;
    }
    if (STACK.test(err)) find('stack-trace', err.slice(0, 500));
    let o: Summary & { rooms?: Record<string, Summary>; unparsable: { line: number; code: string }[]; lines: Record<string, number> };
    try {
      o = JSON.parse(out) as typeof o;
    } catch {
      find('output-not-json', out.slice(0, 300));
      return;
    }
    for (const u of o.unparsable) {
      bump(stats.codes, u.code);
      if (u.code === 'INTERNAL') find('internal-error', JSON.stringify(u).slice(0, 300));
    }
    if ((code === 1) !== (o.unparsable.length > 0)) find('exit-status', `exit ${String(code)} with ${o.unparsable.length} unparsable lines`);
    const c = o.lines;
    const sum = ['blank', 'accepted', 'soft_failed', 'rejected', 'dropped', 'parked', 'unparsable'].reduce((a, k) => a + (c[k] ?? 0), 0);
    const lf = input.reduce((a, b) => a + b.toString('latin1').split('\n').length, 0);
    if (c['total'] !== lf || sum !== lf) find('line-accounting', `${lf} input lines; lines=${JSON.stringify(c)}`);
    const id = roomIdOf(room);
    const s = o.rooms !== undefined ? o.rooms[id] : o;
    if (s === undefined) {
      find('room-missing', `no summary of the honest room (rooms: ${Object.keys(o.rooms ?? {}).join(', ')})`);
      return;
    }
    const honest = new Set(room.events.map((e) => String(e['event_id'])));
    const only = (xs: readonly string[]): string[] => xs.filter((x) => honest.has(x)).sort();
    const e = room.expected;
    // Compared as canonical JSON (key order does not matter).
    const same = (a: unknown, b: unknown): boolean => encodeCanonicalJson(a as JsonValue) === encodeCanonicalJson(b as JsonValue);
    if (!same(s.current_state, e.current_state)) find('changed-state', 'current state differs from the honest answer');
    if (!same([...s.forward_extremities].sort(), [...e.forward_extremities].sort())) find('changed-extremities', `${JSON.stringify(s.forward_extremities)} vs ${JSON.stringify(e.forward_extremities)}`);
    const diff = (got: readonly string[], want: readonly string[]): string =>
      `missing ${JSON.stringify(want.filter((x) => !got.includes(x)))}, extra ${JSON.stringify(got.filter((x) => !want.includes(x)))}`;
    if (!same(only(s.soft_failed), [...e.soft_failed].sort())) find('changed-soft-failed', diff(only(s.soft_failed), e.soft_failed));
    if (!same(only(s.rejected), [...e.rejected].sort())) find('changed-rejected', diff(only(s.rejected), e.rejected));
    const dropped = new Set([...s.dropped, ...(o.rooms !== undefined ? (o as { dropped: string[] }).dropped : [])]);
    for (const d of e.dropped) if (!dropped.has(d)) find('changed-dropped', `${d} not dropped`);
    bump(stats.codes, 'room-checked');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
