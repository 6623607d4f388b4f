// A commit's forward extremities are stored without repeats, in the order given (short lists and
// long ones, which the store deduplicates by another path), frozen, the caller's array left as it
// was; an extremity that is not stored refuses the commit.
import { describe, expect, it } from 'vitest';
import { fakeEvent } from '@roomgraph/store/conformance';
import { type EventId, isStoreError } from '@roomgraph/store';
import { MemoryRoomStore } from '@roomgraph/store-memory';

const ROOM = '!room:example.org';

/** A store with a create event and `n` messages after it (all stored): their IDs. */
async function room(n: number): Promise<{ store: MemoryRoomStore; ids: EventId[]; state: number }> {
  const store = new MemoryRoomStore();
  await store.open();
  const r = await store.commit({
    roomId: ROOM,
    createRoom: { roomVersion: '12', createEventId: '$create' },
    event: { event: fakeEvent('$create', { type: 'm.room.create', stateKey: '', depth: 1 }), status: 'accepted', stateBefore: { ref: 'before' } },
    snapshots: [{ ref: 'before', parent: null, changes: {} }],
    forwardExtremities: ['$create'],
  });
  const state = r.snapshots.get('before')!;
  const ids: EventId[] = [];
  for (let i = 0; i < n; i++) {
    const id = `$m${i}`;
    await store.commit({ roomId: ROOM, event: { event: fakeEvent(id, { prev: ['$create'], auth: ['$create'], depth: 2 }), status: 'accepted', stateBefore: state } });
    ids.push(id);
  }
  return { store, ids, state };
}

describe('forward extremities of a commit', () => {
  for (const n of [3, 40]) {
    it(`are stored once each, in order (${n} given, each twice)`, async () => {
      const { store, ids, state } = await room(n);
      const given = [...ids, '$new', ...[...ids].reverse(), '$new'];
      const res = await store.commit({
        roomId: ROOM,
        event: { event: fakeEvent('$new', { prev: ids, auth: ['$create'], depth: 3 }), status: 'accepted', stateBefore: state },
        forwardExtremities: given,
      });
      expect(res.room.forwardExtremities).toEqual([...ids, '$new']);
      expect(Object.isFrozen(res.room.forwardExtremities)).toBe(true);
      expect(Object.isFrozen(given)).toBe(false);
      expect((await store.getRoom(ROOM))!.forwardExtremities).toEqual([...ids, '$new']);
      await store.close();
    });
  }

  it('refuse a commit naming one that is not stored', async () => {
    const { store, ids, state } = await room(3);
    const err = await store.commit({
      roomId: ROOM,
      event: { event: fakeEvent('$new', { prev: ids, auth: ['$create'], depth: 3 }), status: 'accepted', stateBefore: state },
      forwardExtremities: ['$new', ids[0]!, '$ghost'],
    }).then(() => undefined, (e: unknown) => e);
    expect(isStoreError(err, 'STORE_INVALID_COMMIT')).toBe(true);
    expect((await store.getRoom(ROOM))!.forwardExtremities).toEqual(['$create']);
    await store.close();
  });
});
