/**
 * A malicious server M in a room hosted on A: forged signatures, tampered content, events failing
 * auth, events built on a stale fork, and garbage. Runs on both stores.
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import { signingKeyFromSeed } from '@roomgraph/crypto';
import { redact } from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { STORE_KINDS, fromM, seedOf, send, setupWithM as setup, storeSnapshot, withFed } from './harness.js';

describe.each(STORE_KINDS)('malicious server (%s store)', (kind) => {
  describe.each(['10', '12'])('room version %s', (v) => {
    it('(a) forged signatures are dropped and change nothing', async () => {
      await withFed(kind, async (fed) => {
        const r = await setup(fed, v);
        const before = await storeSnapshot(r.a, r.roomId);
        const wrong = signingKeyFromSeed(seedOf(999), 'k1'); // same key ID as M's real key
        const forged = await fromM(r, { type: 'm.room.message', content: { body: 'forged' }, key: wrong });
        const [o] = await r.a.engine.receivePdus('m.test', [forged.json]);
        expect(o).toMatchObject({ eventId: forged.eventId, status: 'dropped', rule: 'signature.bad-signature' });
        // A key ID nobody published: missing key.
        const unknownKey = signingKeyFromSeed(seedOf(998), 'other');
        const forged2 = await fromM(r, { type: 'm.room.message', content: { body: 'forged2' }, key: unknownKey });
        expect(await r.a.engine.receivePdu('m.test', forged2.json)).toMatchObject({ status: 'dropped', rule: 'signature.missing-key' });
        // Signed by M but claiming to be from A's user: A's signature is missing.
        const imp = await fromM(r, { type: 'm.room.message', content: { body: 'imp' } });
        const impJson = structuredClone(imp.json) as Record<string, unknown>;
        impJson['sender'] = '@alice:a.test';
        const o3 = await r.a.engine.receivePdu('m.test', impJson);
        expect(o3.status).toBe('dropped');
        expect(o3.rule).toMatch(/^signature\./);
        expect(await r.a.engine.getEvent(forged.eventId)).toBeUndefined();
        expect(await storeSnapshot(r.a, r.roomId)).toEqual(before);
        // Re-delivery is dropped again (never stored, so never a duplicate).
        expect(await r.a.engine.receivePdu('m.test', forged.json)).toMatchObject({ status: 'dropped', rule: 'signature.bad-signature' });
        expect((await r.a.engine.receivePdu('m.test', forged.json)).duplicate).toBeUndefined();
      });
    });

    it('(b) content changed after signing: redacted and processed', async () => {
      await withFed(kind, async (fed) => {
        const r = await setup(fed, v);
        const legit = await fromM(r, { type: 'm.room.message', content: { msgtype: 'm.text', body: 'original' } });
        const tampered = structuredClone(legit.json) as Record<string, unknown>;
        tampered['content'] = { msgtype: 'm.text', body: 'evil' };
        const o = await r.a.engine.receivePdu('m.test', tampered);
        expect(o).toEqual({ eventId: legit.eventId, status: 'accepted', redactedOnReceipt: true });
        const stored = await r.a.engine.getEvent(legit.eventId);
        expect(stored?.status).toBe('accepted');
        expect(stored?.json).toEqual(redact(tampered as JsonObject, getRoomVersion(v)));
        expect(stored?.json['content']).toEqual({});
        expect(await r.a.engine.forwardExtremities(r.roomId)).toEqual([legit.eventId]);
        // Re-delivering the untampered original is a duplicate of the stored (redacted) event.
        expect(await r.a.engine.receivePdu('m.test', legit.json)).toEqual({ eventId: legit.eventId, status: 'accepted', duplicate: true });
        expect((await r.a.engine.getEvent(legit.eventId))?.json['content']).toEqual({});
      });
    });

    it('(c) events failing auth are rejected, never extremities; citing them rejects too', async () => {
      await withFed(kind, async (fed) => {
        const r = await setup(fed, v);
        const ext = await r.a.engine.forwardExtremities(r.roomId);
        const state = await r.a.engine.currentState(r.roomId);
        const pl = await fromM(r, { type: 'm.room.power_levels', stateKey: '', content: { users: { '@mallory:m.test': 100 }, users_default: 0, events_default: 0, state_default: 50, ban: 50, kick: 50, redact: 50, invite: 0 } });
        const o = await r.a.engine.receivePdu('m.test', pl.json);
        expect(o.status).toBe('rejected');
        expect(o.rule).toBe('power.insufficient');
        const stored = await r.a.engine.getEvent(pl.eventId);
        expect(stored?.status).toBe('rejected');
        expect(stored?.rejection?.rule).toBe('power.insufficient');
        expect(await r.a.engine.forwardExtremities(r.roomId)).toEqual(ext);
        expect(await r.a.engine.currentState(r.roomId)).toEqual(state);
        // A message citing the rejected power levels in auth_events is rejected too.
        const authIds = pl.authEvents.filter((id) => id !== state.get('m.room.power_levels', '')).concat([pl.eventId]);
        const msg = await fromM(r, { type: 'm.room.message', content: { body: 'with my new power' }, authEvents: authIds });
        const o2 = await r.a.engine.receivePdu('m.test', msg.json);
        expect(o2.status).toBe('rejected');
        expect(o2.rule).toBe('auth_events.rejected');
        expect((await r.a.engine.getEvent(msg.eventId))?.status).toBe('rejected');
        expect(await r.a.engine.forwardExtremities(r.roomId)).toEqual(ext);
        expect(await r.a.engine.currentState(r.roomId)).toEqual(state);
        // Re-delivery: the same status, as a duplicate.
        expect(await r.a.engine.receivePdu('m.test', pl.json)).toMatchObject({ status: 'rejected', duplicate: true, rule: 'power.insufficient' });
      });
    });

    it('(d) events valid at their own state but not now are soft-failed', async () => {
      await withFed(kind, async (fed) => {
        const r = await setup(fed, v);
        fed.net.partition(['a.test'], ['m.test']);
        const ban = await send(r.a, [r.m], r.roomId, { type: 'm.room.member', stateKey: '@mallory:m.test', sender: '@alice:a.test', content: { membership: 'ban' } });
        // M never saw the ban and keeps talking on the pre-ban fork.
        const m1 = await r.m.engine.createLocalEvent(r.roomId, { type: 'm.room.message', sender: '@mallory:m.test', content: { body: 'still here' } });
        const m2 = await r.m.engine.createLocalEvent(r.roomId, { type: 'm.room.message', sender: '@mallory:m.test', content: { body: 'and here' } });
        fed.net.heal();
        const state = await r.a.engine.currentState(r.roomId);
        const [o1, o2] = await r.a.engine.receivePdus('m.test', [m1.json, m2.json]);
        expect(o1).toMatchObject({ eventId: m1.eventId, status: 'soft-failed', rule: 'sender_not_joined' });
        expect(o2).toMatchObject({ eventId: m2.eventId, status: 'soft-failed' });
        for (const e of [m1, m2]) {
          const s = await r.a.engine.getEvent(e.eventId);
          expect(s?.status).toBe('soft-failed');
          expect(s?.stateBefore).toBeDefined();
        }
        expect(await r.a.engine.forwardExtremities(r.roomId)).toEqual([ban.eventId]);
        expect(await r.a.engine.currentState(r.roomId)).toEqual(state);
        expect(await r.a.engine.receivePdu('m.test', m1.json)).toMatchObject({ status: 'soft-failed', duplicate: true, rule: 'sender_not_joined' });
        expect(await r.a.engine.membership(r.roomId, '@mallory:m.test')).toBe('ban');
        // The state before m1 (its own fork) still has mallory joined.
        const at = await r.a.engine.stateAt(m1.eventId);
        const memberId = at.get('m.room.member', '@mallory:m.test');
        expect((await r.a.engine.getEvent(memberId as string))?.json['content']).toMatchObject({ membership: 'join' });
        // A's next event does not build on the soft-failed ones.
        const next = await r.a.engine.createLocalEvent(r.roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: 'bye' } });
        expect(next.prevEvents).toEqual([ban.eventId]);
      });
    });

    it('(e) garbage is dropped with a typed outcome and changes nothing', async () => {
      await withFed(kind, async (fed) => {
        const r = await setup(fed, v);
        const before = await storeSnapshot(r.a, r.roomId);
        const valid = (await fromM(r, { type: 'm.room.message', content: { body: 'ok' } })).json;
        const without = (k: string) => { const j = structuredClone(valid) as Record<string, unknown>; delete j[k]; return j; };
        const withContent = (c: Record<string, unknown>) => ({ ...structuredClone(valid), content: c });
        const protoJson = JSON.stringify(without('sender')).replace(/^\{/, `{"__proto__":{"sender":"@mallory:m.test"},`);
        const protoObj = JSON.parse(protoJson) as unknown;
        expect(Object.prototype.hasOwnProperty.call(protoObj, '__proto__')).toBe(true);
        const cases: Array<[string, unknown, string]> = [
          ['null', null, 'format'],
          ['number', 42, 'format'],
          ['string', 'not a pdu', 'format'],
          ['array', [valid], 'format'],
          ['empty object', {}, 'unknown_room'],
          ['no sender', without('sender'), 'format'],
          ['no type', without('type'), 'format'],
          ['no depth', without('depth'), 'format'],
          ['no auth_events', without('auth_events'), 'format'],
          ['no prev_events', without('prev_events'), 'format'],
          ['bad prev_events', { ...structuredClone(valid), prev_events: 'nope' }, 'format'],
          ['other room', { ...structuredClone(valid), room_id: '!unknown:x.test' }, 'unknown_room'],
          ['oversized', withContent({ body: 'x'.repeat(70_000) }), 'format'],
          ['__proto__ holding the sender', protoObj, 'format'],
          ['float in content', withContent({ body: 'f', n: 1.5 }), 'format'],
          ['float depth', { ...structuredClone(valid), depth: 3.5 }, 'format'],
          ['integer out of range', withContent({ body: 'big', n: 2 ** 60 }), 'format'],
        ];
        for (const [name, pdu, rule] of cases) {
          const o = await r.a.engine.receivePdu('m.test', pdu);
          expect({ name, status: o.status, rule: o.rule }).toEqual({ name, status: 'dropped', rule });
          expect(typeof o.reason).toBe('string');
        }
        // Through the federation entry point too (errors per event, never a throw).
        const res = await r.a.engine.onReceivePdus('m.test', [withContent({ body: 'f', n: 0.5 }) as JsonObject]);
        expect(Object.values(res).every((x) => x.error?.startsWith('dropped: format') === true)).toBe(true);
        expect(({} as Record<string, unknown>)['sender']).toBeUndefined(); // no prototype pollution
        expect(await storeSnapshot(r.a, r.roomId)).toEqual(before);
      });
    });
  });
});
