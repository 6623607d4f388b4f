/**
 * `roomgraph why --store DIR EVENT_ID`: what the engine decided about an event and why — its
 * status (accepted, rejected, soft-failed, outlier, or parked while waiting for missing
 * `prev_events`), the rule that decided it and the reason (Server-Server API › Checks performed on
 * receipt of a PDU; Rejection; Soft failure).
 * @packageDocumentation
 */
import { encodeCanonicalJson, type JsonObject } from '@roomgraph/canonical-json';
import type { RoomStore } from '@roomgraph/store';
import { CliError, EXIT, commandHelp, defineMainCommand, writeError } from '../framework.js';
import { STORE_FLAG, openExistingStore, parseArgs } from './store-access.js';

/** What each status means, in one sentence (the `meaning` field of the output). */
export const STATUS_MEANING: Readonly<Record<string, string>> = Object.freeze({
  accepted:
    'passed every check on receipt: format, signatures, hashes, the authorization rules against its auth events, against the state before it and against the current state',
  rejected:
    'failed a check on receipt (the rule below); it is kept only so that events naming it can be checked, it never enters the state, and events that cite it as an auth event are rejected too',
  'soft-failed':
    'passed the authorization rules against its auth events and the state before it but not against the room\'s current state: it stays in the DAG, does not change the current state and is not a forward extremity',
  outlier: 'stored without the state before it (fetched as another event\'s auth event or state): not part of the timeline',
  parked: 'received but waiting for missing prev_events: not checked yet',
});

/** `roomgraph why`. */
export const command = defineMainCommand({
  name: 'why',
  summary: 'explain what happened to an event: its status, the rule that decided it and the reason',
  flags: {
    store: STORE_FLAG,
    event: { type: 'string', description: 'the event ID (or give it as the argument)' },
    help: { type: 'boolean', description: 'show help for this command' },
  },
  usage: `
Output (stdout, canonical JSON):
  {"event_id":"$x","room_id":"!r:a.example","status":"rejected","rule":"member.join.banned",
   "reason":"...","meaning":"...","type":"m.room.member","state_key":"@u:b.example",
   "sender":"@u:b.example","depth":12,"stream":12,"prev_events":[...],"auth_events":[...]}
status is accepted, rejected, soft-failed, outlier or parked; rule and reason are present when the
engine gave them (rejected and soft-failed events). Rule codes are the auth package's stable codes.

Example:
  roomgraph why --store ./db '$someEvent'
`,
  async main(argv, io) {
    let store: RoomStore | undefined;
    try {
      const { flags, positionals } = parseArgs(argv, command.flags, 1);
      if (flags.help) {
        io.stdout.write(commandHelp(command));
        return EXIT.OK;
      }
      const id = typeof flags.event === 'string' ? flags.event : positionals[0];
      if (id === undefined) throw new CliError('USAGE', 'name the event: roomgraph why --store DIR EVENT_ID');
      store = await openExistingStore(String(flags.store));
      const e = await store.getEvent(id);
      let out: JsonObject;
      if (e !== undefined) {
        out = {
          event_id: e.eventId,
          room_id: e.roomId,
          status: e.status,
          ...(e.rejection !== undefined ? { rule: e.rejection.rule, ...(e.rejection.reason !== undefined ? { reason: e.rejection.reason } : {}) } : {}),
          meaning: STATUS_MEANING[e.status] ?? e.status,
          type: e.type,
          ...(e.stateKey !== undefined ? { state_key: e.stateKey } : {}),
          sender: typeof e.json['sender'] === 'string' ? e.json['sender'] : '',
          depth: e.depth,
          stream: e.stream,
          prev_events: [...e.prevEvents],
          auth_events: [...e.authEvents],
        };
      } else {
        let parked: JsonObject | undefined;
        for (const roomId of await store.listRooms()) {
          const p = (await store.listParkedEvents(roomId)).find((x) => x.eventId === id);
          if (p !== undefined) {
            const prev = p.json['prev_events'];
            parked = {
              event_id: id,
              room_id: roomId,
              status: 'parked',
              meaning: STATUS_MEANING['parked']!,
              type: String(p.json['type']),
              sender: String(p.json['sender']),
              ...(p.origin !== undefined ? { origin: p.origin } : {}),
              prev_events: Array.isArray(prev) ? prev.map((x) => (Array.isArray(x) ? String(x[0]) : String(x))) : [],
            };
            break;
          }
        }
        if (parked === undefined) throw new CliError('EVENT_NOT_FOUND', `event ${id} is not in the store (a dropped event is never stored: ingest reports it under "dropped")`);
        out = parked;
      }
      io.stdout.write(encodeCanonicalJson(out) + '\n');
      return EXIT.OK;
    } catch (e) {
      writeError(io.stderr, e);
      return EXIT.ERROR;
    } finally {
      await store?.close().catch(() => undefined);
    }
  },
});
