// The room lock's handle says whether a section continues this store instance's hold
// (`RoomLockHandle.continues`): the engine forgets its caches of a room's mutable facts when it
// does not (another process may have changed the room since). On PGlite (one session, one
// process) every section continues; on the server of ROOMGRAPH_POSTGRES_URL (CI sets it) two
// store instances — two sessions, as two processes — take turns.
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresRoomStore } from '@roomgraph/store-postgres';
import { POSTGRES_URL_ENV, startTestDatabase, type TestDatabase } from '@roomgraph/store-postgres/testing';

const dbs: TestDatabase[] = [];
afterAll(async () => {
  for (const d of dbs) await d.drop();
});

describe('PostgresRoomStore.lockRoom: continues', () => {
  it('PGlite (single session, one process): every section continues the hold', async () => {
    const d = await startTestDatabase('pglite');
    dbs.push(d);
    const store = new PostgresRoomStore(d.url);
    await store.open();
    try {
      expect(store.singleSession).toBe(true);
      for (let i = 0; i < 3; i++) {
        const h = await store.lockRoom('!r:x');
        expect(h.continues).toBe(true);
        await h.release();
      }
    } finally {
      await store.close();
    }
  });

  if ((process.env[POSTGRES_URL_ENV] ?? '') !== '') {
    it('a server: the first section of each acquisition does not continue, the sections sharing it do; another instance\'s turn in between breaks the hold', async () => {
      const d = await startTestDatabase('postgres');
      dbs.push(d);
      const x = new PostgresRoomStore(d.url);
      const y = new PostgresRoomStore(d.url);
      await x.open();
      await y.open();
      try {
        expect(x.singleSession).toBe(false);
        const x1 = await x.lockRoom('!r:x');
        expect(x1.continues).toBe(false);
        // A section sharing the acquisition (taken while x1 is held): nobody else came in between.
        const x2 = await x.lockRoom('!r:x');
        expect(x2.continues).toBe(true);
        // Another room is locked on its own.
        const other = await x.lockRoom('!other:x');
        expect(other.continues).toBe(false);
        await other.release();
        // y waits for x to give the lock up, then takes it anew.
        const yTurn = y.lockRoom('!r:x');
        await x1.release();
        await x2.release();
        const y1 = await yTurn;
        expect(y1.continues).toBe(false);
        // x's next section comes after y's turn: not a continuation.
        const xNext = x.lockRoom('!r:x');
        await y1.release();
        const x3 = await xNext;
        expect(x3.continues).toBe(false);
        await x3.release();
      } finally {
        await x.close();
        await y.close();
      }
    });
  }
});
