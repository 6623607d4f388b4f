/**
 * `roomgraph auth-chain --store DIR EVENT_ID`: the auth chain of an event — every event reachable
 * through `auth_events` (Server-Server API › Room State Resolution › Definitions: auth chain).
 * @packageDocumentation
 */
import { encodeCanonicalJson, type JsonObject } from '@roomgraph/canonical-json';
import type { RoomStore } from '@roomgraph/store';
import { CliError, EXIT, commandHelp, defineMainCommand, writeError } from '../framework.js';
import { STORE_FLAG, openExistingStore, parseArgs, requireEvent } from './store-access.js';

/** `roomgraph auth-chain`. */
export const command = defineMainCommand({
  name: 'auth-chain',
  summary: 'print the auth chain of an event (every event reachable through auth_events) from a store',
  flags: {
    store: STORE_FLAG,
    event: { type: 'string', description: 'the event ID (or give it as the argument)' },
    help: { type: 'boolean', description: 'show help for this command' },
  },
  usage: `
Output (stdout, canonical JSON), events sorted by depth then ID, each with its type and state key:
  {"auth_chain":[{"event_id":"$c","state_key":"","type":"m.room.create"},...],"event_id":"$x"}
An event referenced but not stored is listed with "missing":true.

Example:
  roomgraph auth-chain --store ./db '$someEvent'
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
      if (id === undefined) throw new CliError('USAGE', 'name the event: roomgraph auth-chain --store DIR EVENT_ID');
      store = await openExistingStore(String(flags.store));
      await requireEvent(store, id);
      const chain = [...(await store.getAuthChain([id]))];
      const events = await store.getEvents(chain);
      const rows = chain.map((cid) => {
        const e = events.get(cid);
        const row: JsonObject = e === undefined ? { event_id: cid, missing: true } : { event_id: cid, type: e.type, ...(e.stateKey !== undefined ? { state_key: e.stateKey } : {}) };
        return { row, depth: e?.depth ?? -1 };
      });
      rows.sort((a, b) => a.depth - b.depth || (String(a.row.event_id) < String(b.row.event_id) ? -1 : 1));
      io.stdout.write(encodeCanonicalJson({ event_id: id, auth_chain: rows.map((r) => r.row) }) + '\n');
      return EXIT.OK;
    } catch (e) {
      writeError(io.stderr, e);
      return EXIT.ERROR;
    } finally {
      await store?.close().catch(() => undefined);
    }
  },
});
