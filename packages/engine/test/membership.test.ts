/**
 * Leaving, inviting and knocking over federation, both sides (Server-Server API › Leaving Rooms,
 * › Inviting to a room, › Knocking upon a room), and local events queued for the room's servers
 * through a transport's durable queue — on both stores.
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import { RoomEngine } from '@roomgraph/engine';
import type { RoomStore } from '@roomgraph/store';
import { LevelRoomStore } from '@roomgraph/store-level';
import { PostgresRoomStore } from '@roomgraph/store-postgres';
import { type Transport, TransportError, FederationRefusal } from '@roomgraph/transport';
import { STORE_KINDS, send, withFed } from './harness.js';

// A handler refuses with a FederationRefusal; through a transport the requester sees a TransportError.
const errcode = (e: unknown): string | undefined => (e instanceof TransportError || e instanceof FederationRefusal ? e.errcode : (e as { rule?: string })?.rule);

describe.each(STORE_KINDS)('membership handshakes (%s store)', (kind) => {
  it('invite over federation: countersigned by the invitee\'s server, stored, then joined; the invite can be rejected instead', async () => {
    await withFed(kind, async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test');
      const roomId = await a.engine.createRoom({ roomVersion: '10', creator: '@alice:a.test', preset: 'private_chat' });
      // Not invited: the join is refused.
      expect((await b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test').catch((e: unknown) => e) as { code?: string }).code).toBe('ENGINE_JOIN_REFUSED');
      const invite = await a.engine.inviteUser(roomId, '@alice:a.test', '@bob:b.test');
      expect(Object.keys(invite.json['signatures'] as JsonObject).sort()).toEqual(['a.test', 'b.test']);
      expect(await a.engine.membership(roomId, '@bob:b.test')).toBe('invite');
      expect((await b.engine.pendingInvites('@bob:b.test')).map((i) => i.eventId)).toEqual([invite.eventId]);
      expect((await b.engine.pendingInvites('@bob:b.test'))[0]!.inviteRoomState.map((e) => e['type'])).toEqual(expect.arrayContaining(['m.room.create', 'm.room.join_rules', 'm.room.member']));
      const joined = await b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test');
      expect(joined.status).toBe('accepted');
      expect(await a.engine.membership(roomId, '@bob:b.test')).toBe('join');
      // Joined: the invite is not pending any more.
      expect((await b.engine.pendingInvites())).toEqual([]);

      // A second user rejects an invite: make_leave / send_leave through the inviting server.
      await a.engine.inviteUser(roomId, '@alice:a.test', '@carol:b.test');
      expect((await b.engine.pendingInvites()).map((i) => i.userId)).toEqual(['@carol:b.test']);
      // b is resident now; reject through the handshake explicitly (`via`).
      const left = await b.engine.leaveRoom(roomId, '@carol:b.test', { via: 'a.test' });
      expect((await a.engine.getEvent(left.eventId))?.status).toBe('accepted');
      expect(await a.engine.membership(roomId, '@carol:b.test')).toBe('leave');
      expect((await b.engine.pendingInvites())).toEqual([]);
      // Invited again: pending again — also once carol's earlier leave reaches b (older than the
      // invite) —, until the room kicks her (a leave by alice, newer than the invite).
      await a.engine.inviteUser(roomId, '@alice:a.test', '@carol:b.test');
      await b.engine.receivePdu('a.test', (await a.engine.getEvent(left.eventId))!.json);
      expect((await b.engine.getEvent(left.eventId))?.status).toBe('accepted');
      expect((await b.engine.pendingInvites()).map((i) => i.userId)).toEqual(['@carol:b.test']);
      await send(a, [b], roomId, { type: 'm.room.member', stateKey: '@carol:b.test', sender: '@alice:a.test', content: { membership: 'leave' } });
      expect(await b.engine.membership(roomId, '@carol:b.test')).toBe('leave');
      expect((await b.engine.pendingInvites())).toEqual([]);
    });
  });

  it('rejecting an invite from a server not in the room uses the remembered inviter', async () => {
    await withFed(kind, async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test');
      const roomId = await a.engine.createRoom({ roomVersion: '11', creator: '@alice:a.test', preset: 'private_chat' });
      await a.engine.inviteUser(roomId, '@alice:a.test', '@bob:b.test');
      const r = await b.engine.leaveRoom(roomId, '@bob:b.test');
      expect(await a.engine.membership(roomId, '@bob:b.test')).toBe('leave');
      expect((await b.engine.pendingInvites())).toEqual([]);
      expect((await a.engine.getEvent(r.eventId))?.stateKey).toBe('@bob:b.test');
    });
  });

  it('pending invites outlive a restart of the invitee\'s server (kept in its store, the newest limits.caches.invites); rejecting one after the restart reaches the inviter', async () => {
    await withFed(kind, async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test', { limits: { caches: { invites: 2 } } });
      const rooms: string[] = [];
      for (let i = 0; i < 3; i++) rooms.push(await a.engine.createRoom({ roomVersion: '11', creator: '@alice:a.test', preset: 'private_chat' }));
      const invites = [];
      for (const r of rooms) invites.push(await a.engine.inviteUser(r, '@alice:a.test', '@bob:b.test'));
      // The bound: the oldest is forgotten, in memory and in the store.
      expect((await b.engine.pendingInvites()).map((i) => i.roomId)).toEqual([rooms[1], rooms[2]]);
      expect((await b.store.listInvites()).map((i) => i.roomId).sort()).toEqual([rooms[1], rooms[2]].sort());
      // The same data in a new store instance (a LevelDB or PostgreSQL store is reopened as a new one).
      const sameData = (): RoomStore => (b.store instanceof LevelRoomStore ? new LevelRoomStore(b.store.location) : b.store instanceof PostgresRoomStore ? new PostgresRoomStore(b.store.url, { schema: b.store.schema }) : b.store);
      const reopen = async (): Promise<RoomEngine> => {
        const e = await RoomEngine.open({ ownsStore: true, serverName: 'b.test', signingKey: b.key, store: sameData(), transport: fed.net.transportFor('b.test'), keys: fed.keys, now: fed.now, limits: { caches: { invites: 2 } } });
        fed.net.register('b.test', e);
        return e;
      };
      await b.engine.close();
      const b2 = await reopen();
      try {
        expect((await b2.pendingInvites('@bob:b.test')).map((i) => i.eventId)).toEqual([invites[1]!.eventId, invites[2]!.eventId]);
        expect((await b2.pendingInvites('@bob:b.test'))[0]!.event['signatures']).toHaveProperty('b.test');
        // Rejected after the restart through the remembered inviter (no via).
        await b2.leaveRoom(rooms[1]!, '@bob:b.test');
        expect(await a.engine.membership(rooms[1]!, '@bob:b.test')).toBe('leave');
        expect((await b2.pendingInvites()).map((i) => i.roomId)).toEqual([rooms[2]]);
      } finally {
        await b2.close();
      }
      const b3 = await reopen();
      try {
        expect((await b3.pendingInvites()).map((i) => i.roomId)).toEqual([rooms[2]]);
        // Accepted after another restart: joined, not pending.
        expect((await b3.joinRemoteRoom(rooms[2]!, 'a.test', '@bob:b.test')).status).toBe('accepted');
        expect(await b3.pendingInvites()).toEqual([]);
        expect(await b3.store.listInvites()).toEqual([]);
      } finally {
        await b3.close();
      }
    });
  });

  it('the invitee\'s server refuses bad invites with the right errcode', async () => {
    await withFed(kind, async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test');
      const roomId = await a.engine.createRoom({ roomVersion: '10', creator: '@alice:a.test', preset: 'private_chat' });
      // Capture a genuine invite, then replay variants of it to b.
      let captured: { eventId: string; event: JsonObject } | undefined;
      const real = b.engine.onInvite.bind(b.engine);
      fed.net.register('b.test', new Proxy(b.engine, { get: (t, p) => (p === 'onInvite' ? async (o: string, r: string, id: string, req: { event: JsonObject; roomVersion: string }) => { captured = { eventId: id, event: req.event }; return real(o, r, id, req); } : (Reflect.get(t, p) as unknown as (...x: unknown[]) => unknown).bind?.(t) ?? Reflect.get(t, p)) }));
      await a.engine.inviteUser(roomId, '@alice:a.test', '@bob:b.test');
      const { eventId, event } = captured!;
      const ask = (origin: string, req: { roomVersion: string; event: JsonObject }, id = eventId) => b.engine.onInvite(origin, roomId, id, req).catch((e: unknown) => e);
      expect(errcode(await ask('c.test', { roomVersion: '10', event }))).toBe('M_FORBIDDEN'); // sender not of the origin
      expect(errcode(await ask('a.test', { roomVersion: '99', event }))).toBe('M_INCOMPATIBLE_ROOM_VERSION');
      expect(errcode(await ask('a.test', { roomVersion: '10', event: { ...event, state_key: '@dan:b.test' } }))).toBe('M_INVALID_PARAM'); // another ID
      // Content the signatures do not cover (redacted away), changed: the content hash catches it.
      expect(errcode(await ask('a.test', { roomVersion: '10', event: { ...event, content: { membership: 'invite', x: 1 } } }))).toBe('M_FORBIDDEN');
      expect(errcode(await ask('a.test', { roomVersion: '10', event: { ...event, state_key: '@eve:elsewhere.test' } }, (await import('@roomgraph/events')).parsePdu({ ...event, state_key: '@eve:elsewhere.test' }, (await import('@roomgraph/room-versions')).getRoomVersion('10')).eventId))).toBe('M_FORBIDDEN'); // not a local user
      expect(errcode(await ask('a.test', { roomVersion: '10', event: { nonsense: true } }))).toBe('M_BAD_JSON');
      const forged = { ...event, signatures: { 'a.test': { [Object.keys((event['signatures'] as Record<string, JsonObject>)['a.test']!)[0]!]: 'A'.repeat(86) } } };
      expect(errcode(await ask('a.test', { roomVersion: '10', event: forged }))).toBe('M_FORBIDDEN');
      // A genuine invite with an oversized stripped state: accepted, the state kept bounded (in
      // order, whole entries: 32 at most, ~64 KiB of JSON at most) — every invite is stored.
      const stripped = (n: number, bytes: number): JsonObject[] => Array.from({ length: n }, (_, i) => ({ type: `t${i}`, state_key: '', sender: '@alice:a.test', content: { pad: 'x'.repeat(bytes) } }));
      const keptOf = async (state: JsonObject[]): Promise<readonly JsonObject[]> => {
        await b.engine.onInvite('a.test', roomId, eventId, { roomVersion: '10', event, inviteRoomState: state });
        return (await b.engine.pendingInvites('@bob:b.test'))[0]!.inviteRoomState;
      };
      expect((await keptOf(stripped(100, 10))).map((e) => e['type'])).toEqual(stripped(32, 10).map((e) => e['type']));
      const big = await keptOf(stripped(40, 3000));
      expect(big.map((e) => e['type'])).toEqual(stripped(21, 3000).map((e) => e['type']));
      expect(JSON.stringify(big).length).toBeLessThanOrEqual(65_536 + big.length + 1);
      expect((await keptOf([7 as unknown as JsonObject, ...stripped(2, 1)])).map((e) => e['type'])).toEqual(['t0', 't1']);
    });
  });

  it('knock: make_knock / send_knock through a resident; refused where the join rule or room version does not allow it', async () => {
    await withFed(kind, async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test');
      const roomId = await a.engine.createRoom({ roomVersion: '10', creator: '@alice:a.test', joinRule: 'knock' });
      const k = await b.engine.knockRoom(roomId, 'a.test', '@bob:b.test', { reason: 'let me in' });
      expect(await a.engine.membership(roomId, '@bob:b.test')).toBe('knock');
      expect(k.knockRoomState.map((e) => e['type'])).toEqual(expect.arrayContaining(['m.room.create', 'm.room.join_rules']));
      expect(((await a.engine.getEvent(k.eventId))?.json['content'] as JsonObject)['reason']).toBe('let me in');
      // Accepted by an invite, then a join.
      await a.engine.inviteUser(roomId, '@alice:a.test', '@bob:b.test');
      expect((await b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test')).status).toBe('accepted');

      const pub = await a.engine.createRoom({ roomVersion: '10', creator: '@alice:a.test', preset: 'public_chat' });
      expect(errcode(await b.engine.knockRoom(pub, 'a.test', '@bob:b.test').catch((e: unknown) => e))).toBe('M_FORBIDDEN');
      const old = await a.engine.createRoom({ roomVersion: '6', creator: '@alice:a.test', preset: 'private_chat' });
      expect(errcode(await b.engine.knockRoom(old, 'a.test', '@bob:b.test').catch((e: unknown) => e))).toBe('M_INCOMPATIBLE_ROOM_VERSION');
    });
  });

  it('a fresh engine\'s first request may be /send or a leave (its store is opened first)', async () => {
    await withFed(kind, async (fed) => {
      const a = fed.add('a.test');
      const roomId = await a.engine.createRoom({ roomVersion: '10', creator: '@alice:a.test', preset: 'public_chat' });
      const msg = await a.engine.createLocalEvent(roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: 'x' } });
      const c = fed.add('c.test');
      // An event of a room c does not know: dropped (no ID can be computed without the room's version), nothing stored.
      expect(await c.engine.onReceivePdus('a.test', [msg.json])).toEqual({});
      expect(await c.engine.getEvent(msg.eventId)).toBeUndefined();
      const d = fed.add('d.test');
      expect((await d.engine.leaveRoom(roomId, '@dan:d.test', { via: 'a.test' }).catch((e: unknown) => e) as { code?: string }).code).toBe('ENGINE_JOIN_REFUSED');
    });
  });

  it('resident checks on make_leave / send_leave: another server\'s user, the wrong membership, an unknown room', async () => {
    await withFed(kind, async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test');
      const roomId = await a.engine.createRoom({ roomVersion: '10', creator: '@alice:a.test', preset: 'public_chat' });
      await b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test');
      expect(errcode(await a.engine.onMakeLeave('b.test', roomId, '@alice:a.test').catch((e: unknown) => e))).toBe('M_FORBIDDEN');
      expect(errcode(await a.engine.onMakeLeave('b.test', '!nope:a.test', '@bob:b.test').catch((e: unknown) => e))).toBe('M_NOT_FOUND');
      const tpl = await a.engine.onMakeLeave('b.test', roomId, '@bob:b.test');
      expect((tpl.event['content'] as JsonObject)['membership']).toBe('leave');
      const join = await b.engine.createLocalEvent(roomId, { type: 'm.room.member', stateKey: '@bob:b.test', sender: '@bob:b.test', content: { membership: 'join', displayname: 'x' } });
      expect(errcode(await a.engine.onSendLeave('b.test', roomId, join.eventId, join.json).catch((e: unknown) => e))).toBe('M_INVALID_PARAM');
      expect(await a.engine.getEvent(join.eventId)).toBeUndefined();
    });
  });
});

describe('local events and the durable queue', () => {
  it('with a durable queue, every local event is queued for the room\'s other servers (and a kicked user\'s server)', async () => {
    await withFed('memory', async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test');
      const roomId = await a.engine.createRoom({ roomVersion: '10', creator: '@alice:a.test', preset: 'public_chat' });
      await b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test');
      // a again, over the same store, with a transport that has a queue.
      const queued: Array<[readonly string[], string]> = [];
      const base = fed.net.transportFor('a.test');
      const transport: Transport = { ...base, queuePdus: async (ds, pdus) => { for (const p of pdus) queued.push([[...ds].sort(), String(p['type'])]); } };
      await a.engine.close();
      // (The memory store keeps its data across close/reopen; routing does not depend on the store.)
      const a2 = await RoomEngine.open({ ownsStore: true, serverName: 'a.test', signingKey: a.key, store: a.store, transport, keys: fed.keys, now: fed.now });
      await a2.createLocalEvent(roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: 'hi' } });
      await a2.createLocalEvent(roomId, { type: 'm.room.member', stateKey: '@bob:b.test', sender: '@alice:a.test', content: { membership: 'leave' } });
      expect(queued).toEqual([[['b.test'], 'm.room.message'], [['b.test'], 'm.room.member']]);
      await a2.close();
    });
  });
});
