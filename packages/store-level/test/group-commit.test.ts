/**
 * Group commit on LevelDB: several commits made with `durable: false` land in one write batch; a
 * failing write loses exactly the commits that were not yet durable and leaves the store refusing
 * every call until it is reopened, holding exactly what was durable.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isStoreError } from '@roomgraph/store';
import { fakeEvent } from '@roomgraph/store/conformance';
import { LevelRoomStore } from '@roomgraph/store-level';
import { ROOM, ProbeStore, createRoom, message, tempRoot } from './helpers.js';

const root = tempRoot('group');

/** A gate: `wait` resolves once `open` has been called. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const wait = new Promise<void>((r) => { open = r; });
  return { wait, open };
}

describe('store-level group commit', () => {
  it('commits made while a write is in flight share the next write batch', async () => {
    const dir = join(root, 'grouping');
    const store = new ProbeStore(dir);
    await store.open();
    const s = await createRoom(store);
    // The first message's write is held at a gate until every other commit has been applied: the
    // race "commits arrive while a write is in flight" is set up, not left to timing.
    const held = gate();
    store.hold = held.wait;
    let prev = '$create';
    for (let i = 0; i < 200; i++) {
      await store.commit(message(`$m${i}`, prev, 2 + i, s), { durable: false });
      prev = `$m${i}`;
    }
    store.hold = undefined;
    held.open();
    await store.flush();
    // 201 commits in 3 writes: the create event, the first message (in flight while the others
    // were applied), then everything applied during that write in one batch.
    expect(store.groups.reduce((a, b) => a + b, 0)).toBe(201);
    expect(store.groups).toEqual([1, 1, 199]);
    expect(store.groups.length).toBeLessThan(50);
    expect(Math.max(...store.groups)).toBeGreaterThan(1);
    await store.close();
    const again = new LevelRoomStore(dir);
    await again.open();
    expect((await again.getRoom(ROOM))!.lastStream).toBe(201);
    expect((await again.timeline(ROOM, { limit: 1000 })).map((e) => e.eventId)).toEqual(['$create', ...Array.from({ length: 200 }, (_, i) => `$m${i}`)]);
    await again.close();
  });

  it('a failed write: the lost commits disappear, the store refuses calls until reopened, durable ones stay', async () => {
    const dir = join(root, 'failing');
    const store = new ProbeStore(dir);
    await store.open();
    const s = await createRoom(store);
    await store.commit(message('$a', '$create', 2, s));
    store.failing = true;
    const b = await store.commit(message('$b', '$a', 3, s), { durable: false });
    expect(b.event.stream).toBe(3);
    // Applied (visible) until the write fails…
    const c = store.commit(message('$c', '$b', 4, s), { durable: false });
    await expect(store.flush()).rejects.toSatisfy((e: unknown) => isStoreError(e, 'STORE_IO') && /disk full/.test((e as Error).message));
    await c.catch(() => undefined);
    // …then the store refuses everything with the write's error.
    await expect(store.getEvent('$a')).rejects.toSatisfy((e: unknown) => isStoreError(e, 'STORE_IO'));
    await expect(store.commit(message('$d', '$a', 3, s))).rejects.toSatisfy((e: unknown) => isStoreError(e, 'STORE_IO'));
    await store.close();

    const again = new LevelRoomStore(dir);
    await again.open();
    expect((await again.getEvent('$a'))?.status).toBe('accepted');
    expect(await again.getEvent('$b')).toBeUndefined();
    expect(await again.getEvent('$c')).toBeUndefined();
    const room = await again.getRoom(ROOM);
    expect(room!.lastStream).toBe(2);
    expect(room!.forwardExtremities).toEqual(['$a']);
    const d = await again.commit(message('$d', '$a', 3, s));
    expect(d.event.stream).toBe(3);
    expect((await again.timeline(ROOM)).map((e) => e.eventId)).toEqual(['$create', '$a', '$d']);
    await again.close();
  });

  it('a read that misses while a commit stores the same event never caches it as absent', async () => {
    // The next backend read completes, then waits at a gate before its caller sees the result:
    // a read that found nothing, overtaken by a commit of that very event.
    class SlowRead extends LevelRoomStore {
      gate: Promise<void> | undefined;
      /** Called when a gated read has its (empty) backend result and is about to wait. */
      reached: (() => void) | undefined;
      protected override async _getEvents(ids: readonly string[]) {
        const result = await super._getEvents(ids);
        const gate = this.gate;
        this.gate = undefined;
        if (gate !== undefined) {
          this.reached?.();
          await gate;
        }
        return result;
      }
    }
    // No event cache: once written, a record is found only by a backend read, so a wrongly cached
    // "absent" would hide the event for good.
    const store = new SlowRead(join(root, 'race'), { eventCacheSize: 0 });
    await store.open();
    const s = await createRoom(store);
    for (const batched of [false, true]) {
      const id = batched ? '$raced-batch' : '$raced';
      const g = gate();
      const reached = gate();
      store.gate = g.wait;
      store.reached = reached.open;
      const read = batched ? store.getEvents([id]).then((m) => m.get(id)) : store.getEvent(id);
      // The read has missed in the backend and waits: now the commit of that very event overtakes it.
      await reached.wait;
      await store.commit(message(id, '$create', 2, s));
      g.open();
      expect(await read).toBeUndefined();
      expect((await store.getEvent(id))?.eventId).toBe(id);
      expect([...(await store.hasEvents([id]))]).toEqual([id]);
    }
    await store.close();
  });

  it('flush waits for the commits applied before it, not for a writer kept busy by others', async () => {
    const store = new ProbeStore(join(root, 'busy'));
    await store.open();
    const s = await createRoom(store);
    // Another caller commits without pause (capped, so that a starving flush cannot hang the test).
    let stop = false;
    let others = 0;
    const started = gate();
    const stream = (async () => {
      let prev = '$create';
      while (!stop && others < 3000) {
        const id = `$o${others++}`;
        await store.commit(message(id, prev, 2 + others, s), { durable: false });
        prev = id;
        // The other caller is under way (a latch, not a sleep) once it has made 20 commits.
        if (others === 20) started.open();
        // As commits arriving from the network would: one per turn of the event loop.
        await new Promise((r) => setImmediate(r));
      }
    })();
    await started.wait;
    await store.commit({ roomId: ROOM, event: { event: fakeEvent('$mine', { prev: ['$create'], auth: ['$create'], depth: 2 }), status: 'accepted', stateBefore: s } }, { durable: false });
    await store.flush();
    const at = others;
    stop = true;
    await stream;
    expect(at).toBeLessThan(3000);
    await store.flush();
    await store.close();
    const again = new LevelRoomStore(join(root, 'busy'));
    await again.open();
    expect((await again.getEvent('$mine'))?.status).toBe('accepted');
    expect((await again.getRoom(ROOM))!.lastStream).toBe(2 + others);
    await again.close();
  });

  it('a durable commit waits for its own write; a failing one rejects with STORE_IO', async () => {
    const store = new ProbeStore(join(root, 'durable'));
    await store.open();
    const s = await createRoom(store);
    store.failing = true;
    await expect(store.commit(message('$x', '$create', 2, s))).rejects.toSatisfy((e: unknown) => isStoreError(e, 'STORE_IO'));
    await store.close();
    const again = new LevelRoomStore(join(root, 'durable'));
    await again.open();
    expect(await again.getEvent('$x')).toBeUndefined();
    await again.close();
  });
});
