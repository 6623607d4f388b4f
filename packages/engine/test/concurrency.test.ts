import { describe, expect, it } from 'vitest';
import { RoomEngine } from '@roomgraph/engine';
import { createMemoryStore } from '@roomgraph/store-memory';
import { StaticKeySource } from '@roomgraph/transport';
import { type IngestRoom, readJsonl } from './fixtures.js';

const rooms = readJsonl<IngestRoom>('ingest.jsonl.gz');

describe('per-room serialisation', () => {
  it.each(['1', '10', '12'])('v%s: PDUs fired concurrently with their room\'s create event end as if delivered in order', async (v) => {
    const room = rooms.find((r) => r.room_version === v) as IngestRoom;
    const inOrder = await RoomEngine.open({ ownsStore: true, serverName: 'o.test', store: createMemoryStore(), keys: new StaticKeySource(room.keys) });
    const expected = [];
    for (const ev of room.events) expected.push((await inOrder.receivePdu('x', ev)).status);
    const racing = await RoomEngine.open({ ownsStore: true, serverName: 'o.test', store: createMemoryStore(), keys: new StaticKeySource(room.keys) });
    // Not awaited one by one: every call is made before the create event has been processed.
    const got = await Promise.all(room.events.map((ev) => racing.receivePdu('x', ev)));
    expect(got.map((o) => o.status)).toEqual(expected);
    const roomId = (await inOrder.store.listRooms())[0] as string;
    expect(await racing.currentState(roomId)).toEqual(await inOrder.currentState(roomId));
    expect(await racing.forwardExtremities(roomId)).toEqual(await inOrder.forwardExtremities(roomId));
  });
});

describe('unknown auth events', () => {
  it.each(['3', '10', '12'])('v%s: an event whose auth events are unknown is parked, not rejected, and processed once they arrive', async (v) => {
    const room = rooms.find((r) => r.room_version === v) as IngestRoom;
    const inOrder = await RoomEngine.open({ ownsStore: true, serverName: 'o.test', store: createMemoryStore(), keys: new StaticKeySource(room.keys) });
    const inOrderStatus = new Map<string, string>();
    for (const ev of room.events) inOrderStatus.set(String(ev['event_id']), (await inOrder.receivePdu('x', ev)).status);
    // Hold back the accepted event that later events cite most in auth_events (not the create event).
    const cites = new Map<string, number>();
    const idsOf = (ev: Record<string, unknown>, key: string) => (ev[key] as unknown[]).map((a) => String(Array.isArray(a) ? a[0] : a));
    for (const ev of room.events) for (const a of idsOf(ev, 'auth_events')) cites.set(a, (cites.get(a) ?? 0) + 1);
    const candidates = room.events.slice(3).filter((e) => e['type'] !== 'm.room.create' && (inOrderStatus.get(String(e['event_id'])) === 'accepted'));
    const held = candidates.reduce((a, b) => ((cites.get(String(b['event_id'])) ?? 0) > (cites.get(String(a['event_id'])) ?? 0) ? b : a));
    const heldId = String(held['event_id']);
    const late = await RoomEngine.open({ ownsStore: true, serverName: 'o.test', store: createMemoryStore(), keys: new StaticKeySource(room.keys) });
    const statuses: string[] = [];
    for (const ev of room.events) if (ev !== held) statuses.push((await late.receivePdu('x', ev)).status);
    expect(statuses).toContain('parked');
    const roomId = (await inOrder.store.listRooms())[0] as string;
    // Nothing that cites the held event was stored as rejected for it.
    for (const ev of room.events) {
      if (idsOf(ev, 'auth_events').includes(heldId)) expect(await late.getEvent(String(ev['event_id']))).toBeUndefined();
    }
    await late.receivePdu('x', held);
    // Released: nothing is left parked and every event the in-order run stored is stored. (Their
    // soft-fail decisions may differ: they are taken against the current state at processing time,
    // which a different delivery order changes — as on any server.)
    expect(await late.store.listParkedEvents(roomId)).toEqual([]);
    for (const ev of room.events) {
      const id = String(ev['event_id']);
      expect(await late.getEvent(id) !== undefined, id).toBe(await inOrder.getEvent(id) !== undefined);
    }
    if (![...inOrderStatus.values()].some((x) => x === 'soft-failed')) {
      expect(await late.currentState(roomId)).toEqual(await inOrder.currentState(roomId));
    }
    // Whatever soft-failed, the room's final state is compared, event by event: the state before
    // (and after) every stored event depends only on the DAG, not on the delivery order, and so do
    // rejections (auth against the event's own auth events and that state). Only soft-fail
    // decisions, taken against the current state at processing time, may differ.
    let compared = 0;
    for (const ev of room.events) {
      const id = String(ev['event_id']);
      const [a, b] = [await inOrder.getEvent(id), await late.getEvent(id)];
      if (a === undefined || b === undefined) continue;
      expect(b.status === 'rejected', id).toBe(a.status === 'rejected');
      expect(await late.stateAt(id), id).toEqual(await inOrder.stateAt(id));
      expect(await late.stateAt(id, { after: true }), id).toEqual(await inOrder.stateAt(id, { after: true }));
      compared++;
    }
    expect(compared).toBeGreaterThan(room.events.length / 2);
    // The current state is the resolution of the forward extremities' states: equal where they are.
    const [ea, eb] = [await inOrder.forwardExtremities(roomId), await late.forwardExtremities(roomId)];
    if ([...ea].sort().join() === [...eb].sort().join()) expect(await late.currentState(roomId)).toEqual(await inOrder.currentState(roomId));
  });
});
