/**
 * `roomgraph gen-room`: writes a valid signed room (JSON lines, one PDU each) and its KEYS.json —
 * the generator of `@roomgraph/testkit` ({@link generateRoom}) that the benchmarks use.
 * @packageDocumentation
 */
import { writeFileSync } from 'node:fs';
import { encodeCanonicalJson } from '@roomgraph/canonical-json';
import { getRoomVersion } from '@roomgraph/room-versions';
import { generateRoom } from '@roomgraph/testkit/room';
import { CliError, EXIT, commandHelp, defineMainCommand, parseFlags, stringFlag, writeError, type Flags } from '../framework.js';
import { lineSink } from './write-util.js';

function intFlag(flags: Flags, name: string): number | undefined {
  const v = flags[name];
  if (typeof v !== 'string') return undefined;
  if (!/^\d+$/.test(v)) throw new CliError('USAGE', `--${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** `roomgraph gen-room`. */
export const command = defineMainCommand({
  name: 'gen-room',
  summary: 'write a valid signed room (PDU JSON lines) and its KEYS.json, ready for ingest',
  flags: {
    keys: { type: 'string', description: 'where to write KEYS.json (server name -> {key ID -> public key})', required: true },
    members: { type: 'string', description: 'joined members besides the admin (default 10)' },
    events: { type: 'string', description: 'total number of events, preamble and joins included (default 4 + members + 100)' },
    'room-version': { type: 'string', description: 'room version 1..12 (default 10)' },
    forks: { type: 'string', description: 'concurrent branches per fork round, merged by state resolution (default 0: linear)' },
    'fork-length': { type: 'string', description: 'messages per branch in a fork round (default 3)' },
    servers: { type: 'string', description: 'homeservers the members are spread over, a.example, b.example, ... (default 3)' },
    out: { type: 'string', description: 'write the PDUs to this file instead of stdout' },
    help: { type: 'boolean', description: 'show help for this command' },
  },
  usage: `
Output: one PDU per line, in an order ingest accepts (every event after its prev_events and
auth_events): the create event, the admin's join (@admin:a.example), power levels, a public join
rule, the members' joins (@u0:a.example, @u1:b.example, ...), then messages. With --forks K the
messages come in rounds: K branches that each start with a conflicting m.room.topic, merged by one
message naming every branch head in prev_events. Deterministic: the same flags give the same bytes.
A summary goes to stderr.

Example:
  roomgraph gen-room --members 50 --events 500 --forks 3 --keys KEYS.json > room.jsonl
  roomgraph ingest --keys KEYS.json --store ./db < room.jsonl
`,
  async main(argv, io) {
    try {
      const flags = parseFlags(argv, command.flags);
      if (flags.help) {
        io.stdout.write(commandHelp(command));
        return EXIT.OK;
      }
      const roomVersion = typeof flags['room-version'] === 'string' ? flags['room-version'] : '10';
      getRoomVersion(roomVersion);
      const members = intFlag(flags, 'members') ?? 10;
      const events = intFlag(flags, 'events');
      if (events !== undefined && events < 4 + members) throw new CliError('USAGE', `--events must be at least 4 + --members = ${4 + members} (create, admin join, power levels, join rule, one join per member)`);
      const forks = intFlag(flags, 'forks');
      const forkLength = intFlag(flags, 'fork-length');
      const servers = intFlag(flags, 'servers');
      if (servers !== undefined && (servers < 1 || servers > 26)) throw new CliError('USAGE', '--servers must be in 1..26');
      if (forks !== undefined && forks > 64) throw new CliError('USAGE', '--forks must be at most 64');
      const room = generateRoom({
        roomVersion, members,
        ...(events !== undefined ? { events } : {}),
        ...(forks !== undefined ? { forks } : {}),
        ...(forkLength !== undefined ? { forkLength } : {}),
        ...(servers !== undefined ? { servers } : {}),
      });
      const keysPath = stringFlag(flags, 'keys');
      writeFileSync(keysPath, JSON.stringify(room.keys, null, 2) + '\n');
      const out = typeof flags.out === 'string' ? flags.out : undefined;
      const sink = lineSink(out, io);
      let n = 0;
      for (const pdu of room.events()) {
        await sink.line(encodeCanonicalJson(pdu.json));
        n++;
      }
      await sink.end();
      io.stderr.write(`roomgraph gen-room: ${n} events of room ${room.roomId} (room version ${room.roomVersion}, ${room.members.length} members on ${Object.keys(room.keys).length} servers) -> ${out ?? 'stdout'}; keys -> ${keysPath}\n`);
      return EXIT.OK;
    } catch (e) {
      writeError(io.stderr, e);
      return EXIT.ERROR;
    }
  },
});
