/**
 * De-outliering: an event stored as an outlier (known without its state: an auth event, part of a
 * remote state_ids answer, `receiveOutlier`) that later arrives through normal receipt with its
 * prev events known is promoted: it gets its state and a real status, and joins the timeline once.
 * Runs on both stores.
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import type { EngineNotification } from '@roomgraph/engine';
import { getRoomVersion } from '@roomgraph/room-versions';
import { type Fed, STORE_KINDS, type Server, fromM, roomView, send, setupWithM, storeSnapshot, withFed, gapAcrossPartition } from './harness.js';

/** A room on `a.test` and an observer `x.test` (no transport) that has received its first events normally. */
async function observed(fed: Fed, v: string): Promise<{ a: Server; x: Server; roomId: string; base: JsonObject[] }> {
  const a = fed.add('a.test');
  const x = fed.add('x.test', { transport: false });
  const roomId = await a.engine.createRoom({ roomVersion: v, creator: '@alice:a.test', preset: 'public_chat', ...(getRoomVersion(v).eventFormat.createEventHasRoomId ? { roomIdLocalpart: 'outl' } : {}) });
  const base = (await a.store.timeline(roomId, { limit: 100 })).map((e) => e.json);
  for (const j of base) expect((await x.engine.receivePdu('a.test', j)).status).toBe('accepted');
  return { a, x, roomId, base };
}

const ids = async (s: Server, roomId: string) => (await s.store.timeline(roomId, { limit: 10_000 })).map((e) => e.eventId);

describe.each(STORE_KINDS)('outlier promotion (%s store)', (kind) => {
  it.each(['11', '12'])('room version %s: an outlier delivered normally becomes accepted, with state, once in the timeline', async (v) => {
    await withFed(kind, async (fed) => {
      const { a, x, roomId, base } = await observed(fed, v);
      const topic = await a.engine.createLocalEvent(roomId, { type: 'm.room.topic', stateKey: '', sender: '@alice:a.test', content: { topic: 'T' } });
      expect(await x.engine.receiveOutlier('a.test', topic.json, getRoomVersion(v), roomId)).toEqual({ eventId: topic.eventId, status: 'outlier' });
      const asOutlier = await x.engine.getEvent(topic.eventId);
      expect(asOutlier?.stateBefore).toBeUndefined();
      expect(asOutlier?.stream).toBe(base.length + 1);
      expect((await x.engine.currentState(roomId)).get('m.room.topic', '')).toBeUndefined();

      const notes: EngineNotification[] = [];
      x.engine.subscribe((n) => notes.push(n));
      expect(await x.engine.receivePdu('a.test', topic.json)).toEqual({ eventId: topic.eventId, status: 'accepted', promoted: true });
      const promoted = await x.engine.getEvent(topic.eventId);
      expect(promoted?.status).toBe('accepted');
      expect(promoted?.stream).toBe(base.length + 2);
      expect(await x.engine.stateAt(topic.eventId)).toEqual(await a.engine.stateAt(topic.eventId));
      expect(await x.engine.stateAt(topic.eventId, { after: true })).toEqual(await a.engine.stateAt(topic.eventId, { after: true }));
      // Once in the timeline, at its new position.
      const tl = await x.store.timeline(roomId, { limit: 100 });
      expect(tl.map((e) => e.eventId)).toEqual([...(await ids(a, roomId))]);
      expect(tl.map((e) => e.stream)).toEqual([...base.map((_, i) => i + 1), base.length + 2]);
      expect(await x.engine.timeline(roomId, { direction: 'backwards', limit: 1 })).toEqual([promoted]);
      expect((await x.engine.topologicalOrder(roomId)).map((e) => e.eventId)).toContain(topic.eventId);
      // Current state and extremities as on the origin.
      expect(await roomView(x, roomId)).toEqual(await roomView(a, roomId));
      expect(await x.engine.forwardExtremities(roomId)).toEqual([topic.eventId]);
      expect(notes.some((n) => n.kind === 'event' && n.eventId === topic.eventId && n.status === 'accepted')).toBe(true);
      expect(notes.some((n) => n.kind === 'state' && n.changed.some((c) => c.type === 'm.room.topic' && c.stateKey === '' && c.to === topic.eventId))).toBe(true);
      // It is served to other servers now (outliers are not).
      expect((await x.engine.onBackfill('a.test', roomId, [topic.eventId], 1)).length).toBe(1);

      // Idempotence: delivering it a third time (or as an outlier again) is a duplicate; nothing changes.
      const before = await storeSnapshot(x, roomId);
      expect(await x.engine.receivePdu('a.test', topic.json)).toEqual({ eventId: topic.eventId, status: 'accepted', duplicate: true });
      expect(await x.engine.receiveOutlier('a.test', topic.json, getRoomVersion(v), roomId)).toEqual({ eventId: topic.eventId, status: 'accepted', duplicate: true });
      expect(await storeSnapshot(x, roomId)).toEqual(before);

      // The room goes on normally.
      const m = await a.engine.createLocalEvent(roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: 'after' } });
      expect((await x.engine.receivePdu('a.test', m.json)).status).toBe('accepted');
      expect(await roomView(x, roomId)).toEqual(await roomView(a, roomId));
    });
  });

  it('outlier prev events are promoted from the store when a child arrives (oldest first), instead of parking it', async () => {
    await withFed(kind, async (fed) => {
      const { a, x, roomId } = await observed(fed, '11');
      const rules = getRoomVersion('11');
      const t1 = await a.engine.createLocalEvent(roomId, { type: 'm.room.topic', stateKey: '', sender: '@alice:a.test', content: { topic: 'one' } });
      const m2 = await a.engine.createLocalEvent(roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: 'two' } });
      const m3 = await a.engine.createLocalEvent(roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: 'three' } });
      // m2 first (its prev t1 unknown), then t1: both outliers.
      expect((await x.engine.receiveOutlier('a.test', m2.json, rules, roomId)).status).toBe('outlier');
      expect((await x.engine.receiveOutlier('a.test', t1.json, rules, roomId)).status).toBe('outlier');
      // m3 arrives normally: t1 then m2 are promoted, m3 is accepted on top of them.
      expect(await x.engine.receivePdu('a.test', m3.json)).toEqual({ eventId: m3.eventId, status: 'accepted' });
      expect(await x.store.listParkedEvents(roomId)).toEqual([]);
      for (const e of [t1, m2, m3]) expect((await x.engine.getEvent(e.eventId))?.status).toBe('accepted');
      expect(await ids(x, roomId)).toEqual(await ids(a, roomId));
      expect(await x.engine.stateAt(m3.eventId)).toEqual(await a.engine.stateAt(m3.eventId));
      expect(await roomView(x, roomId)).toEqual(await roomView(a, roomId));
      expect(await x.engine.forwardExtremities(roomId)).toEqual([m3.eventId]);
    });
  });

  it('an outlier whose prev events are unknown stays an outlier on normal delivery (no transport)', async () => {
    await withFed(kind, async (fed) => {
      const { a, x, roomId } = await observed(fed, '12');
      const rules = getRoomVersion('12');
      const m1 = await a.engine.createLocalEvent(roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: 'one' } });
      const m2 = await a.engine.createLocalEvent(roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: 'two' } });
      expect((await x.engine.receiveOutlier('a.test', m2.json, rules, roomId)).status).toBe('outlier');
      expect(await x.engine.receivePdu('a.test', m2.json)).toEqual({ eventId: m2.eventId, status: 'outlier', duplicate: true });
      // Once its prev event is there, a re-delivery promotes it.
      expect((await x.engine.receivePdu('a.test', m1.json)).status).toBe('accepted');
      expect(await x.engine.receivePdu('a.test', m2.json)).toEqual({ eventId: m2.eventId, status: 'accepted', promoted: true });
      expect(await roomView(x, roomId)).toEqual(await roomView(a, roomId));
      expect(await ids(x, roomId)).toEqual(await ids(a, roomId));
    });
  });

  it('a rejected outlier stays rejected', async () => {
    await withFed(kind, async (fed) => {
      const r = await setupWithM(fed, '11');
      // Mallory (power 0) may not change the power levels: rejected against its own auth events.
      const pl = await fromM(r, { type: 'm.room.power_levels', stateKey: '', content: { users: { '@mallory:m.test': 100 }, users_default: 0 } });
      const first = await r.a.engine.receiveOutlier('m.test', pl.json, getRoomVersion('11'), r.roomId);
      expect(first.status).toBe('rejected');
      const stored = await r.a.engine.getEvent(pl.eventId);
      expect(stored?.status).toBe('outlier');
      expect(stored?.rejection?.rule).toBe(first.rule);
      const before = await storeSnapshot(r.a, r.roomId);
      for (let i = 0; i < 2; i++) {
        expect(await r.a.engine.receivePdu('m.test', pl.json)).toMatchObject({ eventId: pl.eventId, status: 'rejected', rule: first.rule, duplicate: true });
      }
      expect(await r.a.engine.getEvent(pl.eventId)).toEqual(stored);
      expect(await storeSnapshot(r.a, r.roomId)).toEqual(before);
    });
  });

  it('get_missing_events reaching an outlier promotes it; no state_ids, extremities right', async () => {
    await withFed(kind, async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test');
      const roomId = await a.engine.createRoom({ roomVersion: '10', creator: '@alice:a.test', preset: 'public_chat', roomIdLocalpart: 'gme' });
      expect((await b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test')).status).toBe('accepted');
      const [join] = await b.engine.forwardExtremities(roomId);
      expect(await a.engine.forwardExtremities(roomId)).toEqual([join]);
      // A's new events are not pushed; B learns the topic only as an outlier (as if fetched as an auth event).
      const topic = await a.engine.createLocalEvent(roomId, { type: 'm.room.topic', stateKey: '', sender: '@alice:a.test', content: { topic: 'T' } });
      const m1 = await a.engine.createLocalEvent(roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: 'one' } });
      const m2 = await a.engine.createLocalEvent(roomId, { type: 'm.room.message', sender: '@alice:a.test', content: { body: 'two' } });
      expect((await b.engine.receiveOutlier('a.test', topic.json, getRoomVersion('10'), roomId)).status).toBe('outlier');
      const before = fed.net.log.length;
      expect(await b.engine.receivePdu('a.test', m2.json)).toEqual({ eventId: m2.eventId, status: 'accepted' });
      const calls = fed.net.log.slice(before).map(([, , m]) => m);
      expect(calls).toContain('getMissingEvents');
      expect(calls).not.toContain('getStateIds');
      for (const e of [topic, m1, m2]) expect((await b.engine.getEvent(e.eventId))?.status).toBe('accepted');
      expect(await b.engine.stateAt(topic.eventId)).toEqual(await a.engine.stateAt(topic.eventId));
      const tl = await ids(b, roomId);
      expect(tl.slice(-3)).toEqual([topic.eventId, m1.eventId, m2.eventId]);
      expect(new Set(tl).size).toBe(tl.length);
      expect(await b.engine.forwardExtremities(roomId)).toEqual([m2.eventId]);
      expect(await roomView(b, roomId)).toEqual(await roomView(a, roomId));
    });
  });

  it('a gap bridged with state_ids, filled later: its outlier state event is promoted; extremities and state stay right', async () => {
    await withFed(kind, async (fed) => {
      const a = fed.add('a.test');
      const b = fed.add('b.test', { limits: { maxMissingEvents: 5 } });
      const v = '11';
      const roomId = await a.engine.createRoom({ roomVersion: v, creator: '@alice:a.test', preset: 'public_chat', roomIdLocalpart: 'gap' });
      expect((await b.engine.joinRemoteRoom(roomId, 'a.test', '@bob:b.test')).status).toBe('accepted');
      const { topic, msgs, bName, last } = await gapAcrossPartition(fed, a, b, roomId);
      expect((await b.engine.receivePdu('a.test', last.json)).status).toBe('accepted');
      // As in federation test 2b: the topic came with the state_ids answer, as an outlier (state, not timeline).
      expect((await b.engine.getEvent(topic.eventId))?.status).toBe('outlier');
      for (const m of msgs.slice(0, 9)) expect(await b.engine.getEvent(m.eventId)).toBeUndefined();
      const viewBefore = await roomView(b, roomId);
      expect(viewBefore.extremities).toEqual([last.eventId, bName.eventId].sort());

      // The older part of the gap arrives (e.g. by backfill), oldest first.
      const before = fed.net.log.length;
      const outcomes = await b.engine.receivePdus('a.test', [topic.json, ...msgs.slice(0, 9).map((m) => m.json)]);
      expect(outcomes[0]).toEqual({ eventId: topic.eventId, status: 'accepted', promoted: true });
      expect(outcomes.slice(1).map((o) => o.status)).toEqual(Array(9).fill('accepted'));
      // Everything was local: no state or missing events had to be fetched.
      expect(fed.net.log.slice(before).filter(([, , m]) => m === 'getStateIds' || m === 'getMissingEvents')).toEqual([]);
      expect(await b.engine.stateAt(topic.eventId)).toEqual(await a.engine.stateAt(topic.eventId));
      expect(await b.engine.stateAt(msgs[0]!.eventId)).toEqual(await a.engine.stateAt(msgs[0]!.eventId));
      // The topic is listed once; the filled events are not extremities (they have children); state unchanged.
      const tl = await ids(b, roomId);
      expect(tl.filter((x) => x === topic.eventId)).toHaveLength(1);
      expect(tl.slice(-10)).toEqual([topic.eventId, ...msgs.slice(0, 9).map((m) => m.eventId)]);
      expect(await roomView(b, roomId)).toEqual(viewBefore);
      expect(viewBefore.state['m.room.topic']?.['']).toBe(topic.eventId);
      // Both sides converge after B's side reaches A and a merge.
      await b.engine.sendToServers(['a.test'], [bName]);
      const merge = await send(b, [a], roomId, { type: 'm.room.message', sender: '@bob:b.test', content: { body: 'merge' } });
      expect([...merge.prevEvents].sort()).toEqual([last.eventId, bName.eventId].sort());
      expect(await roomView(a, roomId)).toEqual(await roomView(b, roomId));
      expect((await roomView(a, roomId)).extremities).toEqual([merge.eventId]);
    });
  });
});
