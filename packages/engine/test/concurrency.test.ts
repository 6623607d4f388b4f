import { describe, expect, it } from 'vitest';
import { createRoomEngine } from '@roomgraph/engine';
import { createMemoryStore } from '@roomgraph/store-memory';
import { StaticKeySource } from '@roomgraph/transport';
import { type IngestRoom, readJsonl } from './fixtures.js';

const rooms = readJsonl<IngestRoom>('ingest.jsonl.gz');

describe('per-room serialisation', () => {
  it.each(['1', '10', '12'])('v%s: PDUs fired concurrently with their room\'s create event end as if delivered in order', async (v) => {
    const room = rooms.find((r) => r.room_version === v) as IngestRoom;
    const inOrder = createRoomEngine({ serverName: 'o.test', store: createMemoryStore(), keys: new StaticKeySource(room.keys) });
    const expected = [];
    for (const ev of room.events) expected.push((await inOrder.receivePdu('x', ev)).status);
    const racing = createRoomEngine({ serverName: 'o.test', store: createMemoryStore(), keys: new StaticKeySource(room.keys) });
    // Not awaited one by one: every call is made before the create event has been processed.
    const got = await Promise.all(room.events.map((ev) => racing.receivePdu('x', ev)));
    expect(got.map((o) => o.status)).toEqual(expected);
    const roomId = (await inOrder.store.listRooms())[0] as string;
    expect(await racing.currentState(roomId)).toEqual(await inOrder.currentState(roomId));
    expect(await racing.forwardExtremities(roomId)).toEqual(await inOrder.forwardExtremities(roomId));
  });
});
