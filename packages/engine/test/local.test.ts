import { describe, expect, it } from 'vitest';
import { encodeBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { EngineError, RoomEngine } from '@roomgraph/engine';
import { createMemoryStore } from '@roomgraph/store-memory';
import { StaticKeySource } from '@roomgraph/transport';

describe('local events', () => {
  it.each(['1', '10', '12'])('v%s: an event that fails auth throws ENGINE_AUTH_FAILED and stores nothing', async (v) => {
    const key = signingKeyFromSeed(new Uint8Array(32).fill(3), 'k');
    const store = createMemoryStore();
    let t = 1_700_000_000_000;
    const engine = await RoomEngine.open({ ownsStore: true,
      serverName: 'a.example', signingKey: key, store, now: () => (t += 1),
      keys: new StaticKeySource({ 'a.example': { [key.keyId]: encodeBase64(key.publicKey) } }),
    });
    const roomId = await engine.createRoom({ roomVersion: v, creator: '@alice:a.example', preset: 'public_chat' });
    const before = { stats: await store.stats(), room: await store.getRoom(roomId), state: await engine.currentState(roomId) };
    // Not joined: rejected by the sender-membership rule.
    const err = await engine.createLocalEvent(roomId, { type: 'm.room.message', sender: '@mallory:a.example', content: { body: 'hi' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('ENGINE_AUTH_FAILED');
    expect((err as EngineError).rule).toBe('sender_not_joined');
    expect({ stats: await store.stats(), room: await store.getRoom(roomId), state: await engine.currentState(roomId) }).toEqual(before);
    // A valid one still works afterwards and becomes the only forward extremity.
    const ok = await engine.createLocalEvent(roomId, { type: 'm.room.topic', stateKey: '', sender: '@alice:a.example', content: { topic: 't' } });
    expect(await engine.forwardExtremities(roomId)).toEqual([ok.eventId]);
    expect((await engine.currentState(roomId)).get('m.room.topic', '')).toBe(ok.eventId);
    await engine.close();
  });
});
