/**
 * `roomgraph export --store DIR [--room ID]`: writes a room as the JSON lines `roomgraph ingest`
 * reads — every stored event of the room (accepted, rejected, soft-failed) as its PDU, in the
 * order it was received, then the events parked for missing `prev_events`. Ingesting the export
 * into an empty store gives the same current state, forward extremities and statuses.
 * @packageDocumentation
 */
import { encodeCanonicalJson } from '@roomgraph/canonical-json';
import type { RoomStore } from '@roomgraph/store';
import { EXIT, commandHelp, defineMainCommand, writeError } from '../framework.js';
import { ROOM_FLAG, STORE_FLAG, chooseRoom, openExistingStore, parseArgs, roomEvents } from './store-access.js';
import { lineSink } from './write-util.js';

/** `roomgraph export`. */
export const command = defineMainCommand({
  name: 'export',
  summary: 'write a room from a store as PDU JSON lines that ingest reads back',
  flags: {
    store: STORE_FLAG,
    room: ROOM_FLAG,
    out: { type: 'string', description: 'write to this file instead of stdout' },
    outliers: { type: 'boolean', description: 'also export outliers (events stored without their state; a new ingest parks or re-checks them)' },
    help: { type: 'boolean', description: 'show help for this command' },
  },
  usage: `
Output: one PDU per line (the JSON the store holds; events redacted before they were stored stay
redacted), in receipt (stream) order, then parked events. Dropped events were never stored and are
not exported. A summary goes to stderr.

Example (round trip):
  roomgraph export --store ./db > room-export.jsonl
  roomgraph ingest --keys KEYS.json --store ./db2 < room-export.jsonl
`,
  async main(argv, io) {
    let store: RoomStore | undefined;
    try {
      const { flags } = parseArgs(argv, command.flags, 0);
      if (flags.help) {
        io.stdout.write(commandHelp(command));
        return EXIT.OK;
      }
      store = await openExistingStore(String(flags.store));
      const room = await chooseRoom(store, flags.room);
      const out = typeof flags.out === 'string' ? flags.out : undefined;
      const sink = lineSink(out, io);
      let n = 0;
      for await (const e of roomEvents(store, room.roomId)) {
        if (e.status === 'outlier' && flags.outliers !== true) continue;
        await sink.line(encodeCanonicalJson(e.json));
        n++;
      }
      const parked = await store.listParkedEvents(room.roomId);
      for (const p of parked) await sink.line(encodeCanonicalJson(p.json));
      await sink.end();
      io.stderr.write(`roomgraph export: ${n} stored and ${parked.length} parked events of ${room.roomId} -> ${out ?? 'stdout'}\n`);
      return EXIT.OK;
    } catch (e) {
      writeError(io.stderr, e);
      return EXIT.ERROR;
    } finally {
      await store?.close().catch(() => undefined);
    }
  },
});
