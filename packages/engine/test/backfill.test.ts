/**
 * Backfilling (Server-Server API › Backfilling): a server that joined late fetches the older
 * history from a resident, in pages, until it reaches the create event; backfilled events get the
 * state the resident has for them and never move the forward extremities or the current state.
 * A resident slipping a forged event into the answer gets it dropped, the rest still lands.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import { signingKeyFromSeed } from '@roomgraph/crypto';
import { createMemoryStore } from '@roomgraph/store-memory';
import { StaticKeySource } from '@roomgraph/transport';
import { RoomEngine } from '../src/index.js';
import { STORE_KINDS, type Server, interceptHandler, roomView, seedOf, send, watchedStore, withFed } from './harness.js';

async function history(a: Server, roomId: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const sender = '@alice:a.test';
    const e = i % 5 === 4
      ? await send(a, [], roomId, { type: 'm.room.topic', stateKey: '', sender, content: { topic: `topic ${i}` } })
      : await send(a, [], roomId, { type: 'm.room.message', sender, content: { body: `m${i}` } });
    ids.push(e.eventId);
  }
  return ids;
}

describe.each(STORE_KINDS)('backfill (%s store)', (kind) => {
  it.each(['3', '11', '12'])('room version %s: pages back to the create event with the resident\'s state at each event', async (v) => {
    await withFed(kind, async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test');
      const roomId = await a.engine.createRoom({ roomVersion: v, creator: '@alice:a.test', preset: 'public_chat', ...(v === '12' ? {} : { roomIdLocalpart: `bf${v}` }) });
      const old = await history(a, roomId, 30);
      const join = await b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test');
      const view = await roomView(b, roomId);
      expect(view).toEqual(await roomView(a, roomId));
      expect(await b.engine.backwardExtremities(roomId)).toEqual([old[old.length - 1]]);

      // First page: the 10 newest events before the join, oldest first, all accepted.
      const page1 = await b.engine.backfill(roomId, 'a.test', { limit: 10 });
      expect(page1.map((o) => o.status)).toEqual(Array(10).fill('accepted'));
      expect(page1.map((o) => o.eventId)).toEqual(old.slice(-10));
      // Nothing moved: extremities and current state are as after the join.
      expect(await roomView(b, roomId)).toEqual(view);
      expect(await b.engine.forwardExtremities(roomId)).toEqual([join.eventId]);
      // Each backfilled event has the state the resident has for it.
      for (const id of page1.map((o) => o.eventId)) expect(await b.engine.stateAt(id)).toEqual(await a.engine.stateAt(id));

      // Keep going until the start of the room.
      let rounds = 0;
      while ((await b.engine.backwardExtremities(roomId)).length > 0 && rounds++ < 20) {
        const page = await b.engine.backfill(roomId, 'a.test', { limit: 10 });
        expect(page.every((o) => o.status === 'accepted')).toBe(true);
        expect(page.length).toBeGreaterThan(0);
      }
      expect(await b.engine.backwardExtremities(roomId)).toEqual([]);
      // B now has A's whole timeline in topological order, with the same statuses and states.
      const topoA = (await a.engine.topologicalOrder(roomId)).map((e) => [e.eventId, e.status]);
      const topoB = (await b.engine.topologicalOrder(roomId)).map((e) => [e.eventId, e.status]);
      expect(topoB).toEqual(topoA);
      for (const id of old) expect(await b.engine.stateAt(id, { after: true })).toEqual(await a.engine.stateAt(id, { after: true }));
      expect(await roomView(b, roomId)).toEqual(view);
      // Backfilling again is a no-op.
      expect(await b.engine.backfill(roomId, 'a.test')).toEqual([]);
    });
  });

  it('property: backfill answers in any order and grouping never move the extremities; all end as at the resident', async () => {
    await withFed(kind, async (fed) => {
      const a = fed.add('a.test');
      const roomId = await a.engine.createRoom({ roomVersion: '10', creator: '@alice:a.test', preset: 'public_chat', roomIdLocalpart: 'bfp' });
      await history(a, roomId, 6);
      const timeline = await a.store.timeline(roomId);
      const all = timeline.map((e) => e.json);
      let n = 0;
      await fc.assert(
        fc.asyncProperty(fc.shuffledSubarray(all.map((_, i) => i), { minLength: all.length, maxLength: all.length }), fc.integer({ min: 1, max: 4 }), async (order, chunk) => {
          const b = fed.add(`b${n++}.test`);
          const join = await b.engine.joinRemoteRoom(roomId, 'a.test', `@bob:${b.name}`);
          const view = await roomView(b, roomId);
          for (let i = 0; i < order.length; i += chunk) {
            const answer = order.slice(i, i + chunk).map((j) => all[j]!);
            interceptHandler(fed, a, () => ({ onBackfill: async () => answer }));
            await b.engine.backfill(roomId, 'a.test', { limit: 10 });
            expect(await b.engine.forwardExtremities(roomId)).toEqual([join.eventId]);
          }
          fed.net.register('a.test', a.engine);
          expect(await roomView(b, roomId)).toEqual(view);
          for (const e of timeline) expect((await b.engine.getEvent(e.eventId))?.status, e.eventId).toBe('accepted');
        }),
        { numRuns: 15 },
      );
    });
  });

  it('a forged event in a backfill answer is dropped; the genuine ones are stored', async () => {
    await withFed(kind, async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test');
      const roomId = await a.engine.createRoom({ roomVersion: '11', creator: '@alice:a.test', preset: 'public_chat', roomIdLocalpart: 'bfm' });
      const old = await history(a, roomId, 8);
      await b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test');
      const forgedId = old[3]!;
      interceptHandler(fed, a, (real) => ({
        // One event with another sender: its signature no longer verifies.
        onBackfill: async (...args) => (await real.onBackfill(...args)).map((e) => ((e['content'] as JsonObject)['body'] === 'm3' ? { ...e, sender: '@mallory:a.test' } : e)),
      }));
      const page = await b.engine.backfill(roomId, 'a.test', { limit: 50 });
      const byId = new Map(page.map((o) => [o.eventId, o.status]));
      expect([...byId.values()].filter((s) => s === 'dropped').length).toBe(1);
      expect(await b.engine.getEvent(forgedId)).toBeUndefined();
      for (const id of old.filter((x) => x !== forgedId && old.indexOf(x) > 3)) expect((await b.engine.getEvent(id))?.status).toBe('accepted');
      // The gap left by the dropped event stays a backward extremity, to be filled from elsewhere.
      fed.net.register('a.test', a.engine);
      expect(await b.engine.backwardExtremities(roomId)).toContain(forgedId);
      const retry = await b.engine.backfill(roomId, 'a.test', { limit: 50 });
      expect(retry.every((o) => o.status === 'accepted')).toBe(true);
      expect((await b.engine.getEvent(forgedId))?.status).toBe('accepted');
    });
  });

  // Finding the backward extremities read the room's whole timeline at every call — each backfill
  // page of a 1M-event room read 1M events. Now each call reads the events stored since the last.
  it('finding the backward extremities reads only the events stored since the last look', async () => {
    await withFed(kind, async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test');
      const roomId = await a.engine.createRoom({ roomVersion: '10', creator: '@alice:a.test', preset: 'public_chat', roomIdLocalpart: 'bfread' });
      const old = await history(a, roomId, 60);
      await b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test');
      let read = 0;
      const timeline = b.store.timeline.bind(b.store);
      (b.store as { timeline: typeof timeline }).timeline = async (room, options) => {
        const page = await timeline(room, options);
        read += page.length;
        return page;
      };
      const readBy = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
        read = 0;
        const r = await fn();
        return [r, read];
      };
      expect(await b.engine.backwardExtremities(roomId)).toEqual([old[old.length - 1]]);
      // Nothing stored since: nothing read again.
      expect(await readBy(() => b.engine.backwardExtremities(roomId))).toEqual([[old[old.length - 1]], 0]);
      for (let page = 1; page <= 5; page++) {
        const [got] = await readBy(() => b.engine.backfill(roomId, 'a.test', { limit: 10 }));
        expect(got.map((o) => o.status)).toEqual(Array(10).fill('accepted'));
        // The 10 events the page stored, no more (the whole timeline read would be 10 × page + the join's).
        const [ext, n] = await readBy(() => b.engine.backwardExtremities(roomId));
        expect(n).toBe(10);
        expect(ext).toEqual([old[old.length - 1 - 10 * page]]);
      }
      // A new event of the room: read once.
      await send(a, [b], roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: 'new' } });
      expect((await readBy(() => b.engine.backwardExtremities(roomId)))[1]).toBe(1);
    });
  });
});

// The first look at a room's backward extremities reads its timeline once; a prev event among the
// events read (most events cite the one just before them) is no candidate, so what is kept — and
// looked up in the store at the end — is about the backward extremities, not every prev event of
// the room (1M of them in a 1M-event room).
describe('the first look at the backward extremities', () => {
  it('keeps no candidate for a room whose timeline it has whole', async () => {
    let asked = 0;
    const store = watchedStore(createMemoryStore(), { getEvents: (ids) => { asked += (ids as readonly string[]).length; } });
    const a = await RoomEngine.open({ ownsStore: true, serverName: 'a.test', store, signingKey: signingKeyFromSeed(seedOf(1), 'k'), keys: new StaticKeySource({}) });
    const roomId = await a.createRoom({ roomVersion: '10', creator: '@alice:a.test', preset: 'public_chat' });
    for (let i = 0; i < 50; i++) await a.createLocalEvent(roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: `m${i}` } });
    asked = 0;
    expect(await a.backwardExtremities(roomId)).toEqual([]);
    // Was: every prev event of the room's 55 events looked up.
    expect(asked).toBe(0);
    await a.close();
  });
});
