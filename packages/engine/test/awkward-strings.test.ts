/**
 * U+0000 in events (JSON "\u0000" is legal in Matrix canonical JSON: Appendices › Canonical JSON)
 * received through the engine: content, state keys and event types holding it must get the same
 * outcome and the same stored state on every store — PostgreSQL's `text` cannot hold U+0000, so
 * its store escapes ID columns (store-postgres `src/codec.ts`) while the memory and LevelDB stores
 * hold it as it is. U+0000 in content, state keys and types reaches only JSON columns there; a
 * PDU whose `room_id` holds one is looked up by that ID before anything refuses it (the room is
 * unknown: dropped), which made the PostgreSQL store throw a server error (invalid byte sequence
 * 0x00) out of `receivePdus` before its ID columns were escaped. A (memory) builds the room; observers on the memory, LevelDB and PostgreSQL
 * stores (PGlite, or the server of ROOMGRAPH_POSTGRES_URL) receive the same PDUs, from the create
 * event on, so event IDs — random in room version 1 — are the same everywhere.
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import type { Pdu } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { PostgresRoomStore } from '@roomgraph/store-postgres';
import { type Server, type StoreKind, forge, withFed } from './harness.js';

/** The events A sends (all by alice, who created the room at PL 100). */
const TEMPLATES: readonly { type: string; stateKey?: string; content: JsonObject }[] = [
  { type: 'm.room.message', content: { msgtype: 'm.text', body: 'nul \u0000 here', '\u0000': ['\u0000', { 'k\u0000': '\u0000\u0001' }] } },
  { type: 'org.example.nul', stateKey: 'a\u0000b', content: { v: '\u0000' } },
  { type: 'org.example.nul', stateKey: '\u0000', content: {} },
  { type: 'org.example.nul', stateKey: '\u0001', content: { escape: '\u0001' } },
  { type: 'org.example\u0000type', stateKey: '', content: { x: 1 } },
  { type: 'm.room.topic', stateKey: '', content: { topic: '\u0000\u{1F600}\u202E' } },
  // Replaces 'a\u0000b': the state must keep exactly one entry for that key.
  { type: 'org.example.nul', stateKey: 'a\u0000b', content: { v: 'second' } },
];

/** Everything a receiver holds about the room, to compare across stores. */
async function view(s: Server, roomId: string, pdus: readonly Pdu[]): Promise<unknown> {
  const tl = await s.engine.timeline(roomId, { limit: 1000 });
  return {
    state: (await s.engine.currentState(roomId)).toJSON(),
    extremities: [...(await s.engine.forwardExtremities(roomId))].sort(),
    timeline: tl.map((e) => [e.eventId, e.status, e.type, e.stateKey ?? null]),
    events: await Promise.all(pdus.map(async (p) => (await s.engine.getEvent(p.eventId))?.json)),
  };
}

describe.each(['1', '10', '12'])('U+0000 in received events, room version %s: the same outcome and state on every store', (v) => {
  it('content, state keys and types holding U+0000 get the same outcome and are stored exactly on memory, LevelDB and PostgreSQL', async () => {
    await withFed('postgres', async (fed) => {
      const a = fed.add('a.test', { store: 'memory' });
      const kinds: StoreKind[] = ['memory', 'level', 'postgres'];
      const observers = kinds.map((kind) => fed.add(`${kind}.test`, { store: kind, transport: false }));
      const rules = getRoomVersion(v);
      const roomId = await a.engine.createRoom({ roomVersion: v, creator: '@alice:a.test', preset: 'public_chat', ...(rules.eventFormat.createEventHasRoomId ? { roomIdLocalpart: 'nul' } : {}) });
      const pdus: Pdu[] = [];
      for (const t of TEMPLATES) pdus.push(await a.engine.createLocalEvent(roomId, { ...t, sender: '@alice:a.test' }));
      // And one that fails auth (eve is not in the room) on a key holding U+0000: rejected, and
      // the state keeps alice's event for that key.
      const aState = await a.engine.currentState(roomId);
      const json = async (type: string): Promise<JsonObject> => (await a.engine.getEvent(aState.get(type, '')!))!.json;
      const last = pdus[pdus.length - 1]!;
      const forged = forge(v, { serverName: 'a.test', key: a.key }, {
        roomId, type: 'org.example.nul', stateKey: 'a\u0000b', sender: '@eve:a.test', content: { v: 'eve \u0000' }, prevEvents: [last],
        authEvents: rules.authorization.roomIdFromCreateEvent ? [await json('m.room.power_levels')] : [await json('m.room.create'), await json('m.room.power_levels')],
        depth: last.depth + 1, ts: 1_800_000_000_000,
      });
      // And hostile ones, U+0000 in IDs (never valid there: APP › Identifier grammar) — dropped.
      const base = pdus[0]!.json;
      const ref = (id: string): unknown => (rules.eventFormat.eventReferences === 'id-and-hash' ? [id, { sha256: 'AAAA' }] : id);
      const hostile: JsonObject[] = [
        { ...base, prev_events: [ref('$x\u0000:a.test')] } as JsonObject,
        { ...base, auth_events: [ref('$\u0000')] } as JsonObject,
        { ...base, room_id: '!\u0000:a.test' },
        { ...base, sender: '@\u0000:a.test' },
        ...(rules.eventFormat.eventIdFormat === 'server-assigned' ? [{ ...base, event_id: '$a\u0000b:a.test' }] : []),
      ];
      // Every observer receives the whole room, in order, from its create event (as an ingest).
      const input = [...(await a.engine.timeline(roomId, { limit: 1000 })).map((e) => e.json), forged.json, ...hostile];

      const outcomes = [];
      for (const o of observers) {
        const first = await o.engine.receivePdus('a.test', input);
        const again = await o.engine.receivePdus('a.test', input);
        outcomes.push({ first, again });
      }
      const statuses = outcomes[0]!.first.map((o) => o.status);
      expect(statuses.slice(-TEMPLATES.length - 1 - hostile.length)).toEqual([...TEMPLATES.map(() => 'accepted'), 'rejected', ...hostile.map(() => 'dropped')]);
      expect(statuses.slice(0, -1 - hostile.length).every((s) => s === 'accepted')).toBe(true);
      expect(outcomes[0]!.again.slice(0, -hostile.length).every((o) => o.duplicate === true)).toBe(true);
      for (const o of outcomes.slice(1)) expect(o).toEqual(outcomes[0]);

      const all = [...pdus, forged];
      const views = await Promise.all(observers.map((o) => view(o, roomId, all)));
      for (const w of views.slice(1)) expect(w).toEqual(views[0]);
      const pg = observers[2]!;
      const state = await pg.engine.currentState(roomId);
      expect(state.toJSON()).toEqual((await a.engine.currentState(roomId)).toJSON());
      expect(state.get('org.example.nul', 'a\u0000b')).toBe(pdus[6]!.eventId);
      expect(state.get('org.example.nul', '\u0000')).toBe(pdus[2]!.eventId);
      expect(state.get('org.example.nul', '\u0001')).toBe(pdus[3]!.eventId);
      expect(state.get('org.example.nul', 'a')).toBeUndefined();
      expect(state.get('org.example\u0000type', '')).toBe(pdus[4]!.eventId);
      expect(state.ofType('org.example.nul').size).toBe(3);
      // Stored exactly as received (nothing redacted or rewritten).
      for (const p of all) expect((await pg.engine.getEvent(p.eventId))?.json).toEqual(p.json);
      expect((await pg.engine.getEvent(forged.eventId))?.status).toBe('rejected');

      // What PostgreSQL stored reads back the same from a fresh store instance (no cache).
      const stored = pg.store as PostgresRoomStore;
      const fresh = new PostgresRoomStore(stored.url, { schema: stored.schema });
      await fresh.open();
      try {
        const room = (await fresh.getRoom(roomId))!;
        expect(room).toEqual(await stored.getRoom(roomId));
        expect(Object.fromEntries(await fresh.loadState(room.currentState!))).toEqual(Object.fromEntries(await stored.loadState(room.currentState!)));
        for (const p of all) expect(await fresh.getEvent(p.eventId)).toEqual(await stored.getEvent(p.eventId));
      } finally {
        await fresh.close();
      }
    });
  });
});
