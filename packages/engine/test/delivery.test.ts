/**
 * Delivery semantics (idempotence, per-room serialisation, parking out-of-order events),
 * notifications and queries. Runs on both stores.
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import type { EngineNotification, PduOutcome } from '@roomgraph/engine';
import type { StoredEvent } from '@roomgraph/store';
import { type Fed, STORE_KINDS, type Server, fromM, roomView, send, setupWithM, withFed } from './harness.js';

/** A room with a fork: A and B edit state concurrently during a partition, then merge. Returns A's non-outlier events in commit order. */
async function forkedRoom(fed: Fed, v: string): Promise<{ roomId: string; a: Server; events: StoredEvent[] }> {
  const a = fed.add('a.test');
  const b = fed.add('b.test');
  const roomId = await a.engine.createRoom({ roomVersion: v, creator: '@alice:a.test', preset: 'public_chat', ...(v === '12' ? {} : { roomIdLocalpart: 'fork' }) });
  await b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test');
  fed.net.partition(['a.test'], ['b.test']);
  let la = await send(a, [b], roomId, { type: 'm.room.topic', stateKey: '', sender: '@alice:a.test', content: { topic: 'A' } });
  let lb = await send(b, [a], roomId, { type: 'm.room.member', stateKey: '@bob:b.test', sender: '@bob:b.test', content: { membership: 'join', displayname: 'bob' } });
  for (let i = 0; i < 5; i++) {
    la = await send(a, [b], roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: `a${i}` } });
    lb = await send(b, [a], roomId, { type: 'm.room.message', sender: '@bob:b.test', content: { body: `b${i}` } });
  }
  const lateTopic = await send(a, [b], roomId, { type: 'm.room.topic', stateKey: '', sender: '@alice:a.test', content: { topic: 'A2' } });
  void lateTopic;
  fed.net.heal();
  await b.engine.sendToServers(['a.test'], [lb]);
  await send(a, [b], roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: 'merge' } });
  void la;
  const events = (await a.store.timeline(roomId, { limit: 10_000 })).filter((e) => e.status !== 'outlier');
  return { roomId, a, events };
}

describe.each(STORE_KINDS)('delivery (%s store)', (kind) => {
  it('5. re-delivery is idempotent; concurrent receivePdus equal sequential delivery', async () => {
    await withFed(kind, async (fed) => {
      const { roomId, a, events } = await forkedRoom(fed, '11');
      expect(events.length).toBeGreaterThanOrEqual(20);
      const seq = fed.add('seq.test', { transport: false });
      const par = fed.add('par.test', { transport: false });
      const origin = (e: StoredEvent) => (e.json['sender'] as string).split(':')[1] as string;
      const seqOut: PduOutcome[] = [];
      for (const e of events) seqOut.push(await seq.engine.receivePdu(origin(e), e.json));
      expect(seqOut.every((o) => o.status === 'accepted')).toBe(true);
      expect(await roomView(seq, roomId)).toEqual(await roomView(a, roomId));

      // The create event first (the room must be known), then everything else at once.
      const [create, ...rest] = events;
      expect((await par.engine.receivePdu('a.test', create!.json)).status).toBe('accepted');
      const parOut = await Promise.all(rest.map((e) => par.engine.receivePdu(origin(e), e.json)));
      expect(parOut.map((o) => o.status)).toEqual(seqOut.slice(1).map((o) => o.status));
      expect(await roomView(par, roomId)).toEqual(await roomView(seq, roomId));
      // Commits did not interleave: stream order on `par` is the call order.
      const parTimeline = (await par.store.timeline(roomId, { limit: 10_000 })).map((e) => e.eventId);
      expect(parTimeline).toEqual(events.map((e) => e.eventId));

      // Re-delivery, sequential and concurrent: duplicates with the stored status, nothing changes.
      const before = await roomView(par, roomId);
      const stats = await par.store.stats();
      const again = await par.engine.receivePdu('a.test', events[3]!.json);
      expect(again).toMatchObject({ eventId: events[3]!.eventId, status: 'accepted', duplicate: true });
      const dup = await Promise.all(events.map((e) => par.engine.receivePdu(origin(e), e.json)));
      expect(dup.every((o) => o.duplicate === true && o.status === 'accepted')).toBe(true);
      expect(dup.map((o) => o.eventId)).toEqual(events.map((e) => e.eventId));
      expect(await roomView(par, roomId)).toEqual(before);
      expect(await par.store.stats()).toEqual(stats);
      // Many parallel receivePdus calls of a batch (receivePdus) as well.
      const batches = await Promise.all([par.engine.receivePdus('a.test', events.map((e) => e.json)), par.engine.receivePdus('a.test', events.map((e) => e.json))]);
      expect(batches.flat().every((o) => o.duplicate === true)).toBe(true);
    });
  });

  it('8. out-of-order delivery without a transport parks events until their prev events arrive', async () => {
    await withFed(kind, async (fed) => {
      const a = fed.add('a.test');
      const x = fed.add('x.test', { transport: false });
      const roomId = await a.engine.createRoom({ roomVersion: '12', creator: '@alice:a.test', preset: 'public_chat' });
      const e: JsonObject[] = [];
      for (let i = 0; i < 8; i++) {
        const p = i % 3 === 0
          ? await a.engine.createLocalEvent(roomId, { type: 'm.room.topic', stateKey: '', sender: '@alice:a.test', content: { topic: `t${i}` } })
          : await a.engine.createLocalEvent(roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: `m${i}` } });
        e.push(p.json);
      }
      const base = (await a.store.timeline(roomId, { limit: 100 })).slice(0, 5).map((s) => s.json);
      for (const j of base) expect((await x.engine.receivePdu('a.test', j)).status).toBe('accepted');
      const idOf = async (j: JsonObject) => (await x.engine.receivePdu('a.test', j)).eventId;
      // e1 arrives before e0: parked.
      const o1 = await x.engine.receivePdu('a.test', e[1]);
      expect(o1.status).toBe('parked');
      expect(await x.engine.getEvent(o1.eventId)).toBeUndefined();
      expect((await x.store.listParkedEvents(roomId)).map((p) => p.eventId)).toEqual([o1.eventId]);
      // Re-delivering a parked event parks it again (not a duplicate: it is not stored).
      expect((await x.engine.receivePdu('a.test', e[1])).status).toBe('parked');
      // e0 arrives: accepted, and e1 is processed automatically.
      const o0 = await x.engine.receivePdu('a.test', e[0]);
      expect(o0.status).toBe('accepted');
      expect((await x.engine.getEvent(o1.eventId))?.status).toBe('accepted');
      expect(await x.store.listParkedEvents(roomId)).toEqual([]);
      expect(await x.engine.forwardExtremities(roomId)).toEqual([o1.eventId]);
      // A longer chain in reverse order: everything parks, then the first unlocks all.
      const rev = [e[7], e[6], e[5], e[4], e[3]] as JsonObject[];
      const parkedIds: string[] = [];
      for (const j of rev) {
        const o = await x.engine.receivePdu('a.test', j);
        expect(o.status).toBe('parked');
        parkedIds.push(o.eventId);
      }
      expect((await x.store.listParkedEvents(roomId)).length).toBe(5);
      expect(await idOf(e[2] as JsonObject)).not.toBe('');
      for (const id of parkedIds) expect((await x.engine.getEvent(id))?.status).toBe('accepted');
      expect(await x.engine.forwardExtremities(roomId)).toEqual([parkedIds[0]]);
      expect(await x.store.listParkedEvents(roomId)).toEqual([]);
      expect(await roomView(x, roomId)).toEqual(await roomView(a, roomId));
      expect((await roomView(x, roomId)).state['m.room.topic']?.['']).toBe((await a.engine.currentState(roomId)).get('m.room.topic', ''));
    });
  });

  describe.each(['10', '12'])('room version %s', (v) => {
    it('6. notifications arrive in commit order, including soft-fail and rejection', async () => {
      await withFed(kind, async (fed) => {
        const r = await setupWithM(fed, v);
        const got: EngineNotification[] = [];
        const unsub = r.a.engine.subscribe((n) => got.push(n));
        const simple = (n: EngineNotification) => n.kind === 'event' ? ['event', n.eventId, n.status] : n.kind === 'extremities' ? ['extremities', ...n.forwardExtremities] : ['state', ...n.changed.map((c) => `${c.type}|${c.stateKey}:${c.from ?? '-'}>${c.to ?? '-'}`)];

        const msg = await fromM(r, { type: 'm.room.message', content: { body: 'hi' } });
        expect((await r.a.engine.receivePdu('m.test', msg.json)).status).toBe('accepted');
        const topic = await r.a.engine.createLocalEvent(r.roomId, { type: 'm.room.topic', stateKey: '', sender: '@alice:a.test', content: { topic: 'T' } });
        const badPl = await fromM(r, { type: 'm.room.power_levels', stateKey: '', content: { users: { '@mallory:m.test': 100 } } });
        expect((await r.a.engine.receivePdu('m.test', badPl.json)).status).toBe('rejected');
        fed.net.partition(['a.test'], ['m.test']);
        const joinId = (await r.a.engine.currentState(r.roomId)).get('m.room.member', '@mallory:m.test');
        const ban = await r.a.engine.createLocalEvent(r.roomId, { type: 'm.room.member', stateKey: '@mallory:m.test', sender: '@alice:a.test', content: { membership: 'ban' } });
        const stale = await r.m.engine.createLocalEvent(r.roomId, { type: 'm.room.message', sender: '@mallory:m.test', content: { body: 'stale' } });
        fed.net.heal();
        expect((await r.a.engine.receivePdu('m.test', stale.json)).status).toBe('soft-failed');
        // Duplicates emit nothing.
        await r.a.engine.receivePdu('m.test', msg.json);
        unsub();
        await r.a.engine.createLocalEvent(r.roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: 'unheard' } });

        expect(got.map(simple)).toEqual([
          ['event', msg.eventId, 'accepted'], ['extremities', msg.eventId],
          ['event', topic.eventId, 'accepted'], ['extremities', topic.eventId], ['state', `m.room.topic|:->${topic.eventId}`],
          ['event', badPl.eventId, 'rejected'],
          ['event', ban.eventId, 'accepted'], ['extremities', ban.eventId], ['state', `m.room.member|@mallory:m.test:${joinId}>${ban.eventId}`],
          ['event', stale.eventId, 'soft-failed'],
        ]);
        const rej = got.find((n) => n.kind === 'event' && n.eventId === badPl.eventId);
        expect(rej?.kind === 'event' && rej.rule).toBe('power.insufficient');
        // Event notifications follow the store's stream order.
        const eventIds = got.filter((n) => n.kind === 'event').map((n) => (n as { eventId: string }).eventId);
        const streams = await Promise.all(eventIds.map(async (id) => (await r.a.engine.getEvent(id))?.stream ?? -1));
        expect(streams).toEqual([...streams].sort((x, y) => x - y));
        expect(new Set(streams).size).toBe(streams.length);
      });
    });

    it('7. queries: stateAt, membership, authChain, timeline, topologicalOrder, backfill', async () => {
      await withFed(kind, async (fed) => {
        const a = fed.add('a.test');
        const roomId = await a.engine.createRoom({ roomVersion: v, creator: '@alice:a.test', preset: 'public_chat', ...(v === '12' ? {} : { roomIdLocalpart: 'q' }) });
        const local = async (type: string, content: JsonObject, stateKey?: string) =>
          a.engine.createLocalEvent(roomId, { type, sender: '@alice:a.test', content, ...(stateKey !== undefined ? { stateKey } : {}) });
        const t1 = await local('m.room.topic', { topic: '1' }, '');
        const m1 = await local('m.room.message', { body: 'm1' });
        const t2 = await local('m.room.topic', { topic: '2' }, '');
        const m2 = await local('m.room.message', { body: 'm2' });
        expect((await a.engine.stateAt(t2.eventId)).get('m.room.topic', '')).toBe(t1.eventId);
        expect((await a.engine.stateAt(t2.eventId, { after: true })).get('m.room.topic', '')).toBe(t2.eventId);
        expect(await a.engine.stateAt(m1.eventId)).toEqual(await a.engine.stateAt(m1.eventId, { after: true }));
        expect(await a.engine.stateAt(m2.eventId, { after: true })).toEqual(await a.engine.currentState(roomId));
        await expect(a.engine.stateAt('$nope')).rejects.toMatchObject({ code: 'ENGINE_UNKNOWN_EVENT' });
        expect(await a.engine.membership(roomId, '@alice:a.test')).toBe('join');
        expect(await a.engine.membership(roomId, '@nobody:a.test')).toBeUndefined();

        const state = await a.engine.currentState(roomId);
        const create = state.get('m.room.create', '') as string;
        const pl = state.get('m.room.power_levels', '') as string;
        const member = state.get('m.room.member', '@alice:a.test') as string;
        const chain = await a.engine.authChain([m2.eventId]);
        expect(chain.has(pl) && chain.has(member)).toBe(true);
        // v12 events do not cite the create event (the room ID is its hash), earlier ones do.
        expect(chain.has(create)).toBe(v !== '12');
        for (const x of [t1, m1, t2, m2]) expect(chain.has(x.eventId)).toBe(false);
        // Every member of the chain is an auth event of m2 or (recursively) of one of them.
        const expected = new Set<string>();
        let frontier = [...m2.authEvents];
        while (frontier.length > 0) {
          const next: string[] = [];
          for (const id of frontier) {
            if (expected.has(id)) continue;
            expected.add(id);
            next.push(...((await a.engine.getEvent(id))?.authEvents ?? []));
          }
          frontier = next;
        }
        expect([...chain].sort()).toEqual([...expected].sort());

        const tl = await a.engine.timeline(roomId, { limit: 100 });
        const order = tl.map((e) => e.eventId);
        expect(order.slice(-4)).toEqual([t1.eventId, m1.eventId, t2.eventId, m2.eventId]);
        expect(tl.map((e) => e.stream)).toEqual(tl.map((_, i) => i + 1));
        expect((await a.engine.timeline(roomId, { direction: 'backwards', limit: 3 })).map((e) => e.eventId)).toEqual([m2.eventId, t2.eventId, m1.eventId]);
        const topo = await a.engine.topologicalOrder(roomId);
        expect(topo.map((e) => e.eventId)).toEqual(order);
        expect(topo.every((e, i) => i === 0 || e.depth >= (topo[i - 1] as StoredEvent).depth)).toBe(true);

        const id = (j: JsonObject) => tl.find((e) => e.json === j || JSON.stringify(e.json) === JSON.stringify(j))?.eventId;
        const back3 = await a.engine.onBackfill('a.test', roomId, [m2.eventId], 3);
        expect(back3.map(id)).toEqual([m2.eventId, t2.eventId, m1.eventId]);
        const all = await a.engine.onBackfill('a.test', roomId, [m2.eventId], 100);
        expect(all.map(id)).toEqual([...order].reverse());
        const depths = all.map((j) => j['depth'] as number);
        expect(depths).toEqual([...depths].sort((x, y) => y - x));
        expect(await a.engine.onBackfill('a.test', roomId, [t2.eventId], 1)).toHaveLength(1);
        // Served state: state_ids at m2 = the state before m2, with its auth chain.
        const sid = await a.engine.onGetStateIds('a.test', roomId, m2.eventId);
        expect([...sid.pduIds].sort()).toEqual([...(await a.engine.stateAt(m2.eventId))].map((e) => e.eventId).sort());
        expect(new Set(sid.authChainIds)).toEqual(new Set(await a.engine.authChain(sid.pduIds)));
        const st = await a.engine.onGetState('a.test', roomId, m2.eventId);
        expect(st.pdus.length).toBe(sid.pduIds.length);
        expect(st.authChain.length).toBe(sid.authChainIds.length);
        // get_missing_events: between t1 (known) and m2.
        const missing = await a.engine.onGetMissingEvents('a.test', roomId, { earliestEvents: [t1.eventId], latestEvents: [m2.eventId], limit: 10 });
        expect(missing.map(id)).toEqual([m1.eventId, t2.eventId]);
        expect((await a.engine.onGetMissingEvents('a.test', roomId, { earliestEvents: [t1.eventId], latestEvents: [m2.eventId], limit: 1 })).map(id)).toEqual([t2.eventId]);
      });
    });
  });
});
