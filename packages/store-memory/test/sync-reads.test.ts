// The memory store answers event and snapshot reads from its maps at once (`_eventNow`,
// `_layerNow`): no backend promise per read, and the same answers as the backend reads give.
import { describe, expect, it } from 'vitest';
import { fakeEvent } from '@roomgraph/store/conformance';
import type { EventId, SnapshotId, SnapshotLayer, StoredEvent } from '@roomgraph/store';
import { MemoryRoomStore } from '@roomgraph/store-memory';

/** A memory store that counts the asynchronous backend reads the shared store logic makes. */
class CountingStore extends MemoryRoomStore {
  eventReads = 0;
  layerReads = 0;
  protected override async _getEvents(ids: readonly EventId[]): Promise<readonly (StoredEvent | undefined)[]> {
    this.eventReads++;
    return super._getEvents(ids);
  }
  protected override async _getLayers(ids: readonly SnapshotId[]): Promise<readonly (SnapshotLayer | undefined)[]> {
    this.layerReads++;
    return super._getLayers(ids);
  }
}

const ROOM = '!room:example.org';
const key = (type: string, stateKey: string): string => `${type.length}:${type}${stateKey}`;

/** A room of a create event, `n` state events (each its own snapshot) and `n` messages. */
async function buildRoom(store: MemoryRoomStore, n: number): Promise<{ ids: EventId[]; snapshots: SnapshotId[] }> {
  const ids: EventId[] = ['$create'];
  const snapshots: SnapshotId[] = [];
  const r = await store.commit({
    roomId: ROOM,
    createRoom: { roomVersion: '12', createEventId: '$create' },
    event: { event: fakeEvent('$create', { type: 'm.room.create', stateKey: '', depth: 1 }), status: 'accepted', stateBefore: { ref: 'before' } },
    snapshots: [
      { ref: 'before', parent: null, changes: {} },
      { ref: 'after', parent: { ref: 'before' }, changes: { set: [[key('m.room.create', ''), '$create']] } },
    ],
    forwardExtremities: ['$create'],
    currentState: { ref: 'after' },
  });
  let state = r.snapshots.get('after')!;
  snapshots.push(state);
  for (let i = 0; i < n; i++) {
    const id = `$s${i}`;
    const prev = ids[ids.length - 1]!;
    const c = await store.commit({
      roomId: ROOM,
      event: { event: fakeEvent(id, { type: 'm.room.topic', stateKey: `k${i}`, prev: [prev], auth: ['$create'], depth: i + 2 }), status: 'accepted', stateBefore: state },
      snapshots: [{ ref: 'after', parent: state, changes: { set: [[key('m.room.topic', `k${i}`), id]] } }],
      forwardExtremities: [id],
      currentState: { ref: 'after' },
    });
    state = c.snapshots.get('after')!;
    snapshots.push(state);
    ids.push(id);
  }
  for (let i = 0; i < n; i++) {
    const id = `$m${i}`;
    const prev = ids[ids.length - 1]!;
    await store.commit({
      roomId: ROOM,
      event: { event: fakeEvent(id, { prev: [prev], auth: ['$create'], depth: n + i + 2 }), status: 'accepted', stateBefore: state },
      forwardExtremities: [id],
    });
    ids.push(id);
  }
  await store.flush();
  return { ids, snapshots };
}

describe('memory store: synchronous reads', () => {
  it('commits and reads stored events and snapshots without a backend read', async () => {
    const store = new CountingStore();
    await store.open();
    const { ids, snapshots } = await buildRoom(store, 40);
    expect(store.eventReads).toBe(0);
    expect(store.layerReads).toBe(0);
    for (const id of ids) expect((await store.getEvent(id))?.eventId).toBe(id);
    const many = await store.getEvents([...ids, '$absent']);
    expect([...many.keys()]).toEqual(ids);
    expect(await store.getEvent('$absent')).toBeUndefined();
    // peekEvent: every answer at once — the record, or null for an ID not stored.
    for (const id of ids) expect(store.peekEvent(id)).toBe(await store.getEvent(id));
    expect(store.peekEvent('$absent')).toBeNull();
    const last = snapshots[snapshots.length - 1]!;
    const state = await store.loadState(last);
    expect(state.size).toBe(41);
    expect(await store.getStateEntries(snapshots[3]!, [key('m.room.topic', 'k2'), key('m.room.topic', 'k3')])).toEqual(['$s2', undefined]);
    expect(store.eventReads).toBe(0);
    expect(store.layerReads).toBe(0);
    await store.close();
  });

  it('answers as the backend reads do', async () => {
    // The same room in a store whose synchronous reads are switched off (the shared logic then
    // reads through `_getEvents`/`_getLayers`): every answer is the same.
    const a = new MemoryRoomStore();
    const b = new CountingStore();
    for (const hook of ['_eventNow', '_layerNow']) Object.defineProperty(b, hook, { value: undefined });
    await a.open();
    await b.open();
    const ra = await buildRoom(a, 30);
    const rb = await buildRoom(b, 30);
    expect(b.eventReads).toBeGreaterThan(0);
    expect(rb.snapshots).toEqual(ra.snapshots);
    for (const id of [...ra.ids, '$nope']) expect(await a.getEvent(id)).toEqual(await b.getEvent(id));
    for (const s of ra.snapshots) expect([...(await a.loadState(s))]).toEqual([...(await b.loadState(s))]);
    expect(await a.getRoom(ROOM)).toEqual(await b.getRoom(ROOM));
    await a.close();
    await b.close();
  });
});
