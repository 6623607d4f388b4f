/**
 * Hostile input through the federation paths (memory store): garbage answers from a remote to
 * get_missing_events, state_ids, event, backfill, make_join and send_join, and hostile requests
 * to the make_join / send_join handlers. The engine never throws anything but its typed errors,
 * and the room is exactly as before (or, for a join, holds that join and nothing else).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import { EngineError } from '@roomgraph/engine';
import { hashAndSignEvent, parsePdu } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { hostilePdu } from '@roomgraph/testkit';
import { type FederationHandler, FederationRefusal } from '@roomgraph/transport';
import { interceptHandler, send, storeSnapshot, withFed } from './harness.js';

const RUNS = Number(process.env['ROOMGRAPH_PROPERTY_RUNS'] ?? 40);

/** Any JSON-ish value a broken or malicious remote could answer with (as a structured clone). */
const junk = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  fc.array(fc.dictionary(fc.constantFrom('type', 'room_id', 'sender', 'state_key', 'content', 'prev_events', 'auth_events', 'depth', 'event_id'), fc.anything({ maxDepth: 2 }))),
  fc.record({ pduIds: fc.anything({ maxDepth: 2 }), authChainIds: fc.anything({ maxDepth: 2 }) }),
  fc.record({ roomVersion: fc.anything({ maxDepth: 1 }), event: fc.anything({ maxDepth: 2 }) }),
  fc.record({ state: fc.anything({ maxDepth: 2 }), authChain: fc.anything({ maxDepth: 2 }), event: fc.anything({ maxDepth: 2 }) }),
);

describe('hostile federation input (memory store)', () => {
  it('garbage answers to get_missing_events / state_ids / event: the PDU parks, nothing else changes', async () => {
    await withFed('memory', async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test');
      const roomId = await a.engine.createRoom({ roomVersion: '11', creator: '@alice:a.test', preset: 'public_chat', roomIdLocalpart: 'fz1' });
      await b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test');
      fed.net.partition(['a.test'], ['b.test']);
      const pdus: JsonObject[] = [];
      for (let i = 0; i < 3; i++) pdus.push((await send(a, [], roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: `hidden ${i}` } })).json);
      fed.net.heal();
      const before = await storeSnapshot(b, roomId);
      await fc.assert(
        fc.asyncProperty(junk, junk, junk, async (missing, stateIds, event) => {
          interceptHandler(fed, a, () => ({
            onGetMissingEvents: async () => missing as never,
            onGetStateIds: async () => stateIds as never,
            onGetEvent: async () => event as never,
            onGetState: async () => stateIds as never,
          }));
          const [o] = await b.engine.receivePdus('a.test', [pdus[2]!]);
          expect(['parked', 'accepted']).toContain(o!.status);
          if (o!.status === 'parked') {
            const after = (await storeSnapshot(b, roomId)) as { parked: string[] };
            expect({ ...after, parked: [] }).toEqual({ ...(before as object), parked: [] });
          }
        }),
        { numRuns: RUNS },
      );
    });
  });

  it('state_ids naming events the remote then cannot give: the PDU parks (it is not judged against a partial state)', async () => {
    await withFed('memory', async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test');
      const roomId = await a.engine.createRoom({ roomVersion: '11', creator: '@alice:a.test', preset: 'public_chat', roomIdLocalpart: 'fz5' });
      await b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test');
      fed.net.partition(['a.test'], ['b.test']);
      await send(a, [], roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: 'hidden' } });
      const pdu = await send(a, [], roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: 'pushed' } });
      fed.net.heal();
      interceptHandler(fed, a, () => ({
        onGetMissingEvents: async () => [],
        onGetStateIds: async () => ({ pduIds: ['$unknown-state-event'], authChainIds: [] }),
        onGetEvent: async () => undefined,
      }));
      const [o] = await b.engine.receivePdus('a.test', [pdu.json]);
      expect(o!.status).toBe('parked');
      expect(await b.engine.getEvent(pdu.eventId)).toBeUndefined();
      // Once the remote answers properly, the parked event goes through.
      fed.net.register('a.test', a.engine);
      await a.engine.sendToServers(['b.test'], [pdu]);
      expect((await b.engine.getEvent(pdu.eventId))?.status).toBe('accepted');
    });
  });

  it('garbage backfill answers: typed outcomes, the room\'s state and extremities unchanged', async () => {
    await withFed('memory', async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test');
      const roomId = await a.engine.createRoom({ roomVersion: '10', creator: '@alice:a.test', preset: 'public_chat', roomIdLocalpart: 'fz2' });
      for (let i = 0; i < 4; i++) await send(a, [], roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: `old ${i}` } });
      await b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test');
      const state = await b.engine.currentState(roomId);
      const ext = await b.engine.forwardExtremities(roomId);
      const valid = (await a.store.timeline(roomId)).map((e) => e.json);
      await fc.assert(
        fc.asyncProperty(fc.oneof(junk, fc.array(fc.oneof(fc.constantFrom(...valid), junk), { maxLength: 6 })), async (answer) => {
          interceptHandler(fed, a, () => ({ onBackfill: async () => answer as never }));
          const out = await b.engine.backfill(roomId, 'a.test', { limit: 10 });
          for (const o of out) expect(['accepted', 'dropped', 'rejected', 'soft-failed', 'parked', 'outlier']).toContain(o.status);
          expect(await b.engine.currentState(roomId)).toEqual(state);
          expect(await b.engine.forwardExtremities(roomId)).toEqual(ext);
        }),
        { numRuns: RUNS },
      );
    });
  });

  it('garbage make_join / send_join answers: ENGINE_* errors only, and nothing of the room is kept half-joined', async () => {
    await withFed('memory', async (fed) => {
      const a = fed.add('a.test');
      const roomId = await a.engine.createRoom({ roomVersion: '11', creator: '@alice:a.test', preset: 'public_chat', roomIdLocalpart: 'fz3' });
      let n = 0;
      await fc.assert(
        fc.asyncProperty(junk, junk, fc.boolean(), async (made, joined, realMakeJoin) => {
          const b = fed.add(`b${n++}.test`);
          interceptHandler(fed, a, (_real: FederationHandler) => ({
            ...(realMakeJoin ? {} : { onMakeJoin: async () => made as never }),
            onSendJoin: async () => joined as never,
          }));
          const r = await b.engine.joinRemoteRoom(roomId, 'a.test', `@bob:${b.name}`).then(() => undefined, (e: unknown) => e);
          expect(r, String(r)).toBeInstanceOf(EngineError);
          // A failed join leaves no current state behind (the room is not joined).
          expect((await b.store.getRoom(roomId))?.currentState).toBeUndefined();
        }),
        { numRuns: RUNS },
      );
    });
  });

  it('hostile make_join / send_join requests: a FederationRefusal or a valid answer; the room holds at most that join', async () => {
    await withFed('memory', async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test');
      const roomId = await a.engine.createRoom({ roomVersion: '11', creator: '@alice:a.test', preset: 'public_chat', roomIdLocalpart: 'fz4' });
      const rules = getRoomVersion('11');
      const t = await a.engine.onMakeJoin('b.test', roomId, '@bob:b.test', ['11']);
      const join = parsePdu(hashAndSignEvent({ ...t.event, origin_server_ts: 1_800_000_000_000 }, rules, { serverName: 'b.test', key: b.key }).event, rules);
      const stateBefore = await a.engine.currentState(roomId);
      const typed = (e: unknown): boolean => e instanceof FederationRefusal && e.code === 'FEDERATION_REFUSED' && typeof e.errcode === 'string';
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(hostilePdu(join), fc.anything({ maxDepth: 3 })),
          fc.oneof(fc.constant(join.eventId), fc.string()),
          fc.oneof(fc.constant('@bob:b.test'), fc.string(), fc.constant('@eve:c.test')),
          fc.array(fc.string(), { maxLength: 3 }),
          async (event, eventId, userId, versions) => {
            await a.engine.onMakeJoin('b.test', roomId, userId, versions).then(
              (r) => expect(r.event['sender']).toBe(userId),
              (e: unknown) => expect(typed(e), String(e)).toBe(true),
            );
            await a.engine.onSendJoin('b.test', roomId, eventId, event as JsonObject).then(
              (r) => expect(Array.isArray(r.state) && Array.isArray(r.authChain)).toBe(true),
              (e: unknown) => expect(typed(e), String(e)).toBe(true),
            );
            // Everything but bob's membership is as it was; bob is absent or joined.
            const now = await a.engine.currentState(roomId);
            const bob = now.get('m.room.member', '@bob:b.test');
            if (bob !== undefined) expect(await a.engine.membership(roomId, '@bob:b.test')).toBe('join');
            const rest = [...now].filter((e) => !(e.type === 'm.room.member' && e.stateKey === '@bob:b.test'));
            expect(rest).toEqual([...stateBefore]);
          },
        ),
        { numRuns: RUNS * 2 },
      );
    });
  });
});
