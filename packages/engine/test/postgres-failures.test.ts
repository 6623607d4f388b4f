// The server going away mid-ingest (a restart): the connection is cut inside a write
// transaction, gated on the store's `beforeCommit` hook. The write fails with STORE_IO, the
// engine refuses further work (ENGINE_CLOSED) until the store is reopened under a new engine, and
// a rerun ends exactly as an uninterrupted ingest. Runs on PGlite, or on the server of
// ROOMGRAPH_POSTGRES_URL when it is set.
import { type Server as NetServer, type Socket, connect, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError, RoomEngine } from '@roomgraph/engine';
import { isStoreError } from '@roomgraph/store';
import { createMemoryStore } from '@roomgraph/store-memory';
import { PostgresRoomStore } from '@roomgraph/store-postgres';
import { type TestServer, startTestServer } from '@roomgraph/store-postgres/testing';
import type { RoomStore } from '@roomgraph/store';
import { StaticKeySource } from '@roomgraph/transport';
import { type IngestRoom, readJsonl } from './fixtures.js';

const room = readJsonl<IngestRoom>('ingest.jsonl.gz')[6]!;

/** A TCP proxy in front of the server whose connections can be cut (as a server restart does). */
class Proxy {
  readonly #server: NetServer;
  readonly #sockets = new Set<Socket>();
  port = 0;

  constructor(host: string, port: number) {
    this.#server = createServer((client) => {
      const upstream = connect(port, host);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
  }

  /** Drops every open connection (new ones are accepted again at once). */
  cut(): void {
    for (const s of this.#sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

function viaProxy(url: string, proxy: Proxy): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return u.toString();
}

async function ingest(store: RoomStore, events: readonly Record<string, unknown>[]): Promise<void> {
  const engine = await RoomEngine.open({ serverName: 'observer.test', store, keys: new StaticKeySource(room.keys) });
  for (const ev of events) {
    const sender = typeof ev['sender'] === 'string' ? ev['sender'] : '';
    await engine.receivePdu(sender.slice(sender.indexOf(':') + 1), ev);
  }
}

async function summary(store: RoomStore) {
  const roomId = (await store.listRooms())[0]!;
  const r = (await store.getRoom(roomId))!;
  const statuses: Record<string, string> = {};
  for (const e of await store.timeline(roomId, { limit: 1_000_000 })) statuses[e.eventId] = e.status;
  return { state: Object.fromEntries(await store.loadState(r.currentState!)), extremities: [...r.forwardExtremities].sort(), statuses };
}

describe('PostgreSQL: the connection cut mid-ingest', () => {
  let server: TestServer;
  let proxy: Proxy;
  beforeAll(async () => {
    server = await startTestServer();
    const u = new URL(server.url);
    proxy = new Proxy(u.hostname, Number(u.port || 5432));
    await proxy.start();
  });
  afterAll(async () => {
    await proxy.stop();
    await server.close();
  });

  it('fails with STORE_IO, the engine refuses further work, and a rerun after reopening ends as an uninterrupted run', async () => {
    const url = viaProxy(server.newDatabase().url, proxy);
    let transactions = 0;
    const store = new PostgresRoomStore(url, {
      beforeCommit: () => {
        // The 100th write transaction loses its connection before COMMIT.
        if (++transactions === 100) proxy.cut();
      },
    });
    const engine = await RoomEngine.open({ serverName: 'observer.test', store, keys: new StaticKeySource(room.keys) });
    let failure: unknown;
    let delivered = 0;
    for (const ev of room.events) {
      const sender = typeof ev['sender'] === 'string' ? ev['sender'] : '';
      try {
        await engine.receivePdu(sender.slice(sender.indexOf(':') + 1), ev);
        delivered++;
      } catch (e) {
        failure = e;
        break;
      }
    }
    expect(delivered).toBeGreaterThan(50);
    expect(delivered).toBeLessThan(room.events.length);
    expect(isStoreError(failure, 'STORE_IO')).toBe(true);
    // The engine refuses further work; so does the store, until reopened.
    await expect(engine.receivePdu('example.com', room.events[delivered + 1]!)).rejects.toSatisfy((e: unknown) => e instanceof EngineError && e.code === 'ENGINE_CLOSED');
    await expect(store.getRoom('!x:y')).rejects.toSatisfy((e: unknown) => isStoreError(e, 'STORE_IO'));
    await store.close();

    // Reopen (the "restarted" server takes connections again) and rerun the whole input.
    const reopened = new PostgresRoomStore(url);
    await reopened.open();
    await ingest(reopened, room.events);
    const got = await summary(reopened);
    await reopened.close();

    const alone = createMemoryStore();
    await ingest(alone, room.events);
    expect(got).toEqual(await summary(alone));
  }, 300_000);
});
