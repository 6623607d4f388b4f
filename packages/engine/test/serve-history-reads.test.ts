// Serving history in a big room (federation/visibility.ts): what a server may see of each event
// depends on the state at that event — the history visibility and the memberships of that
// server's users. Those are point look-ups of the server's member keys, not a read of the whole
// state per event (a 100-event backfill in a 20k-member room took ~1 s that way).
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '@roomgraph/store-memory';
import { generateRoom } from '@roomgraph/testkit/room';
import { StaticKeySource } from '@roomgraph/transport';
import { RoomEngine } from '../src/index.js';
import { watchedStore } from './harness.js';

describe('serving history reads the state at each event by point look-ups', () => {
  it('a backfill over 40 joins (each with its own state) reads one whole state, and discloses them all', async () => {
    const room = generateRoom({ roomVersion: '10', members: 60, events: 64, servers: 3 });
    const pdus = [...room.events()].map((p) => p.json);
    let whole = 0;
    const store = watchedStore(createMemoryStore(), { loadState: () => { whole++; } });
    const engine = await RoomEngine.open({ ownsStore: true, serverName: 'z.example', store, keys: new StaticKeySource(room.keys) });
    await engine.receivePdus('a.example', pdus, { trusted: true });
    const [tip] = await engine.forwardExtremities(room.roomId);
    whole = 0;
    const got = await engine.onBackfill('b.example', room.roomId, [tip!], 40);
    expect(got).toHaveLength(40);
    // b.example has joined members: every join is disclosed whole (content kept).
    for (const j of got) expect((j['content'] as { membership?: string }).membership).toBe('join');
    // The current state once (the server's member keys); was: one whole state per event's state.
    expect(whole).toBeLessThanOrEqual(1);
    // A server with no member sees nothing of a `shared` room.
    expect(await engine.onBackfill('nobody.example', room.roomId, [tip!], 40)).toHaveLength(0);
    await engine.close();
  });
});
