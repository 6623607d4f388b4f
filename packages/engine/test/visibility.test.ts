/**
 * Who may read what over federation (Client-Server API › Room History Visibility as applied to
 * servers; Server-Server API › Server ACLs): `onGetEvent`, `onGetMissingEvents`, `onGetStateIds`,
 * `onGetState` and `onBackfill` serve an event in full only to a server that may see it, redacted
 * to a server with standing in the room, and nothing to others; a server the ACL denies is
 * refused. Each visibility setting, a server that left, and the ACL, on both stores.
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import { TransportError, FederationRefusal } from '@roomgraph/transport';
import { STORE_KINDS, type Server, withFed, send } from './harness.js';

type Fed = Parameters<Parameters<typeof withFed>[1]>[0];

const body = (j: JsonObject | undefined): unknown => (j?.['content'] as JsonObject | undefined)?.['body'];
// A handler refuses with a FederationRefusal; through a transport the requester sees a TransportError.
const forbidden = (e: unknown): boolean => (e instanceof TransportError || e instanceof FederationRefusal) && e.errcode === 'M_FORBIDDEN';

/** a creates a room (v10) with the given history visibility; returns it and a message sent before anyone joined. */
async function room(fed: Fed, visibility: string): Promise<{ a: Server; b: Server; c: Server; roomId: string; early: string }> {
  const a = fed.add('a.test');
  const b = fed.add('b.test');
  const c = fed.add('c.test');
  const roomId = await a.engine.createRoom({ roomVersion: '10', creator: '@alice:a.test', preset: 'public_chat' });
  await a.engine.createLocalEvent(roomId, { type: 'm.room.history_visibility', stateKey: '', sender: '@alice:a.test', content: { history_visibility: visibility } });
  const early = (await a.engine.createLocalEvent(roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: 'early' } })).eventId;
  return { a, b, c, roomId, early };
}

describe.each(STORE_KINDS)('history visibility for servers (%s store)', (kind) => {
  it('shared: a joined server reads all history; a server never in the room gets nothing', async () => {
    await withFed(kind, async (fed) => {
      const { a, b, c, roomId, early } = await room(fed, 'shared');
      await b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test');
      expect(body(await a.engine.onGetEvent('b.test', early))).toBe('early');
      expect((await a.engine.onBackfill('b.test', roomId, [early], 3)).map(body)).toContain('early');
      expect(await a.engine.onGetEvent('c.test', early)).toBeUndefined();
      expect(await a.engine.onBackfill('c.test', roomId, [early], 10)).toEqual([]);
      const latest = (await a.engine.forwardExtremities(roomId))[0]!;
      expect(await a.engine.onGetMissingEvents('c.test', roomId, { earliestEvents: [], latestEvents: [latest], limit: 10 })).toEqual([]);
      expect(forbidden(await a.engine.onGetStateIds('c.test', roomId, early).catch((e: unknown) => e))).toBe(true);
      expect(forbidden(await a.engine.onGetState('c.test', roomId, early).catch((e: unknown) => e))).toBe(true);
      expect((await a.engine.onGetStateIds('b.test', roomId, early)).pduIds.length).toBeGreaterThan(0);
      void c;
    });
  });

  it('joined: history from before the server joined is redacted for it; later events are whole', async () => {
    await withFed(kind, async (fed) => {
      const { a, b, roomId, early } = await room(fed, 'joined');
      await b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test');
      const later = (await a.engine.createLocalEvent(roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: 'later' } })).eventId;
      const got = await a.engine.onGetEvent('b.test', early);
      expect(got).toBeDefined();
      expect(body(got)).toBeUndefined(); // redacted: content stripped, the event still there
      expect(got?.['type']).toBe('m.room.message');
      expect(body(await a.engine.onGetEvent('b.test', later))).toBe('later');
      const back = await a.engine.onBackfill('b.test', roomId, [later], 20);
      expect(back.map(body)).toContain('later');
      expect(back.map(body)).not.toContain('early');
      const missing = await a.engine.onGetMissingEvents('b.test', roomId, { earliestEvents: [], latestEvents: [later], limit: 20 });
      expect(missing.map(body)).not.toContain('early');
    });
  });

  it('invited: an invited server reads from its invite on, not before', async () => {
    await withFed(kind, async (fed) => {
      const { a, roomId, early } = await room(fed, 'invited');
      await a.engine.createLocalEvent(roomId, { type: 'm.room.member', stateKey: '@bob:b.test', sender: '@alice:a.test', content: { membership: 'invite' } });
      const after = (await a.engine.createLocalEvent(roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: 'after invite' } })).eventId;
      expect(body(await a.engine.onGetEvent('b.test', after))).toBe('after invite');
      const before = await a.engine.onGetEvent('b.test', early);
      expect(before).toBeDefined();
      expect(body(before)).toBeUndefined();
      // The same room under `joined`: the invite is not enough.
    });
  });

  it('world_readable: any server reads everything, even one never in the room', async () => {
    await withFed(kind, async (fed) => {
      const { a, roomId, early } = await room(fed, 'world_readable');
      expect(body(await a.engine.onGetEvent('c.test', early))).toBe('early');
      expect((await a.engine.onBackfill('c.test', roomId, [early], 10)).map(body)).toContain('early');
      expect((await a.engine.onGetStateIds('c.test', roomId, early)).pduIds.length).toBeGreaterThan(0);
    });
  });

  it('a server that left reads what it saw while joined, and only redacted events after it left', async () => {
    await withFed(kind, async (fed) => {
      const { a, b, roomId } = await room(fed, 'shared');
      await b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test');
      const during = (await send(a, [b], roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: 'during' } })).eventId;
      await send(b, [a], roomId, { type: 'm.room.member', stateKey: '@bob:b.test', sender: '@bob:b.test', content: { membership: 'leave' } });
      expect(await a.engine.membership(roomId, '@bob:b.test')).toBe('leave');
      const afterLeave = (await a.engine.createLocalEvent(roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: 'after leave' } })).eventId;
      expect(body(await a.engine.onGetEvent('b.test', during))).toBe('during');
      const got = await a.engine.onGetEvent('b.test', afterLeave);
      expect(got).toBeDefined();
      expect(body(got)).toBeUndefined();
      expect((await a.engine.onBackfill('b.test', roomId, [afterLeave], 5)).map(body)).not.toContain('after leave');
      expect(forbidden(await a.engine.onGetStateIds('b.test', roomId, afterLeave).catch((e: unknown) => e))).toBe(true);
    });
  });

  it('server ACL: a denied server is refused everything and its PDUs are ignored', async () => {
    await withFed(kind, async (fed) => {
      const { a, b, roomId, early } = await room(fed, 'world_readable');
      await b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test');
      await a.engine.createLocalEvent(roomId, { type: 'm.room.server_acl', stateKey: '', sender: '@alice:a.test', content: { allow: ['*'], deny: ['B.TEST'] } });
      const latest = (await a.engine.forwardExtremities(roomId))[0]!;
      expect(forbidden(await a.engine.onGetEvent('b.test', early).catch((e: unknown) => e))).toBe(true);
      expect(forbidden(await a.engine.onBackfill('b.test', roomId, [early], 5).catch((e: unknown) => e))).toBe(true);
      expect(forbidden(await a.engine.onGetMissingEvents('b.test', roomId, { earliestEvents: [], latestEvents: [latest], limit: 5 }).catch((e: unknown) => e))).toBe(true);
      expect(forbidden(await a.engine.onGetStateIds('b.test', roomId, early).catch((e: unknown) => e))).toBe(true);
      expect(forbidden(await a.engine.onGetState('b.test', roomId, early).catch((e: unknown) => e))).toBe(true);
      expect(forbidden(await a.engine.onMakeJoin('b.test', roomId, '@bob2:b.test', ['10']).catch((e: unknown) => e))).toBe(true);
      // c is still allowed (world_readable).
      expect(body(await a.engine.onGetEvent('c.test', early))).toBe('early');
      // A PDU pushed by b is ignored with an error, not stored.
      const msg = await b.engine.createLocalEvent(roomId, { type: 'm.room.message', sender: '@bob:b.test', content: { body: 'from denied' } });
      const res = await a.engine.onReceivePdus('b.test', [msg.json]);
      expect(res[msg.eventId]?.error).toMatch(/M_FORBIDDEN/);
      expect(await a.engine.getEvent(msg.eventId)).toBeUndefined();
    });
  });
});

describe('m.room.server_acl matching', async () => {
  const { globMatches, serverAclAllows } = await import('../src/federation/acl.js');
  it('globs: * any run, ? one character, case-insensitive, no regex meaning', () => {
    expect(globMatches('*.evil.com', 'a.b.EVIL.com')).toBe(true);
    expect(globMatches('*.evil.com', 'evil.com')).toBe(false);
    expect(globMatches('ev?l.com', 'evil.com')).toBe(true);
    expect(globMatches('ev?l.com', 'eviil.com')).toBe(false);
    expect(globMatches('a.c', 'abc')).toBe(false);
    expect(globMatches('*', '')).toBe(true);
    expect(globMatches('**a**b**', 'xxaxxbxx')).toBe(true);
  });
  it('the spec order: IP literals, deny, allow, otherwise deny; the port is not considered', () => {
    expect(serverAclAllows({ allow: ['*'] }, 'evil.com:1234')).toBe(true);
    expect(serverAclAllows({ allow: ['*'], deny: ['evil.com'] }, 'evil.com:8448')).toBe(false);
    expect(serverAclAllows({ allow: ['good.org'] }, 'other.org')).toBe(false);
    expect(serverAclAllows({}, 'any.org')).toBe(false);
    expect(serverAclAllows({ allow: ['*'], allow_ip_literals: false }, '127.0.0.1:8448')).toBe(false);
    expect(serverAclAllows({ allow: ['*'], allow_ip_literals: false }, '[::1]:8448')).toBe(false);
    expect(serverAclAllows({ allow: ['*'] }, '127.0.0.1:8448')).toBe(true);
    expect(serverAclAllows({ allow: ['127.0.0.*'] }, '127.0.0.1:9')).toBe(true);
    expect(serverAclAllows({ allow: [5, '*'], deny: [null] } as never, 'x.org')).toBe(true);
  });
});
