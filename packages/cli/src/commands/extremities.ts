/**
 * `roomgraph extremities --store DIR [--room ID]`: a room's forward extremities — the events with
 * no known successor, which a new event names as its `prev_events` (Server-Server API › Room
 * State Resolution; Client-Server API › Forward extremities).
 * @packageDocumentation
 */
import { encodeCanonicalJson } from '@roomgraph/canonical-json';
import type { RoomStore } from '@roomgraph/store';
import { EXIT, commandHelp, defineMainCommand, writeError } from '../framework.js';
import { ROOM_FLAG, STORE_FLAG, chooseRoom, openExistingStore, parseArgs } from './store-access.js';

/** `roomgraph extremities`. */
export const command = defineMainCommand({
  name: 'extremities',
  summary: 'print a room\'s forward extremities from a store',
  flags: { store: STORE_FLAG, room: ROOM_FLAG, help: { type: 'boolean', description: 'show help for this command' } },
  usage: `
Output (stdout, canonical JSON): {"forward_extremities":["$a","$b"],"room_id":"!r:a.example"} (IDs sorted)

Example:
  roomgraph extremities --store ./db --room '!generated:a.example'
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
      io.stdout.write(encodeCanonicalJson({ room_id: room.roomId, forward_extremities: [...room.forwardExtremities].sort() }) + '\n');
      return EXIT.OK;
    } catch (e) {
      writeError(io.stderr, e);
      return EXIT.ERROR;
    } finally {
      await store?.close().catch(() => undefined);
    }
  },
});
