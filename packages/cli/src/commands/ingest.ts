/**
 * `roomgraph ingest --keys KEYS.json [--store DIR]`: hands PDUs (JSON lines on stdin) to the room
 * engine one at a time, as if each arrived over federation from its sender's server, then prints
 * where the room ended:
 * `{"current_state":{type:{state_key:id}},"forward_extremities":[...],"soft_failed":[...],"rejected":[...],"dropped":[...],
 * "parked":[{line,event_id,code,reason}],"unparsable":[{line,code,message}],"lines":{...}}` — or, when the
 * input holds events of several rooms, `{"rooms":{"!id":{...one room...}},"dropped":[...],"unparsable":[...],"lines":{...}}`.
 * Every input line is accounted for in `lines`. Exit 0 when every line was processed, 1 when some
 * line was unparsable, 2 on an error (bad flags, unreadable keys file, store failure).
 *
 * Without `--store` the engine runs on the in-memory store; with it, on LevelDB in DIR, and a later
 * run on the same DIR continues where the previous one stopped (also after SIGKILL): events already
 * stored are recognised and reported with their stored status.
 * @packageDocumentation
 */
import { fstatSync, readFileSync } from 'node:fs';
import { parseCanonicalJson, encodeCanonicalJson, type JsonObject, type JsonValue, isJsonObject } from '@roomgraph/canonical-json';
import { createRoomEngine, type PduOutcome } from '@roomgraph/engine';
import type { RoomStore } from '@roomgraph/store';
import { STORE_FLAG_HELP, storeFor } from '../stores.js';
import { StaticKeySource, type StaticKeys } from '@roomgraph/transport';
import { CliError, EXIT, commandHelp, defineMainCommand, errorObject, parseFlags, stringFlag, writeError, type Io } from '../framework.js';
import { type InputSource, inputLines, isBlank, maxBytesFlag } from '../input.js';
import { Progress } from '../progress.js';


/** Reads KEYS.json: server name → {key ID → unpadded base64 public key}. */
export function readKeysFile(path: string): StaticKeys {
  let parsed: JsonValue;
  try {
    parsed = parseCanonicalJson(readFileSync(path), { strict: false });
  } catch (e) {
    throw new CliError('BAD_KEYS_FILE', `cannot read keys file ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isJsonObject(parsed)) throw new CliError('BAD_KEYS_FILE', 'the keys file must map server names to {key ID: public key}');
  const out: Record<string, Record<string, string>> = {};
  for (const [server, byId] of Object.entries(parsed)) {
    if (!isJsonObject(byId)) throw new CliError('BAD_KEYS_FILE', `keys of ${server} must be an object`);
    const m: Record<string, string> = {};
    for (const [keyId, b64] of Object.entries(byId)) {
      if (typeof b64 !== 'string') throw new CliError('BAD_KEYS_FILE', `key ${server} ${keyId} must be a base64 string`);
      m[keyId] = b64;
    }
    out[server] = m;
  }
  return out;
}

/** A line that could not be handed to the engine as a PDU. */
export interface UnparsableLine {
  /** 1-based input line number. */
  readonly line: number;
  /** Why: the JSON parser's code (`JSON_SYNTAX`, `JSON_INVALID_UTF8`, …), `NOT_JSON_OBJECT`, `INPUT_TOO_LARGE`, or `NOT_A_PDU` (the engine could not identify an event in it). */
  readonly code: string;
  /** Human-readable detail. */
  readonly message: string;
}

/** An event still parked at the end of the run (its prev or auth events never arrived). */
export interface ParkedLine {
  /** 1-based input line number (the last line that delivered it). */
  readonly line: number;
  /** The event's ID. */
  readonly event_id: string;
  /** `prev_events.missing` or `auth_events.missing`. */
  readonly code: string;
  /** Human-readable detail (the missing events). */
  readonly reason: string;
}

/** How every input line ended: each line is counted once, under its final status. */
export interface LineCounts {
  readonly total: number;
  readonly blank: number;
  readonly accepted: number;
  readonly soft_failed: number;
  readonly rejected: number;
  readonly dropped: number;
  readonly parked: number;
  readonly unparsable: number;
}

/** Where one room ended. */
export interface RoomSummary {
  readonly current_state: Record<string, Record<string, string>>;
  readonly forward_extremities: string[];
  readonly soft_failed: string[];
  readonly rejected: string[];
  readonly dropped: string[];
  readonly parked: ParkedLine[];
}

/** The result of an ingest run over input with at most one room (the shape of earlier versions, plus the line accounting). */
export interface IngestSummary extends RoomSummary {
  readonly unparsable: UnparsableLine[];
  readonly lines: LineCounts;
}

/** The result of an ingest run over input with events of several rooms. */
export interface MultiRoomIngestSummary {
  readonly rooms: Record<string, RoomSummary>;
  /** Dropped events that name none of the rooms. */
  readonly dropped: string[];
  readonly unparsable: UnparsableLine[];
  readonly lines: LineCounts;
}

/** Options of {@link ingestLines}. */
export interface IngestOptions {
  /** Called with a message for each unparsable line and each parked event (stderr). */
  readonly warn?: (message: string) => void;
  /** Largest line in bytes (default 1 MiB); a longer line is unparsable (`INPUT_TOO_LARGE`). */
  readonly maxBytes?: number;
  /** Called as lines are processed, with the lines and the input bytes (line ends included) processed so far. */
  readonly onProgress?: (lines: number, bytes: number) => void;
}

/** The store ingest runs on: LevelDB in `dir`, or memory. The one place ingest opens a store. */
export async function openIngestStore(dir: string | undefined): Promise<RoomStore> {
  const store = storeFor(dir);
  await store.open();
  return store;
}

type FinalStatus = PduOutcome['status'];

interface LineRecord {
  readonly line: number;
  readonly id: string;
  status: FinalStatus;
  /** The room the line's event belongs to, when it names one. */
  readonly room: string | undefined;
  rule: string | undefined;
  reason: string | undefined;
}

/**
 * Ingests PDU JSON lines into `store`. Each PDU is delivered as if from its sender's server. Every
 * line is accounted for: an event's final status (an event parked and processed later, when its
 * missing events arrived, is reported with the status it ended with), lines that are not PDUs
 * under `unparsable` with their line numbers and codes. One room (or none) gives
 * {@link IngestSummary}; several give {@link MultiRoomIngestSummary}.
 */
export async function ingestLines(
  input: InputSource,
  store: RoomStore,
  keys: StaticKeys,
  options: IngestOptions = {},
): Promise<IngestSummary | MultiRoomIngestSummary> {
  const warn = options.warn ?? (() => undefined);
  const engine = createRoomEngine({ serverName: 'roomgraph.invalid', store, keys: new StaticKeySource(keys) });
  const records: LineRecord[] = [];
  const unparsable: UnparsableLine[] = [];
  let blank = 0;
  let total = 0;
  // Bytes of the lines processed so far (line ends included): the progress through the input.
  let bytesDone = 0;
  let processed = 0;
  // PDUs go to the engine in small batches (each still checked and committed one at a time, in
  // order) so that signature checks of the next PDUs overlap with processing the current one.
  let batch: { readonly lineNo: number; readonly pdu: JsonObject; readonly origin: string; readonly size: number }[] = [];
  const flush = async (): Promise<void> => {
    const byOrigin = batch;
    batch = [];
    // Consecutive PDUs from the same origin form one receivePdus call.
    for (let i = 0; i < byOrigin.length;) {
      let j = i + 1;
      while (j < byOrigin.length && byOrigin[j]?.origin === byOrigin[i]?.origin) j++;
      const group = byOrigin.slice(i, j);
      const outcomes = await engine.receivePdus(group[0]?.origin ?? '', group.map((g) => g.pdu));
      for (let k = 0; k < group.length; k++) record(group[k] as (typeof group)[number], outcomes[k] as PduOutcome);
      processed += group.length;
      for (const g of group) bytesDone += g.size;
      options.onProgress?.(processed + blank + unparsable.length, bytesDone);
      i = j;
    }
  };
  const record = (item: { readonly lineNo: number; readonly pdu: JsonObject }, outcome: PduOutcome): void => {
    // A dropped event may have no trustworthy ID of its own: report it by the ID its line gives.
    const given = item.pdu['event_id'];
    const id = outcome.status === 'dropped' && typeof given === 'string' ? given : outcome.eventId;
    if (id === '') {
      const message = `${outcome.rule ?? 'dropped'}: ${outcome.reason ?? ''}`;
      unparsable.push({ line: item.lineNo, code: 'NOT_A_PDU', message });
      warn(`line ${item.lineNo}: not a PDU (${message})`);
      return;
    }
    const r = item.pdu['room_id'];
    // A v12 create event names no room: its room ID is its event ID with "!" for "$".
    const room = typeof r === 'string' ? r : item.pdu['type'] === 'm.room.create' && id.startsWith('$') ? `!${id.slice(1)}` : undefined;
    records.push({ line: item.lineNo, id, status: outcome.status, room, rule: outcome.rule, reason: outcome.reason });
    if (outcome.status === 'parked') warn(`line ${item.lineNo}: ${id} parked: ${outcome.reason ?? 'missing prev_events'}`);
  };
  const bad = (lineNo: number, e: unknown): void => {
    const { code, message } = errorObject(e).error;
    unparsable.push({ line: lineNo, code, message });
    warn(`line ${lineNo}: ${code === 'NOT_JSON_OBJECT' ? 'not a JSON object' : `not JSON: ${message}`}`);
  };
  const maxBytes = options.maxBytes;
  for await (const line of inputLines(input, maxBytes)) {
    total = line.lineNo;
    const size = (line.tooLong === true ? line.size : line.bytes.length) + 1;
    if (line.tooLong === true) {
      bytesDone += size;
      bad(line.lineNo, new CliError('INPUT_TOO_LARGE', `the line has ${line.size} bytes, more than ${maxBytes ?? 1048576} (--max-bytes)`));
      continue;
    }
    if (isBlank(line.bytes)) {
      bytesDone += size;
      blank++;
      continue;
    }
    let pdu: JsonValue;
    try {
      pdu = parseCanonicalJson(line.bytes, { strict: false });
    } catch (e) {
      bytesDone += size;
      bad(line.lineNo, e);
      continue;
    }
    if (!isJsonObject(pdu)) {
      bytesDone += size;
      bad(line.lineNo, new CliError('NOT_JSON_OBJECT', 'the line is not a JSON object'));
      continue;
    }
    const sender = pdu['sender'];
    const origin = typeof sender === 'string' && sender.includes(':') ? sender.slice(sender.indexOf(':') + 1) : '';
    batch.push({ lineNo: line.lineNo, pdu, origin, size });
    if (batch.length >= 64) await flush();
  }
  await flush();

  // Events parked on delivery and processed later (when their missing events arrived) end with
  // the status they were stored with: the final status, as a second run over the store reports.
  const parkedIds = [...new Set(records.filter((x) => x.status === 'parked').map((x) => x.id))];
  if (parkedIds.length > 0) {
    const stored = await store.getEvents(parkedIds);
    for (const x of records) {
      const e = x.status === 'parked' ? stored.get(x.id) : undefined;
      if (e !== undefined && e.status !== 'outlier') {
        x.status = e.status;
        x.rule = e.rejection?.rule;
        x.reason = e.rejection?.reason;
      }
    }
  }
  // The final status of each event is its last line's — except that a dropped line never hides
  // what another line did with the same ID: a dropped line is reported by the ID it gives, which
  // any copy (a forgery, a tampered re-delivery) can give, while the event of that ID was stored.
  const last = new Map<string, LineRecord>();
  for (const x of records) {
    const prev = last.get(x.id);
    if (x.status === 'dropped' && prev !== undefined && prev.status !== 'dropped') continue;
    last.set(x.id, x);
  }

  // The rooms: those the store knows that the input's events (not only dropped ones) belong to.
  const candidates = [...new Set([...last.values()].filter((x) => x.status !== 'dropped' && x.room !== undefined).map((x) => x.room as string))].sort();
  const rooms: string[] = [];
  for (const r of candidates) if (await store.getRoom(r) !== undefined) rooms.push(r);
  const roomSet = new Set(rooms);

  const counts: Record<FinalStatus, number> = { accepted: 0, 'soft-failed': 0, rejected: 0, dropped: 0, parked: 0, outlier: 0 };
  for (const x of records) counts[x.status]++;
  const lines: LineCounts = {
    total, blank, accepted: counts.accepted + counts.outlier, soft_failed: counts['soft-failed'], rejected: counts.rejected,
    dropped: counts.dropped, parked: counts.parked, unparsable: unparsable.length,
  };

  const ids = (xs: readonly LineRecord[], s: FinalStatus): string[] => xs.filter((x) => x.status === s).map((x) => x.id).sort();
  const summarise = async (roomId: string | undefined, xs: readonly LineRecord[]): Promise<RoomSummary> => {
    let current: Record<string, Record<string, string>> = {};
    let extremities: string[] = [];
    if (roomId !== undefined) {
      current = (await engine.currentState(roomId)).toJSON();
      extremities = [...await engine.forwardExtremities(roomId)];
    }
    const parked = xs.filter((x) => x.status === 'parked')
      .map((x) => ({ line: x.line, event_id: x.id, code: x.rule ?? 'prev_events.missing', reason: x.reason ?? '' }))
      .sort((a, b) => a.line - b.line);
    return {
      current_state: current,
      forward_extremities: extremities.sort(),
      soft_failed: ids(xs, 'soft-failed'),
      rejected: ids(xs, 'rejected'),
      dropped: ids(xs, 'dropped'),
      parked,
    };
  };
  const all = [...last.values()];
  unparsable.sort((a, b) => a.line - b.line);
  if (rooms.length <= 1) {
    const one = await summarise(rooms[0], all);
    return { ...one, unparsable, lines };
  }
  const byRoom: Record<string, RoomSummary> = {};
  for (const r of rooms) byRoom[r] = await summarise(r, all.filter((x) => x.room === r));
  return { rooms: byRoom, dropped: ids(all.filter((x) => x.room === undefined || !roomSet.has(x.room)), 'dropped'), unparsable, lines };
}

/** The size of the input when it is a regular file (for the ETA), else undefined. */
function inputSize(stdin: Io['stdin']): number | undefined {
  if (typeof stdin === 'string') return Buffer.byteLength(stdin);
  if (stdin instanceof Uint8Array) return stdin.length;
  const fd = (stdin as { fd?: unknown }).fd;
  if (typeof fd !== 'number') return undefined;
  try {
    const st = fstatSync(fd);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
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
Lines end at LF (or CRLF); a line is bytes that must be UTF-8 JSON, at most --max-bytes long.
KEYS.json: the servers' public keys, server name -> {key ID -> unpadded base64 ed25519 key}:
  {"a.example":{"ed25519:gen":"Yl3N8bD0n0cG6..."},"b.example":{"ed25519:k1":"..."}}
Make both with roomgraph gen-room (a generated room) or roomgraph keygen (your own keys).
Output (stdout): {"current_state":{"<type>":{"<state_key>":"$id"}},"forward_extremities":[...],
  "soft_failed":[...],"rejected":[...],"dropped":[...],
  "parked":[{"line":N,"event_id":"$id","code":"prev_events.missing","reason":"..."}],
  "unparsable":[{"line":N,"code":"JSON_SYNTAX","message":"..."}],
  "lines":{"total":N,"blank":N,"accepted":N,"soft_failed":N,"rejected":N,"dropped":N,"parked":N,"unparsable":N}}
Every event is reported with its final status (an event parked until its prev events arrived, with
the status it ended with); "lines" counts every input line once. Input with events of several rooms:
  {"rooms":{"!id":{<current_state ... parked, as above>}},"dropped":[...],"unparsable":[...],"lines":{...}}
Progress: a bar on stderr when it is a terminal (lines/s, ETA when stdin is a file); --progress
writes a plain line every 2 s otherwise.

Exit status: 0 every line was processed (whatever the events' outcomes); 1 some line was
unparsable (not UTF-8, not JSON, not an object, longer than --max-bytes, or not a PDU); 2 error
(bad flags, unreadable keys file, store failure).

Example:
  roomgraph gen-room --members 20 --events 300 --forks 2 --keys KEYS.json > room.jsonl
  roomgraph ingest --keys KEYS.json --store ./db < room.jsonl
`,
  summary: 'deliver PDUs (JSON lines on stdin) to the room engine; print current state, extremities and the final status of every line',
  flags: {
    keys: { type: 'string', description: 'KEYS.json: server name -> {key ID -> unpadded base64 ed25519 public key}', required: true },
    store: { type: 'string', description: STORE_FLAG_HELP },
    progress: { type: 'boolean', description: 'progress lines on stderr every 2 s (a bar is drawn anyway when stderr is a terminal)' },
    'max-bytes': { type: 'string', description: 'largest input line in bytes (default 1048576; a PDU is at most 65536); a longer line is unparsable (INPUT_TOO_LARGE)' },
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
      const maxBytes = maxBytesFlag(flags['max-bytes']);
      const keys = readKeysFile(stringFlag(flags, 'keys'));
      store = await openIngestStore(typeof flags.store === 'string' ? flags.store : undefined);
      const tty = (io.stderr as { isTTY?: unknown }).isTTY === true;
      const size = inputSize(io.stdin);
      const progress = tty || flags.progress === true
        ? new Progress({ write: (s) => io.stderr.write(s), mode: tty ? 'bar' : 'lines', prefix: 'roomgraph ingest: ', unit: 'lines', ...(size !== undefined ? { totalBytes: size } : {}) })
        : undefined;
      const summary = await ingestLines(io.stdin, store, keys, {
        maxBytes,
        warn: (m) => {
          progress?.clear();
          io.stderr.write(`roomgraph ingest: ${m}\n`);
        },
        ...(progress !== undefined ? { onProgress: (n: number, b: number) => progress.update(n, b) } : {}),
      });
      progress?.finish();
      io.stdout.write(encodeCanonicalJson(summary as unknown as JsonValue) + '\n');
      return summary.unparsable.length > 0 ? EXIT.SOME_LINES_FAILED : EXIT.OK;
    } catch (e) {
      writeError(io.stderr, e);
      return EXIT.ERROR;
    } finally {
      await store?.close().catch(() => undefined);
    }
  },
});
