// receivePdus' look-ahead (receipt/lookahead.ts) and the blocks it feeds (receipt/receive.ts):
// the window refills as PDUs are handed to the verification thread and never holds more than two
// windows past the first PDU not committed; commits stay in order; a block ends before a PDU whose
// checks are slow once it holds MIN_BLOCK PDUs (committing what is verified meanwhile), and the
// next block — not the per-event path — takes the PDUs after it; PDUs identified before their
// room existed are identified again together.
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import { encodeBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { type RoomStore } from '@roomgraph/store';
import { createMemoryStore } from '@roomgraph/store-memory';
import { type KeySource, type ServerKey, StaticKeySource } from '@roomgraph/transport';
import { RoomEngine } from '../src/index.js';
import { createEngineContext } from '../src/context.js';
import { LookAhead, PACE } from '../src/receipt/lookahead.js';
import { MIN_BLOCK } from '../src/receipt/receive.js';
import { watchedStore } from './harness.js';

const key = signingKeyFromSeed(new Uint8Array(32).fill(9), 'la');
const staticKeys = new StaticKeySource({ 'a.example': { [key.keyId]: encodeBase64(key.publicKey) } });

/** A room made on a.example: its create event first, then joins and messages (all plain: each cites the one before). */
async function room(members: number, messages: number): Promise<{ roomId: string; pdus: JsonObject[] }> {
  let clock = 1_700_000_000_000;
  const src = await RoomEngine.open({ ownsStore: true, serverName: 'a.example', signingKey: key, store: createMemoryStore(), keys: staticKeys, now: () => (clock += 1) });
  const roomId = await src.createRoom({ roomVersion: '10', creator: '@admin:a.example', preset: 'public_chat' });
  for (let i = 0; i < members; i++) {
    const u = `@u${i}:a.example`;
    await src.createLocalEvent(roomId, { type: 'm.room.member', stateKey: u, sender: u, content: { membership: 'join' } });
  }
  for (let i = 0; i < messages; i++) await src.createLocalEvent(roomId, { type: 'm.room.message', sender: `@u${i % members}:a.example`, content: { body: `m${i}` } });
  const pdus = (await src.timeline(roomId, { limit: 10_000 })).map((e) => e.json);
  await src.close();
  return { roomId, pdus };
}

const fixture = room(6, 140);

/** The store, counting the events committed (by blocks and one at a time) in `counter`. */
function counting(store: RoomStore, counter: { blocks: number; single: number }): RoomStore {
  return watchedStore(store, {
    commitMany: (commits) => { counter.blocks += (commits as readonly unknown[]).length; },
    commit: () => { counter.single++; },
  });
}

describe('receivePdus look-ahead', () => {
  for (const lookahead of [1, 4, 16, 64]) {
    it(`lookahead ${lookahead}: commits in order, and never hands more than ${2 * lookahead} PDUs past the first not committed to the verification thread`, async () => {
      const { roomId, pdus } = await fixture;
      const counter = { blocks: 0, single: 0 };
      let started = 0;
      let most = 0;
      // Each PDU handed to the verification thread looks its key up once (after being identified).
      const keys: KeySource = {
        getKey(server: string, keyId: string): Promise<ServerKey | undefined> {
          started++;
          most = Math.max(most, started - (counter.blocks + counter.single));
          return staticKeys.getKey(server, keyId);
        },
      };
      const engine = await RoomEngine.open({ ownsStore: true, serverName: 'b.example', store: counting(createMemoryStore(), counter), keys });
      const outcomes = [];
      for (let i = 0; i < pdus.length; i += 100) outcomes.push(...await engine.receivePdus('a.example', pdus.slice(i, i + 100), { lookahead }));
      expect(outcomes.map((o) => o.status)).toEqual(pdus.map(() => 'accepted'));
      expect(outcomes.map((o) => o.eventId)).toEqual((await engine.timeline(roomId, { limit: 10_000 })).map((e) => e.eventId));
      expect(started).toBe(pdus.length);
      // The bound, and (with a small window, which the verification thread's pace fills) reached.
      expect(most).toBeLessThanOrEqual(2 * lookahead);
      if (lookahead <= 4) expect(most).toBe(2 * lookahead);
      // The create event alone one at a time (a block stops at it); everything else by blocks.
      expect(counter).toEqual({ blocks: pdus.length - 1, single: 1 });
      await engine.close();
    });
  }

  it(`a block ends before a PDU whose checks are slow once it holds ${MIN_BLOCK} (committing those meanwhile), and later blocks take the rest`, async () => {
    const { pdus } = await fixture;
    const counter = { blocks: 0, single: 0 };
    const base = createMemoryStore();
    let open: (() => void) | undefined;
    const gate = new Promise<void>((resolve) => { open = resolve; });
    let reads = 0;
    let committedBeforeOpen = -1;
    const store = new Proxy(counting(base, counter), {
      get(target, p) {
        const v: unknown = Reflect.get(target, p, target);
        // The look-ahead asks whether each PDU is stored already (once each, in order, in the
        // second call): the 21st such read of the second call is held until the gate opens.
        // (No synchronous peek: every answer of this store comes through getEvent.)
        if (p === 'peekEvent') return undefined;
        if (p === 'getEvent') {
          return async (id: string) => {
            if (counter.blocks + counter.single >= 50 && ++reads === 21) await gate;
            return target.getEvent(id);
          };
        }
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const engine = await RoomEngine.open({ ownsStore: true, serverName: 'b.example', store, keys: staticKeys });
    expect((await engine.receivePdus('a.example', pdus.slice(0, 50))).every((o) => o.status === 'accepted')).toBe(true);
    expect(counter).toEqual({ blocks: 49, single: 1 });
    const second = engine.receivePdus('a.example', pdus.slice(50, 110));
    // The PDUs before the held one are committed while it waits.
    const t0 = Date.now();
    while (counter.blocks < 49 + MIN_BLOCK && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 5));
    committedBeforeOpen = counter.blocks - 49;
    open!();
    const outs = await second;
    expect(committedBeforeOpen).toBeGreaterThanOrEqual(MIN_BLOCK);
    expect(committedBeforeOpen).toBeLessThanOrEqual(20);
    expect(outs.map((o) => o.status)).toEqual(outs.map(() => 'accepted'));
    // All of them by blocks: none through the per-event path after a block cut short.
    expect(counter).toEqual({ blocks: 109, single: 1 });
    await engine.close();
  });
});

describe('LookAhead', () => {
  it(`holds at most its reach, identifies ${PACE} at a time, and identifies again together the PDUs found before their room existed`, async () => {
    const { pdus } = await fixture;
    const store = createMemoryStore();
    await store.open();
    const ctx = createEngineContext({ serverName: 'b.example', store, keys: staticKeys }, () => Promise.reject(new Error('not used')));
    const list = pdus.slice(0, 30);
    const la = new LookAhead(ctx, list, 12);
    la.consume(0);
    // One PDU alone until the first is handed over (its verification starts after one PDU's work).
    expect(la.identifying).toBe(1);
    const settled = async (i: number): Promise<void> => {
      const t0 = Date.now();
      while (!la.ready(i) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 2));
    };
    // Each of them: verifications need not finish in order (the calling thread takes some of a
    // burst's signatures while the worker does the earlier ones — crypto's HELP_BEYOND).
    const allSettled = async (from: number, to: number): Promise<void> => {
      for (let i = from; i <= to; i++) await settled(i);
    };
    // Twelve started (the reach), no more, until some are consumed.
    await settled(11);
    expect(la.ready(12)).toBe(false);
    expect(la.maxHeld).toBe(12);
    // Before the create event is stored: every PDU after it is of an unknown room.
    expect(await la.get(0)).toHaveProperty('sig');
    for (let i = 1; i < 12; i++) expect(await la.get(i)).toMatchObject({ status: 'dropped', rule: 'unknown_room' });
    // The create event committed (by an engine on the same store), then PDU 1 identified again:
    // the others found before their room existed are identified again too, without being asked.
    const engine = await RoomEngine.open({ serverName: 'b.example', store, keys: staticKeys });
    expect((await engine.receivePdus('a.example', [list[0]]))[0]).toMatchObject({ status: 'accepted' });
    la.consume(1);
    expect(await la.again(1)).toHaveProperty('sig');
    await allSettled(2, 11);
    for (let i = 2; i < 12; i++) expect(la.ready(i)).toBe(true);
    for (let i = 2; i < 12; i++) expect(await la.get(i)).toHaveProperty('sig');
    // The window moves with what is consumed, never past its reach.
    la.consume(20);
    await allSettled(20, 29);
    expect(la.ready(20)).toBe(true);
    for (let i = 20; i < 30; i++) expect(await la.get(i)).toHaveProperty('sig');
    expect(la.maxHeld).toBe(12);
    // (Of a known room, a PDU is identified without a store read — its room's version is
    // remembered — and then asks whether it is stored: the pace counts PDUs until that answer.)
    expect(la.mostIdentifying).toBe(PACE);
    await engine.close();
  });

  it('key lookups are not paced: PDUs whose keys are slow to come do not hold back the identification of later ones', async () => {
    const { pdus } = await fixture;
    const store = createMemoryStore();
    const engine = await RoomEngine.open({ serverName: 'b.example', store, keys: staticKeys });
    expect((await engine.receivePdus('a.example', [pdus[0]]))[0]).toMatchObject({ status: 'accepted' });
    let asked = 0;
    let open: (() => void) | undefined;
    const gate = new Promise<void>((resolve) => { open = resolve; });
    const keys: KeySource = {
      async getKey(server: string, keyId: string): Promise<ServerKey | undefined> {
        asked++;
        await gate;
        return staticKeys.getKey(server, keyId);
      },
    };
    const ctx = createEngineContext({ serverName: 'b.example', store, keys }, () => Promise.reject(new Error('not used')));
    const la = new LookAhead(ctx, pdus.slice(1, 40), 12);
    la.consume(0);
    const t0 = Date.now();
    while (asked < 12 && Date.now() - t0 < 5_000) await new Promise((r) => setTimeout(r, 2));
    // Every PDU of the window is identified and waits for its key; none past the window.
    expect(asked).toBe(12);
    open!();
    for (let i = 0; i < 12; i++) expect(await la.get(i)).toHaveProperty('sig');
    await engine.close();
  });

  it('PDUs of a room that still does not exist are not identified again with the one asked for (each once, not once per PDU before it)', async () => {
    const { pdus } = await fixture;
    const store = createMemoryStore();
    await store.open();
    let roomReads = 0;
    const watched = watchedStore(store, { getRoom: () => { roomReads++; } });
    const ctx = createEngineContext({ serverName: 'b.example', store: watched, keys: staticKeys }, () => Promise.reject(new Error('not used')));
    // No create event: every PDU is of a room this server does not know.
    const la = new LookAhead(ctx, pdus.slice(1, 11), 20);
    la.consume(0);
    for (let i = 0; i < 10; i++) expect(await la.get(i)).toMatchObject({ status: 'dropped', rule: 'unknown_room' });
    expect(roomReads).toBe(10);
    expect(await la.again(0)).toMatchObject({ status: 'dropped', rule: 'unknown_room' });
    await new Promise((r) => setTimeout(r, 20));
    expect(roomReads).toBe(11);
    for (let i = 1; i < 10; i++) expect(la.ready(i)).toBe(true);
    // Once the room exists, its PDUs are identified again with the first, those of another unknown room not.
    const other = (await room(2, 3)).pdus;
    const mixed = [...pdus.slice(1, 6), ...other.slice(1, 6)];
    const la2 = new LookAhead(ctx, mixed, 20);
    la2.consume(0);
    for (let i = 0; i < 10; i++) expect(await la2.get(i)).toMatchObject({ status: 'dropped', rule: 'unknown_room' });
    const engine = await RoomEngine.open({ serverName: 'b.example', store, keys: staticKeys });
    expect((await engine.receivePdus('a.example', [pdus[0]]))[0]).toMatchObject({ status: 'accepted' });
    roomReads = 0;
    expect(await la2.again(0)).toHaveProperty('sig');
    const t0 = Date.now();
    while (!la2.ready(4) && Date.now() - t0 < 5_000) await new Promise((r) => setTimeout(r, 2));
    await new Promise((r) => setTimeout(r, 20));
    // One room read: the room of PDU 0, now known and remembered (its four later PDUs need none);
    // the other room's five PDUs were not identified again (each would have read its room).
    expect(roomReads).toBe(1);
    for (let i = 1; i < 5; i++) expect(await la2.get(i)).toHaveProperty('sig');
    for (let i = 5; i < 10; i++) expect(await la2.get(i)).toMatchObject({ status: 'dropped', rule: 'unknown_room' });
    await engine.close();
    await store.close();
  });
});
