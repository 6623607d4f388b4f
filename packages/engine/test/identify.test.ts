// Check 1 on receipt (receipt/identify.ts): a PDU's room and version. A room's version never
// changes, so once the store has answered for a room, later PDUs of it are identified at once
// (no promise, no store read); rooms the store does not know are never remembered — a PDU of one
// is dropped, and its create event is parsed by the version it names, as before.
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import { encodeBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { createMemoryStore } from '@roomgraph/store-memory';
import { StaticKeySource } from '@roomgraph/transport';
import { RoomEngine } from '../src/index.js';
import { createEngineContext } from '../src/context.js';
import { identify } from '../src/receipt/identify.js';
import { watchedStore } from './harness.js';

const key = signingKeyFromSeed(new Uint8Array(32).fill(5), 'id');
const keys = new StaticKeySource({ 'a.example': { [key.keyId]: encodeBase64(key.publicKey) } });

/** A room of version `v` made on a.example: create, admin join, …, and two messages. */
async function room(v: string): Promise<{ roomId: string; pdus: JsonObject[] }> {
  let clock = 1_700_000_000_000;
  const src = await RoomEngine.open({ ownsStore: true, serverName: 'a.example', signingKey: key, store: createMemoryStore(), keys, now: () => (clock += 1) });
  const roomId = await src.createRoom({ roomVersion: v, creator: '@admin:a.example', preset: 'public_chat' });
  for (let i = 0; i < 2; i++) await src.createLocalEvent(roomId, { type: 'm.room.message', sender: '@admin:a.example', content: { body: `m${i}` } });
  const pdus = (await src.timeline(roomId, { limit: 100 })).map((e) => e.json);
  await src.close();
  return { roomId, pdus };
}

describe('identify', () => {
  for (const v of ['10', '12']) {
    it(`room version ${v}: reads the room from the store until it is known, then identifies its PDUs at once`, async () => {
      const { roomId, pdus } = await room(v);
      const counter = { getRoom: 0 };
      const store = watchedStore(createMemoryStore(), { getRoom: () => { counter.getRoom++; } });
      const engine = await RoomEngine.open({ serverName: 'b.example', store, keys });
      const ctx = createEngineContext({ serverName: 'b.example', store, keys }, () => Promise.reject(new Error('not used')));
      await store.open();
      const create = pdus[0] as JsonObject;
      const message = pdus[pdus.length - 1] as JsonObject;

      // Unknown room: a message is dropped (after a store read), and nothing is remembered.
      const early = await identify(ctx, message);
      expect(early).toMatchObject({ status: 'dropped', rule: 'unknown_room' });
      const reads = counter.getRoom;
      expect(await identify(ctx, message)).toMatchObject({ status: 'dropped', rule: 'unknown_room' });
      expect(counter.getRoom).toBe(reads + 1);
      // Its create event: parsed by the version it names.
      const c = await identify(ctx, create);
      expect('status' in c).toBe(false);
      expect(c).toMatchObject({ roomId, rules: { id: v } });
      // Identified is not stored: its room is still unknown.
      expect(await identify(ctx, message)).toMatchObject({ status: 'dropped', rule: 'unknown_room' });

      // The room stored: the next PDU reads the room once; after that, none are read and the answer is not a promise.
      const outcomes = await engine.receivePdus('a.example', pdus);
      expect(outcomes.every((o) => o.status === 'accepted')).toBe(true);
      const before = counter.getRoom;
      const first = await identify(ctx, message);
      expect(first).toMatchObject({ roomId, rules: { id: v } });
      expect(counter.getRoom).toBe(before + 1);
      for (const [i, p] of pdus.entries()) {
        const now = identify(ctx, p);
        // (A v12 create event names no room: its room is computed, never looked up or remembered.)
        if (typeof p['room_id'] === 'string') expect(now).not.toBeInstanceOf(Promise);
        const got = await now;
        expect(got).toMatchObject({ roomId, rules: { id: v } });
        expect((got as { pdu: { eventId: string } }).pdu.eventId).toBe(outcomes[i]?.eventId);
      }
      expect(counter.getRoom).toBe(before + 1);
      // A malformed PDU of the remembered room is still dropped for its format.
      expect(identify(ctx, { ...message, depth: 'x' })).toMatchObject({ status: 'dropped', rule: 'format' });
      await engine.close();
      await store.close();
    });
  }
});
