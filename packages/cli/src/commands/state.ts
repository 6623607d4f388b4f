/**
 * `roomgraph state --store DIR [--room ID] [--at EVENT_ID [--after]]`: a room's current state, or
 * the state before (or after) one of its events (Server-Server API › Room State Resolution: every
 * event has a state before it; the state after a state event that was not rejected adds it).
 * @packageDocumentation
 */
import { encodeCanonicalJson } from '@roomgraph/canonical-json';
import { RoomState } from '@roomgraph/engine';
import { stateKeyOf } from '@roomgraph/events';
import type { RoomStore } from '@roomgraph/store';
import { CliError, EXIT, commandHelp, defineMainCommand, writeError } from '../framework.js';
import { ROOM_FLAG, STORE_FLAG, chooseRoom, openExistingStore, parseArgs, requireEvent } from './store-access.js';

/** `roomgraph state`. */
export const command = defineMainCommand({
  name: 'state',
  summary: 'print a room\'s current state, or the state at one of its events, from a store',
  flags: {
    store: STORE_FLAG,
    room: ROOM_FLAG,
    at: { type: 'string', description: 'the state before this event instead of the current state' },
    after: { type: 'boolean', description: 'with --at: the state after the event (a state event that was not rejected replaces its key)' },
    help: { type: 'boolean', description: 'show help for this command' },
  },
  usage: `
Output (stdout, canonical JSON): {"type":{"state_key":"$event_id"}}, e.g.
  {"m.room.create":{"":"$abc"},"m.room.member":{"@admin:a.example":"$def"},...}

Examples:
  roomgraph state --store ./db
  roomgraph state --store ./db --room '!generated:a.example' --at '$someEvent' --after
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
      let state: ReadonlyMap<string, string>;
      if (typeof flags.at === 'string') {
        const e = await requireEvent(store, flags.at);
        if (typeof flags.room === 'string' && e.roomId !== flags.room) throw new CliError('EVENT_NOT_FOUND', `event ${flags.at} is in room ${e.roomId}, not ${flags.room}`);
        if (e.stateBefore === undefined) throw new CliError('NO_STATE', `event ${flags.at} is an outlier: no state is known at it`);
        const before = await store.loadState(e.stateBefore);
        if (flags.after === true && e.stateKey !== undefined && e.status !== 'rejected') {
          const after = new Map(before);
          after.set(stateKeyOf(e.type, e.stateKey), e.eventId);
          state = after;
        } else {
          state = before;
        }
      } else {
        if (flags.after === true) throw new CliError('USAGE', '--after needs --at EVENT_ID');
        const room = await chooseRoom(store, flags.room);
        state = room.currentState === undefined ? new Map() : await store.loadState(room.currentState);
      }
      io.stdout.write(encodeCanonicalJson(RoomState.fromStateMap(state).toJSON()) + '\n');
      return EXIT.OK;
    } catch (e) {
      writeError(io.stderr, e);
      return EXIT.ERROR;
    } finally {
      await store?.close().catch(() => undefined);
    }
  },
});
