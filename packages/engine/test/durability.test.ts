/**
 * Durability of acknowledgements with group commit: the engine commits with `durable: false` and
 * waits for the store's flush before it returns outcomes or hands out notifications. A write that
 * fails part-way loses only unacknowledged events: every notified event is stored after reopening,
 * and nothing else from the failed batch is.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineError, RoomEngine, type EngineNotification } from '@roomgraph/engine';
import { isStoreError, type StoreWriteBatch } from '@roomgraph/store';
import { createMemoryStore } from '@roomgraph/store-memory';
import { LevelRoomStore } from '@roomgraph/store-level';
import { publicKeyBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { StaticKeySource } from '@roomgraph/transport';
import { fixedClock, seedOf } from './harness.js';

/** Fails every write after the first `okWrites`. */
class FlakyStore extends LevelRoomStore {
  okWrites = Infinity;
  writes = 0;
  protected override async _writeGroup(batches: readonly StoreWriteBatch[]): Promise<void> {
    if (this.writes++ >= this.okWrites) throw new Error('I/O error');
    return super._writeGroup(batches);
  }
}

describe('engine durability with group commit', () => {
  it('acknowledges only durable events; a failed write loses only what was never notified', async () => {
    const key = signingKeyFromSeed(seedOf(1), 'k1');
    const keys = new StaticKeySource({ 'a.test': { [key.keyId]: publicKeyBase64(key) } });
    const src = await RoomEngine.open({ ownsStore: true, serverName: 'a.test', signingKey: key, store: createMemoryStore(), keys, now: fixedClock() });
    const roomId = await src.createRoom({ roomVersion: '11', creator: '@alice:a.test', preset: 'public_chat', roomIdLocalpart: 'dur' });
    for (let i = 0; i < 60; i++) await src.createLocalEvent(roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: `m${i}` } });
    const pdus = (await src.timeline(roomId, { limit: 1000 })).map((e) => e.json);
    await src.close();

    const dir = mkdtempSync(join(tmpdir(), 'rg-dur-'));
    try {
      const store = new FlakyStore(dir);
      const engine = await RoomEngine.open({ ownsStore: true, serverName: 'b.test', store, keys });
      const notified: string[] = [];
      engine.subscribe((n: EngineNotification) => { if (n.kind === 'event') notified.push(n.eventId); });
      // First call: all acknowledged, every event notified.
      const first = await engine.receivePdus('a.test', pdus.slice(0, 20));
      expect(first.every((o) => o.status === 'accepted')).toBe(true);
      expect(notified).toEqual(first.map((o) => o.eventId));
      // Second call: the writes start failing part-way.
      // (Received PDUs are committed in blocks — a few writes per call — so the second write fails.)
      store.okWrites = store.writes + 1;
      await expect(engine.receivePdus('a.test', pdus.slice(20))).rejects.toSatisfy((e: unknown) => isStoreError(e, 'STORE_IO'));
      // The engine refuses further work: its caches describe commits that were lost.
      await expect(engine.currentState(roomId)).rejects.toSatisfy((e: unknown) => e instanceof EngineError && e.code === 'ENGINE_CLOSED');
      await engine.close().catch(() => undefined);
      await expect(engine.receivePdus('a.test', pdus.slice(20))).rejects.toSatisfy((e: unknown) => e instanceof EngineError && e.code === 'ENGINE_CLOSED');

      const reopened = new LevelRoomStore(dir);
      await reopened.open();
      const stored = (await reopened.timeline(roomId, { limit: 1000 })).map((e) => e.eventId);
      await reopened.close();
      // Every notified event survived; the stored events are a prefix of the input.
      expect(stored.length).toBeGreaterThanOrEqual(20);
      expect(stored.length).toBeLessThan(pdus.length);
      expect(notified.every((id) => stored.includes(id))).toBe(true);
      // The failed call's notifications were withheld (its events' fate is known only after reopening).
      expect(notified.length).toBe(20);
      expect(stored).toEqual(first.map((o) => o.eventId).concat(stored.slice(20)));

      // A fresh engine on the reopened store continues where the durable prefix ended.
      const engine2 = await RoomEngine.open({ ownsStore: true, serverName: 'b.test', store: new LevelRoomStore(dir), keys });
      const rest = await engine2.receivePdus('a.test', pdus);
      expect(rest.every((o) => o.status === 'accepted')).toBe(true);
      expect((await engine2.timeline(roomId, { limit: 1000 })).map((e) => e.eventId)).toEqual(rest.map((o) => o.eventId));
      await engine2.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
