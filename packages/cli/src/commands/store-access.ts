/**
 * Helpers of the commands that read a LevelDB store written by `roomgraph ingest --store DIR`
 * (`state`, `why`, `extremities`, `auth-chain`, `export`, `graph`): argument parsing with
 * positionals, opening an existing store without creating one, and choosing the room.
 * @packageDocumentation
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RoomInfo, RoomStore, StoredEvent } from '@roomgraph/store';
import { LevelRoomStore } from '@roomgraph/store-level';
import { CliError, parseFlags, type FlagSpec, type Flags } from '../framework.js';

/** The `--store` flag every store-reading command takes. */
export const STORE_FLAG: FlagSpec = { type: 'string', description: 'LevelDB directory written by `roomgraph ingest --store DIR`', required: true };
/** The `--room` flag (optional when the store holds exactly one room). */
export const ROOM_FLAG: FlagSpec = { type: 'string', description: 'room ID (default: the only room of the store)' };

/**
 * Parses flags and up to `maxPositionals` positional arguments (e.g. an event ID). Arguments that
 * do not start with `--` and are not a flag's value are positionals.
 * @throws {@link CliError} `USAGE` for too many positionals or bad flags.
 */
export function parseArgs(
  argv: readonly string[],
  spec: Readonly<Record<string, FlagSpec>>,
  maxPositionals: number,
): { readonly flags: Flags; readonly positionals: readonly string[] } {
  const rest: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--') && a !== '--') {
      rest.push(a);
      const name = a.slice(2, a.includes('=') ? a.indexOf('=') : undefined);
      if (!a.includes('=') && spec[name]?.type === 'string' && i + 1 < argv.length) rest.push(argv[++i]!);
    } else {
      positionals.push(a);
    }
  }
  if (positionals.length > maxPositionals) throw new CliError('USAGE', `unexpected argument ${JSON.stringify(positionals[maxPositionals])}`);
  return { flags: parseFlags(rest, spec), positionals };
}

/**
 * Opens the LevelDB store in `dir`, which must already exist (a mistyped path must not silently
 * create an empty store). Close it when done.
 * @throws {@link CliError} `STORE_NOT_FOUND` when `dir` holds no LevelDB database.
 */
export async function openExistingStore(dir: string): Promise<RoomStore> {
  if (!existsSync(join(dir, 'CURRENT'))) throw new CliError('STORE_NOT_FOUND', `no roomgraph store in ${dir} (make one with roomgraph ingest --store ${dir})`);
  const store = new LevelRoomStore(dir);
  await store.open();
  return store;
}

/**
 * The room named by `--room`, or the store's only room.
 * @throws {@link CliError} `STORE_UNKNOWN_ROOM` for an unknown room; `USAGE` when `--room` is
 *   missing and the store holds several rooms (or none).
 */
export async function chooseRoom(store: RoomStore, room: string | boolean | undefined): Promise<RoomInfo> {
  if (typeof room === 'string') {
    const info = await store.getRoom(room);
    if (info === undefined) throw new CliError('STORE_UNKNOWN_ROOM', `room ${room} is not in the store`);
    return info;
  }
  const rooms = await store.listRooms();
  if (rooms.length !== 1) throw new CliError('USAGE', rooms.length === 0 ? 'the store holds no room' : `the store holds ${rooms.length} rooms; name one with --room (${rooms.slice(0, 5).join(', ')})`);
  return (await store.getRoom(rooms[0]!))!;
}

/**
 * A stored event by ID.
 * @throws {@link CliError} `EVENT_NOT_FOUND` when the store does not hold it.
 */
export async function requireEvent(store: RoomStore, eventId: string): Promise<StoredEvent> {
  const e = await store.getEvent(eventId);
  if (e === undefined) throw new CliError('EVENT_NOT_FOUND', `event ${eventId} is not in the store`);
  return e;
}

/** Every event of a room in stream order (pages of 5,000). */
export async function* roomEvents(store: RoomStore, roomId: string): AsyncGenerator<StoredEvent> {
  let from: number | undefined;
  for (;;) {
    const page = await store.timeline(roomId, { limit: 5000, ...(from !== undefined ? { from } : {}) });
    yield* page;
    if (page.length < 5000) return;
    from = page[page.length - 1]!.stream + 1;
  }
}
