// A room with many forward extremities (many branches from one event: a forky room, or a server
// sending many concurrent events on purpose). Receiving one more event must read the extremities
// a bounded number of times: the block path (receipt/import-block.ts) used to walk them with one
// store read per retry — every extremity read anew for each one missing, quadratic per event
// (~80 ms per event at 1,000 extremities) — and must still give what the per-event path gives.
import { describe, expect, it, vi } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import { encodeBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { type RoomEvent, stateKeyOf, toRoomEvent } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { resolveStateSync } from '@roomgraph/state-res';
import { createMemoryStore } from '@roomgraph/store-memory';
import { StaticKeySource } from '@roomgraph/transport';
import { RoomEngine, RoomState } from '../src/index.js';
import { StateView } from '../src/state/vstate.js';
import { fixedClock, watchedStore } from './harness.js';

const key = signingKeyFromSeed(new Uint8Array(32).fill(5), 'k');
const keys = new StaticKeySource({ 'a.example': { [key.keyId]: encodeBase64(key.publicKey) } });
const BRANCHES = 150;

/** A room on a.example whose last BRANCHES messages all follow one event, and its PDUs in order. */
async function forkyRoom(): Promise<{ roomId: string; pdus: JsonObject[]; extremities: string[]; state: unknown }> {
  const a = await RoomEngine.open({ ownsStore: true, serverName: 'a.example', signingKey: key, store: createMemoryStore(), keys, now: fixedClock() });
  const roomId = await a.createRoom({ roomVersion: '10', creator: '@admin:a.example', preset: 'public_chat' });
  await a.createLocalEvent(roomId, { type: 'm.room.member', stateKey: '@u:a.example', sender: '@u:a.example', content: { membership: 'join' } });
  const [base] = await a.forwardExtremities(roomId);
  for (let i = 0; i < BRANCHES; i++) {
    await a.createLocalEvent(roomId, { type: 'm.room.message', sender: i % 2 === 0 ? '@admin:a.example' : '@u:a.example', content: { body: `branch ${i}` }, prevEvents: [base!] });
  }
  const pdus = (await a.timeline(roomId, { limit: 1000 })).map((e) => e.json);
  const out = { roomId, pdus, extremities: await a.forwardExtremities(roomId), state: (await a.currentState(roomId)).toJSON() };
  await a.close();
  return out;
}

describe('a room with many forward extremities', () => {
  for (const mode of ['batch', 'single', 'trusted'] as const) {
    it(`receiving each event reads the stored events a bounded number of times (${mode})`, async () => {
      const room = await forkyRoom();
      expect(room.extremities).toHaveLength(BRANCHES);
      // Single-event reads (`getEvent`, what the block walk's retries use) and the IDs read in all.
      let single = 0;
      let ids = 0;
      const store = watchedStore(createMemoryStore(), {
        getEvent: () => { single++; ids++; },
        getEvents: (list) => { ids += (list as readonly string[]).length; },
      });
      const b = await RoomEngine.open({ ownsStore: true, serverName: 'b.example', store, keys });
      const receive = async (pdu: JsonObject): Promise<string> =>
        mode === 'single' ? (await b.receivePdu('a.example', pdu)).status : (await b.receivePdus('a.example', [pdu], { trusted: mode === 'trusted' }))[0]!.status;
      const last = room.pdus.length - 1;
      for (let i = 0; i < last; i++) expect(await receive(room.pdus[i]!)).toBe('accepted');
      // The last event, with BRANCHES - 1 extremities stored: the per-event path reads them once
      // or twice (the child walk, the current state); the quadratic walk read them ~BRANCHES² / 2
      // times, one `getEvent` each.
      single = 0;
      ids = 0;
      expect(await receive(room.pdus[last]!)).toBe('accepted');
      expect(single).toBeLessThan(20);
      expect(ids).toBeLessThan(4 * BRANCHES);
      expect(await b.forwardExtremities(room.roomId)).toEqual(room.extremities);
      expect((await b.currentState(room.roomId)).toJSON()).toEqual(room.state);
      await b.close();
    });
  }
});

/** A room on a.example whose last `count` events are users' joins, each on the same one event. */
async function joinBranches(count: number, prefix: string): Promise<{ a: RoomEngine; roomId: string }> {
  const a = await RoomEngine.open({ ownsStore: true, serverName: 'a.example', signingKey: key, store: createMemoryStore(), keys, now: fixedClock() });
  const roomId = await a.createRoom({ roomVersion: '10', creator: '@admin:a.example', preset: 'public_chat' });
  const [base] = await a.forwardExtremities(roomId);
  for (let i = 0; i < count; i++) {
    const u = `@${prefix}${i}:a.example`;
    await a.createLocalEvent(roomId, { type: 'm.room.member', stateKey: u, sender: u, content: { membership: 'join' }, prevEvents: [base!] });
  }
  return { a, roomId };
}

/** What state-res gives for the states after `engine`'s forward extremities, as plain maps. */
async function plainCurrentState(engine: RoomEngine, roomId: string): Promise<RoomState> {
  const rules = getRoomVersion('10');
  const events = new Map<string, RoomEvent>();
  for (const e of await engine.timeline(roomId, { limit: 1000 })) events.set(e.eventId, toRoomEvent(e.json, rules, e.eventId));
  const sets = await Promise.all((await engine.forwardExtremities(roomId)).map(async (x) => {
    const m = new Map<string, string>();
    for (const { type, stateKey, eventId } of await engine.stateAt(x, { after: true })) m.set(stateKeyOf(type, stateKey), eventId);
    return m;
  }));
  return RoomState.fromStateMap(resolveStateSync(rules, sets, events));
}

// Many extremities, each with a state of its own (every branch a new user's join): the room's
// current state is the resolution of all their states. The engine hands them to the resolution as
// one base with an overlay each (state-res `layers`), so splitting them costs the overlays' size;
// as plain state maps every differing key was looked up in every state — keys × states, ~2 × 150²
// state reads for one event here (~19 ms per event at 600 extremities).
describe('a room with many forward extremities, each with its own state', () => {
  it('receiving an event reads the extremities’ states in proportion to their differences, and resolves them as the spec says', async () => {
    const { a, roomId } = await joinBranches(BRANCHES, 'j');
    const pdus = (await a.timeline(roomId, { limit: 1000 })).map((e) => e.json);
    const want = (await a.currentState(roomId)).toJSON();
    await a.close();
    const store = createMemoryStore();
    const b = await RoomEngine.open({ ownsStore: true, serverName: 'b.example', store, keys });
    const last = pdus.length - 1;
    for (let i = 0; i < last; i++) expect((await b.receivePdu('a.example', pdus[i]!)).status).toBe('accepted');
    // The snapshots written: each new current state is stored as a change of the previous one
    // (about the event's own entry), not of the new event's state (every other branch's joins:
    // ~BRANCHES² / 2 entries in all — 12,823 here before).
    expect((await store.stats()).snapshotEntries).toBeLessThan(20 * BRANCHES);
    const reads = vi.spyOn(StateView.prototype, 'get');
    expect((await b.receivePdu('a.example', pdus[last]!)).status).toBe('accepted');
    expect(reads.mock.calls.length).toBeLessThan(4 * BRANCHES); // 156 here; 67,656 as plain maps
    reads.mockRestore();
    const extremities = await b.forwardExtremities(roomId);
    expect(extremities).toHaveLength(BRANCHES);
    const got = await b.currentState(roomId);
    expect(got.toJSON()).toEqual(want);
    expect(got.ofType('m.room.member').size).toBe(BRANCHES + 1);
    // The same as state-res resolving the extremities' states as plain maps.
    expect((await plainCurrentState(b, roomId)).equals(got)).toBe(true);
    await b.close();
  });
});

// A room that stays forked — many extremities with states of their own — while a server builds
// on one branch: each message leaves the set of the extremities' states as it was, so the current
// state is the one already resolved from them. It used to be resolved again for every message
// (and written as a new snapshot each time).
describe('a room that stays forked', () => {
  it('an event that leaves the extremities’ states as they were is not resolved again, and the state is right', async () => {
    const FORKS = 40;
    const { a, roomId } = await joinBranches(FORKS, 'f');
    let prev = (await a.timeline(roomId, { limit: 1, direction: 'backwards' }))[0]!.eventId;
    for (let i = 0; i < 20; i++) {
      prev = (await a.createLocalEvent(roomId, { type: 'm.room.message', sender: '@admin:a.example', content: { body: `m${i}` }, prevEvents: [prev] })).eventId;
    }
    // A state event on the branch changes its state: resolved again.
    const topic = await a.createLocalEvent(roomId, { type: 'm.room.topic', stateKey: '', sender: '@admin:a.example', content: { topic: 'later' }, prevEvents: [prev] });
    const pdus = (await a.timeline(roomId, { limit: 1000 })).map((e) => e.json);
    const want = (await a.currentState(roomId)).toJSON();
    await a.close();

    let diffs = 0;
    let snapshots = 0;
    const store = watchedStore(createMemoryStore(), {
      diffStates: () => { diffs++; },
      commit: (c) => { snapshots += (c as { snapshots?: readonly unknown[] }).snapshots?.length ?? 0; },
    });
    const b = await RoomEngine.open({ ownsStore: true, serverName: 'b.example', store, keys });
    const perEvent: [number, number][] = [];
    for (const pdu of pdus) {
      diffs = 0;
      snapshots = 0;
      expect((await b.receivePdu('a.example', pdu)).status).toBe('accepted');
      perEvent.push([diffs, snapshots]);
    }
    const messages = perEvent.slice(pdus.length - 21, pdus.length - 1);
    // The first message's states differ from the last join's (its own state is now stored): one
    // resolution; the other 19 none, and no snapshot written (the current state is unchanged).
    expect(messages[0]![0]).toBeGreaterThan(FORKS / 2);
    for (const [d, n] of messages.slice(1)) expect([d, n]).toEqual([0, 0]);
    const [topicDiffs] = perEvent[pdus.length - 1]!;
    expect(topicDiffs).toBeGreaterThan(FORKS / 2);
    expect(await b.forwardExtremities(roomId)).toHaveLength(FORKS);
    expect((await b.forwardExtremities(roomId)).includes(topic.eventId)).toBe(true);
    expect((await b.currentState(roomId)).toJSON()).toEqual(want);
    // And the state-res answer over the extremities' states as plain maps.
    expect((await plainCurrentState(b, roomId)).equals(await b.currentState(roomId))).toBe(true);
    await b.close();
  });
});
