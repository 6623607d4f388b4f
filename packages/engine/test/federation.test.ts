/**
 * End-to-end federation tests: two or three simulated homeservers (engine + store) connected by an
 * InProcessNetwork, on both the memory and the LevelDB store.
 */
import { describe, expect, it } from 'vitest';
import { getRoomVersion } from '@roomgraph/room-versions';
import { type RoomEvent, stateKeyOf, toRoomEvent } from '@roomgraph/events';
import { resolveState } from '@roomgraph/state-res';
import { RoomState } from '@roomgraph/engine';
import { CachingKeySource, type FederationHandler, FederationKeySource, MemoryKeyCache } from '@roomgraph/transport';
import { STORE_KINDS, type Server, roomView, send, withFed, gapAcrossPartition } from './harness.js';

/** Power levels that let `extra` users act; v12 creators are implicit (and may not be listed). */
function powerLevels(v: string, creator: string, extra: Record<string, number>) {
  const users: Record<string, number> = { ...extra };
  if (!getRoomVersion(v).authorization.privilegedCreators) users[creator] = 100;
  return { users, users_default: 0, events_default: 0, state_default: 50, ban: 50, kick: 50, redact: 50, invite: 0 };
}

/** Creates a room on `a` (fixed room ID localpart where the version has one) and joins `others`' users. */
async function setupRoom(v: string, a: Server, joiners: ReadonlyArray<readonly [Server, string]>): Promise<string> {
  const rules = getRoomVersion(v);
  const roomId = await a.engine.createRoom({
    roomVersion: v, creator: `@alice:${a.name}`, preset: 'public_chat',
    ...(rules.eventFormat.createEventHasRoomId ? { roomIdLocalpart: `room${v}` } : {}),
  });
  for (const [s, user] of joiners) {
    const o = await s.engine.joinRemoteRoom(roomId, a.name, user);
    expect(o.status).toBe('accepted');
    // Everyone else learns about the join from the joining server (a full mesh here).
    expect(await a.engine.membership(roomId, user)).toBe('join');
  }
  return roomId;
}

/** The state two forks resolve to, computed directly with state-res on `s`'s events. */
async function resolveForks(s: Server, v: string, tips: readonly string[]): Promise<Record<string, Record<string, string>>> {
  const rules = getRoomVersion(v);
  // state-res works on maps keyed by stateKeyOf(type, state_key).
  const states = (await Promise.all(tips.map((t) => s.engine.stateAt(t, { after: true }))))
    .map((st) => new Map([...st].map((e) => [stateKeyOf(e.type, e.stateKey), e.eventId] as const)));
  const rejected = new Set<string>();
  return RoomState.fromStateMap(await resolveState(rules, states, {
    async getEvents(ids: readonly string[]) {
      const got = await s.store.getEvents(ids);
      const out = new Map<string, RoomEvent>();
      for (const [id, e] of got) {
        if (e.status === 'rejected' || e.rejection !== undefined && e.status === 'outlier') rejected.add(id);
        out.set(id, toRoomEvent(e.json, rules, id));
      }
      return out;
    },
    isRejected: (id) => rejected.has(id),
  })).toJSON();
}

const VERSIONS = ['1', '3', '10', '11', '12'] as const;

describe.each(STORE_KINDS)('federation (%s store)', (kind) => {
  describe('1. create, remote join, messages both ways', () => {
    it.each(VERSIONS)('room version %s', async (v) => {
      await withFed(kind, async (fed) => {
        const a = fed.add('a.test');
        const b = fed.add('b.test');
        const roomId = await setupRoom(v, a, [[b, '@bob:b.test']]);
        // B's join event was built on A's latest event and accepted by A.
        expect(await b.engine.membership(roomId, '@bob:b.test')).toBe('join');
        // The state B got at the join point is stored as outliers; the join point itself is a normal event.
        const created = (await b.store.getRoom(roomId))?.createEventId as string;
        expect((await b.engine.getEvent(created))?.status).toBe('outlier');

        const sentA = [];
        const sentB = [];
        for (let i = 0; i < 3; i++) {
          sentA.push(await send(a, [b], roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { msgtype: 'm.text', body: `a${i}` } }));
          sentB.push(await send(b, [a], roomId, { type: 'm.room.message', sender: '@bob:b.test', content: { msgtype: 'm.text', body: `b${i}` } }));
        }
        for (const p of sentA) expect((await b.engine.getEvent(p.eventId))?.status).toBe('accepted');
        for (const p of sentB) expect((await a.engine.getEvent(p.eventId))?.status).toBe('accepted');
        // A state change from B (a display name) reaches A's current state.
        const nameChange = await send(b, [a], roomId, { type: 'm.room.member', stateKey: '@bob:b.test', sender: '@bob:b.test', content: { membership: 'join', displayname: 'Bob' } });
        const va = await roomView(a, roomId);
        const vb = await roomView(b, roomId);
        expect(va).toEqual(vb);
        expect(va.extremities).toEqual([nameChange.eventId]);
        expect(va.state['m.room.member']?.['@bob:b.test']).toBe(nameChange.eventId);
        // No state had to be fetched: everything arrived in order.
        expect(fed.net.log.filter(([o, , m]) => o === 'a.test' && (m === 'getStateIds' || m === 'getMissingEvents'))).toEqual([]);
      });
    });

    it('keys fetched over federation (CachingKeySource → FederationKeySource)', async () => {
      await withFed(kind, async (fed) => {
        const keysA = new CachingKeySource(new MemoryKeyCache(), [new FederationKeySource(fed.net.transportFor('a.test'))]);
        const keysB = new CachingKeySource(new MemoryKeyCache(), [new FederationKeySource(fed.net.transportFor('b.test'))]);
        const a = fed.add('a.test', { keys: keysA });
        const b = fed.add('b.test', { keys: keysB });
        const roomId = await setupRoom('11', a, [[b, '@bob:b.test']]);
        const m = await send(b, [a], roomId, { type: 'm.room.message', sender: '@bob:b.test', content: { body: 'hello' } });
        expect((await a.engine.getEvent(m.eventId))?.status).toBe('accepted');
        expect(fed.net.log.some(([o, d, meth]) => o === 'a.test' && d === 'b.test' && meth === 'getServerKeys')).toBe(true);
        expect(fed.net.log.some(([o, d, meth]) => o === 'b.test' && d === 'a.test' && meth === 'getServerKeys')).toBe(true);
        expect(await roomView(a, roomId)).toEqual(await roomView(b, roomId));
      });
    });
  });

  describe('2. concurrent state changes during a partition, then heal', () => {
    it.each(['10', '11', '12'])('room version %s: get_missing_events closes the gap', async (v) => {
      await withFed(kind, async (fed) => {
        const a = fed.add('a.test');
        const b = fed.add('b.test');
        const roomId = await setupRoom(v, a, [[b, '@bob:b.test'], [b, '@bob2:b.test']]);
        await send(a, [b], roomId, { type: 'm.room.power_levels', stateKey: '', sender: '@alice:a.test', content: powerLevels(v, '@alice:a.test', { '@bob:b.test': 50 }) });
        expect(await roomView(a, roomId)).toEqual(await roomView(b, roomId));

        fed.net.partition(['a.test'], ['b.test']);
        const topic = await send(a, [b], roomId, { type: 'm.room.topic', stateKey: '', sender: '@alice:a.test', content: { topic: 'from A' } });
        const pl = await send(a, [b], roomId, { type: 'm.room.power_levels', stateKey: '', sender: '@alice:a.test', content: powerLevels(v, '@alice:a.test', { '@bob:b.test': 50, '@carol:a.test': 10 }) });
        const name = await send(b, [a], roomId, { type: 'm.room.name', stateKey: '', sender: '@bob:b.test', content: { name: 'from B' } });
        const leave = await send(b, [a], roomId, { type: 'm.room.member', stateKey: '@bob2:b.test', sender: '@bob2:b.test', content: { membership: 'leave' } });
        let lastA = pl;
        let lastB = leave;
        for (let i = 0; i < 4; i++) {
          lastA = await send(a, [b], roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: `a${i}` } });
          lastB = await send(b, [a], roomId, { type: 'm.room.message', sender: '@bob:b.test', content: { body: `b${i}` } });
        }
        // Nothing crossed the partition.
        expect(await a.engine.getEvent(name.eventId)).toBeUndefined();
        expect(await b.engine.getEvent(topic.eventId)).toBeUndefined();

        fed.net.heal();
        const before = fed.net.log.length;
        // Each pushes only its latest event; the receiver fetches the rest.
        await a.engine.sendToServers(['b.test'], [lastA]);
        await b.engine.sendToServers(['a.test'], [lastB]);
        const calls = fed.net.log.slice(before);
        expect(calls.filter(([, , m]) => m === 'getMissingEvents').length).toBe(2);
        expect(calls.filter(([, , m]) => m === 'getStateIds')).toEqual([]);
        for (const e of [topic, pl, lastA, name, leave, lastB]) {
          expect((await a.engine.getEvent(e.eventId))?.status).toBe('accepted');
          expect((await b.engine.getEvent(e.eventId))?.status).toBe('accepted');
        }
        const va = await roomView(a, roomId);
        const vb = await roomView(b, roomId);
        expect(va).toEqual(vb);
        expect(va.extremities).toEqual([lastA.eventId, lastB.eventId].sort());
        // The current state is what resolving the two forks gives, on either server.
        const resolved = await resolveForks(a, v, [lastA.eventId, lastB.eventId]);
        expect(va.state).toEqual(resolved);
        expect(await resolveForks(b, v, [lastB.eventId, lastA.eventId])).toEqual(resolved);
        expect(va.state['m.room.topic']?.['']).toBe(topic.eventId);
        expect(va.state['m.room.name']?.['']).toBe(name.eventId);
        expect(va.state['m.room.power_levels']?.['']).toBe(pl.eventId);
        expect(await a.engine.membership(roomId, '@bob2:b.test')).toBe('leave');

        // A merge event closes the fork on both.
        const merge = await send(a, [b], roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: 'merged' } });
        expect([...merge.prevEvents].sort()).toEqual([lastA.eventId, lastB.eventId].sort());
        const ma = await roomView(a, roomId);
        expect(ma).toEqual(await roomView(b, roomId));
        expect(ma.extremities).toEqual([merge.eventId]);
        expect(ma.state).toEqual(resolved);
      });
    });

    it('a gap bigger than the missing-events limit is bridged with state_ids', async () => {
      await withFed(kind, async (fed) => {
        const a = fed.add('a.test');
        const b = fed.add('b.test', { limits: { maxMissingEvents: 5 } });
        const v = '11';
        const roomId = await setupRoom(v, a, [[b, '@bob:b.test']]);
        const { topic, msgs, bName, last } = await gapAcrossPartition(fed, a, b, roomId);
        const before = fed.net.log.length;
        const [o] = await b.engine.receivePdus('a.test', [last.json]);
        expect(o?.status).toBe('accepted');
        const calls = fed.net.log.slice(before).filter(([, , m]) => m !== 'getEvent').map(([, , m]) => m);
        expect(calls).toContain('getMissingEvents');
        expect(calls).toContain('getStateIds');
        // The topic set before the gap is known through the fetched state, as an outlier.
        expect((await b.engine.getEvent(topic.eventId))?.status).toBe('outlier');
        // The newest 5 ancestors were fetched and accepted; the window's oldest got its state from A.
        for (const m of msgs.slice(9, 14)) expect((await b.engine.getEvent(m.eventId))?.status).toBe('accepted');
        for (const m of msgs.slice(0, 9)) expect(await b.engine.getEvent(m.eventId)).toBeUndefined();
        const st = await b.engine.stateAt(msgs[9]!.eventId);
        expect(st.get('m.room.topic', '')).toBe(topic.eventId);
        const vb = await roomView(b, roomId);
        expect(vb.extremities).toEqual([last.eventId, bName.eventId].sort());
        // A learns B's side, then both agree.
        await b.engine.sendToServers(['a.test'], [bName]);
        expect(await roomView(a, roomId)).toEqual(await roomView(b, roomId));
        expect((await roomView(a, roomId)).state['m.room.topic']?.['']).toBe(topic.eventId);
        expect((await roomView(a, roomId)).state['m.room.member']?.['@bob:b.test']).toBe(bName.eventId);
      });
    });
  });

  describe('3. three servers, partition A | B C, heal', () => {
    it.each(['10', '12'])('room version %s', async (v) => {
      await withFed(kind, async (fed) => {
        const a = fed.add('a.test');
        const b = fed.add('b.test');
        const c = fed.add('c.test');
        const roomId = await setupRoom(v, a, [[b, '@bob:b.test']]);
        await send(a, [b], roomId, { type: 'm.room.power_levels', stateKey: '', sender: '@alice:a.test', content: powerLevels(v, '@alice:a.test', { '@bob:b.test': 50, '@carol:c.test': 50 }) });
        // C joins via B, and B forwards C's join to A.
        const cj = await c.engine.joinRemoteRoom(roomId, 'b.test', '@carol:c.test');
        expect(cj.status).toBe('accepted');
        const joinC = await c.engine.getEvent(cj.eventId);
        await a.engine.receivePdus('b.test', [joinC!.json]);
        for (const s of [a, b, c]) expect(await s.engine.membership(roomId, '@carol:c.test')).toBe('join');
        expect(await roomView(a, roomId)).toEqual(await roomView(c, roomId));

        fed.net.partition(['a.test'], ['b.test', 'c.test']);
        const all = [a, b, c];
        const others = (s: Server) => all.filter((x) => x !== s);
        const topic = await send(a, others(a), roomId, { type: 'm.room.topic', stateKey: '', sender: '@alice:a.test', content: { topic: 'A' } });
        const name = await send(b, others(b), roomId, { type: 'm.room.name', stateKey: '', sender: '@bob:b.test', content: { name: 'B' } });
        const topicC = await send(c, others(c), roomId, { type: 'm.room.topic', stateKey: '', sender: '@carol:c.test', content: { topic: 'C' } });
        let lastA = topic;
        let lastBC = topicC;
        for (let i = 0; i < 3; i++) {
          lastA = await send(a, others(a), roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: `a${i}` } });
          await send(b, others(b), roomId, { type: 'm.room.message', sender: '@bob:b.test', content: { body: `b${i}` } });
          lastBC = await send(c, others(c), roomId, { type: 'm.room.message', sender: '@carol:c.test', content: { body: `c${i}` } });
        }
        // B and C stayed in sync with each other.
        expect(await roomView(b, roomId)).toEqual(await roomView(c, roomId));
        expect(await b.engine.getEvent(topic.eventId)).toBeUndefined();
        void name;

        fed.net.heal();
        await a.engine.sendToServers(['b.test', 'c.test'], [lastA]);
        await c.engine.sendToServers(['a.test'], [lastBC]);
        const va = await roomView(a, roomId);
        expect(await roomView(b, roomId)).toEqual(va);
        expect(await roomView(c, roomId)).toEqual(va);
        expect(va.extremities).toEqual([lastA.eventId, lastBC.eventId].sort());
        const resolved = await resolveForks(b, v, [lastA.eventId, lastBC.eventId]);
        expect(va.state).toEqual(resolved);
        // Topics are not power events: mainline order (same power levels) then origin_server_ts: C's later topic wins.
        expect(va.state['m.room.topic']?.['']).toBe(topicC.eventId);
        expect(va.state['m.room.name']?.['']).toBe(name.eventId);
      });
    });
  });

  describe('served responses and unhelpful remotes', () => {
    it('state_ids / get_missing_events / backfill only serve events of the requested room', async () => {
      await withFed(kind, async (fed) => {
        const a = fed.add('a.test');
        const r1 = await a.engine.createRoom({ roomVersion: '11', creator: '@alice:a.test', preset: 'public_chat', roomIdLocalpart: 'one' });
        const r2 = await a.engine.createRoom({ roomVersion: '11', creator: '@alice:a.test', preset: 'public_chat', roomIdLocalpart: 'two' });
        const e1 = await a.engine.createLocalEvent(r1, { type: 'm.room.message', sender: '@alice:a.test', content: { body: 'secret' } });
        expect((await a.engine.onGetStateIds('a.test', r1, e1.eventId)).pduIds.length).toBeGreaterThan(0);
        expect(await a.engine.onGetStateIds('a.test', r2, e1.eventId)).toEqual({ pduIds: [], authChainIds: [] });
        expect(await a.engine.onGetState('a.test', r2, e1.eventId)).toEqual({ pdus: [], authChain: [] });
        expect(await a.engine.onGetMissingEvents('a.test', r2, { earliestEvents: [], latestEvents: [e1.eventId], limit: 10 })).toEqual([]);
        expect(await a.engine.onBackfill('a.test', r2, [e1.eventId], 10)).toEqual([]);
        expect((await a.engine.onBackfill('a.test', r1, [e1.eventId], 10)).length).toBe(6);
      });
    });

    it('a remote that cannot give the state parks the event instead of getting it rejected', async () => {
      await withFed(kind, async (fed) => {
        const a = fed.add('a.test');
        const b = fed.add('b.test');
        const roomId = await setupRoom('11', a, [[b, '@bob:b.test']]);
        fed.net.partition(['a.test'], ['b.test']);
        const m1 = await send(a, [b], roomId, { type: 'm.room.topic', stateKey: '', sender: '@alice:a.test', content: { topic: 'hidden' } });
        const m2 = await send(a, [b], roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: 'after' } });
        fed.net.heal();
        // A answers get_missing_events and state_ids with nothing (like a server that lost them).
        const e = a.engine;
        const unhelpful: FederationHandler = {
          onGetEvent: (o, id) => e.onGetEvent(o, id),
          onGetMissingEvents: async () => [],
          onGetStateIds: async () => ({ pduIds: [], authChainIds: [] }),
          onGetState: async () => ({ pdus: [], authChain: [] }),
          onBackfill: (o, r, f, l) => e.onBackfill(o, r, f, l),
          onGetServerKeys: () => e.onGetServerKeys(),
          onMakeJoin: (o, r, u, v) => e.onMakeJoin(o, r, u, v),
          onSendJoin: (o, r, id, ev) => e.onSendJoin(o, r, id, ev),
          onReceivePdus: (o, p) => e.onReceivePdus(o, p),
        };
        fed.net.register('a.test', unhelpful);
        const o = await b.engine.receivePdu('a.test', m2.json);
        expect(o.status).toBe('parked');
        expect(await b.engine.getEvent(m2.eventId)).toBeUndefined();
        fed.net.register('a.test', a.engine);
        // The missing event arrives: both are accepted, m2 from the parked queue.
        expect((await b.engine.receivePdu('a.test', m1.json)).status).toBe('accepted');
        expect((await b.engine.getEvent(m2.eventId))?.status).toBe('accepted');
        expect(await roomView(b, roomId)).toEqual(await roomView(a, roomId));
      });
    });
  });
});
