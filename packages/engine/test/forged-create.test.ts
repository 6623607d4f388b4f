/**
 * A validly signed `m.room.create` from another server for a victim room's ID (room versions 1–11,
 * where the create event names its room ID), delivered before the room's real events: it is
 * rejected (room version N › Authorization rules, rule 1: the room ID's domain must be the
 * sender's) and must claim nothing — the room ends exactly as without it. Runs on both stores.
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import { getRoomVersion } from '@roomgraph/room-versions';
import { type Fed, STORE_KINDS, type Server, forge, roomView, withFed } from './harness.js';

const VERSIONS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11'];

/** A room on `a.test` with a few events after its creation; its events in order. */
async function victimRoom(fed: Fed, v: string): Promise<{ roomId: string; events: JsonObject[] }> {
  const a = fed.add('a.test');
  const roomId = await a.engine.createRoom({ roomVersion: v, creator: '@alice:a.test', preset: 'public_chat', roomIdLocalpart: 'victim' });
  await a.engine.createLocalEvent(roomId, { type: 'm.room.topic', stateKey: '', sender: '@alice:a.test', content: { topic: 'real' } });
  await a.engine.createLocalEvent(roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: 'hello' } });
  return { roomId, events: (await a.store.timeline(roomId, { limit: 100 })).map((e) => e.json) };
}

async function deliver(s: Server, events: readonly JsonObject[]): Promise<string[]> {
  const out: string[] = [];
  for (const j of events) out.push((await s.engine.receivePdu(String(j['sender']).split(':')[1] ?? '', j)).status);
  return out;
}

describe.each(STORE_KINDS)('a forged create event for another server\'s room (%s store)', (kind) => {
  it.each(VERSIONS)('room version %s: rejected, claims nothing, the real room ends as without it', async (v) => {
    await withFed(kind, async (fed) => {
      const { roomId, events } = await victimRoom(fed, v);
      const m = fed.add('m.test', { transport: false });
      const rules = getRoomVersion(v);
      const forged = forge(v, { serverName: 'm.test', key: m.key }, {
        roomId, type: 'm.room.create', stateKey: '', sender: '@mallory:m.test',
        content: { room_version: v, ...(rules.authorization.creatorInContent ? { creator: '@mallory:m.test' } : {}) },
        prevEvents: [], authEvents: [], depth: 1, ts: 1_700_000_000_000,
      });

      const honest = fed.add('h.test', { transport: false });
      const honestStatus = await deliver(honest, events);
      expect(honestStatus.every((s) => s === 'accepted')).toBe(true);

      const victim = fed.add('x.test', { transport: false });
      const o = await victim.engine.receivePdu('m.test', forged.json);
      expect(o).toMatchObject({ eventId: forged.eventId, status: 'rejected', rule: 'create.room_id_domain' });
      // Nothing stored: no room, no event.
      expect(await victim.store.getRoom(roomId)).toBeUndefined();
      expect(await victim.engine.getEvent(forged.eventId)).toBeUndefined();
      expect(await deliver(victim, events)).toEqual(honestStatus);
      expect(await roomView(victim, roomId)).toEqual(await roomView(honest, roomId));
      expect((await victim.store.getRoom(roomId))?.createEventId).toBe((await honest.store.getRoom(roomId))?.createEventId);
      // Re-delivered afterwards: still rejected (a duplicate create), the room unchanged.
      expect((await victim.engine.receivePdu('m.test', forged.json)).status).toBe('rejected');
      expect(await roomView(victim, roomId)).toEqual(await roomView(honest, roomId));
    });
  });
});
