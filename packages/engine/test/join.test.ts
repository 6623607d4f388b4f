/**
 * Joining over federation with make_join / send_join (Server-Server API › Joining Rooms,
 * Restricted rooms; Server-Server API › Joining Rooms (`send_join` v2)), on both stores: the handshake, the resident's checks
 * and refusals (with their Matrix error codes), restricted joins countersigned by the resident,
 * the resident pushing the join to the other servers, and a resident sending a bad template.
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import { EngineError } from '@roomgraph/engine';
import { hashAndSignEvent, parsePdu } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { FederationRefusal } from '@roomgraph/transport';
import { STORE_KINDS, type Server, interceptHandler, roomView, send, withFed } from './harness.js';

let rooms = 0;
async function createRoom(a: Server, v: string, extra: { joinRule?: string; powerLevels?: JsonObject } = {}): Promise<string> {
  const rules = getRoomVersion(v);
  return a.engine.createRoom({
    roomVersion: v, creator: `@alice:${a.name}`, preset: 'public_chat',
    ...(rules.eventFormat.createEventHasRoomId ? { roomIdLocalpart: `join${rooms++}` } : {}),
    ...extra,
  });
}

/** A handler's refusal: a FederationRefusal whose Matrix errcode is `errcode`. */
async function refusedWith(p: Promise<unknown>, errcode: string): Promise<void> {
  await expect(p).rejects.toSatisfy((e: unknown) => e instanceof FederationRefusal && e.code === 'FEDERATION_REFUSED' && e.errcode === errcode && e.server === 'a.test');
}

/** Rejects with ENGINE_JOIN_REFUSED carrying `errcode` as its rule. */
async function joinRefused(p: Promise<unknown>, errcode: string): Promise<void> {
  await expect(p).rejects.toSatisfy((e: unknown) => e instanceof EngineError && e.code === 'ENGINE_JOIN_REFUSED' && e.rule === errcode);
}

describe.each(STORE_KINDS)('make_join / send_join (%s store)', (kind) => {
  it.each(['1', '3', '10', '12'])('room version %s: the handshake, and the joiner ends with the resident\'s state', async (v) => {
    await withFed(kind, async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test');
      const roomId = await createRoom(a, v);
      await send(a, [], roomId, { type: 'm.room.topic', stateKey: '', sender: '@alice:a.test', content: { topic: 'hello' } });
      const before = fed.net.log.length;
      const o = await b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test', { content: { displayname: 'Bob' } });
      expect(o.status).toBe('accepted');
      const calls = fed.net.log.slice(before).filter(([from]) => from === 'b.test').map(([, to, m]) => `${to} ${m}`);
      expect(calls.slice(0, 2)).toEqual(['a.test makeJoin', 'a.test sendJoin']);
      expect(calls.some((c) => c.endsWith('getState') || c.endsWith('getStateIds'))).toBe(false);
      // Both servers agree; the join is the only extremity on both.
      expect(await roomView(b, roomId)).toEqual(await roomView(a, roomId));
      expect(await a.engine.forwardExtremities(roomId)).toEqual([o.eventId]);
      expect(await a.engine.membership(roomId, '@bob:b.test')).toBe('join');
      const join = await b.engine.getEvent(o.eventId);
      expect(join?.status).toBe('accepted');
      expect((join?.json['content'] as JsonObject)['displayname']).toBe('Bob');
      expect(Object.keys(join?.json['signatures'] as JsonObject)).toEqual(['b.test']);
      // The state before the join arrived as outliers: the joiner's timeline starts at the join.
      const timeline = await b.store.timeline(roomId, { limit: 100 });
      expect(timeline.filter((e) => e.status !== 'outlier').map((e) => e.eventId)).toEqual([o.eventId]);
      // The room then works both ways.
      const m = await send(b, [a], roomId, { type: 'm.room.message', sender: '@bob:b.test', content: { body: 'hi' } });
      expect((await a.engine.getEvent(m.eventId))?.status).toBe('accepted');
      expect(await roomView(b, roomId)).toEqual(await roomView(a, roomId));
    });
  });

  it('the resident pushes the join to the other servers in the room', async () => {
    await withFed(kind, async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test');
      const c = fed.add('c.test');
      const roomId = await createRoom(a, '11');
      await c.engine.joinRemoteRoom(roomId, 'a.test', '@carol:c.test');
      const o = await b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test');
      expect((await c.engine.getEvent(o.eventId))?.status).toBe('accepted');
      expect(await c.engine.membership(roomId, '@bob:b.test')).toBe('join');
      expect(await roomView(c, roomId)).toEqual(await roomView(a, roomId));
      // A second local user of a resident server joins with an ordinary event, pushed to the room.
      const o2 = await b.engine.joinRemoteRoom(roomId, 'a.test', '@bob2:b.test');
      expect(await a.engine.membership(roomId, '@bob2:b.test')).toBe('join');
      expect(await c.engine.membership(roomId, '@bob2:b.test')).toBe('join');
      expect(await roomView(c, roomId)).toEqual(await roomView(b, roomId));
      expect(await b.engine.forwardExtremities(roomId)).toEqual([o2.eventId]);
    });
  });

  it('the servers in the room follow joins and leaves (a server whose members all left is not sent to)', async () => {
    await withFed(kind, async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test');
      const c = fed.add('c.test');
      const d = fed.add('d.test');
      const roomId = await createRoom(a, '11');
      await c.engine.joinRemoteRoom(roomId, 'a.test', '@carol:c.test');
      await c.engine.joinRemoteRoom(roomId, 'a.test', '@carol2:c.test');
      const o1 = await b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test');
      expect((await c.engine.getEvent(o1.eventId))?.status).toBe('accepted');
      // One of c's two members leaves: c is still in the room.
      await send(c, [a, b], roomId, { type: 'm.room.member', stateKey: '@carol:c.test', sender: '@carol:c.test', content: { membership: 'leave' } });
      const o2 = await d.engine.joinRemoteRoom(roomId, 'a.test', '@dave:d.test');
      expect((await c.engine.getEvent(o2.eventId))?.status).toBe('accepted');
      expect((await b.engine.getEvent(o2.eventId))?.status).toBe('accepted');
      // The other leaves too: c no longer hears of new joins.
      await send(c, [a, b, d], roomId, { type: 'm.room.member', stateKey: '@carol2:c.test', sender: '@carol2:c.test', content: { membership: 'leave' } });
      const e = fed.add('e.test');
      const o3 = await e.engine.joinRemoteRoom(roomId, 'a.test', '@eve:e.test');
      expect(await c.engine.getEvent(o3.eventId)).toBeUndefined();
      expect((await b.engine.getEvent(o3.eventId))?.status).toBe('accepted');
      expect((await d.engine.getEvent(o3.eventId))?.status).toBe('accepted');
    });
  });

  it('make_join refusals: unknown room, unsupported version, foreign user, invite-only, banned', async () => {
    await withFed(kind, async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test');
      const roomId = await createRoom(a, '10');
      const all = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'];
      await refusedWith(a.engine.onMakeJoin('b.test', '!nope:a.test', '@bob:b.test', all), 'M_NOT_FOUND');
      await refusedWith(a.engine.onMakeJoin('b.test', roomId, '@bob:b.test', ['1', '11']), 'M_INCOMPATIBLE_ROOM_VERSION');
      await refusedWith(a.engine.onMakeJoin('b.test', roomId, '@eve:c.test', all), 'M_FORBIDDEN');
      const template = await a.engine.onMakeJoin('b.test', roomId, '@bob:b.test', all);
      expect(template.roomVersion).toBe('10');
      expect(template.event).toMatchObject({ type: 'm.room.member', room_id: roomId, sender: '@bob:b.test', state_key: '@bob:b.test', content: { membership: 'join' } });
      expect(template.event['hashes']).toBeUndefined();
      expect(template.event['signatures']).toBeUndefined();
      expect(template.event['prev_events']).toEqual(await a.engine.forwardExtremities(roomId));

      // A banned user is refused; nothing reaches the joiner's store.
      await send(a, [], roomId, { type: 'm.room.member', stateKey: '@bob:b.test', sender: '@alice:a.test', content: { membership: 'ban' } });
      await joinRefused(b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test'), 'M_FORBIDDEN');
      expect(await b.store.getRoom(roomId)).toBeUndefined();

      const invite = await createRoom(a, '10', { joinRule: 'invite' });
      await joinRefused(b.engine.joinRemoteRoom(invite, 'a.test', '@bob:b.test'), 'M_FORBIDDEN');
      // Invited, the join goes through.
      await send(a, [], invite, { type: 'm.room.member', stateKey: '@bob:b.test', sender: '@alice:a.test', content: { membership: 'invite' } });
      expect((await b.engine.joinRemoteRoom(invite, 'a.test', '@bob:b.test')).status).toBe('accepted');
    });
  });

  it('send_join refusals: wrong ID, not a join, foreign sender, state key, bad signature; nothing stored', async () => {
    await withFed(kind, async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test');
      const c = fed.add('c.test');
      const roomId = await createRoom(a, '11');
      const rules = getRoomVersion('11');
      const signed = async (edit: (e: Record<string, unknown>) => void = () => undefined, signer: Server = b) => {
        const t = await a.engine.onMakeJoin('b.test', roomId, '@bob:b.test', ['11']);
        const ev: Record<string, unknown> = { ...t.event, origin_server_ts: 1_800_000_000_000 };
        edit(ev);
        return parsePdu(hashAndSignEvent(ev as JsonObject, rules, { serverName: signer.name, key: signer.key }).event, rules);
      };
      const before = await a.store.stats();
      const ok = await signed();
      await refusedWith(a.engine.onSendJoin('b.test', roomId, '$wrong', ok.json), 'M_INVALID_PARAM');
      const leave = await signed((e) => { e['content'] = { membership: 'leave' }; });
      await refusedWith(a.engine.onSendJoin('b.test', roomId, leave.eventId, leave.json), 'M_INVALID_PARAM');
      await refusedWith(a.engine.onSendJoin('c.test', roomId, ok.eventId, ok.json), 'M_INVALID_PARAM');
      const other = await signed((e) => { e['state_key'] = '@bob2:b.test'; });
      await refusedWith(a.engine.onSendJoin('b.test', roomId, other.eventId, other.json), 'M_INVALID_PARAM');
      // Signed by c.test's key, claimed by b.test: the signature stage drops it.
      const forged = await signed(() => undefined, c);
      await refusedWith(a.engine.onSendJoin('b.test', roomId, forged.eventId, forged.json), 'M_INVALID_PARAM');
      await refusedWith(a.engine.onSendJoin('b.test', roomId, ok.eventId, { ...ok.json, content: 42 } as unknown as JsonObject), 'M_BAD_JSON');
      expect(await a.store.stats()).toEqual(before);
      // The genuine one is accepted and answered with the state before it.
      const answer = await a.engine.onSendJoin('b.test', roomId, ok.eventId, ok.json);
      const stateIds = answer.state.map((j) => parsePdu(j, rules).eventId).sort();
      expect(stateIds).toEqual([...(await a.engine.stateAt(ok.eventId))].map((e) => e.eventId).sort());
      expect(answer.event).toBeUndefined();
      const chain = new Set(answer.authChain.map((j) => parsePdu(j, rules).eventId));
      for (const id of ok.authEvents) expect(chain.has(id)).toBe(true);
    });
  });

  it('restricted rooms: the resident vouches (countersigned join) for members of an allowed room, refuses others', async () => {
    await withFed(kind, async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test');
      const c = fed.add('c.test');
      const space = await createRoom(a, '10');
      const restricted = await createRoom(a, '10', { joinRule: 'invite' });
      await send(a, [], restricted, {
        type: 'm.room.join_rules', stateKey: '', sender: '@alice:a.test',
        content: { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: space }] },
      });
      // Bob is in the allowed room; Carol is not.
      await b.engine.joinRemoteRoom(space, 'a.test', '@bob:b.test');
      await joinRefused(c.engine.joinRemoteRoom(restricted, 'a.test', '@carol:c.test'), 'M_FORBIDDEN');

      const template = await a.engine.onMakeJoin('b.test', restricted, '@bob:b.test', ['10']);
      expect((template.event['content'] as JsonObject)['join_authorised_via_users_server']).toBe('@alice:a.test');
      const o = await b.engine.joinRemoteRoom(restricted, 'a.test', '@bob:b.test');
      expect(o.status).toBe('accepted');
      const join = await b.engine.getEvent(o.eventId);
      expect(Object.keys(join?.json['signatures'] as JsonObject).sort()).toEqual(['a.test', 'b.test']);
      expect((await a.engine.getEvent(o.eventId))?.json['signatures']).toEqual(join?.json['signatures']);
      expect(await roomView(b, restricted)).toEqual(await roomView(a, restricted));

      // An allowed room the resident does not know: it cannot authorise.
      const elsewhere = await createRoom(c, '10');
      const r2 = await createRoom(a, '10', { joinRule: 'invite' });
      await send(a, [], r2, { type: 'm.room.join_rules', stateKey: '', sender: '@alice:a.test', content: { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: elsewhere }] } });
      await joinRefused(c.engine.joinRemoteRoom(r2, 'a.test', '@carol:c.test'), 'M_UNABLE_TO_AUTHORISE_JOIN');

      // Allowed, but no member of the resident may invite: try another server.
      const r3 = await createRoom(a, '10', { joinRule: 'invite' });
      await send(a, [], r3, { type: 'm.room.join_rules', stateKey: '', sender: '@alice:a.test', content: { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: space }] } });
      await send(a, [], r3, { type: 'm.room.power_levels', stateKey: '', sender: '@alice:a.test', content: { users: { '@alice:a.test': 50 }, invite: 100 } });
      await joinRefused(b.engine.joinRemoteRoom(r3, 'a.test', '@bob:b.test'), 'M_UNABLE_TO_GRANT_JOIN');
    });
  });

  it('a resident answering make_join with a template for another event is not trusted', async () => {
    await withFed(kind, async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test');
      const roomId = await createRoom(a, '11');
      for (const tamper of [
        (e: JsonObject): JsonObject => ({ ...e, sender: '@mallory:b.test', state_key: '@mallory:b.test' }),
        (e: JsonObject): JsonObject => ({ ...e, content: { membership: 'leave' } }),
        (e: JsonObject): JsonObject => ({ ...e, type: 'm.room.power_levels' }),
        (e: JsonObject): JsonObject => ({ ...e, room_id: '!other:a.test' }),
      ]) {
        interceptHandler(fed, a, (real) => ({
          onMakeJoin: async (...args) => { const r = await real.onMakeJoin(...args); return { ...r, event: tamper(r.event) }; },
        }));
        await expect(b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test')).rejects.toSatisfy((e: unknown) => e instanceof EngineError && e.code === 'ENGINE_UNKNOWN_ROOM');
      }
      expect(await b.store.getRoom(roomId)).toBeUndefined();
      expect(await a.engine.membership(roomId, '@bob:b.test')).toBeUndefined();
    });
  });
});
