// Serving history in a big room (federation/visibility.ts): what a server may see of each event
// depends on the state at that event — the history visibility and the memberships of that
// server's users. Those are point look-ups of the server's member keys, not a read of the whole
// state per event (a 100-event backfill in a 20k-member room took ~1 s that way).
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '@roomgraph/store-memory';
import { generateRoom } from '@roomgraph/testkit/room';
import { StaticKeySource } from '@roomgraph/transport';
import { RoomEngine } from '../src/index.js';
import { send, watchedStore, withFed } from './harness.js';

describe('serving history reads the state at each event by point look-ups', () => {
  it('a backfill over 40 joins (each with its own state) reads one whole state, and discloses them all', async () => {
    const room = generateRoom({ roomVersion: '10', members: 60, events: 64, servers: 3 });
    const pdus = [...room.events()].map((p) => p.json);
    let whole = 0;
    let memberReads = 0; // look-ups of the server's members in a state
    const store = watchedStore(createMemoryStore(), {
      loadState: () => { whole++; },
      getStateEntries: (_s, keys) => { if ((keys as readonly string[]).length > 1) memberReads++; },
    });
    const engine = await RoomEngine.open({ ownsStore: true, serverName: 'z.example', store, keys: new StaticKeySource(room.keys) });
    await engine.receivePdus('a.example', pdus, { trusted: true });
    const [tip] = await engine.forwardExtremities(room.roomId);
    whole = 0;
    memberReads = 0;
    const got = await engine.onBackfill('b.example', room.roomId, [tip!], 40);
    expect(got).toHaveLength(40);
    // b.example has joined members: every join is disclosed whole (content kept).
    for (const j of got) expect((j['content'] as { membership?: string }).membership).toBe('join');
    // The current state once (the server's member keys); was: one whole state per event's state.
    expect(whole).toBeLessThanOrEqual(1);
    // A `shared` room and a server joined now: its members at each event are not needed — read
    // in the current state only (was: in each of the 40 states).
    expect(memberReads).toBe(1);
    // A server with no member sees nothing of a `shared` room.
    expect(await engine.onBackfill('nobody.example', room.roomId, [tip!], 40)).toHaveLength(0);
    await engine.close();
  });

  it('requests after the first read no whole state: the member keys by server follow the current state', async () => {
    await withFed('memory', async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test');
      const c = fed.add('c.test');
      const roomId = await a.engine.createRoom({ roomVersion: '10', creator: '@alice:a.test', preset: 'public_chat', roomIdLocalpart: 'reads' });
      for (let i = 0; i < 6; i++) await send(a, [], roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: `m${i}` } });
      await b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test');
      let whole = 0;
      const loadState = a.store.loadState.bind(a.store);
      (a.store as { loadState: typeof loadState }).loadState = (snapshot) => { whole++; return loadState(snapshot); };
      const [tip] = await a.engine.forwardExtremities(roomId);
      await a.engine.onGetEvent('b.test', tip!);
      whole = 0;
      for (let i = 0; i < 5; i++) {
        expect(await a.engine.onGetEvent('b.test', tip!)).toBeDefined();
        expect(await a.engine.onBackfill('b.test', roomId, [tip!], 5)).toHaveLength(5);
        // c.test has no member: a `shared` room shows it nothing.
        expect(await a.engine.onBackfill('c.test', roomId, [tip!], 5)).toHaveLength(0);
      }
      // Was: the current state read whole for every request (to find the server's members).
      expect(whole).toBe(0);
      // c.test's user joins: its member key comes with the state diff, read once for the next
      // requests (the store's diff of two snapshots of this small room reads both whole: its
      // snapshots are not layered on each other), and c.test now sees the room's history.
      await c.engine.joinRemoteRoom(roomId, 'a.test', '@carol:c.test');
      const [tip2] = await a.engine.forwardExtremities(roomId);
      whole = 0;
      for (let i = 0; i < 5; i++) {
        expect(await a.engine.onBackfill('c.test', roomId, [tip2!], 5)).toHaveLength(5);
        expect(await a.engine.onGetEvent('c.test', tip!)).toBeDefined();
      }
      expect(whole).toBeLessThanOrEqual(2);
    });
  });
});
