// Several engines on one store, as several processes share one PostgreSQL database (issue 13: no
// process works from a stale cache after another changed a room; whatever one process
// acknowledged, every process sees).
//
// - (a) Process A parks an event E (its prev event P is missing); process B, which had found the
//   room with nothing parked, then receives P: E is retried and accepted, as one process ingesting
//   everything would.
// - (b) After A committed events, a local event B creates has the room's true forward
//   extremities as its prev events.
// - (c) After A's commit, B's current state is A's.
//
// Where they run:
// - On the server of ROOMGRAPH_POSTGRES_URL (CI sets it): A and B are engines over two
//   PostgresRoomStore instances on one database. Two instances share nothing but the database
//   (each has its own connections, sessions, advisory locks and caches), exactly as two processes
//   do. PGlite cannot host this (one session for every connection: advisory locks exclude
//   nothing), so without the variable this part does not run.
// - Everywhere (npm test): A and B are engines over one memory store, each through a view of it
//   that adds a model of the cross-process room lock (one holder at a time per room; `continues`
//   only when the previous holder was the same view). This checks the engine's side of the
//   contract (RoomLockHandle.continues) on every run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { RoomEngine } from '@roomgraph/engine';
import type { JsonObject } from '@roomgraph/canonical-json';
import type { Pdu } from '@roomgraph/events';
import type { RoomLockHandle, RoomStore } from '@roomgraph/store';
import { createMemoryStore } from '@roomgraph/store-memory';
import { PostgresRoomStore } from '@roomgraph/store-postgres';
import { POSTGRES_URL_ENV, type TestServer, startTestServer } from '@roomgraph/store-postgres/testing';
import { StaticKeySource } from '@roomgraph/transport';

const originKey = signingKeyFromSeed(new Uint8Array(32).fill(3), 'o1');
const localKey = signingKeyFromSeed(new Uint8Array(32).fill(5), 'b1');
const keys = new StaticKeySource({
  'o.example': { [originKey.keyId]: encodeBase64(originKey.publicKey) },
  'b.example': { [localKey.keyId]: encodeBase64(localKey.publicKey) },
});
const clock = (): (() => number) => { let t = 1_700_000_000_000; return () => (t += 1000); };
/** An engine of server b.example (both "processes" are the same homeserver) over `store`. */
const engineOn = (store: RoomStore): Promise<RoomEngine> => RoomEngine.open({ serverName: 'b.example', signingKey: localKey, store, keys, now: clock() });

/** A room made on o.example: its set-up events, then P and E (E's only prev event is P). */
interface OriginRoom {
  readonly roomId: string;
  readonly setup: readonly JsonObject[];
  readonly p: Pdu;
  readonly e: Pdu;
}

async function originRoom(): Promise<OriginRoom> {
  const store = createMemoryStore();
  const origin = await RoomEngine.open({ serverName: 'o.example', signingKey: originKey, store, keys, now: clock(), ownsStore: true });
  const roomId = await origin.createRoom({ creator: '@alice:o.example', preset: 'public_chat' });
  const setup = (await origin.timeline(roomId, { limit: 1000 })).map((x) => x.json);
  const p = await origin.createLocalEvent(roomId, { type: 'm.room.message', sender: '@alice:o.example', content: { msgtype: 'm.text', body: 'P' } });
  const e = await origin.createLocalEvent(roomId, { type: 'm.room.message', sender: '@alice:o.example', content: { msgtype: 'm.text', body: 'E' } });
  expect(e.prevEvents).toEqual([p.eventId]);
  await origin.close();
  return { roomId, setup, p, e };
}

/** The model of a cross-process room lock shared by several views of one store (see the header). */
class ModelRoomLocks {
  readonly #tails = new Map<string, Promise<void>>();
  readonly #last = new Map<string, string>();

  async lock(roomId: string, holder: string): Promise<RoomLockHandle> {
    const prev = this.#tails.get(roomId) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    this.#tails.set(roomId, prev.then(() => mine));
    await prev;
    const continues = this.#last.get(roomId) === holder;
    this.#last.set(roomId, holder);
    return { continues, release: async () => release() };
  }
}

/** `store` as one process sees it: the same data, with the model lock as its `lockRoom`. */
function processView(store: RoomStore, locks: ModelRoomLocks, holder: string): RoomStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'lockRoom') return (roomId: string) => locks.lock(roomId, holder);
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** Two engines ("processes") over one database, and what closes them. */
interface Pair {
  readonly a: RoomEngine;
  readonly b: RoomEngine;
  /** A third look at the database, from a fresh store (its own caches). */
  readonly fresh: () => Promise<RoomStore>;
  readonly close: () => Promise<void>;
}

type PairFactory = () => Promise<Pair>;

function sharedStoreSuite(name: string, pair: PairFactory): void {
  describe(name, () => {
    it('(a) A parks E (prev event P missing), B — which found nothing parked — receives P: E is accepted, as in one process', async () => {
      const room = await originRoom();
      // One process, for comparison: E parked, then accepted once P arrives.
      const alone = await engineOn(createMemoryStore());
      await alone.receivePdus('o.example', room.setup);
      expect((await alone.receivePdu('o.example', room.e.json)).status).toBe('parked');
      expect((await alone.receivePdu('o.example', room.p.json)).status).toBe('accepted');
      expect((await alone.getEvent(room.e.eventId))?.status).toBe('accepted');

      const { a, b, fresh, close } = await pair();
      try {
        // B ingests the room's set-up: it learns that nothing of the room is parked.
        for (const o of await b.receivePdus('o.example', room.setup)) expect(o.status).toBe('accepted');
        // A parks E.
        expect((await a.receivePdu('o.example', room.e.json)).status).toBe('parked');
        // B receives P, and retries what is parked: E.
        expect((await b.receivePdu('o.example', room.p.json)).status).toBe('accepted');
        expect((await b.getEvent(room.e.eventId))?.status).toBe('accepted');
        expect((await a.getEvent(room.e.eventId))?.status).toBe('accepted');
        expect(await b.forwardExtremities(room.roomId)).toEqual([room.e.eventId]);
        expect(await b.currentState(room.roomId)).toEqual(await alone.currentState(room.roomId));
        const other = await fresh();
        expect(await other.listParkedEvents(room.roomId)).toEqual([]);
        expect((await other.getRoom(room.roomId))?.forwardExtremities).toEqual([room.e.eventId]);
      } finally {
        await close();
      }
    });

    it('(b) after A commits events, B creates a local event: its prev events are the room\'s true forward extremities', async () => {
      const { a, b, fresh, close } = await pair();
      try {
        const roomId = await a.createRoom({ creator: '@bob:b.example', preset: 'public_chat' });
        // B works on the room first (its caches hold what it saw then).
        const first = await b.createLocalEvent(roomId, { type: 'm.room.message', sender: '@bob:b.example', content: { msgtype: 'm.text', body: 'from B' } });
        expect(await b.forwardExtremities(roomId)).toEqual([first.eventId]);
        // A commits two events after it.
        await a.createLocalEvent(roomId, { type: 'm.room.message', sender: '@bob:b.example', content: { msgtype: 'm.text', body: 'from A, 1' } });
        const last = await a.createLocalEvent(roomId, { type: 'm.room.topic', stateKey: '', sender: '@bob:b.example', content: { topic: 'set by A' } });
        const truth = (await (await fresh()).getRoom(roomId))!.forwardExtremities;
        expect(truth).toEqual([last.eventId]);
        // B's next event follows A's last one (not B's own earlier extremity).
        const next = await b.createLocalEvent(roomId, { type: 'm.room.message', sender: '@bob:b.example', content: { msgtype: 'm.text', body: 'from B, 2' } });
        expect([...next.prevEvents].sort()).toEqual([...truth].sort());
        expect(next.depth).toBe(last.depth + 1);
        expect(await a.forwardExtremities(roomId)).toEqual([next.eventId]);
      } finally {
        await close();
      }
    });

    it('(c) after A\'s commit, B\'s current state is A\'s', async () => {
      const { a, b, close } = await pair();
      try {
        const roomId = await a.createRoom({ creator: '@bob:b.example', preset: 'public_chat' });
        expect((await b.currentState(roomId)).get('m.room.topic', '')).toBeUndefined();
        const name = await b.createLocalEvent(roomId, { type: 'm.room.name', stateKey: '', sender: '@bob:b.example', content: { name: 'by B' } });
        // B has looked at the room since its own commit.
        expect((await b.currentState(roomId)).get('m.room.name', '')).toBe(name.eventId);
        const topic = await a.createLocalEvent(roomId, { type: 'm.room.topic', stateKey: '', sender: '@bob:b.example', content: { topic: 'set by A' } });
        const state = await b.currentState(roomId);
        expect(state.get('m.room.topic', '')).toBe(topic.eventId);
        expect(state.get('m.room.name', '')).toBe(name.eventId);
        expect(state).toEqual(await a.currentState(roomId));
        expect(await b.membership(roomId, '@bob:b.example')).toBe('join');
      } finally {
        await close();
      }
    });
  });
}

sharedStoreSuite('two engines on one memory store, through a model of the cross-process room lock', async () => {
  const store = createMemoryStore();
  await store.open();
  const locks = new ModelRoomLocks();
  const a = await engineOn(processView(store, locks, 'A'));
  const b = await engineOn(processView(store, locks, 'B'));
  return { a, b, fresh: async () => store, close: () => store.close() };
});

if ((process.env[POSTGRES_URL_ENV] ?? '') !== '') {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('postgres');
  });
  afterAll(async () => {
    await server.close();
  });
  sharedStoreSuite('two engines on one PostgreSQL database (two store instances: two sessions, as two processes)', async () => {
    const url = server.newDatabase().url;
    const stores: PostgresRoomStore[] = [];
    const open = async (): Promise<PostgresRoomStore> => {
      const s = new PostgresRoomStore(url);
      await s.open();
      expect(s.singleSession).toBe(false);
      stores.push(s);
      return s;
    };
    const a = await engineOn(await open());
    const b = await engineOn(await open());
    return { a, b, fresh: open, close: async () => { for (const s of stores) await s.close(); } };
  });
}

describe('the engine\'s side: what a room lock taken anew forgets', () => {
  it('RoomLocks calls onTakenAnew under the lock, before the section, unless the handle says it continues the hold', async () => {
    const { RoomLocks } = await import('../src/runtime/locks.js');
    const log: string[] = [];
    const answers: (boolean | undefined)[] = [false, true, undefined, true];
    const locks = new RoomLocks(async (roomId) => {
      const continues = answers.shift();
      log.push(`lock ${roomId}`);
      return { ...(continues !== undefined ? { continues } : {}), release: async () => { log.push(`release ${roomId}`); } };
    }, (roomId) => log.push(`forget ${roomId}`));
    for (let i = 0; i < 4; i++) await locks.withRoom('!r', async () => { log.push('section'); });
    expect(log).toEqual([
      'lock !r', 'forget !r', 'section', 'release !r',
      'lock !r', 'section', 'release !r',
      'lock !r', 'forget !r', 'section', 'release !r',
      'lock !r', 'section', 'release !r',
    ]);
  });

  it('EngineCaches.forgetRoomFacts forgets "nothing parked", and the resolution cache only when it loaded outliers a promotion may reject', async () => {
    const { EngineCaches } = await import('../src/caches.js');
    const caches = new EngineCaches();
    caches.noParked.set('!a', true);
    caches.noParked.set('!b', true);
    const a = caches.resolutionOf('!a');
    a.rejected.add('$rejected');
    const b = caches.resolutionOf('!b');
    b.unsettled.add('$outlier');
    caches.forgetRoomFacts('!a');
    caches.forgetRoomFacts('!b');
    expect(caches.noParked.get('!a')).toBeUndefined();
    expect(caches.noParked.get('!b')).toBeUndefined();
    // Settled facts only: kept.
    expect(caches.resolutionOf('!a')).toBe(a);
    expect(caches.resolutionOf('!a').rejected.has('$rejected')).toBe(true);
    // An outlier loaded: the room's resolution cache starts again.
    expect(caches.resolutionOf('!b')).not.toBe(b);
    // This engine's own promotion settles an outlier in place.
    const c = caches.resolutionOf('!c');
    c.unsettled.add('$x');
    c.unsettled.add('$y');
    caches.settled('!c', '$x', true);
    caches.settled('!c', '$y', false);
    expect([...c.unsettled]).toEqual([]);
    expect(c.rejected.has('$x')).toBe(true);
    expect(c.rejected.has('$y')).toBe(false);
  });
});
