/**
 * Test harness: simulated homeservers (engine + store + in-process transport) for the federation
 * tests. Deterministic: fixed signing-key seeds, a fixed clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonObject } from '@roomgraph/canonical-json';
import { type SigningKey, publicKeyBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { type RoomEngine, type RoomEngineOptions, createRoomEngine } from '@roomgraph/engine';
import { type EventReferenceInput, type Pdu, buildEvent } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { expect } from 'vitest';
import type { RoomStore } from '@roomgraph/store';
import { createMemoryStore } from '@roomgraph/store-memory';
import { LevelRoomStore } from '@roomgraph/store-level';
import { PostgresRoomStore } from '@roomgraph/store-postgres';
import { type TestServer, startTestServer } from '@roomgraph/store-postgres/testing';
import { type FederationHandler, type KeySource, InProcessNetwork, StaticKeySource } from '@roomgraph/transport';

export type StoreKind = 'memory' | 'level' | 'postgres';
/**
 * The stores every engine suite runs on. `postgres`: PGlite in-process, or the server of
 * ROOMGRAPH_POSTGRES_URL when it is set (a fresh schema per store, dropped afterwards).
 */
export const STORE_KINDS: readonly StoreKind[] = ['memory', 'level', 'postgres'];

/** A deterministic 32-byte seed from a small number. */
export function seedOf(n: number): Uint8Array {
  const s = new Uint8Array(32);
  for (let i = 0; i < 32; i++) s[i] = (n * 31 + i * 7 + 11) & 0xff;
  return s;
}

/** A fixed clock that advances 1 s per reading. */
export function fixedClock(start = 1_700_000_000_000): () => number {
  let t = start;
  return () => (t += 1000);
}

export interface Server {
  readonly name: string;
  readonly engine: RoomEngine;
  readonly key: SigningKey;
  readonly store: RoomStore;
}

/** A network of servers sharing one clock and one static key map. */
export class Fed {
  readonly net = new InProcessNetwork();
  readonly servers = new Map<string, Server>();
  readonly keys = new StaticKeySource();
  readonly now = fixedClock();
  readonly #dirs: string[] = [];
  /** The PostgreSQL test server (kind `postgres`), started by {@link Fed.init}. */
  #pg: TestServer | undefined;
  readonly kind: StoreKind;
  #seed = 1;

  constructor(kind: StoreKind) {
    this.kind = kind;
  }

  /** Starts what the store kind needs (a PostgreSQL test server). */
  async init(): Promise<this> {
    if (this.kind === 'postgres') this.#pg ??= await startTestServer();
    return this;
  }

  /** A fresh store of `kind` (default: the federation's). */
  newStore(kind: StoreKind = this.kind): RoomStore {
    if (kind === 'memory') return createMemoryStore();
    if (kind === 'postgres') {
      if (this.#pg === undefined) throw new Error('Fed.init() first');
      return new PostgresRoomStore(this.#pg.newDatabase().url);
    }
    const dir = mkdtempSync(join(tmpdir(), 'rg-fed-'));
    this.#dirs.push(dir);
    return new LevelRoomStore(dir);
  }

  /**
   * Adds a server `name` (its key is registered in the shared static key source), on a store of
   * the federation's kind unless `opts.store` names another (a `postgres` one needs a federation
   * of kind `postgres`, whose `init()` starts the server).
   */
  add(name: string, opts: { keys?: KeySource; limits?: RoomEngineOptions['limits']; transport?: boolean; store?: StoreKind } = {}): Server {
    const key = signingKeyFromSeed(seedOf(this.#seed++), 'k1');
    this.keys.add(name, key.keyId, publicKeyBase64(key));
    const store = this.newStore(opts.store);
    const engine = createRoomEngine({
      serverName: name, signingKey: key, store, keys: opts.keys ?? this.keys, now: this.now, ownsStore: true,
      ...(opts.transport === false ? {} : { transport: this.net.transportFor(name) }),
      ...(opts.limits !== undefined ? { limits: opts.limits } : {}),
    });
    // Opening starts now; the engine's calls wait for it (its failure surfaces on the first call).
    engine.open().catch(() => undefined);
    this.net.register(name, engine);
    const s: Server = { name, engine, key, store };
    this.servers.set(name, s);
    return s;
  }

  get(name: string): Server {
    const s = this.servers.get(name);
    if (s === undefined) throw new Error(`no server ${name}`);
    return s;
  }

  async close(): Promise<void> {
    for (const s of this.servers.values()) await s.engine.close().catch(() => undefined);
    for (const d of this.#dirs) rmSync(d, { recursive: true, force: true });
    await this.#pg?.close();
  }
}

/**
 * Puts a stand-in for `server` on the network: requests reach its engine, except the handler
 * methods in `overrides` (a misbehaving resident). `fed.net.register(server.name, server.engine)`
 * restores it.
 */
export function interceptHandler(fed: Fed, server: Server, overrides: (real: FederationHandler) => Partial<FederationHandler>): void {
  const real = server.engine;
  const mine = overrides(real) as Record<string | symbol, unknown>;
  fed.net.register(server.name, new Proxy(real, {
    get(target, prop) {
      if (Object.hasOwn(mine, prop)) return mine[prop];
      const v: unknown = Reflect.get(target, prop);
      return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(target) : v;
    },
  }));
}

/** Runs `fn` with a fresh federation, always closing it. */
export async function withFed<T>(kind: StoreKind, fn: (fed: Fed) => Promise<T>): Promise<T> {
  const fed = new Fed(kind);
  try {
    await fed.init();
    return await fn(fed);
  } finally {
    await fed.close();
  }
}

/** Creates a local event on `from` and pushes it to `to`. */
export async function send(from: Server, to: readonly Server[], roomId: string, t: {
  type: string; stateKey?: string; sender: string; content: JsonObject; prevEvents?: readonly string[];
}): Promise<Pdu> {
  const pdu = await from.engine.createLocalEvent(roomId, t);
  await from.engine.sendToServers(to.map((s) => s.name), [pdu]);
  return pdu;
}

/**
 * A gap on `b`: during a partition `a` sends a topic change then 15 messages, and `b` a display
 * name change; then the network heals. Nothing is pushed across yet: the caller delivers `last`.
 */
export async function gapAcrossPartition(fed: Fed, a: Server, b: Server, roomId: string): Promise<{ topic: Pdu; msgs: Pdu[]; bName: Pdu; last: Pdu }> {
  fed.net.partition([a.name], [b.name]);
  const topic = await send(a, [b], roomId, { type: 'm.room.topic', stateKey: '', sender: `@alice:${a.name}`, content: { topic: 'early' } });
  const msgs: Pdu[] = [];
  for (let i = 0; i < 15; i++) msgs.push(await send(a, [b], roomId, { type: 'm.room.message', sender: `@alice:${a.name}`, content: { body: `m${i}` } }));
  const bName = await send(b, [a], roomId, { type: 'm.room.member', stateKey: `@bob:${b.name}`, sender: `@bob:${b.name}`, content: { membership: 'join', displayname: 'B side' } });
  fed.net.heal();
  return { topic, msgs, bName, last: msgs[msgs.length - 1]! };
}

/** Everything about a room on one server that must converge. */
export async function roomView(s: Server, roomId: string): Promise<{ state: Record<string, Record<string, string>>; extremities: string[] }> {
  return { state: (await s.engine.currentState(roomId)).toJSON(), extremities: await s.engine.forwardExtremities(roomId) };
}

/** Builds and signs an event by hand (for malicious servers): raw `buildEvent` with explicit fields. */
export function forge(rules: string, signer: { serverName: string; key: SigningKey }, input: {
  roomId: string; type: string; stateKey?: string; sender: string; content: JsonObject;
  prevEvents: readonly EventReferenceInput[]; authEvents: readonly EventReferenceInput[]; depth: number; ts: number;
}): Pdu {
  return buildEvent({
    roomVersion: rules, type: input.type, ...(input.stateKey !== undefined ? { stateKey: input.stateKey } : {}),
    sender: input.sender, content: input.content, prevEvents: input.prevEvents, authEvents: input.authEvents,
    depth: input.depth, originServerTs: input.ts, roomId: input.roomId,
  }, signer);
}

/** Everything observable about a room in a store, to assert "nothing changed". */
export async function storeSnapshot(s: Server, roomId: string): Promise<unknown> {
  const room = await s.store.getRoom(roomId);
  const tl = await s.store.timeline(roomId, { limit: 10_000 });
  return {
    stats: await s.store.stats(),
    room,
    state: (await s.engine.currentState(roomId)).toJSON(),
    timeline: tl.map((e) => [e.eventId, e.status, e.stream]),
    parked: (await s.store.listParkedEvents(roomId)).map((p) => p.eventId),
  };
}

export interface Room { a: Server; m: Server; roomId: string; v: string }

export async function setupWithM(fed: Fed, v: string): Promise<Room> {
  const a = fed.add('a.test');
  const m = fed.add('m.test');
  const rules = getRoomVersion(v);
  const roomId = await a.engine.createRoom({ roomVersion: v, creator: '@alice:a.test', preset: 'public_chat', ...(rules.eventFormat.createEventHasRoomId ? { roomIdLocalpart: 'mal' } : {}) });
  expect((await m.engine.joinRemoteRoom(roomId, 'a.test', '@mallory:m.test')).status).toBe('accepted');
  return { a, m, roomId, v };
}

/**
 * An event signed as M (by M's real key unless `key` is given) on top of A's forward extremities,
 * citing what a legitimate event of mallory's cites (create unless v12, power levels, member).
 * Not stored anywhere. (v3+ rooms: references are plain IDs.)
 */
export async function fromM(r: Room, t: { type: string; stateKey?: string; content: JsonObject; authEvents?: readonly string[]; key?: SigningKey }): Promise<Pdu> {
  const ext = await r.a.engine.forwardExtremities(r.roomId);
  const prev = await r.a.store.getEvents(ext);
  const depth = Math.max(...[...prev.values()].map((e) => e.depth)) + 1;
  const rules = getRoomVersion(r.v);
  const state = await r.a.engine.currentState(r.roomId);
  const want: [string, string][] = [['m.room.power_levels', ''], ['m.room.member', '@mallory:m.test']];
  if (!rules.authorization.roomIdFromCreateEvent) want.unshift(['m.room.create', '']);
  const ids = want.map(([t, k]) => state.get(t, k)).filter((x): x is string => x !== undefined);
  return forge(r.v, { serverName: 'm.test', key: t.key ?? r.m.key }, {
    roomId: r.roomId, type: t.type, ...(t.stateKey !== undefined ? { stateKey: t.stateKey } : {}), sender: '@mallory:m.test',
    content: t.content, prevEvents: ext, authEvents: t.authEvents ?? ids, depth, ts: 1_800_000_000_000 + depth,
  });
}


/**
 * `store`, with `before[m](...args)` called before each call of its method `m` (the call then goes
 * to the store as it is): for tests that count or watch what the engine asks a store.
 */
export function watchedStore(store: RoomStore, before: { readonly [M in keyof RoomStore]?: (...args: unknown[]) => void }): RoomStore {
  return new Proxy(store, {
    get(target, p) {
      const v: unknown = Reflect.get(target, p, target);
      if (typeof v !== 'function') return v;
      const hook = (before as Record<string | symbol, ((...args: unknown[]) => void) | undefined>)[p];
      const method = (v as (...a: unknown[]) => unknown).bind(target);
      return hook === undefined ? method : (...a: unknown[]) => {
        hook(...a);
        return method(...a);
      };
    },
  });
}

/** `store` without `commitMany`: every event goes by the per-event path (`receipt/commit.ts`). */
export function withoutCommitMany(store: RoomStore): RoomStore {
  return new Proxy(store, {
    get(target, p) {
      if (p === 'commitMany') return undefined;
      const v: unknown = Reflect.get(target, p, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
