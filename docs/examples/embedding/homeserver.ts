// Two homeservers embedding the room engine: storage, keys, a transport, the federation handlers
// behind a read policy, a room created on one and joined from the other, and what each may read.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonObject } from '@roomgraph/canonical-json';
import { encodeBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { RoomEngine } from '@roomgraph/engine';
import { LevelRoomStore } from '@roomgraph/store-level';
import { createMemoryStore } from '@roomgraph/store-memory';
import { InProcessNetwork, StaticKeySource, type FederationHandler } from '@roomgraph/transport';

// Keys: each server signs with its own ed25519 key; a KeySource answers "which public key had
// server S under key ID K". StaticKeySource is a fixed table (tests, closed federations);
// HttpKeySource (@roomgraph/federation-http) fetches and caches keys from servers and notaries.
const keyA = signingKeyFromSeed(new Uint8Array(32).fill(1), 'a1');
const keyB = signingKeyFromSeed(new Uint8Array(32).fill(2), 'b1');
const keys = new StaticKeySource({
  'a.example': { [keyA.keyId]: encodeBase64(keyA.publicKey) },
  'b.example': { [keyB.keyId]: encodeBase64(keyB.publicKey) },
});

// Transport: how an engine reaches other servers. InProcessNetwork connects engines in one
// process (tests); HttpTransport (@roomgraph/federation-http) speaks the Server-Server API over HTTPS.
const network = new InProcessNetwork();

/**
 * A read policy in front of the engine's federation handlers: a server may read a room's events
 * and state only while one of its users is joined (or invited). The engine keeps requests inside
 * the room they name and never serves rejected events; which servers may read a room is the
 * homeserver's decision (Server-Server API › Retrieving events; history visibility).
 */
async function serverMayRead(engine: RoomEngine, origin: string, roomId: string): Promise<boolean> {
  // An unknown room: nothing to read (the engine's room queries throw ENGINE_UNKNOWN_ROOM for it).
  if (!(await engine.hasRoom(roomId))) return false;
  const members = (await engine.currentState(roomId)).ofType('m.room.member'); // user ID → event ID
  for (const [userId, eventId] of members) {
    if (!userId.endsWith(`:${origin}`)) continue;
    const membership = (await engine.getEvent(eventId))?.json['content'] as JsonObject | undefined;
    if (membership?.['membership'] === 'join' || membership?.['membership'] === 'invite') return true;
  }
  return false;
}

function guarded(engine: RoomEngine): FederationHandler {
  const roomOfEvent = async (eventId: string): Promise<string | undefined> => (await engine.getEvent(eventId))?.roomId;
  return {
    onGetEvent: async (origin, eventId) => {
      const roomId = await roomOfEvent(eventId);
      return roomId !== undefined && (await serverMayRead(engine, origin, roomId)) ? engine.onGetEvent(origin, eventId) : undefined;
    },
    onGetMissingEvents: async (origin, roomId, request) => ((await serverMayRead(engine, origin, roomId)) ? engine.onGetMissingEvents(origin, roomId, request) : []),
    onGetStateIds: async (origin, roomId, eventId) => ((await serverMayRead(engine, origin, roomId)) ? engine.onGetStateIds(origin, roomId, eventId) : { pduIds: [], authChainIds: [] }),
    onGetState: async (origin, roomId, eventId) => ((await serverMayRead(engine, origin, roomId)) ? engine.onGetState(origin, roomId, eventId) : { pdus: [], authChain: [] }),
    onBackfill: async (origin, roomId, from, limit) => ((await serverMayRead(engine, origin, roomId)) ? engine.onBackfill(origin, roomId, from, limit) : []),
    // Joining is how a server gets in: the engine checks the join against the room's rules.
    onMakeJoin: (origin, roomId, userId, versions) => engine.onMakeJoin(origin, roomId, userId, versions),
    onSendJoin: (origin, roomId, eventId, event) => engine.onSendJoin(origin, roomId, eventId, event),
    onGetServerKeys: () => engine.onGetServerKeys(),
    // Pushed PDUs go through every receipt check (signatures, auth, state) whoever sends them.
    onReceivePdus: (origin, pdus) => engine.onReceivePdus(origin, pdus),
  };
}

// Storage: a.example keeps its rooms in LevelDB (crash-safe, group commit); b.example in memory.
// RoomEngine.open opens the store; ownsStore: true hands it to the engine, whose close() closes it.
const a = await RoomEngine.open({ serverName: 'a.example', signingKey: keyA, keys, transport: network.transportFor('a.example'),
  store: new LevelRoomStore(join(mkdtempSync(join(tmpdir(), 'homeserver-a-')), 'rooms')), ownsStore: true });
const b = await RoomEngine.open({ serverName: 'b.example', signingKey: keyB, keys, transport: network.transportFor('b.example'), store: createMemoryStore(), ownsStore: true });
network.register('a.example', guarded(a));
network.register('b.example', guarded(b));

// Notifications: what a homeserver pushes to its clients (sync) comes from here.
const seenOnB: string[] = [];
b.subscribe((n) => { if (n.kind === 'event' && n.status === 'accepted') seenOnB.push(String(n.event['type'])); });

// Alice creates a room on a.example that anyone may join (the default preset, private_chat, is
// invite-only); Bob joins it from b.example (make_join / send_join).
const roomId = await a.createRoom({ roomVersion: '12', creator: '@alice:a.example', preset: 'public_chat' });
const join1 = await b.joinRemoteRoom(roomId, 'a.example', '@bob:b.example');
console.log(`bob's join: ${join1.status}; a.example sees bob as ${await a.membership(roomId, '@bob:b.example')}`);

// Local events are created, signed and stored by the engine, then sent to the other servers.
const hello = await b.createLocalEvent(roomId, { type: 'm.room.message', sender: '@bob:b.example', content: { msgtype: 'm.text', body: 'hello' } });
await b.sendToServers(['a.example'], [hello]);
console.log(`bob's message on a.example: ${(await a.getEvent(hello.eventId))?.status}`);

// Who may read what: b.example is in the room, so a.example serves it; c.example is not.
console.log(`served to b.example: ${(await guarded(a).onGetEvent('b.example', hello.eventId)) !== undefined}`);
console.log(`served to c.example: ${(await guarded(a).onGetEvent('c.example', hello.eventId)) !== undefined}`);
console.log(`b.example was notified of: ${[...new Set(seenOnB)].sort().join(', ')}`);

await b.close();
await a.close();
