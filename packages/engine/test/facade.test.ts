/**
 * The facade as an embedder meets it: opening and ownership of the store, unknown rooms answered
 * the same way by every query, current state as a structured `RoomState`, state notifications, and
 * `createRoom`'s presets (Client-Server API › Creating a room) — on both stores.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import { encodeBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { DEFAULT_ENGINE_CACHE_SIZES, EngineError, type EngineNotification, RoomEngine, RoomState, createRoomEngine } from '@roomgraph/engine';
import { stateKeyOf } from '@roomgraph/events';
import type { RoomStore } from '@roomgraph/store';
import { LevelRoomStore } from '@roomgraph/store-level';
import { PostgresRoomStore } from '@roomgraph/store-postgres';
import { startTestServer } from '@roomgraph/store-postgres/testing';
import { createMemoryStore } from '@roomgraph/store-memory';
import { StaticKeySource } from '@roomgraph/transport';
import { STORE_KINDS, type StoreKind, withFed } from './harness.js';

const key = signingKeyFromSeed(new Uint8Array(32).fill(7), 'k');
const keys = new StaticKeySource({ 'a.example': { [key.keyId]: encodeBase64(key.publicKey) } });

/** A fresh, unopened store of `kind` and its cleanup. */
async function freshStore(kind: StoreKind): Promise<{ store: RoomStore; cleanup: () => Promise<void> }> {
  if (kind === 'memory') return { store: createMemoryStore(), cleanup: async () => undefined };
  if (kind === 'postgres') {
    const server = await startTestServer();
    return { store: new PostgresRoomStore(server.newDatabase().url), cleanup: () => server.close() };
  }
  const dir = mkdtempSync(join(tmpdir(), 'rg-facade-'));
  return { store: new LevelRoomStore(dir), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

const code = (e: unknown): string | undefined => (e instanceof EngineError ? e.code : undefined);
const options = (store: RoomStore) => ({ serverName: 'a.example', signingKey: key, store, keys, now: (() => { let t = 1_700_000_000_000; return () => (t += 1); })() });

describe.each(STORE_KINDS)('opening and ownership (%s store)', (kind) => {
  it('RoomEngine.open opens the store at once; close() leaves the caller\'s store open', async () => {
    const { store, cleanup } = await freshStore(kind);
    try {
      const engine = await RoomEngine.open(options(store));
      expect(store.status).toBe('open');
      expect(await store.listRooms()).toEqual([]); // no STORE_NOT_OPEN before the engine's first call
      const roomId = await engine.createRoom({ creator: '@alice:a.example' });
      await engine.close();
      expect(store.status).toBe('open');
      expect(await store.listRooms()).toEqual([roomId]);
      // A closed engine refuses work; the store is still usable by its owner.
      expect(code(await engine.currentState(roomId).catch((e: unknown) => e))).toBe('ENGINE_CLOSED');
      expect(code(await engine.open().catch((e: unknown) => e))).toBe('ENGINE_CLOSED');
      await engine.close(); // idempotent
      // Another engine over the same, still open store reads the room.
      const again = createRoomEngine(options(store));
      expect(await again.membership(roomId, '@alice:a.example')).toBe('join');
      await again.close();
      await store.close();
    } finally {
      await cleanup();
    }
  });

  it('ownsStore: true hands the store to the engine: close() closes it', async () => {
    const { store, cleanup } = await freshStore(kind);
    try {
      const engine = await RoomEngine.open({ ...options(store), ownsStore: true });
      await engine.createRoom({ creator: '@alice:a.example' });
      await engine.close();
      expect(store.status).toBe('closed');
    } finally {
      await cleanup();
    }
  });

  it('createRoomEngine never opens the store: ENGINE_NOT_OPEN until the caller opens it or calls open()', async () => {
    const { store, cleanup } = await freshStore(kind);
    try {
      const engine = createRoomEngine(options(store));
      for (const call of [
        () => engine.rooms(), () => engine.hasRoom('!r:a.example'), () => engine.getEvent('$e'),
        () => engine.createRoom({ creator: '@alice:a.example' }), () => engine.receivePdus('b.example', [{}]),
        () => engine.onGetEvent('b.example', '$e'),
      ]) {
        expect(code(await call().then(() => 'resolved', (e: unknown) => e))).toBe('ENGINE_NOT_OPEN');
      }
      expect(store.status).toBe('closed');
      // Calls made while open() runs wait for it.
      const opening = engine.open();
      const listed = engine.rooms();
      await opening;
      expect(await listed).toEqual([]);
      await engine.open(); // idempotent
      expect(store.status).toBe('open');
      await engine.close();
      expect(store.status).toBe('open');
      await store.close();

      // A store the caller opened is used as it is.
      const { store: s2, cleanup: c2 } = await freshStore(kind);
      try {
        await s2.open();
        const e2 = createRoomEngine(options(s2));
        expect(await e2.rooms()).toEqual([]);
        await e2.close();
        await s2.close();
      } finally {
        await c2();
      }
    } finally {
      await cleanup();
    }
  });
});

describe.each(STORE_KINDS)('unknown rooms (%s store)', (kind) => {
  it('every query about a room the store does not hold throws ENGINE_UNKNOWN_ROOM; hasRoom says false', async () => {
    const { store, cleanup } = await freshStore(kind);
    try {
      const engine = await RoomEngine.open({ ...options(store), ownsStore: true });
      const known = await engine.createRoom({ creator: '@alice:a.example' });
      const unknown = '!unknown:a.example';
      const queries: Record<string, (roomId: string) => Promise<unknown>> = {
        currentState: (r) => engine.currentState(r),
        membership: (r) => engine.membership(r, '@alice:a.example'),
        forwardExtremities: (r) => engine.forwardExtremities(r),
        timeline: (r) => engine.timeline(r),
        topologicalOrder: (r) => engine.topologicalOrder(r),
        backwardExtremities: (r) => engine.backwardExtremities(r),
        createLocalEvent: (r) => engine.createLocalEvent(r, { type: 'm.room.message', sender: '@alice:a.example', content: { body: 'x' } }),
      };
      for (const [name, q] of Object.entries(queries)) {
        expect(code(await q(unknown).then(() => 'resolved', (e: unknown) => e)), name).toBe('ENGINE_UNKNOWN_ROOM');
        await expect(q(known), name).resolves.toBeDefined();
      }
      // A known room where the user has no membership: undefined, not an error.
      expect(await engine.membership(known, '@nobody:a.example')).toBeUndefined();
      expect(await engine.hasRoom(unknown)).toBe(false);
      expect(await engine.hasRoom(known)).toBe(true);
      expect(await engine.rooms()).toEqual([known]);
      // By event ID: getEvent answers undefined, stateAt throws ENGINE_UNKNOWN_EVENT.
      expect(await engine.getEvent('$unknown')).toBeUndefined();
      expect(code(await engine.stateAt('$unknown').catch((e: unknown) => e))).toBe('ENGINE_UNKNOWN_EVENT');
      await engine.close();
    } finally {
      await cleanup();
    }
  });
});

describe('RoomState', () => {
  const entries = [
    { type: 'm.room.member', stateKey: '@bob:b.example', eventId: '$b' },
    { type: 'm.room.create', stateKey: '', eventId: '$c' },
    { type: 'm.room.member', stateKey: '@alice:a.example', eventId: '$a' },
  ];

  it('answers by (type, state key), by type, in sorted order, as JSON', () => {
    const s = new RoomState(entries);
    expect(s.size).toBe(3);
    expect(s.get('m.room.create', '')).toBe('$c');
    expect(s.get('m.room.create', 'x')).toBeUndefined();
    expect(s.get('m.room.topic', '')).toBeUndefined();
    expect(s.has('m.room.member', '@bob:b.example')).toBe(true);
    expect(s.has('m.room.member', '@carol:c.example')).toBe(false);
    expect([...s.ofType('m.room.member')]).toEqual([['@bob:b.example', '$b'], ['@alice:a.example', '$a']]);
    expect(s.ofType('m.room.topic').size).toBe(0);
    expect(s.types()).toEqual(['m.room.create', 'm.room.member']);
    expect([...s].map((e) => `${e.type}|${e.stateKey}|${e.eventId}`)).toEqual(['m.room.create||$c', 'm.room.member|@alice:a.example|$a', 'm.room.member|@bob:b.example|$b']);
    expect(s.toJSON()).toEqual({ 'm.room.create': { '': '$c' }, 'm.room.member': { '@alice:a.example': '$a', '@bob:b.example': '$b' } });
    expect(JSON.stringify(s)).toBe('{"m.room.create":{"":"$c"},"m.room.member":{"@alice:a.example":"$a","@bob:b.example":"$b"}}');
  });

  it('a later entry for the same key replaces the earlier; equality is by entries', () => {
    const s = new RoomState([...entries, { type: 'm.room.create', stateKey: '', eventId: '$c2' }]);
    expect(s.size).toBe(3);
    expect(s.get('m.room.create', '')).toBe('$c2');
    expect(s.equals(new RoomState(entries))).toBe(false);
    expect(new RoomState(entries).equals(new RoomState([...entries].reverse()))).toBe(true);
    expect(new RoomState(entries)).toEqual(new RoomState([...entries].reverse()));
    expect(s).not.toEqual(new RoomState(entries));
    expect(RoomState.EMPTY.size).toBe(0);
    expect(RoomState.EMPTY.equals(new RoomState([]))).toBe(true);
  });

  it('from a store state map (stateKeyOf keys); hostile types and state keys stay data', () => {
    const map = new Map([[stateKeyOf('m.room.create', ''), '$c'], [stateKeyOf('a:b', 'c:d'), '$x'], [stateKeyOf('__proto__', '__proto__'), '$p']]);
    const s = RoomState.fromStateMap(map);
    expect(s.get('a:b', 'c:d')).toBe('$x');
    expect(s.get('__proto__', '__proto__')).toBe('$p');
    const json = s.toJSON();
    expect(Object.getPrototypeOf(json)).toBe(Object.prototype);
    expect(Object.hasOwn(json, '__proto__')).toBe(true);
    expect(Object.hasOwn(json['__proto__'] as object, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['m.room.create']).toBeUndefined(); // nothing leaked into Object.prototype
    expect(JSON.parse(JSON.stringify(json))).toEqual(JSON.parse('{"__proto__":{"__proto__":"$p"},"a:b":{"c:d":"$x"},"m.room.create":{"":"$c"}}'));
  });
});

describe.each(STORE_KINDS)('current state and notifications (%s store)', (kind) => {
  it('currentState and stateAt answer type → state key → event ID; state notifications list the changed entries', async () => {
    const { store, cleanup } = await freshStore(kind);
    try {
      const engine = await RoomEngine.open({ ...options(store), ownsStore: true });
      const notes: EngineNotification[] = [];
      engine.subscribe((n) => notes.push(n));
      const roomId = await engine.createRoom({ roomVersion: '11', creator: '@alice:a.example' });
      const topic = await engine.createLocalEvent(roomId, { type: 'm.room.topic', stateKey: '', sender: '@alice:a.example', content: { topic: 't' } });
      const state = await engine.currentState(roomId);
      expect(state.types()).toEqual(['m.room.create', 'm.room.guest_access', 'm.room.history_visibility', 'm.room.join_rules', 'm.room.member', 'm.room.power_levels', 'm.room.topic']);
      expect(state.get('m.room.topic', '')).toBe(topic.eventId);
      expect([...state.ofType('m.room.member').keys()]).toEqual(['@alice:a.example']);
      // The same entries as the store's own state map.
      const room = await store.getRoom(roomId);
      expect(state.equals(RoomState.fromStateMap(await store.loadState(room!.currentState!)))).toBe(true);
      expect((await engine.stateAt(topic.eventId)).has('m.room.topic', '')).toBe(false);
      expect((await engine.stateAt(topic.eventId, { after: true })).equals(state)).toBe(true);
      const changes = notes.filter((n): n is Extract<EngineNotification, { kind: 'state' }> => n.kind === 'state');
      expect(changes.at(-1)?.changed).toEqual([{ type: 'm.room.topic', stateKey: '', to: topic.eventId }]);
      expect(changes[0]?.changed).toEqual([{ type: 'm.room.create', stateKey: '', to: state.get('m.room.create', '') }]);
      await engine.close();
    } finally {
      await cleanup();
    }
  });
});

/** The content of the current `(type, '')` state event of a room. */
async function contentOf(engine: RoomEngine, roomId: string, type: string): Promise<JsonObject | undefined> {
  const id = (await engine.currentState(roomId)).get(type, '');
  return id === undefined ? undefined : (await engine.getEvent(id))?.json['content'] as JsonObject;
}

describe.each(STORE_KINDS)('createRoom presets (%s store)', (kind) => {
  it('no preset is private_chat: invite only, history shared, guests can join; a remote join is refused', async () => {
    await withFed(kind, async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test');
      for (const preset of [undefined, 'private_chat'] as const) {
        const roomId = await a.engine.createRoom({ roomVersion: '10', creator: '@alice:a.test', ...(preset !== undefined ? { preset } : {}) });
        expect(await contentOf(a.engine, roomId, 'm.room.join_rules')).toEqual({ join_rule: 'invite' });
        expect(await contentOf(a.engine, roomId, 'm.room.history_visibility')).toEqual({ history_visibility: 'shared' });
        expect(await contentOf(a.engine, roomId, 'm.room.guest_access')).toEqual({ guest_access: 'can_join' });
        expect((await contentOf(a.engine, roomId, 'm.room.power_levels'))?.['invite']).toBe(0);
        const refused = await b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test').catch((e: unknown) => e);
        expect(code(refused)).toBe('ENGINE_JOIN_REFUSED');
        expect((refused as EngineError).rule).toBe('M_FORBIDDEN');
        expect(await a.engine.membership(roomId, '@bob:b.test')).toBeUndefined();
      }
    });
  });

  it('public_chat: anyone may join, no guest access event, invite level 50', async () => {
    await withFed(kind, async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test');
      const roomId = await a.engine.createRoom({ roomVersion: '10', creator: '@alice:a.test', preset: 'public_chat' });
      expect(await contentOf(a.engine, roomId, 'm.room.join_rules')).toEqual({ join_rule: 'public' });
      expect(await contentOf(a.engine, roomId, 'm.room.history_visibility')).toEqual({ history_visibility: 'shared' });
      expect((await a.engine.currentState(roomId)).has('m.room.guest_access', '')).toBe(false);
      expect((await contentOf(a.engine, roomId, 'm.room.power_levels'))?.['invite']).toBe(50);
      expect((await b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test')).status).toBe('accepted');
      expect(await a.engine.membership(roomId, '@bob:b.test')).toBe('join');
    });
  });

  it('trusted_private_chat: invitees get the creator\'s power (v11: level 100; v12: additional creators) and may join', async () => {
    await withFed(kind, async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test');
      const v11 = await a.engine.createRoom({ roomVersion: '11', creator: '@alice:a.test', preset: 'trusted_private_chat', invite: ['@bob:b.test', '@carol:a.test'], roomIdLocalpart: 'trusted11' });
      expect(await contentOf(a.engine, v11, 'm.room.join_rules')).toEqual({ join_rule: 'invite' });
      expect(await contentOf(a.engine, v11, 'm.room.guest_access')).toEqual({ guest_access: 'can_join' });
      expect((await contentOf(a.engine, v11, 'm.room.power_levels'))?.['users']).toEqual({ '@alice:a.test': 100, '@bob:b.test': 100, '@carol:a.test': 100 });
      expect(await a.engine.membership(v11, '@bob:b.test')).toBe('invite');
      expect(await a.engine.membership(v11, '@carol:a.test')).toBe('invite');
      expect((await b.engine.joinRemoteRoom(v11, 'a.test', '@bob:b.test')).status).toBe('accepted');

      const v12 = await a.engine.createRoom({ roomVersion: '12', creator: '@alice:a.test', preset: 'trusted_private_chat', invite: ['@bob:b.test'], createContent: { additional_creators: ['@dave:d.test', '@bob:b.test'] } });
      expect((await contentOf(a.engine, v12, 'm.room.create'))?.['additional_creators']).toEqual(['@dave:d.test', '@bob:b.test']);
      expect((await contentOf(a.engine, v12, 'm.room.power_levels'))?.['users']).toEqual({});
      expect(await a.engine.membership(v12, '@bob:b.test')).toBe('invite');
      // private_chat with invitees: invited, no extra power.
      const priv = await a.engine.createRoom({ roomVersion: '12', creator: '@alice:a.test', invite: ['@bob:b.test'] });
      expect((await contentOf(a.engine, priv, 'm.room.create'))?.['additional_creators']).toBeUndefined();
      expect(await a.engine.membership(priv, '@bob:b.test')).toBe('invite');
    });
  });

  it('v12 rooms name m.room.tombstone at 150 in their first power levels (only a creator may upgrade); earlier versions name no event levels', async () => {
    await withFed(kind, async (fed) => {
      const a = fed.add('a.test');
      const v12 = await a.engine.createRoom({ roomVersion: '12', creator: '@alice:a.test', preset: 'public_chat' });
      expect((await contentOf(a.engine, v12, 'm.room.power_levels'))?.['events']).toEqual({ 'm.room.tombstone': 150 });
      // A user at 100 may send state, but not the tombstone; the creator may.
      await a.engine.createLocalEvent(v12, { type: 'm.room.member', stateKey: '@bob:a.test', sender: '@bob:a.test', content: { membership: 'join' } });
      await a.engine.createLocalEvent(v12, { type: 'm.room.power_levels', stateKey: '', sender: '@alice:a.test', content: { users: { '@bob:a.test': 100 }, state_default: 50, events: { 'm.room.tombstone': 150 } } });
      const tombstone = { type: 'm.room.tombstone', stateKey: '', content: { body: 'upgraded', replacement_room: '!new:a.test' } };
      expect(code(await a.engine.createLocalEvent(v12, { ...tombstone, sender: '@bob:a.test' }).catch((e: unknown) => e))).toBe('ENGINE_AUTH_FAILED');
      await a.engine.createLocalEvent(v12, { ...tombstone, sender: '@alice:a.test' });
      expect((await a.engine.currentState(v12)).has('m.room.tombstone', '')).toBe(true);
      const v11 = await a.engine.createRoom({ roomVersion: '11', creator: '@alice:a.test' });
      expect((await contentOf(a.engine, v11, 'm.room.power_levels'))?.['events']).toBeUndefined();
    });
  });

  it('an unknown preset or an invitee that is not a user ID is ENGINE_INVALID_ARGUMENT, and no room is made', async () => {
    const { store, cleanup } = await freshStore(kind);
    try {
      const engine = await RoomEngine.open({ ...options(store), ownsStore: true });
      const bad = [
        { creator: '@alice:a.example', preset: 'open_chat' as 'public_chat' },
        { creator: '@alice:a.example', preset: '__proto__' as 'public_chat' },
        { creator: '@alice:a.example', invite: ['bob'] },
        { creator: '@alice:a.example', invite: [42 as unknown as string] },
      ];
      for (const t of bad) expect(code(await engine.createRoom(t).catch((e: unknown) => e)), JSON.stringify(t)).toBe('ENGINE_INVALID_ARGUMENT');
      expect(await engine.rooms()).toEqual([]);
      await engine.close();
    } finally {
      await cleanup();
    }
  });
});

describe('cache bounds', () => {
  it('the defaults are exported; a bound that is not a positive integer is ENGINE_INVALID_ARGUMENT', () => {
    expect(DEFAULT_ENGINE_CACHE_SIZES).toMatchObject({ events: 50_000, resolutionRooms: 100, resolutionEventsPerRoom: 10_000 });
    for (const bad of [0, -1, 2.5]) {
      const err = (() => { try { createRoomEngine({ ...options(createMemoryStore()), limits: { caches: { resolutionEventsPerRoom: bad } } }); return undefined; } catch (e) { return e; } })();
      expect(code(err)).toBe('ENGINE_INVALID_ARGUMENT');
    }
    expect(createRoomEngine({ ...options(createMemoryStore()), limits: { caches: { events: 1 } } })).toBeInstanceOf(RoomEngine);
  });
});
