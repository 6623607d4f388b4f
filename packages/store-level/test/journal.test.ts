/**
 * The LevelDB store's journal (`LevelStoreOptions.journal`): a commit is acknowledged once its
 * record is appended to the journal, LevelDB writes follow in groups; what was acknowledged
 * survives a process kill and a failed LevelDB write (replayed on open), a torn last record is
 * ignored, and a journaling store passes the store conformance suite.
 */
import { cpSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runStoreConformance } from '@roomgraph/store/conformance';
import { isStoreError } from '@roomgraph/store';
import { LEVEL_JOURNAL_FILE, LevelRoomStore } from '@roomgraph/store-level';
import { ROOM, createRoom, heldJournalStore, journaledRoom, message, runAndKill, tempRoot } from './helpers.js';

const root = tempRoot('journal');
let n = 0;

runStoreConformance({
  name: 'store-level (journal)',
  describe,
  it,
  factory: async () => new LevelRoomStore(join(root, `conf${n++}`), { journal: true }),
  reopen: async (closed) => new LevelRoomStore((closed as LevelRoomStore).location, { journal: true }),
});

const ids = (k: number): string[] => Array.from({ length: k }, (_, i) => `$m${i}`);

describe('store-level journal', () => {
  it('commits awaited one at a time share LevelDB writes; reads see them meanwhile', async () => {
    const dir = join(root, 'grouping');
    const { store, s } = await journaledRoom(dir);
    let prev = '$create';
    for (const [i, id] of ids(300).entries()) {
      // The default (durable) commit: acknowledged once journaled.
      await store.commit(message(id, prev, 2 + i, s));
      prev = id;
      expect((await store.getEvent(id))?.stream).toBe(i + 2);
    }
    // The timeline reads LevelDB: it waits for the journaled commits to be written.
    expect((await store.timeline(ROOM, { limit: 1000 })).map((e) => e.eventId)).toEqual(['$create', ...ids(300)]);
    expect(store.groups.reduce((a, b) => a + b, 0)).toBe(301);
    expect(store.groups.length).toBeLessThan(150);
    await store.close();
    expect(statSync(join(dir, LEVEL_JOURNAL_FILE)).size).toBe(0);
    const again = new LevelRoomStore(dir, { journal: true });
    await again.open();
    expect((await again.getRoom(ROOM))!.lastStream).toBe(301);
    await again.close();
  });

  it('a caller that never yields to the event loop: backpressure keeps the unwritten backlog bounded', async () => {
    const { store, s } = await journaledRoom(join(root, 'backlog'));
    await store.timeline(ROOM);
    let prev = '$create';
    // As the engine does for one PDU per call: a commit, then a flush; promises only, no I/O.
    let waits = 0;
    for (const [i, id] of ids(1000).entries()) {
      let turned = false;
      setImmediate(() => { turned = true; });
      await store.commit(message(id, prev, 2 + i, s), { durable: false });
      await store.flush();
      if (turned) {
        // It waited (the event loop turned): for the LevelDB write under way, not for the one of
        // its own batch, which is under way now — the caller goes on beside it.
        waits++;
        expect(store.groups.length).toBe(store.written + 1);
      }
      prev = id;
    }
    expect(waits).toBeGreaterThan(2);
    // The writer was started every 128 batches and the commits waited for it past 256.
    expect(store.groups.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1001 - 256);
    expect(Math.max(...store.groups)).toBeLessThanOrEqual(256);
    expect(store.groups.length).toBeLessThan(50);
    expect((await store.getRoom(ROOM))!.lastStream).toBe(1001);
    await store.close();
  });

  it('acknowledged commits survive a failed LevelDB write: the store refuses calls, reopening replays them', async () => {
    const dir = join(root, 'failing');
    const { store, s } = await journaledRoom(dir);
    await store.commit(message('$a', '$create', 2, s));
    store.failing = true;
    await store.commit(message('$b', '$a', 3, s));
    await store.commit(message('$c', '$b', 4, s));
    // The writer fails: the store refuses everything from then on.
    await expect(store.timeline(ROOM)).rejects.toSatisfy((e: unknown) => isStoreError(e, 'STORE_IO') && /disk full/.test((e as Error).message));
    await expect(store.getEvent('$a')).rejects.toSatisfy((e: unknown) => isStoreError(e, 'STORE_IO'));
    await store.close();
    expect(statSync(join(dir, LEVEL_JOURNAL_FILE)).size).toBeGreaterThan(0);

    const again = new LevelRoomStore(dir, { journal: true });
    await again.open();
    for (const id of ['$a', '$b', '$c']) expect((await again.getEvent(id))?.status).toBe('accepted');
    expect((await again.getRoom(ROOM))!.lastStream).toBe(4);
    expect((await again.getRoom(ROOM))!.forwardExtremities).toEqual(['$c']);
    const d = await again.commit(message('$d', '$c', 5, s));
    expect(d.event.stream).toBe(5);
    expect((await again.timeline(ROOM)).map((e) => e.eventId)).toEqual(['$create', '$a', '$b', '$c', '$d']);
    await again.close();
    // Replayed a second time (idempotent): nothing changes.
    const third = new LevelRoomStore(dir, { journal: true });
    await third.open();
    expect((await third.timeline(ROOM)).map((e) => e.eventId)).toEqual(['$create', '$a', '$b', '$c', '$d']);
    await third.close();
  });

  it('a torn last record is ignored; the whole records before it are replayed', async () => {
    const dir = join(root, 'torn');
    const { store, s, release } = await heldJournalStore(dir);
    await store.commit(message('$a', '$create', 2, s));
    await store.commit(message('$b', '$a', 3, s));
    // The database as a killed process would leave it: LevelDB holds the create event only (the
    // writer is held), the journal holds $a and $b; then $b's record is cut short.
    const copy = join(root, 'torn-copy');
    cpSync(dir, copy, { recursive: true });
    const journal = readFileSync(join(copy, LEVEL_JOURNAL_FILE));
    const first = (journal.readUInt32LE(0) & 0x7fffffff) + 8; // bit 31: CRC-32
    expect(journal.length).toBeGreaterThan(first + 8);
    writeFileSync(join(copy, LEVEL_JOURNAL_FILE), journal.subarray(0, journal.length - 3));
    release();
    await store.close();

    // Opened without journaling, the store still replays the journal it finds.
    const again = new LevelRoomStore(copy);
    await again.open();
    expect((await again.getEvent('$a'))?.status).toBe('accepted');
    expect(await again.getEvent('$b')).toBeUndefined();
    expect((await again.getRoom(ROOM))!.lastStream).toBe(2);
    expect((await again.timeline(ROOM)).map((e) => e.eventId)).toEqual(['$create', '$a']);
    await again.close();
  });
});

describe('store-level journal records', () => {
  it('a sync writes the batches journaled since the last one as one record: torn, none of them is replayed', async () => {
    const dir = join(root, 'block-record');
    const { store, s, release } = await heldJournalStore(dir);
    // One block of three commits: acknowledged together, by one journal sync.
    await store.commitMany([message('$a', '$create', 2, s), message('$b', '$a', 3, s), message('$c', '$b', 4, s)]);
    const copy = join(root, 'block-record-copy');
    cpSync(dir, copy, { recursive: true });
    const journal = readFileSync(join(copy, LEVEL_JOURNAL_FILE));
    // Exactly one record: its length header covers the whole file.
    expect((journal.readUInt32LE(0) & 0x7fffffff) + 8).toBe(journal.length);
    const whole = join(root, 'block-record-whole');
    cpSync(copy, whole, { recursive: true });
    writeFileSync(join(copy, LEVEL_JOURNAL_FILE), journal.subarray(0, journal.length - 3));
    release();
    await store.close();

    // Torn: none of the block is replayed (not even $a, whose ops come first in the record).
    const torn = new LevelRoomStore(copy);
    await torn.open();
    expect(await torn.getEvent('$a')).toBeUndefined();
    expect((await torn.getRoom(ROOM))!.lastStream).toBe(1);
    expect((await torn.timeline(ROOM)).map((e) => e.eventId)).toEqual(['$create']);
    await torn.close();
    // Whole: all of it, with the room record after the last commit.
    const again = new LevelRoomStore(whole);
    await again.open();
    expect((await again.timeline(ROOM)).map((e) => e.eventId)).toEqual(['$create', '$a', '$b', '$c']);
    expect((await again.getRoom(ROOM))!.forwardExtremities).toEqual(['$c']);
    await again.close();
  });

  it('writes through the public batch() when a prewrite hook is attached to the database', async () => {
    const store = new LevelRoomStore(join(root, 'hooked'), { journal: true });
    await store.open();
    const seen: string[] = [];
    store.db.hooks.prewrite.add((op) => { seen.push(op.key as string); });
    const s = await createRoom(store);
    await store.commit(message('$a', '$create', 2, s));
    await store.flush();
    await store.timeline(ROOM); // written to LevelDB
    expect(seen.filter((k) => k.endsWith('$a')).length).toBeGreaterThan(0);
    await store.close();
  });
});

describe('store-level journal crash safety (SIGKILL mid-ingest)', () => {
  it('keeps every acknowledged commit', async () => {
    const dir = join(root, 'crash');
    const acked = await runAndKill(dir, 400, ['journal']);
    expect(acked.length).toBeGreaterThanOrEqual(400);
    const store = new LevelRoomStore(dir, { journal: true });
    await store.open();
    const have = await store.hasEvents(acked);
    expect(acked.filter((id) => !have.has(id))).toEqual([]);
    const room = (await store.getRoom('!crash:example.org'))!;
    const timeline = await store.timeline(room.roomId, { limit: 1_000_000 });
    expect(timeline.length).toBe(room.lastStream);
    expect(timeline.map((e) => e.stream)).toEqual(timeline.map((_, i) => i + 1));
    // At most the commit being journaled when the kill came is there without an acknowledgement.
    expect(timeline.length - acked.length).toBeGreaterThanOrEqual(0);
    expect(timeline.length - acked.length).toBeLessThanOrEqual(1);
    expect((await store.hasEvents(room.forwardExtremities)).size).toBe(room.forwardExtremities.length);
    const members = timeline.filter((e) => e.status === 'accepted' && e.type === 'm.room.member');
    expect((await store.loadState(room.currentState!)).size).toBe(1 + 3000 + members.length);
    for (const e of timeline) if (e.status !== 'outlier') expect(await store.snapshotInfo(e.stateBefore!)).toBeDefined();
    await store.close();
  }, 120_000);
});
