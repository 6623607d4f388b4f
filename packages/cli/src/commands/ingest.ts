/**
 * `roomgraph ingest --keys KEYS.json [--store DIR]`: hands PDUs (JSON lines on stdin) to the room
 * engine one at a time, as if each arrived over federation from its sender's server, then prints
 * where the room ended:
 * `{"current_state":{type:{state_key:id}},"forward_extremities":[...],"soft_failed":[...],"rejected":[...],"dropped":[...]}`.
 *
 * Without `--store` the engine runs on the in-memory store; with it, on LevelDB in DIR, and a later
 * run on the same DIR continues where the previous one stopped (also after SIGKILL): events already
 * stored are recognised and reported with their stored status.
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import { parseCanonicalJson, encodeCanonicalJson, type JsonObject, type JsonValue } from '@roomgraph/canonical-json';
import { createRoomEngine, type PduOutcome } from '@roomgraph/engine';
import { splitStateKey } from '@roomgraph/events';
import type { RoomStore } from '@roomgraph/store';
import { createMemoryStore } from '@roomgraph/store-memory';
import { LevelRoomStore } from '@roomgraph/store-level';
import { StaticKeySource, type StaticKeys } from '@roomgraph/transport';
import { CliError, EXIT, commandHelp, defineMainCommand, lines, parseFlags, stringFlag, writeError } from '../framework.js';

function isObject(v: JsonValue | undefined): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Reads KEYS.json: server name → {key ID → unpadded base64 public key}. */
export function readKeysFile(path: string): StaticKeys {
  let parsed: JsonValue;
  try {
    parsed = parseCanonicalJson(readFileSync(path), { strict: false });
  } catch (e) {
    throw new CliError('BAD_KEYS_FILE', `cannot read keys file ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isObject(parsed)) throw new CliError('BAD_KEYS_FILE', 'the keys file must map server names to {key ID: public key}');
  const out: Record<string, Record<string, string>> = {};
  for (const [server, byId] of Object.entries(parsed)) {
    if (!isObject(byId)) throw new CliError('BAD_KEYS_FILE', `keys of ${server} must be an object`);
    const m: Record<string, string> = {};
    for (const [keyId, b64] of Object.entries(byId)) {
      if (typeof b64 !== 'string') throw new CliError('BAD_KEYS_FILE', `key ${server} ${keyId} must be a base64 string`);
      m[keyId] = b64;
    }
    out[server] = m;
  }
  return out;
}

/** The result object of an ingest run. */
export interface IngestSummary {
  readonly current_state: Record<string, Record<string, string>>;
  readonly forward_extremities: string[];
  readonly soft_failed: string[];
  readonly rejected: string[];
  readonly dropped: string[];
}

/**
 * Ingests PDU JSON lines into `store` and summarises the first room seen. Each PDU is delivered as
 * if from its sender's server. Lines that are not JSON objects are reported on `warn`.
 */
export async function ingestLines(
  input: AsyncIterable<string> | Iterable<string>,
  store: RoomStore,
  keys: StaticKeys,
  warn: (message: string) => void = () => undefined,
): Promise<IngestSummary> {
  const engine = createRoomEngine({ serverName: 'roomgraph.invalid', store, keys: new StaticKeySource(keys) });
  const status = new Map<string, PduOutcome['status']>();
  let roomId: string | undefined;
  let lineNo = 0;
  // PDUs go to the engine in small batches (each still checked and committed one at a time, in
  // order) so that signature checks of the next PDUs overlap with processing the current one.
  let batch: { readonly lineNo: number; readonly pdu: JsonObject; readonly origin: string }[] = [];
  const flush = async (): Promise<void> => {
    const byOrigin = batch;
    batch = [];
    // Consecutive PDUs from the same origin form one receivePdus call.
    for (let i = 0; i < byOrigin.length;) {
      let j = i + 1;
      while (j < byOrigin.length && byOrigin[j]?.origin === byOrigin[i]?.origin) j++;
      const group = byOrigin.slice(i, j);
      const outcomes = await engine.receivePdus(group[0]?.origin ?? '', group.map((g) => g.pdu));
      for (let k = 0; k < group.length; k++) await record(group[k] as (typeof group)[number], outcomes[k] as PduOutcome);
      i = j;
    }
  };
  const record = async (item: { readonly lineNo: number; readonly pdu: JsonObject }, outcome: PduOutcome): Promise<void> => {
    // A dropped event may have no trustworthy ID of its own: report it by the ID its line gives.
    const given = item.pdu['event_id'];
    const id = outcome.status === 'dropped' && typeof given === 'string' ? given : outcome.eventId;
    if (id === '') {
      warn(`line ${item.lineNo}: dropped without an event ID (${outcome.rule ?? ''}: ${outcome.reason ?? ''})`);
      return;
    }
    status.set(id, outcome.status);
    if (outcome.status === 'parked') warn(`line ${item.lineNo}: ${id} parked: ${outcome.reason ?? 'missing prev_events'}`);
    if (roomId === undefined && outcome.status !== 'dropped' && outcome.status !== 'parked') {
      const stored = await store.getEvent(outcome.eventId);
      roomId = stored?.roomId;
    }
  };
  for await (const line of input) {
    lineNo++;
    if (line.trim() === '') continue;
    let pdu: JsonValue;
    try {
      pdu = parseCanonicalJson(line, { strict: false });
    } catch (e) {
      warn(`line ${lineNo}: not JSON: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    if (!isObject(pdu)) {
      warn(`line ${lineNo}: not a JSON object`);
      continue;
    }
    const sender = pdu['sender'];
    const origin = typeof sender === 'string' && sender.includes(':') ? sender.slice(sender.indexOf(':') + 1) : '';
    batch.push({ lineNo, pdu, origin });
    if (batch.length >= 64) await flush();
  }
  await flush();
  const current: Record<string, Record<string, string>> = {};
  let extremities: string[] = [];
  if (roomId !== undefined) {
    for (const [k, v] of await engine.currentState(roomId)) {
      const [type, sk] = splitStateKey(k);
      (current[type] ??= {})[sk] = v;
    }
    extremities = await engine.forwardExtremities(roomId);
  }
  const pick = (s: PduOutcome['status']): string[] => [...status].filter(([, x]) => x === s).map(([id]) => id).sort();
  return {
    current_state: current,
    forward_extremities: [...extremities].sort(),
    soft_failed: pick('soft-failed'),
    rejected: pick('rejected'),
    dropped: pick('dropped'),
  };
}

/** `roomgraph ingest`. */
export const command = defineMainCommand({
  name: 'ingest',
  usage: `
Input (stdin, room.jsonl): one PDU per line, exactly as servers send them over federation
(Server-Server API › PDUs; the event format of the room's version), in an order where every event
comes after its prev_events (an event whose prev_events are unknown is parked). Each is delivered as
if from its sender's server. For room versions 3+ a PDU has no event_id of its own; a line may add
one (it is ignored, except to name a dropped event in the output). Example line (room version 10):
  {"auth_events":["$create","$pl","$join"],"content":{"body":"hi","msgtype":"m.text"},"depth":5,
   "hashes":{"sha256":"..."},"origin_server_ts":1700000000005,"prev_events":["$prev"],
   "room_id":"!r:a.example","sender":"@u0:a.example","signatures":{"a.example":{"ed25519:gen":"..."}},
   "type":"m.room.message"}
KEYS.json: the servers' public keys, server name -> {key ID -> unpadded base64 ed25519 key}:
  {"a.example":{"ed25519:gen":"Yl3N8bD0n0cG6..."},"b.example":{"ed25519:k1":"..."}}
Make both with roomgraph gen-room (a generated room) or roomgraph keygen (your own keys).
Output (stdout): {"current_state":{"<type>":{"<state_key>":"$id"}},"forward_extremities":[...],
  "soft_failed":[...],"rejected":[...],"dropped":[...]}

Example:
  roomgraph gen-room --members 20 --events 300 --forks 2 --keys KEYS.json > room.jsonl
  roomgraph ingest --keys KEYS.json --store ./db < room.jsonl
`,
  summary: 'deliver PDUs (JSON lines on stdin) to the room engine; print current state, extremities and soft-failed/rejected/dropped events',
  flags: {
    keys: { type: 'string', description: 'KEYS.json: server name -> {key ID -> unpadded base64 ed25519 public key}', required: true },
    store: { type: 'string', description: 'LevelDB directory (default: in memory); a later run continues where this one stopped' },
    help: { type: 'boolean', description: 'show help for this command' },
  },
  async main(argv, io) {
    let store: RoomStore | undefined;
    try {
      const flags = parseFlags(argv, command.flags);
      if (flags.help) {
        io.stdout.write(commandHelp(command));
        return EXIT.OK;
      }
      const keys = readKeysFile(stringFlag(flags, 'keys'));
      const dir = flags.store;
      store = typeof dir === 'string' ? new LevelRoomStore(dir) : createMemoryStore();
      await store.open();
      const summary = await ingestLines(lines(io.stdin), store, keys, (m) => io.stderr.write(`roomgraph ingest: ${m}\n`));
      io.stdout.write(encodeCanonicalJson(summary as unknown as JsonValue) + '\n');
      return EXIT.OK;
    } catch (e) {
      writeError(io.stderr, e);
      return EXIT.ERROR;
    } finally {
      await store?.close().catch(() => undefined);
    }
  },
});
