// Several engine processes on one PostgreSQL database, and crashes of a writer.
//
// - Convergence: 3 processes ingest the same room (each delivers all of it, racing the others)
//   and rooms of their own at the same time; the database ends with exactly the state,
//   extremities and statuses of one process ingesting everything alone.
// - SIGKILL inside a write transaction (gated on the store's `beforeCommit` hook, not a timer):
//   nothing acknowledged is lost, nothing of the killed transaction is visible, and a rerun ends
//   as an uninterrupted run.
//
// Several processes need a server with a session per connection: PGlite (one session for every
// connection, so advisory locks exclude nothing) cannot host them. These tests run against the
// server of ROOMGRAPH_POSTGRES_URL (CI sets it; see .ci/run); without it only the check that PGlite
// is recognised as single-session runs.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoomEngine } from '@roomgraph/engine';
import type { RoomStore } from '@roomgraph/store';
import { createMemoryStore } from '@roomgraph/store-memory';
import { PostgresRoomStore } from '@roomgraph/store-postgres';
import { POSTGRES_URL_ENV, type TestServer, startTestServer } from '@roomgraph/store-postgres/testing';
import { StaticKeySource } from '@roomgraph/transport';
import { type IngestRoom, readJsonl } from './fixtures.js';

const all = readJsonl<IngestRoom>('ingest.jsonl.gz');
const dir = fileURLToPath(new URL('./pg-procs/', import.meta.url));
const register = fileURLToPath(new URL('../../store-level/test/crash/register.mjs', import.meta.url));

interface WorkerRun {
  /** IDs of the acknowledged deliveries that stored an event (accepted, rejected, soft-failed). */
  readonly acked: readonly string[];
  readonly done: boolean;
  /** Event IDs of the transaction the worker was killed in. */
  readonly inFlight: readonly string[] | undefined;
}

/** Runs a worker; with `killInTransaction`, SIGKILLs it when it reports being inside that transaction. */
function runWorker(config: { url: string; rooms: readonly number[]; killInTransaction?: number }): Promise<WorkerRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', register, 'worker.mjs', JSON.stringify(config)], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: string[] = [];
    let inFlight: string[] | undefined;
    let done = false;
    let buf = '';
    let err = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('ACK ')) {
          const [, id, status] = line.split(' ');
          if (status === 'accepted' || status === 'rejected' || status === 'soft-failed') acked.push(id!);
        }
        else if (line === 'DONE') done = true;
        else if (line.startsWith('INTX ')) {
          inFlight = JSON.parse(line.slice(5)) as string[];
          child.kill('SIGKILL');
        }
      }
    });
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' && inFlight !== undefined) resolve({ acked, done, inFlight });
      else if (code === 0 && done) resolve({ acked, done, inFlight });
      else reject(new Error(`worker exited ${code} ${signal}: ${err}`));
    });
  });
}

type RoomSummary = { state: Record<string, string>; extremities: string[]; statuses: Record<string, string> };

/** Everything the tests compare about every room of a store. */
async function summary(store: RoomStore): Promise<Record<string, RoomSummary>> {
  const out: Record<string, RoomSummary> = {};
  for (const roomId of [...(await store.listRooms())].sort()) {
    const room = (await store.getRoom(roomId))!;
    const state = room.currentState === undefined ? new Map<string, string>() : await store.loadState(room.currentState);
    const statuses: Record<string, string> = {};
    for (const e of await store.timeline(roomId, { limit: 1_000_000 })) statuses[e.eventId] = e.status + (e.rejection !== undefined ? `:${e.rejection.rule}` : '');
    out[roomId] = { state: Object.fromEntries([...state].sort()), extremities: [...room.forwardExtremities].sort(), statuses };
  }
  return out;
}

/** One process ingesting `rooms` alone (the memory store), room after room. */
async function alone(rooms: readonly number[]): Promise<Record<string, RoomSummary>> {
  const store = createMemoryStore();
  // One engine per room (each room signs with its own keys under the same server names).
  for (const i of rooms) {
    const engine = await RoomEngine.open({ serverName: 'observer.test', store, keys: new StaticKeySource(all[i]!.keys) });
    for (const ev of all[i]!.events) {
      const sender = typeof ev['sender'] === 'string' ? ev['sender'] : '';
      await engine.receivePdu(sender.slice(sender.indexOf(':') + 1), ev);
    }
  }
  const s = await summary(store);
  await store.close();
  return s;
}

async function summaryAt(url: string): Promise<Record<string, RoomSummary>> {
  const store = new PostgresRoomStore(url);
  await store.open();
  try {
    return await summary(store);
  } finally {
    await store.close();
  }
}

describe('the multi-process tests need a server with a session per connection', () => {
  it('PGlite serves every connection in one session: the store detects it (one process only there)', async () => {
    const server = await startTestServer('pglite');
    try {
      const store = new PostgresRoomStore(server.newDatabase().url);
      await store.open();
      expect(store.singleSession).toBe(true);
      await store.close();
    } finally {
      await server.close();
    }
  });

  if ((process.env[POSTGRES_URL_ENV] ?? '') !== '') {
    it('the server of ROOMGRAPH_POSTGRES_URL has a session per connection: cross-process locks are on', async () => {
      const server = await startTestServer('postgres');
      try {
        const store = new PostgresRoomStore(server.newDatabase().url);
        await store.open();
        expect(store.singleSession).toBe(false);
        await store.close();
      } finally {
        await server.close();
      }
    });
  }
});

if ((process.env[POSTGRES_URL_ENV] ?? '') !== '') {
  describe('several engine processes on one PostgreSQL database', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer('postgres');
    });
    afterAll(async () => {
      await server.close();
    });

    it('3 processes ingesting one room (racing) and rooms of their own end as one process alone', async () => {
      const url = server.newDatabase().url;
      const shared = 6;
      const own = [[1, 2], [5, 7], [10, 12]] as const;
      const runs = await Promise.all(own.map((o) => runWorker({ url, rooms: [shared, ...o] })));
      for (const r of runs) expect(r.done).toBe(true);
      const expected = await alone([shared, ...own.flat()]);
      const got = await summaryAt(url);
      expect(Object.keys(got).length).toBe(7);
      expect(got).toEqual(expected);
    }, 600_000);

    it('SIGKILL inside a write transaction: nothing acknowledged lost, nothing half-written; a rerun ends as an uninterrupted run', async () => {
      const url = server.newDatabase().url;
      const rooms = [6, 13];
      const killed = await runWorker({ url, rooms, killInTransaction: 120 });
      expect(killed.done).toBe(false);
      expect(killed.inFlight!.length).toBeGreaterThan(0);
      // After the kill: every acknowledged event is stored, none of the killed transaction's is,
      // and every stored event's state and every extremity resolve.
      const store = new PostgresRoomStore(url);
      await store.open();
      try {
        const have = await store.hasEvents(killed.acked);
        expect(killed.acked.length).toBeGreaterThan(50);
        expect(killed.acked.filter((id) => !have.has(id))).toEqual([]);
        expect([...(await store.hasEvents(killed.inFlight!))]).toEqual([]);
        for (const roomId of await store.listRooms()) {
          const room = (await store.getRoom(roomId))!;
          expect((await store.hasEvents(room.forwardExtremities)).size).toBe(room.forwardExtremities.length);
          if (room.currentState !== undefined) await store.loadState(room.currentState);
          for (const e of await store.timeline(roomId, { limit: 1_000_000 })) if (e.stateBefore !== undefined) await store.loadState(e.stateBefore);
        }
      } finally {
        await store.close();
      }
      const rerun = await runWorker({ url, rooms });
      expect(rerun.done).toBe(true);
      expect(await summaryAt(url)).toEqual(await alone(rooms));
    }, 600_000);
  });
}
