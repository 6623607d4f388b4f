// Parked events (receipt/parked.ts) retried by what they wait for: a room holding many parked
// events must not cost each later event a look at every one of them (the engine used to list and
// parse the whole park, and ask the store about each parked event's dependencies, after every
// event stored), and a chain of parked events delivered newest first is taken whole when its
// first event arrives (the engine used to stop after 100 rounds, one event each).
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import { encodeBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { type Pdu, buildEvent, parsePdu } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { createMemoryStore } from '@roomgraph/store-memory';
import { StaticKeySource } from '@roomgraph/transport';
import { RoomEngine } from '../src/index.js';
import { ParkedIndex } from '../src/receipt/parked.js';
import { fixedClock, watchedStore } from './harness.js';

const key = signingKeyFromSeed(new Uint8Array(32).fill(6), 'k');
const keys = new StaticKeySource({ 'a.example': { [key.keyId]: encodeBase64(key.publicKey) } });
const admin = '@admin:a.example';

/** A room made on a.example: its first events, then `messages` messages in a line. */
async function room(messages: number): Promise<{ roomId: string; head: JsonObject[]; line: JsonObject[] }> {
  const a = await RoomEngine.open({ ownsStore: true, serverName: 'a.example', signingKey: key, store: createMemoryStore(), keys, now: fixedClock() });
  const roomId = await a.createRoom({ roomVersion: '10', creator: admin, preset: 'public_chat' });
  const head = (await a.timeline(roomId, { limit: 100 })).map((e) => e.json);
  const line: JsonObject[] = [];
  for (let i = 0; i < messages; i++) line.push((await a.createLocalEvent(roomId, { type: 'm.room.message', sender: admin, content: { body: `m${i}` } })).json);
  await a.close();
  return { roomId, head, line };
}

describe('parked events', () => {
  it('a room with many parked events: a later event looks at none of them that it does not free', async () => {
    const r = await room(3);
    const rules = getRoomVersion('10');
    let listed = 0;
    let asked = 0;
    const store = watchedStore(createMemoryStore(), { listParkedEvents: () => { listed++; }, hasEvents: () => { asked++; } });
    const b = await RoomEngine.open({ ownsStore: true, serverName: 'b.example', store, keys });
    await b.receivePdus('a.example', r.head);
    // 200 messages citing an event nobody has: parked (no transport to fetch it from).
    const auth = r.head.map((j) => parsePdu(j, rules)).filter((p) => p.type === 'm.room.create' || p.type === 'm.room.power_levels' || (p.type === 'm.room.member' && p.stateKey === admin));
    for (let i = 0; i < 200; i++) {
      const missing = { eventId: `$missing${String(i).padStart(36, '0')}`, depth: 10 };
      const orphan = buildEvent({ roomVersion: rules, type: 'm.room.message', sender: admin, content: { body: `orphan ${i}` }, prevEvents: [missing], authEvents: auth, depth: 11, originServerTs: 1_800_000_000_000 + i, roomId: r.roomId }, { serverName: 'a.example', key });
      expect((await b.receivePdu('a.example', orphan.json)).status).toBe('parked');
    }
    expect(await store.listParkedEvents(r.roomId)).toHaveLength(200);
    // The room's line: each event stored frees no parked event.
    for (const pdu of r.line) {
      listed = 0;
      asked = 0;
      expect((await b.receivePdu('a.example', pdu)).status).toBe('accepted');
      // (Was: the whole park listed and parsed, and one `hasEvents` per parked event.)
      expect(listed).toBeLessThanOrEqual(1);
      expect(asked).toBeLessThan(10);
    }
    expect(await store.listParkedEvents(r.roomId)).toHaveLength(200);
    await b.close();
  });

  it('a line of 250 events delivered newest first is accepted whole once its first event arrives', async () => {
    const r = await room(250);
    let listed = 0;
    const b = await RoomEngine.open({ ownsStore: true, serverName: 'b.example', store: watchedStore(createMemoryStore(), { listParkedEvents: () => { listed++; } }), keys });
    await b.receivePdus('a.example', r.head);
    const reversed = [...r.line].reverse();
    for (const pdu of reversed.slice(0, -1)) expect((await b.receivePdu('a.example', pdu)).status).toBe('parked');
    listed = 0;
    expect((await b.receivePdu('a.example', reversed[reversed.length - 1]!)).status).toBe('accepted');
    // The park read once for the whole chain (was: once per round, one event each).
    expect(listed).toBeLessThanOrEqual(1);
    const timeline = await b.timeline(r.roomId, { limit: 1000 });
    expect(timeline.filter((e) => e.status === 'accepted')).toHaveLength(r.head.length + r.line.length);
    expect(await b.forwardExtremities(r.roomId)).toEqual([parsePdu(r.line[r.line.length - 1]!, getRoomVersion('10')).eventId]);
    await b.close();
  });

  it('parked events freed one at a time: each retry reads the records it frees, not the park', async () => {
    const r = await room(120);
    let listed = 0;
    let read: number[] = [];
    const store = watchedStore(createMemoryStore(), {
      listParkedEvents: () => { listed++; },
      getParkedEvents: (_room, ids) => { read.push((ids as readonly string[]).length); },
    });
    const b = await RoomEngine.open({ ownsStore: true, serverName: 'b.example', store, keys });
    await b.receivePdus('a.example', r.head);
    // Every other event of the line first: each cites the one before it, missing — 60 parked.
    for (let i = 1; i < r.line.length; i += 2) expect((await b.receivePdu('a.example', r.line[i]!)).status).toBe('parked');
    expect(await store.listParkedEvents(r.roomId)).toHaveLength(60);
    // Then the others, in order: each frees one parked event.
    listed = 0;
    read = [];
    for (let i = 0; i < r.line.length; i += 2) expect((await b.receivePdu('a.example', r.line[i]!)).status).toBe('accepted');
    // (Was: the whole park listed at each of the 60 — 60 × the park read for 60 events taken.)
    expect(listed).toBe(0);
    expect(read).toEqual(Array(60).fill(1));
    expect(await store.listParkedEvents(r.roomId)).toHaveLength(0);
    expect((await b.timeline(r.roomId, { limit: 1000 })).filter((e) => e.status === 'accepted')).toHaveLength(r.head.length + r.line.length);
    await b.close();
  });

  it('parked events left by an earlier process are all looked at by the first retry of the next', async () => {
    const r = await room(5);
    const store = createMemoryStore();
    const b = await RoomEngine.open({ serverName: 'b.example', store, keys });
    await b.receivePdus('a.example', r.head);
    // The line newest first but its first event: all parked.
    for (const pdu of [...r.line].reverse().slice(0, -1)) expect((await b.receivePdu('a.example', pdu)).status).toBe('parked');
    await b.close();
    // A new engine on the same store; the first event arrives.
    const c = await RoomEngine.open({ serverName: 'b.example', store, keys });
    expect((await c.receivePdu('a.example', r.line[0]!)).status).toBe('accepted');
    expect(await store.listParkedEvents(r.roomId)).toHaveLength(0);
    expect((await c.timeline(r.roomId, { limit: 100 })).filter((e) => e.status === 'accepted')).toHaveLength(r.head.length + r.line.length);
    await c.close();
    await store.close();
  });
});

describe('the park limit', () => {
  it('past limits.maxParkedPerRoom an event that would be parked is dropped (park.full); the park keeps what it had', async () => {
    const r = await room(1);
    const rules = getRoomVersion('10');
    const store = createMemoryStore();
    const b = await RoomEngine.open({ ownsStore: true, serverName: 'b.example', store, keys, limits: { maxParkedPerRoom: 5 } });
    await b.receivePdus('a.example', r.head);
    const auth = r.head.map((j) => parsePdu(j, rules)).filter((p) => p.type === 'm.room.create' || p.type === 'm.room.power_levels' || (p.type === 'm.room.member' && p.stateKey === admin));
    const orphans = Array.from({ length: 8 }, (_, i) => buildEvent({
      roomVersion: rules, type: 'm.room.message', sender: admin, content: { body: `orphan ${i}` },
      prevEvents: [{ eventId: `$missing${String(i).padStart(36, '0')}`, depth: 10 }], authEvents: auth, depth: 11, originServerTs: 1_800_000_000_000 + i, roomId: r.roomId,
    }, { serverName: 'a.example', key }).json);
    const outcomes = [];
    for (const o of orphans) outcomes.push(await b.receivePdu('a.example', o));
    expect(outcomes.map((o) => o.status)).toEqual(['parked', 'parked', 'parked', 'parked', 'parked', 'dropped', 'dropped', 'dropped']);
    expect(outcomes[5]!.rule).toBe('park.full');
    // One parked already comes again: still parked (its record replaced), not dropped.
    expect((await b.receivePdu('a.example', orphans[0]!)).status).toBe('parked');
    expect(await store.listParkedEvents(r.roomId)).toHaveLength(5);
    // The room goes on.
    expect((await b.receivePdu('a.example', r.line[0]!)).status).toBe('accepted');
    await b.close();
  });

  it('rejects a limit that is not a positive integer', async () => {
    await expect(RoomEngine.open({ serverName: 'b.example', store: createMemoryStore(), keys, limits: { maxParkedPerRoom: 0 } })).rejects.toMatchObject({ code: 'ENGINE_INVALID_ARGUMENT' });
  });
});

describe('ParkedIndex', () => {
  const pdu = (eventId: string, prevEvents: string[], authEvents: string[]): Pdu => ({ eventId, prevEvents, authEvents }) as unknown as Pdu;

  it('knows each parked event by what it cites, and forgets it whole', () => {
    const index = new ParkedIndex(0);
    index.add(pdu('$x', ['$p'], ['$a', '$p']));
    index.add(pdu('$y', ['$p', '$q'], ['$a']));
    expect(index.deps.get('$x')).toEqual(['$p', '$a']);
    expect([...index.citing(['$q'])]).toEqual(['$y']);
    expect([...index.citing(['$p', '$zz'])].sort()).toEqual(['$x', '$y']);
    index.stuck.add('$x');
    index.remove('$x');
    expect([...index.citing(['$p', '$a'])]).toEqual(['$y']);
    expect(index.stuck.has('$x')).toBe(false);
    // Parked again with other references: the old ones are forgotten.
    index.add(pdu('$y', ['$r'], []));
    expect([...index.citing(['$p', '$q', '$a'])]).toEqual([]);
    expect([...index.citing(['$r'])]).toEqual(['$y']);
    index.remove('$y');
    expect(index.waiters.size).toBe(0);
  });
});
