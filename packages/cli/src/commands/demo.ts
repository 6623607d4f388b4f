/**
 * `roomgraph demo`: the main job, end to end. Two simulated homeservers on the embedded LevelDB
 * store build a room; the second joins over an in-process federation (make_join / send_join) and
 * backfills; they fork during a network partition, heal (get_missing_events), resolve state and
 * merge — printing every step.
 * @packageDocumentation
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { encodeCanonicalJson } from '@roomgraph/canonical-json';
import { encodeBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { RoomEngine } from '@roomgraph/engine';
import { type Pdu, verifyEventSignatures } from '@roomgraph/events';
import { DEFAULT_ROOM_VERSION, getRoomVersion } from '@roomgraph/room-versions';
import { LevelRoomStore } from '@roomgraph/store-level';
import { InProcessNetwork, StaticKeySource } from '@roomgraph/transport';
import { EXIT, commandHelp, defineMainCommand, parseFlags, writeError } from '../framework.js';

const short = (id: string): string => (id.length > 20 ? `${id.slice(0, 12)}…` : id);

/** `roomgraph demo [--room-version V] [--store DIR]`. */
export const command = defineMainCommand({
  name: 'demo',
  usage: `
No input. Prints each step; exit 0 when the two servers converge on the same current state. The
stores go to a temporary folder that is removed at the end, or to --store DIR (kept: DIR/a.example
and DIR/b.example, readable with roomgraph state / why / graph --store DIR/a.example).

Example:
  roomgraph demo --room-version 12 --store ./demo-stores
`,
  summary: 'two simulated servers on LevelDB: build a room, join over federation, backfill, fork in a partition, heal, resolve and merge',
  flags: {
    'room-version': { type: 'string', description: `room version of the demo room (default ${DEFAULT_ROOM_VERSION})` },
    store: { type: 'string', description: 'directory for the two LevelDB stores (default: a new temporary directory)' },
    help: { type: 'boolean', description: 'show help for this command' },
  },
  async main(argv, io) {
    const out = (s = ''): void => { io.stdout.write(s + '\n'); };
    const engines: RoomEngine[] = [];
    // A temporary folder the demo made itself is removed at the end; a --store folder is kept.
    let temporary: string | undefined;
    let kept: string | undefined;
    try {
      const flags = parseFlags(argv, command.flags);
      if (flags.help) {
        io.stdout.write(commandHelp(command));
        return EXIT.OK;
      }
      const version = typeof flags['room-version'] === 'string' ? flags['room-version'] : DEFAULT_ROOM_VERSION;
      getRoomVersion(version); // an unknown one: the library's ROOM_VERSION_UNKNOWN
      const dir = typeof flags.store === 'string' ? flags.store : mkdtempSync(joinPath(tmpdir(), 'roomgraph-demo-'));
      if (typeof flags.store === 'string') kept = dir;
      else temporary = dir;

      // Two servers with deterministic keys and a shared in-process network.
      const net = new InProcessNetwork();
      const keyA = signingKeyFromSeed(new Uint8Array(32).fill(1), 'a1');
      const keyB = signingKeyFromSeed(new Uint8Array(32).fill(2), 'b1');
      const keys = new StaticKeySource({
        'a.example': { [keyA.keyId]: encodeBase64(keyA.publicKey) },
        'b.example': { [keyB.keyId]: encodeBase64(keyB.publicKey) },
      });
      let clock = 1_700_000_000_000;
      const now = (): number => (clock += 1000);
      const make = async (serverName: string, key: typeof keyA): Promise<RoomEngine> => {
        const e = await RoomEngine.open({ serverName, signingKey: key, store: new LevelRoomStore(joinPath(dir, serverName)), ownsStore: true, transport: net.transportFor(serverName), keys, now });
        net.register(serverName, e);
        engines.push(e);
        return e;
      };
      const a = await make('a.example', keyA);
      const b = await make('b.example', keyB);
      out(`roomgraph demo — room version ${version}, LevelDB stores in ${joinPath(dir, 'a.example')} and ${joinPath(dir, 'b.example')}`);
      out(temporary !== undefined ? '(a temporary folder, removed at the end; keep the stores with --store DIR)' : '(kept after the demo)');
      out();

      // 1. Alice builds a room on a.example.
      out('1. @alice:a.example creates a room on a.example');
      const created: Pdu[] = [];
      const unsub = a.subscribe((n) => {
        if (n.kind === 'event') out(`   ${n.status.padEnd(9)} ${short(n.eventId).padEnd(14)} ${String(n.event['type'])}${typeof n.event['state_key'] === 'string' ? ` [${n.event['state_key']}]` : ''}`);
      });
      const roomId = await a.createRoom({ roomVersion: version, creator: '@alice:a.example', preset: 'public_chat' });
      for (let i = 1; i <= 2; i++) {
        created.push(await a.createLocalEvent(roomId, { type: 'm.room.message', sender: '@alice:a.example', content: { msgtype: 'm.text', body: `hello ${i}` } }));
      }
      unsub();
      out(`   room ID ${roomId}`);
      const timeline = await a.timeline(roomId);
      out(`   ${timeline.length} events stored; the last one, as canonical JSON:`);
      const last = timeline[timeline.length - 1];
      if (last !== undefined) out(`   ${encodeCanonicalJson(last.json).slice(0, 240)}…`);
      const sig = last === undefined ? undefined : verifyEventSignatures(last.json, getRoomVersion(version), (server, keyId) =>
        server === 'a.example' && keyId === keyA.keyId ? { publicKey: keyA.publicKey } : undefined);
      out(`   a.example's signature (over the redacted event) checks: ${sig?.status ?? 'no event'}`);
      out();

      // 2. Bob joins over federation (make_join / send_join), then b.example backfills the history.
      out('2. @bob:b.example joins through a.example (make_join, send_join), then backfills');
      const calls = (method: string, from: number): number => net.log.slice(from).filter(([, , m]) => m === method).length;
      let mark = net.log.length;
      const joined = await b.joinRemoteRoom(roomId, 'a.example', '@bob:b.example');
      const stateAtB = await b.currentState(roomId);
      out(`   make_join ×${calls('makeJoin', mark)}, send_join ×${calls('sendJoin', mark)}: bob's join ${short(joined.eventId)} ${joined.status}; b.example now holds ${stateAtB.size} state entries`);
      out(`   a.example sees bob as: ${await a.membership(roomId, '@bob:b.example')}`);
      mark = net.log.length;
      const back = await b.backfill(roomId, 'a.example');
      out(`   backfill ×${calls('backfill', mark)} from ${(await b.backwardExtremities(roomId)).length === 0 ? 'the join to the create event' : 'the join'}: ${back.length} older events, ${back.filter((o) => o.status === 'accepted').length} accepted`);
      const plContent = (await a.getEvent((await a.currentState(roomId)).get('m.room.power_levels', '') ?? ''))?.json['content'];
      const users = { ...((plContent as { users?: Record<string, number> } | undefined)?.users ?? {}), '@bob:b.example': 50 };
      const promote = await a.createLocalEvent(roomId, { type: 'm.room.power_levels', stateKey: '', sender: '@alice:a.example', content: { ...(plContent as object), users } });
      const [promoteAtB] = await b.receivePdus('a.example', [promote.json]);
      out(`   alice gives bob power 50: ${short(promote.eventId)} (b.example: ${promoteAtB?.status})`);
      out();

      // 3. Partition: both sides change state concurrently.
      out('3. network partition: each server changes state on its own fork');
      net.partition(['a.example'], ['b.example']);
      const topic = await a.createLocalEvent(roomId, { type: 'm.room.topic', stateKey: '', sender: '@alice:a.example', content: { topic: 'set by alice during the partition' } });
      const pl = await a.createLocalEvent(roomId, { type: 'm.room.message', sender: '@alice:a.example', content: { msgtype: 'm.text', body: 'anyone there?' } });
      const name = await b.createLocalEvent(roomId, { type: 'm.room.name', stateKey: '', sender: '@bob:b.example', content: { name: 'named by bob' } });
      const msg = await b.createLocalEvent(roomId, { type: 'm.room.topic', stateKey: '', sender: '@bob:b.example', content: { topic: 'set by bob during the partition' } });
      out(`   a.example: topic ${short(topic.eventId)}, message ${short(pl.eventId)}`);
      out(`   b.example: name ${short(name.eventId)}, topic ${short(msg.eventId)} (the topic is now in conflict)`);
      const blocked = await net.transportFor('a.example').sendPdus('b.example', [topic.json]).then(() => false, () => true);
      out(`   a.example -> b.example while partitioned: ${blocked ? 'unreachable' : 'delivered'}`);
      out();

      // 4. Heal: each server pushes only its latest event; the other fetches the rest of the fork.
      out('4. heal: each server pushes its latest event; the receiver fetches the rest and resolves state');
      net.heal();
      mark = net.log.length;
      await a.sendToServers(['b.example'], [pl]);
      const atB = [await b.getEvent(topic.eventId), await b.getEvent(pl.eventId)].map((e) => e?.status ?? 'missing');
      out(`   b.example received a's fork: ${atB.join(', ')} (get_missing_events ×${calls('getMissingEvents', mark)})`);
      const resolvedTopic = (await b.currentState(roomId)).get('m.room.topic', '');
      out(`   state resolution picked the topic ${short(resolvedTopic ?? '')} (${resolvedTopic === topic.eventId ? "alice's" : "bob's"})`);
      mark = net.log.length;
      await b.sendToServers(['a.example'], [msg]);
      const atA = [await a.getEvent(name.eventId), await a.getEvent(msg.eventId)].map((e) => e?.status ?? 'missing');
      out(`   a.example received b's fork: ${atA.join(', ')} (get_missing_events ×${calls('getMissingEvents', mark)})`);
      for (const e of [a, b]) {
        out(`   ${e.serverName} forward extremities: ${(await e.forwardExtremities(roomId)).map(short).join(', ')}`);
      }
      out();

      // 5. Merge: a new event on a.example references both tips.
      out('5. merge: a.example sends an event on top of both forks');
      const merge = await a.createLocalEvent(roomId, { type: 'm.room.message', sender: '@alice:a.example', content: { msgtype: 'm.text', body: 'merged' } });
      out(`   merge event ${short(merge.eventId)} has ${merge.prevEvents.length} prev_events`);
      const [mergeAtB] = await b.receivePdus('a.example', [merge.json]);
      out(`   b.example: ${mergeAtB?.status}`);
      out();

      // 6. Both servers agree.
      out('6. current state and forward extremities on both servers');
      const states = [];
      for (const e of [a, b]) {
        const state = await e.currentState(roomId);
        const rows = [...state].map(({ type: t, stateKey: sk, eventId: v }) => `${t}${sk !== '' ? ` [${sk}]` : ''} = ${short(v)}`).sort();
        states.push(JSON.stringify(rows));
        out(`   ${e.serverName}: ${rows.length} state entries; extremities ${(await e.forwardExtremities(roomId)).map(short).join(', ')}`);
        for (const r of rows) out(`     ${r}`);
      }
      const agree = states[0] === states[1];
      out();
      out(`converged: ${agree ? 'yes' : 'NO'} — the two servers hold the same current state`);
      return agree ? EXIT.OK : EXIT.ERROR;
    } catch (e) {
      writeError(io.stderr, e);
      return EXIT.ERROR;
    } finally {
      for (const e of engines) await e.close().catch(() => undefined);
      if (temporary !== undefined) {
        rmSync(temporary, { recursive: true, force: true });
        out(`removed the temporary stores in ${temporary}`);
      } else if (kept !== undefined) {
        out(`the stores are kept: look inside with roomgraph state --store ${joinPath(kept, 'a.example')} (or why, extremities, graph, export)`);
      }
    }
  },
});
