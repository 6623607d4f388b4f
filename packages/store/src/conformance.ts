/**
 * The store conformance suite (abstract-level style): any {@link RoomStore} implementation runs
 * it from its own tests, passing the test runner's `describe` and `it` (vitest, node:test, …).
 * Assertions use `node:assert/strict`, so this module has no test-framework dependency.
 *
 * ```ts
 * import { describe, it } from 'vitest';
 * import { runStoreConformance } from '@roomgraph/store/conformance';
 * runStoreConformance({ name: 'my-store', describe, it, factory: async () => new MyStore() });
 * ```
 *
 * @module
 */
import assert from 'node:assert/strict';
import type { RoomEvent } from '@roomgraph/events';
import { isStoreError, type StoreErrorCode } from './errors.js';
import type { EventId, EventStatus, InviteKey, PduJson, RoomCommit, RoomInfo, RoomStore, SnapshotId, StateKey, StoredEvent } from './interfaces.js';

/** Minimal `describe` signature (vitest / node:test compatible). */
export type DescribeFn = (name: string, fn: () => void) => unknown;
/** Minimal `it` signature (vitest / node:test compatible). */
export type ItFn = (name: string, fn: () => Promise<void>) => unknown;

/** Options of {@link runStoreConformance}. */
export interface StoreConformanceOptions {
  /** Suite name (used in the `describe` title). */
  readonly name: string;
  /** Returns a fresh, empty store; the suite opens and closes it. */
  readonly factory: () => Promise<RoomStore>;
  /** For persistent stores: returns a new instance over the same data as the given (closed) store. */
  readonly reopen?: (closed: RoomStore) => Promise<RoomStore>;
  /** The runner's `describe`. */
  readonly describe: DescribeFn;
  /** The runner's `it`. */
  readonly it: ItFn;
}

/** Options of {@link fakeEvent}. */
export interface FakeEventInit {
  /** Event type (default `m.room.message`). */
  readonly type?: string;
  /** State key; makes it a state event. */
  readonly stateKey?: string;
  /** prev_events. */
  readonly prev?: readonly EventId[];
  /** auth_events. */
  readonly auth?: readonly EventId[];
  /** depth (default 1). */
  readonly depth?: number;
  /** room_id (default `!room:example.org`). */
  readonly roomId?: string;
  /** sender (default `@alice:example.org`). */
  readonly sender?: string;
  /** content (default `{ body: id }`). */
  readonly content?: RoomEvent['content'];
}

/** A structurally valid {@link RoomEvent} for store tests (no hashes or signatures). */
export function fakeEvent(id: EventId, init: FakeEventInit = {}): RoomEvent {
  const roomId = init.roomId ?? '!room:example.org';
  const type = init.type ?? 'm.room.message';
  const sender = init.sender ?? '@alice:example.org';
  const json = {
    event_id: id,
    room_id: roomId,
    type,
    sender,
    origin_server_ts: 1_700_000_000_000,
    depth: init.depth ?? 1,
    content: init.content ?? { body: id },
    prev_events: [...(init.prev ?? [])],
    auth_events: [...(init.auth ?? [])],
    ...(init.stateKey !== undefined ? { state_key: init.stateKey } : {}),
  };
  return Object.freeze({
    eventId: id,
    roomId,
    type,
    stateKey: init.stateKey,
    sender,
    originServerTs: 1_700_000_000_000,
    depth: init.depth ?? 1,
    content: json.content,
    prevEvents: Object.freeze([...(init.prev ?? [])]),
    authEvents: Object.freeze([...(init.auth ?? [])]),
    redacts: undefined,
    json,
  });
}

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function rejectsWith(p: Promise<unknown>, code: StoreErrorCode): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isStoreError(e, code), `expected StoreError ${code}, got ${String((e as Error)?.message ?? e)} (${(e as { code?: string })?.code})`);
    return true;
  });
}

const ROOM = '!room:example.org';
const CREATE = '$create';
const k = (type: string, sk: string): StateKey => `${type.length}:${type}${sk}`;

/** Creates a room whose create event has state {create}. Returns the create event's state-after snapshot. */
async function createRoom(store: RoomStore, roomId = ROOM, createId = CREATE): Promise<SnapshotId> {
  const r = await store.commit({
    roomId,
    createRoom: { roomVersion: '12', createEventId: createId },
    event: { event: fakeEvent(createId, { type: 'm.room.create', stateKey: '', roomId, depth: 1 }), status: 'accepted', stateBefore: { ref: 'before' } },
    snapshots: [
      { ref: 'before', parent: null, changes: {} },
      { ref: 'after', parent: { ref: 'before' }, changes: { set: [[k('m.room.create', ''), createId]] } },
    ],
    forwardExtremities: [createId],
    currentState: { ref: 'after' },
  });
  return r.snapshots.get('after')!;
}

/**
 * Strings every store must hold exactly wherever its API takes one: event and room IDs, room
 * versions, types, state keys, senders, content (keys and values), rejection rules, server keys,
 * parked events. All are legal Matrix JSON strings (`"\u0000"` included).
 *
 * Lone UTF-16 surrogates are not among them: no string holding one reaches a store from the
 * engine. `@roomgraph/canonical-json`'s parser refuses them (`JSON_LONE_SURROGATE`, raw or as a
 * `\uD800`-style escape), the events grammar refuses them in IDs (`hasLoneSurrogate`), and
 * canonical JSON cannot encode them (`CANONICAL_JSON_LONE_SURROGATE`), so an event holding one is
 * never hashed, checked or stored. (UTF-8 storage — LevelDB keys, PostgreSQL text — has no byte
 * sequence for one either.)
 */
const AWKWARD: readonly string[] = [
  '\u0000',
  'a\u0000b\u0000',
  // Escape characters of plausible injective encodings: a store escaping NUL must keep these apart.
  '\u0001',
  '\u0001\u0001',
  '\u0001\u0002',
  '\u0000\u0001',
  '\\',
  '\\0',
  '\\u0000',
  '\\x00',
  '%00',
  "x'); DROP TABLE events; --",
  '%_*?[',
  // Astral plane (surrogate pairs in UTF-16, 4 bytes in UTF-8), the last code point.
  '\u{1F600}',
  'a\u{1D11E}b',
  '\u{10FFFF}',
  // Right-to-left text with directional marks and overrides.
  '\u202Eabc \u05E9\u05DC\u05D5\u05DD \u0627\u0644\u0633\u0644\u0627\u0645\u200F',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '\uFFFD',
  '\uFEFF',
  '\uFFFF',
  ' ',
  '\t\r\n',
  // Two spellings of é: stores must not normalise.
  'e\u0301',
  '\u00E9',
  // Long: 600 UTF-16 units, 900 UTF-8 bytes (Matrix caps IDs at 255 bytes; the engine refuses longer, H4).
  'é\u{1F600}\u0000\u0001x'.repeat(100),
];

/** An ID that is none of {@link AWKWARD} but differs from `s` only by a suffix of control characters. */
function nearMiss(s: string): string {
  const m = `${s}\u0000\u0002`;
  assert.ok(!AWKWARD.includes(m));
  return m;
}

/** What {@link writeAwkward} wrote for one awkward string (its own room). */
interface AwkwardWritten {
  readonly s: string;
  readonly room: RoomInfo;
  readonly events: readonly StoredEvent[];
  readonly content: RoomEvent['content'];
  readonly state: SnapshotId;
  readonly stateEntries: ReadonlyMap<StateKey, EventId>;
}

/** Content holding `s` as a key and a value, an empty key, `__proto__`-safe (own properties only). */
function awkwardContent(s: string, long: boolean): RoomEvent['content'] {
  const entries: [string, RoomEvent['content'][string]][] = [['body', s], [s, s], ['', ''], ['nested', [s, Object.fromEntries([[s, [s]]])]]];
  if (long) entries.push(['long', 'x\u0000\u{1F600}'.repeat(20_000)]);
  return Object.fromEntries(entries) as RoomEvent['content'];
}

/** Writes one room per awkward string (its ID, create event ID and version the string), 4 events, server keys, parked events. */
async function writeAwkward(store: RoomStore): Promise<AwkwardWritten[]> {
  const out: AwkwardWritten[] = [];
  for (const [i, s] of AWKWARD.entries()) {
    const content = awkwardContent(s, s.length > 255);
    const e2 = `$2${s}`;
    const longKey = k('m.room.member', s.repeat(8));
    const c1 = await store.commit({
      roomId: s,
      createRoom: { roomVersion: s, createEventId: s },
      event: { event: fakeEvent(s, { type: 'm.room.create', stateKey: '', roomId: s, sender: s, content }), status: 'accepted', stateBefore: { ref: 'before' } },
      snapshots: [
        { ref: 'before', parent: null, changes: {} },
        { ref: 'after', parent: { ref: 'before' }, changes: { set: [[k('m.room.create', ''), s]] } },
      ],
      forwardExtremities: [s],
      currentState: { ref: 'after' },
    });
    const c2 = await store.commit({
      roomId: s,
      event: { event: fakeEvent(e2, { type: s, stateKey: s, roomId: s, sender: s, content, prev: [s], auth: [s], depth: 2 }), status: 'accepted', stateBefore: c1.snapshots.get('after')! },
      snapshots: [{ ref: 'after', parent: c1.snapshots.get('after')!, changes: { set: [[k(s, s), e2], [s, s], [longKey, e2]] } }],
      forwardExtremities: [e2],
      currentState: { ref: 'after' },
    });
    const state = c2.snapshots.get('after')!;
    const c3 = await store.commit({
      roomId: s,
      event: { event: fakeEvent(`$3${s}`, { type: '', roomId: s, sender: s, content, prev: [e2], auth: [s, e2], depth: 3 }), status: 'rejected', rejection: { rule: s, reason: '' }, stateBefore: state },
    });
    const c4 = await store.commit({
      roomId: s,
      event: { event: fakeEvent(`$4${s}`, { type: s, stateKey: '', roomId: s, sender: s, content, prev: [e2], auth: [e2, `$ghost${s}`], depth: 3 }), status: 'outlier' },
    });
    await store.putServerKeys([
      { server: s, keyId: s, publicKey: s },
      { server: s, keyId: nearMiss(s), publicKey: '', validUntilTs: i },
    ]);
    await store.parkEvents([
      { eventId: s, roomId: s, json: content, receivedTs: i, origin: s },
      { eventId: `$p${s}`, roomId: s, json: {}, receivedTs: i + 0.5 },
    ]);
    await store.putInvites([
      { roomId: s, userId: s, record: { content }, receivedTs: i },
      { roomId: s, userId: `@u${s}`, record: {}, receivedTs: i + 0.5 },
    ]);
    out.push({
      s,
      room: c4.room,
      events: [c1.event, c2.event, c3.event, c4.event],
      content,
      state,
      stateEntries: new Map([[k('m.room.create', ''), s], [k(s, s), e2], [s, s], [longKey, e2]]),
    });
  }
  return out;
}

/** A stored event's fields (an absent optional field and one set to `undefined` alike). */
function fields(e: StoredEvent | undefined): unknown {
  if (e === undefined) return undefined;
  const { eventId, roomId, json, type, stateKey, depth, prevEvents, authEvents, status, rejection, stream, stateBefore } = e;
  return { eventId, roomId, json, type, stateKey, depth, prevEvents, authEvents, status, rejection, stream, stateBefore };
}

/** Reads back everything {@link writeAwkward} wrote, and checks that near misses find nothing. */
async function checkAwkward(store: RoomStore, written: readonly AwkwardWritten[]): Promise<void> {
  assert.deepEqual([...(await store.listRooms())].sort(), [...AWKWARD].sort());
  for (const w of written) {
    const { s } = w;
    const miss = nearMiss(s);
    const ids = w.events.map((e) => e.eventId);
    assert.deepEqual(await store.getRoom(s), w.room, `room ${JSON.stringify(s)}`);
    assert.equal(w.room.roomVersion, s);
    assert.equal(await store.getRoom(miss), undefined);
    for (const e of w.events) assert.deepEqual(fields(await store.getEvent(e.eventId)), fields(e), `event ${JSON.stringify(e.eventId)}`);
    const found = await store.getEvents([...ids, miss, `$2${miss}`, `$ghost${s}`]);
    assert.deepEqual([...found.keys()].sort(), [...ids].sort());
    assert.deepEqual([...(await store.hasEvents([...ids, miss]))].sort(), [...ids].sort());
    const e2 = (await store.getEvent(`$2${s}`))!;
    assert.equal(e2.type, s);
    assert.equal(e2.stateKey, s);
    assert.equal(e2.roomId, s);
    assert.equal(e2.json['sender'], s);
    assert.deepEqual(e2.json['content'], w.content);
    const content = e2.json['content'] as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(content), Object.prototype);
    assert.ok(Object.hasOwn(content, s) && content[s] === s);
    assert.equal((await store.getEvent(`$3${s}`))!.type, '');
    assert.deepEqual((await store.getEvent(`$3${s}`))!.rejection, { rule: s, reason: '' });
    assert.deepEqual((await store.timeline(s, { limit: 100 })).map((e) => e.eventId), ids);
    assert.deepEqual((await store.timeline(s, { limit: 100, direction: 'backwards' })).map((e) => e.eventId), [...ids].reverse());
    assert.deepEqual(await store.timeline(miss), []);
    assert.deepEqual(new Map(await store.loadState(w.state)), w.stateEntries);
    assert.deepEqual(await store.getStateEntries(w.state, [k(s, s), s, miss, k(miss, s), k('m.room.create', '')]), [`$2${s}`, s, undefined, undefined, s]);
    assert.deepEqual(await store.getAuthChain([`$4${s}`]), new Set([s, `$2${s}`, `$ghost${s}`]));
    assert.deepEqual(await store.getServerKey(s, s), { server: s, keyId: s, publicKey: s });
    assert.equal(await store.getServerKey(miss, s), undefined);
    assert.deepEqual([...(await store.getServerKeys(s))].map((x) => x.keyId).sort(), [s, miss].sort());
    const parked = await store.listParkedEvents(s);
    assert.deepEqual(parked.map((p) => p.eventId), [s, `$p${s}`]);
    assert.deepEqual(parked[0], { eventId: s, roomId: s, json: w.content, receivedTs: AWKWARD.indexOf(s), origin: s });
    assert.deepEqual(await store.listParkedEvents(miss), []);
    const invites = (await store.listInvites()).filter((x) => x.roomId === s);
    assert.deepEqual(invites.map((x) => x.userId), [s, `@u${s}`]);
    assert.deepEqual(invites[0], { roomId: s, userId: s, record: { content: w.content }, receivedTs: AWKWARD.indexOf(s) });
  }
}

/** Registers the conformance tests with the given runner. */
export function runStoreConformance(options: StoreConformanceOptions): void {
  const { describe, it, factory, reopen, name } = options;

  async function withStore(fn: (store: RoomStore) => Promise<void>): Promise<void> {
    const store = await factory();
    await store.open();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  }

  describe(`RoomStore conformance: ${name}`, () => {
    it('lifecycle: supports manifest, STORE_NOT_OPEN before open and after close', async () => {
      const store = await factory();
      assert.equal(typeof store.supports.persistent, 'boolean');
      assert.equal(typeof store.supports.crashSafe, 'boolean');
      await rejectsWith(store.getEvent('$x'), 'STORE_NOT_OPEN');
      await store.open();
      await store.open();
      assert.equal(store.status, 'open');
      assert.equal(await store.getEvent('$missing'), undefined);
      assert.equal(await store.getRoom('!missing:x'), undefined);
      await store.close();
      await store.close();
      assert.equal(store.status, 'closed');
      await rejectsWith(store.commit({ roomId: ROOM, event: { event: fakeEvent('$a'), status: 'outlier' } }), 'STORE_NOT_OPEN');
    });

    it('peekEvent (optional) answers as getEvent where it answers at all; nothing before open or after close', async () => {
      const store = await factory();
      if (store.peekEvent === undefined) return;
      assert.equal(store.peekEvent('$m'), undefined);
      await store.open();
      try {
        const s1 = await createRoom(store);
        await store.commit({ roomId: ROOM, event: { event: fakeEvent('$m', { prev: [CREATE] }), status: 'accepted', stateBefore: s1 }, forwardExtremities: ['$m'] });
        await store.commit({ roomId: ROOM, event: { event: fakeEvent('$o', { auth: [CREATE] }), status: 'outlier' } });
        for (const id of ['$m', '$o', CREATE, '$never', '']) {
          const got = await store.getEvent(id);
          const peeked = store.peekEvent(id);
          // Either not at hand, or the same answer (null: known not stored).
          if (peeked !== undefined) assert.deepEqual(peeked ?? undefined, got, `peekEvent(${JSON.stringify(id)})`);
        }
      } finally {
        await store.close();
      }
      assert.equal(store.peekEvent('$m'), undefined);
    });

    it('stores events with status, rejection, depth, stream and stateBefore', async () => {
      await withStore(async (store) => {
        const s1 = await createRoom(store);
        const created = await store.getEvent(CREATE);
        assert.ok(created);
        assert.equal(created.roomId, ROOM);
        assert.equal(created.type, 'm.room.create');
        assert.equal(created.stateKey, '');
        assert.equal(created.status, 'accepted');
        assert.equal(created.stream, 1);
        assert.notEqual(created.stateBefore, undefined);
        assert.deepEqual([...(await store.loadState(created.stateBefore!))], []);
        const statuses: EventStatus[] = ['accepted', 'rejected', 'soft-failed', 'outlier'];
        let prev = CREATE;
        for (const [i, status] of statuses.entries()) {
          const id = `$e${i}`;
          const r = await store.commit({
            roomId: ROOM,
            event: {
              event: fakeEvent(id, { prev: [prev], auth: [CREATE], depth: 2 + i }),
              status,
              ...(status === 'outlier' ? {} : { stateBefore: s1 }),
              ...(status === 'rejected' ? { rejection: { rule: 'test.rule', reason: 'because' } } : {}),
            },
          });
          assert.equal(r.duplicate, false);
          assert.equal(r.event.stream, 2 + i);
          prev = id;
        }
        const all = await store.getEvents(['$e0', '$e1', '$e2', '$e3', '$nope', '$e0']);
        assert.equal(all.size, 4);
        assert.equal(all.get('$e1')!.status, 'rejected');
        assert.deepEqual(all.get('$e1')!.rejection, { rule: 'test.rule', reason: 'because' });
        assert.equal(all.get('$e0')!.rejection, undefined);
        assert.equal(all.get('$e3')!.stateBefore, undefined);
        assert.equal(all.get('$e2')!.stateBefore, s1);
        assert.equal(all.get('$e2')!.depth, 4);
        assert.deepEqual(all.get('$e2')!.prevEvents, ['$e1']);
        assert.deepEqual(all.get('$e2')!.authEvents, [CREATE]);
        assert.deepEqual(all.get('$e2')!.json, fakeEvent('$e2', { prev: ['$e1'], auth: [CREATE], depth: 4 }).json);
        assert.equal(await store.getStatus('$e2'), 'soft-failed');
        assert.equal(await store.getStatus('$nope'), undefined);
        assert.deepEqual([...(await store.hasEvents(['$e0', '$nope', CREATE]))].sort(), [CREATE, '$e0'].sort());
        const room = await store.getRoom(ROOM);
        assert.equal(room!.roomVersion, '12');
        assert.equal(room!.createEventId, CREATE);
        assert.equal(room!.lastStream, 5);
        assert.deepEqual(await store.listRooms(), [ROOM]);
      });
    });

    it('commitMany: a block of commits applied in order, refs shared across the block, as commit would store them', async () => {
      await withStore(async (store) => {
        if (store.commitMany === undefined) return;
        const s1 = await createRoom(store);
        const results = await store.commitMany([
          {
            roomId: ROOM,
            event: { event: fakeEvent('$n', { type: 'm.room.name', stateKey: '', prev: [CREATE], auth: [CREATE], depth: 2 }), status: 'accepted', stateBefore: s1 },
            snapshots: [{ ref: 'a1', parent: s1, changes: { set: [[k('m.room.name', ''), '$n']] } }],
            forwardExtremities: ['$n'],
            currentState: { ref: 'a1' },
          },
          // Refers to the first commit's ref and event.
          {
            roomId: ROOM,
            event: { event: fakeEvent('$t', { type: 'm.room.topic', stateKey: '', prev: ['$n'], auth: [CREATE], depth: 3 }), status: 'accepted', stateBefore: { ref: 'a1' } },
            snapshots: [{ ref: 'a2', parent: { ref: 'a1' }, changes: { set: [[k('m.room.topic', ''), '$t']] } }],
            forwardExtremities: ['$t'],
            currentState: { ref: 'a2' },
          },
          { roomId: ROOM, event: { event: fakeEvent('$r', { prev: ['$t'], auth: [CREATE], depth: 4 }), status: 'rejected', rejection: { rule: 'x', reason: 'y' }, stateBefore: { ref: 'a2' } } },
          // A re-delivery inside the block is a no-op.
          { roomId: ROOM, event: { event: fakeEvent('$n', { prev: [CREATE] }), status: 'rejected', stateBefore: s1 } },
        ], { durable: false });
        await store.flush?.();
        assert.deepEqual(results.map((r) => [r.event.eventId, r.event.status, r.event.stream, r.duplicate]), [['$n', 'accepted', 2, false], ['$t', 'accepted', 3, false], ['$r', 'rejected', 4, false], ['$n', 'accepted', 2, true]]);
        const a1 = results[0]!.snapshots.get('a1')!;
        const a2 = results[1]!.snapshots.get('a2')!;
        assert.deepEqual([...results[1]!.snapshots.keys()], ['a2']);
        assert.equal((await store.getEvent('$t'))!.stateBefore, a1);
        assert.equal((await store.getEvent('$r'))!.stateBefore, a2);
        assert.deepEqual((await store.getEvent('$r'))!.rejection, { rule: 'x', reason: 'y' });
        assert.deepEqual(new Map(await store.loadState(a2)), new Map([[k('m.room.create', ''), CREATE], [k('m.room.name', ''), '$n'], [k('m.room.topic', ''), '$t']]));
        const room = (await store.getRoom(ROOM))!;
        assert.deepEqual([room.forwardExtremities, room.currentState, room.lastStream], [['$t'], a2, 4]);
        assert.deepEqual((await store.timeline(ROOM)).map((e) => e.eventId), [CREATE, '$n', '$t', '$r']);
        assert.deepEqual(await store.commitMany([]), []);
      });
    });

    it('commitMany: all or nothing — an invalid commit in the block leaves the store as it was', async () => {
      await withStore(async (store) => {
        if (store.commitMany === undefined) return;
        const s1 = await createRoom(store);
        const before = await store.stats();
        const room0 = await store.getRoom(ROOM);
        const good = {
          roomId: ROOM,
          event: { event: fakeEvent('$g', { type: 'm.room.name', stateKey: '', prev: [CREATE], auth: [CREATE], depth: 2 }), status: 'accepted' as const, stateBefore: s1 },
          snapshots: [{ ref: 'g', parent: s1, changes: { set: [[k('m.room.name', ''), '$g']] as [string, string][] } }],
          forwardExtremities: ['$g'],
          currentState: { ref: 'g' },
        };
        const bad: RoomCommit[] = [
          { roomId: ROOM, event: { event: fakeEvent('$b', { prev: ['$g'], depth: 3 }), status: 'accepted', stateBefore: { ref: 'nope' } } },
          { roomId: ROOM, event: { event: fakeEvent('$b', { prev: ['$g'], depth: 3 }), status: 'accepted', stateBefore: 987654 } },
          { roomId: ROOM, event: { event: fakeEvent('$b', { prev: ['$g'], depth: 3 }), status: 'accepted', stateBefore: s1 }, forwardExtremities: ['$ghost'] },
          { roomId: ROOM, event: { event: fakeEvent('$b', { prev: ['$g'], depth: 3 }), status: 'accepted', stateBefore: s1 }, snapshots: [{ ref: 'g', parent: s1, changes: {} }] },
          { roomId: '!unknown:example.org', event: { event: fakeEvent('$b', { depth: 3 }), status: 'outlier' } },
        ];
        for (const b of bad) {
          await assert.rejects(store.commitMany([good, b]));
          assert.equal(await store.getEvent('$g'), undefined);
          assert.equal(await store.getEvent('$b'), undefined);
          assert.deepEqual(await store.getRoom(ROOM), room0);
          assert.deepEqual(await store.stats(), before);
          assert.deepEqual((await store.timeline(ROOM)).map((e) => e.eventId), [CREATE]);
        }
        // The store still works: the good commit alone goes in, with the next snapshot ID.
        const [ok] = await store.commitMany([good]);
        assert.equal(ok!.event.stream, 2);
        assert.ok(ok!.snapshots.get('g')! > s1);
        assert.deepEqual((await store.getRoom(ROOM))!.forwardExtremities, ['$g']);
      });
    });

    it('re-delivery of a known event is a no-op returning the stored record', async () => {
      await withStore(async (store) => {
        const s1 = await createRoom(store);
        const first = await store.commit({ roomId: ROOM, event: { event: fakeEvent('$m', { prev: [CREATE] }), status: 'accepted', stateBefore: s1 }, forwardExtremities: ['$m'] });
        const before = await store.stats();
        const again = await store.commit({
          roomId: ROOM,
          event: { event: fakeEvent('$m', { prev: [CREATE] }), status: 'rejected', stateBefore: s1 },
          snapshots: [{ ref: 'x', parent: s1, changes: { set: [[k('m.room.name', ''), '$m']] } }],
          forwardExtremities: [CREATE],
        });
        assert.equal(again.duplicate, true);
        assert.deepEqual(again.event, first.event);
        assert.equal(again.snapshots.size, 0);
        assert.equal((await store.getStatus('$m')), 'accepted');
        assert.deepEqual((await store.getRoom(ROOM))!.forwardExtremities, ['$m']);
        assert.equal((await store.getRoom(ROOM))!.lastStream, 2);
        assert.deepEqual(await store.stats(), before);
      });
    });

    it('promotes a stored outlier: a real commit with a new status, state and stream position', async () => {
      await withStore(async (store) => {
        const s1 = await createRoom(store);
        const member = k('m.room.member', '@bob:example.org');
        await store.commit({ roomId: ROOM, event: { event: fakeEvent('$m1', { prev: [CREATE], auth: [CREATE], depth: 2 }), status: 'accepted', stateBefore: s1 }, forwardExtremities: ['$m1'] });
        const oEvent = fakeEvent('$o', { type: 'm.room.member', stateKey: '@bob:example.org', prev: ['$m1'], auth: [CREATE], depth: 3 });
        const asOutlier = await store.commit({ roomId: ROOM, event: { event: oEvent, status: 'outlier' } });
        assert.equal(asOutlier.promoted, false);
        assert.equal(asOutlier.event.stream, 3);
        await store.commit({ roomId: ROOM, event: { event: fakeEvent('$x', { prev: ['$m1'], auth: [CREATE], depth: 3 }), status: 'accepted', stateBefore: s1 }, forwardExtremities: ['$x'] });
        await store.commit({ roomId: ROOM, event: { event: fakeEvent('$child', { type: 'm.room.member', stateKey: '@c:example.org', auth: [CREATE, '$o'], depth: 4 }), status: 'outlier' } });
        // Auth chains computed (and cached) while $o is an outlier.
        assert.deepEqual([...(await store.getAuthChain(['$o']))], [CREATE]);
        assert.deepEqual([...(await store.getAuthChain(['$child']))].sort(), [CREATE, '$o'].sort());
        // Committing a stored outlier again as an outlier stays a duplicate no-op.
        const again = await store.commit({ roomId: ROOM, event: { event: oEvent, status: 'outlier' } });
        assert.equal(again.duplicate, true);
        assert.equal(again.promoted, false);
        assert.deepEqual(again.event, asOutlier.event);
        const statsBefore = await store.stats();

        const r = await store.commit({
          roomId: ROOM,
          event: { event: oEvent, status: 'accepted', stateBefore: s1 },
          snapshots: [{ ref: 'after', parent: s1, changes: { set: [[member, '$o']] } }],
          forwardExtremities: ['$x', '$o'],
          currentState: { ref: 'after' },
        });
        assert.equal(r.duplicate, false);
        assert.equal(r.promoted, true);
        assert.equal(r.event.status, 'accepted');
        assert.equal(r.event.stream, 6);
        assert.equal(r.event.stateBefore, s1);
        assert.equal(r.event.rejection, undefined);
        const after = r.snapshots.get('after')!;
        assert.equal(r.room.lastStream, 6);
        assert.equal(r.room.currentState, after);
        assert.deepEqual([...r.room.forwardExtremities].sort(), ['$o', '$x']);
        assert.deepEqual(await store.getRoom(ROOM), r.room);
        assert.deepEqual(await store.getEvent('$o'), r.event);
        assert.equal(await store.getStatus('$o'), 'accepted');
        assert.deepEqual(await store.getStateEntries(after, [member]), ['$o']);
        // The event is listed once, at its new position; its old position is empty.
        const tl = await store.timeline(ROOM, { limit: 100 });
        assert.deepEqual(tl.map((e) => [e.eventId, e.stream]), [[CREATE, 1], ['$m1', 2], ['$x', 4], ['$child', 5], ['$o', 6]]);
        assert.deepEqual((await store.timeline(ROOM, { direction: 'backwards', limit: 3 })).map((e) => e.eventId), ['$o', '$child', '$x']);
        assert.deepEqual((await store.timeline(ROOM, { from: 3, limit: 1 })).map((e) => e.eventId), ['$x']);
        assert.deepEqual((await store.timeline(ROOM, { from: 3, limit: 2, direction: 'backwards' })).map((e) => e.eventId), ['$m1', CREATE]);
        assert.deepEqual((await store.timeline(ROOM, { statuses: ['outlier'] })).map((e) => e.eventId), ['$child']);
        // Auth chains are unchanged (the same event ID has the same auth events).
        assert.deepEqual([...(await store.getAuthChain(['$o']))], [CREATE]);
        assert.deepEqual([...(await store.getAuthChain(['$child']))].sort(), [CREATE, '$o'].sort());
        // No new event record: the stored one was replaced.
        assert.equal((await store.stats()).events, statsBefore.events);

        // Promotion happens once: later commits of it (any status) are duplicates.
        for (const status of ['rejected', 'accepted', 'outlier'] as const) {
          const dup = await store.commit({ roomId: ROOM, event: { event: oEvent, status, ...(status === 'outlier' ? {} : { stateBefore: s1 }) }, forwardExtremities: [CREATE] });
          assert.equal(dup.duplicate, true);
          assert.equal(dup.promoted, false);
          assert.deepEqual(dup.event, r.event);
        }
        assert.deepEqual(await store.getRoom(ROOM), r.room);
        // Concurrent promotions of one outlier: exactly one wins, the others are duplicates.
        const results = await Promise.all(['rejected', 'soft-failed', 'accepted'].map((status) =>
          store.commit({ roomId: ROOM, event: { event: fakeEvent('$child', { type: 'm.room.member', stateKey: '@c:example.org', auth: [CREATE, '$o'], depth: 4 }), status: status as EventStatus, stateBefore: after, ...(status === 'accepted' ? {} : { rejection: { rule: 'r' } }) } })));
        assert.deepEqual(results.map((x) => x.promoted), [true, false, false]);
        assert.equal(results[0]!.event.status, 'rejected');
        assert.deepEqual(results[0]!.event.rejection, { rule: 'r' });
        assert.equal(results[0]!.event.stream, 7);
        assert.deepEqual(results.map((x) => x.event), [results[0]!.event, results[0]!.event, results[0]!.event]);
        assert.deepEqual((await store.timeline(ROOM, { limit: 100 })).map((e) => e.eventId), [CREATE, '$m1', '$x', '$o', '$child']);
        assert.equal((await store.getRoom(ROOM))!.lastStream, 7);
      });
    });

    it('a rejected outlier is never promoted', async () => {
      await withStore(async (store) => {
        const s1 = await createRoom(store);
        const ev = fakeEvent('$bad', { prev: [CREATE], auth: [CREATE], depth: 2 });
        const first = await store.commit({ roomId: ROOM, event: { event: ev, status: 'outlier', rejection: { rule: 'auth.x', reason: 'no' } } });
        const room = await store.getRoom(ROOM);
        const r = await store.commit({ roomId: ROOM, event: { event: ev, status: 'accepted', stateBefore: s1 }, forwardExtremities: ['$bad'] });
        assert.equal(r.duplicate, true);
        assert.equal(r.promoted, false);
        assert.deepEqual(r.event, first.event);
        assert.equal(await store.getStatus('$bad'), 'outlier');
        assert.deepEqual(await store.getRoom(ROOM), room);
      });
    });

    it('a failing promotion leaves no trace', async () => {
      await withStore(async (store) => {
        const s1 = await createRoom(store);
        await createRoom(store, '!other:example.org', '$create2');
        const ev = fakeEvent('$o', { type: 'm.room.topic', stateKey: '', prev: [CREATE], auth: [CREATE], depth: 2 });
        const outlier = (await store.commit({ roomId: ROOM, event: { event: ev, status: 'outlier' } })).event;
        const statsBefore = await store.stats();
        const roomBefore = await store.getRoom(ROOM);
        const otherBefore = await store.getRoom('!other:example.org');
        const base: RoomCommit = {
          roomId: ROOM,
          event: { event: ev, status: 'accepted', stateBefore: s1 },
          snapshots: [{ ref: 'after', parent: s1, changes: { set: [[k('m.room.topic', ''), '$o']] } }],
          forwardExtremities: ['$o'],
          currentState: { ref: 'after' },
        };
        await rejectsWith(store.commit({ ...base, currentState: 987654 }), 'STORE_UNKNOWN_SNAPSHOT');
        await rejectsWith(store.commit({ ...base, forwardExtremities: ['$o', '$unknown'] }), 'STORE_INVALID_COMMIT');
        await rejectsWith(store.commit({ ...base, event: { event: ev, status: 'accepted' } }), 'STORE_INVALID_COMMIT');
        await rejectsWith(store.commit({ ...base, event: { event: ev, status: 'bogus' as EventStatus, stateBefore: s1 } }), 'STORE_INVALID_COMMIT');
        await rejectsWith(store.commit({ ...base, createRoom: { roomVersion: '12', createEventId: '$o' } }), 'STORE_ROOM_EXISTS');
        await rejectsWith(store.commit({ ...base, roomId: '!other:example.org', snapshots: [], currentState: undefined, forwardExtremities: undefined }), 'STORE_INVALID_COMMIT');
        await rejectsWith(store.commit({ ...base, event: { event: fakeEvent('$o', { type: 'm.room.topic', stateKey: '', prev: [CREATE], auth: [CREATE, '$x'], depth: 2 }), status: 'accepted', stateBefore: s1 } }), 'STORE_INVALID_COMMIT');
        assert.deepEqual(await store.getEvent('$o'), outlier);
        assert.deepEqual(await store.stats(), statsBefore);
        assert.deepEqual(await store.getRoom(ROOM), roomBefore);
        assert.deepEqual(await store.getRoom('!other:example.org'), otherBefore);
        assert.deepEqual((await store.timeline(ROOM)).map((e) => [e.eventId, e.status, e.stream]), [[CREATE, 'accepted', 1], ['$o', 'outlier', 2]]);
        // It can still be promoted.
        const ok = await store.commit(base);
        assert.equal(ok.promoted, true);
        assert.equal(ok.event.stream, 3);
        assert.deepEqual(Object.fromEntries(await store.loadState(ok.snapshots.get('after')!)), { [k('m.room.create', '')]: CREATE, [k('m.room.topic', '')]: '$o' });
        assert.deepEqual((await store.timeline(ROOM)).map((e) => [e.eventId, e.status, e.stream]), [[CREATE, 'accepted', 1], ['$o', 'accepted', 3]]);
      });
    });

    it('validates commits; a failing commit leaves no trace', async () => {
      await withStore(async (store) => {
        const s1 = await createRoom(store);
        const statsBefore = await store.stats();
        const roomBefore = await store.getRoom(ROOM);
        const base = (id: string): RoomCommit => ({ roomId: ROOM, event: { event: fakeEvent(id, { prev: [CREATE] }), status: 'accepted', stateBefore: { ref: 's' } }, snapshots: [{ ref: 's', parent: s1, changes: { set: [[k('m.room.topic', ''), CREATE]] } }] });
        await rejectsWith(store.commit({ ...base('$a'), roomId: '!other:x' }), 'STORE_UNKNOWN_ROOM');
        await rejectsWith(store.commit({ ...base('$a'), createRoom: { roomVersion: '12', createEventId: '$a' } }), 'STORE_ROOM_EXISTS');
        await rejectsWith(store.commit({ ...base('$a'), forwardExtremities: ['$a', '$unknown'] }), 'STORE_INVALID_COMMIT');
        await rejectsWith(store.commit({ ...base('$a'), currentState: 987654 }), 'STORE_UNKNOWN_SNAPSHOT');
        await rejectsWith(store.commit({ ...base('$a'), currentState: { ref: 'nope' } }), 'STORE_INVALID_COMMIT');
        await rejectsWith(store.commit({ ...base('$a'), event: { event: fakeEvent('$a'), status: 'accepted' } }), 'STORE_INVALID_COMMIT');
        await rejectsWith(store.commit({ ...base('$a'), event: { event: fakeEvent('$a'), status: 'outlier', stateBefore: s1 } }), 'STORE_INVALID_COMMIT');
        await rejectsWith(store.commit({ ...base('$a'), event: { event: fakeEvent('$a'), status: 'bogus' as EventStatus, stateBefore: s1 } }), 'STORE_INVALID_COMMIT');
        await rejectsWith(store.commit({ ...base('$a'), snapshots: [{ ref: 's', parent: { ref: 'later' }, changes: {} }, { ref: 'later', parent: null, changes: {} }] }), 'STORE_INVALID_COMMIT');
        await rejectsWith(store.commit({ ...base('$a'), snapshots: [{ ref: 's', parent: null, changes: {} }, { ref: 's', parent: null, changes: {} }] }), 'STORE_INVALID_COMMIT');
        await rejectsWith(store.commit({ ...base('$a'), snapshots: [{ ref: 's', parent: s1, changes: { set: [['a', '$x']], remove: ['a'] } }] }), 'STORE_INVALID_COMMIT');
        await rejectsWith(store.commit({ ...base('$a'), snapshots: [{ ref: 's', parent: 424242, changes: {} }] }), 'STORE_UNKNOWN_SNAPSHOT');
        await rejectsWith(store.commit(null as unknown as RoomCommit), 'STORE_INVALID_COMMIT');
        await rejectsWith(store.commit({ roomId: ROOM, event: { event: { ...fakeEvent('$a'), eventId: '' }, status: 'outlier' } }), 'STORE_INVALID_COMMIT');
        assert.equal(await store.getEvent('$a'), undefined);
        assert.deepEqual(await store.stats(), statsBefore);
        assert.deepEqual(await store.getRoom(ROOM), roomBefore);
        assert.equal((await store.timeline(ROOM)).length, 1);
        // The store still works, and snapshot IDs allocated by failed commits never alias real ones.
        const ok = await store.commit(base('$a'));
        const sid = ok.snapshots.get('s')!;
        assert.deepEqual(Object.fromEntries(await store.loadState(sid)), { [k('m.room.create', '')]: CREATE, [k('m.room.topic', '')]: CREATE });
        assert.equal(ok.event.stream, 2);
      });
    });

    it('snapshot refs inside one commit; current state, extremities', async () => {
      await withStore(async (store) => {
        const s1 = await createRoom(store);
        assert.equal((await store.getRoom(ROOM))!.currentState, s1);
        assert.deepEqual((await store.getRoom(ROOM))!.forwardExtremities, [CREATE]);
        const member = k('m.room.member', '@alice:example.org');
        const r = await store.commit({
          roomId: ROOM,
          event: { event: fakeEvent('$join', { type: 'm.room.member', stateKey: '@alice:example.org', prev: [CREATE], auth: [CREATE], depth: 2 }), status: 'accepted', stateBefore: s1 },
          snapshots: [{ ref: 'after', parent: s1, changes: { set: new Map([[member, '$join']]) } }],
          forwardExtremities: ['$join'],
          currentState: { ref: 'after' },
        });
        const after = r.snapshots.get('after')!;
        assert.equal(r.room.currentState, after);
        assert.deepEqual(r.room.forwardExtremities, ['$join']);
        assert.deepEqual(await store.getStateEntries(after, [member, k('m.room.create', ''), k('m.room.name', '')]), ['$join', CREATE, undefined]);
        assert.deepEqual(await store.getStateEntries(s1, [member]), [undefined]);
        // No-op changes reuse the parent snapshot.
        const r2 = await store.commit({
          roomId: ROOM,
          event: { event: fakeEvent('$msg', { prev: ['$join'], depth: 3 }), status: 'accepted', stateBefore: { ref: 'same' } },
          snapshots: [{ ref: 'same', parent: after, changes: { set: [[member, '$join']], remove: [k('m.room.name', '')] } }],
          forwardExtremities: ['$msg', '$join'],
        });
        assert.equal(r2.snapshots.get('same'), after);
        assert.equal(r2.room.currentState, after);
        assert.deepEqual([...r2.room.forwardExtremities].sort(), ['$join', '$msg']);
        assert.equal(await store.snapshotInfo(99999), undefined);
        assert.ok((await store.snapshotInfo(after))!.depth >= 0);
        await rejectsWith(store.loadState(99999), 'STORE_UNKNOWN_SNAPSHOT');
        await rejectsWith(store.getStateEntries(99999, ['x']), 'STORE_UNKNOWN_SNAPSHOT');
      });
    });

    it('snapshots match a naive full-map model (1k+ changes, deep chains, forks, removals, diffs)', async () => {
      await withStore(async (store) => {
        await createRoom(store);
        const random = rng(0x5eed);
        const model = new Map<SnapshotId, Map<StateKey, EventId>>();
        const ids: SnapshotId[] = [];
        let n = 0;
        const commitSnapshot = async (parent: SnapshotId | null, set: [StateKey, EventId][], remove: StateKey[]): Promise<SnapshotId> => {
          const id = `$s${n++}`;
          const r = await store.commit({
            roomId: ROOM,
            event: { event: fakeEvent(id, { prev: [CREATE] }), status: 'accepted', stateBefore: { ref: 's' } },
            snapshots: [{ ref: 's', parent, changes: { set, remove } }],
          });
          const sid = r.snapshots.get('s')!;
          const m = new Map(parent === null ? [] : model.get(parent)!);
          for (const key of remove) m.delete(key);
          for (const [key, v] of set) m.set(key, v);
          if (model.has(sid)) assert.deepEqual(model.get(sid), m, 'a reused snapshot ID must have equal content');
          model.set(sid, m);
          ids.push(sid);
          return sid;
        };
        // A big base: 1500 members.
        const big: [StateKey, EventId][] = [];
        for (let i = 0; i < 1500; i++) big.push([k('m.room.member', `@u${i}:example.org`), `$join${i}`]);
        let head = await commitSnapshot(null, big, []);
        // 400 snapshots: mostly linear single changes, with forks from random earlier snapshots,
        // occasional big batches and removals.
        for (let step = 0; step < 400; step++) {
          const r = random();
          const parent = r < 0.2 ? ids[Math.floor(random() * ids.length)]! : head;
          const size = r > 0.97 ? 1000 + Math.floor(random() * 200) : 1 + Math.floor(random() * 3);
          const set: [StateKey, EventId][] = [];
          const remove: StateKey[] = [];
          for (let j = 0; j < size; j++) {
            const key = k('m.room.member', `@u${Math.floor(random() * 2000)}:example.org`);
            if (set.some(([x]) => x === key) || remove.includes(key)) continue;
            if (random() < 0.15) remove.push(key);
            else set.push([key, `$v${step}_${j}`]);
          }
          head = await commitSnapshot(parent, set, remove);
        }
        const probe = [k('m.room.create', ''), k('m.room.name', '')];
        for (let i = 0; i < 2000; i += 7) probe.push(k('m.room.member', `@u${i}:example.org`));
        for (const sid of new Set(ids)) {
          const expected = model.get(sid)!;
          const info = (await store.snapshotInfo(sid))!;
          assert.ok(info.depth <= 4, `snapshot depth ${info.depth} exceeds 4`);
          assert.deepEqual(await store.getStateEntries(sid, probe), probe.map((p) => expected.get(p)));
        }
        for (const sid of [...new Set(ids)].filter((_, i) => i % 9 === 0)) {
          assert.deepEqual(new Map([...(await store.loadState(sid))].sort()), new Map([...model.get(sid)!].sort()));
        }
        // The optional lazy reader answers point lookups like the model, and iterates to the same map.
        if (store.stateReader !== undefined) {
          for (const sid of [...new Set(ids)].filter((_, i) => i % 5 === 1)) {
            const reader = await store.stateReader(sid);
            const expected = model.get(sid)!;
            for (const p of probe) {
              assert.equal(reader.get(p), expected.get(p));
              assert.equal(reader.has(p), expected.has(p));
            }
            assert.equal(reader.size, expected.size);
            assert.deepEqual(new Map([...reader].sort()), new Map([...expected].sort()));
          }
        }
        // Diffs between random pairs (ancestors, forks, far apart).
        const uniq = [...new Set(ids)];
        for (let t = 0; t < 60; t++) {
          const a = uniq[Math.floor(random() * uniq.length)]!;
          const b = t % 3 === 0 ? uniq[Math.min(uniq.length - 1, uniq.indexOf(a) + 1)]! : uniq[Math.floor(random() * uniq.length)]!;
          const ma = model.get(a)!;
          const mb = model.get(b)!;
          const expected = new Map<StateKey, readonly [EventId | undefined, EventId | undefined]>();
          for (const [key, v] of ma) if (mb.get(key) !== v) expected.set(key, [v, mb.get(key)]);
          for (const [key, v] of mb) if (!ma.has(key)) expected.set(key, [undefined, v]);
          const got = await store.diffStates(a, b);
          assert.deepEqual(new Map([...got].sort()), new Map([...expected].sort()), `diff ${a} ${b}`);
        }
        assert.equal((await store.diffStates(head, head)).size, 0);
      });
    });

    it('timeline: forwards, backwards, from, limit, status filter; topological data', async () => {
      await withStore(async (store) => {
        const s1 = await createRoom(store);
        let prev = CREATE;
        for (let i = 1; i <= 20; i++) {
          const id = `$t${i}`;
          await store.commit({ roomId: ROOM, event: { event: fakeEvent(id, { prev: [prev], depth: i + 1 }), status: i % 5 === 0 ? 'outlier' : 'accepted', ...(i % 5 === 0 ? {} : { stateBefore: s1 }) } });
          prev = id;
        }
        const fwd = await store.timeline(ROOM, { limit: 5 });
        assert.deepEqual(fwd.map((e) => e.eventId), [CREATE, '$t1', '$t2', '$t3', '$t4']);
        assert.deepEqual(fwd.map((e) => e.stream), [1, 2, 3, 4, 5]);
        const back = await store.timeline(ROOM, { direction: 'backwards', limit: 3 });
        assert.deepEqual(back.map((e) => e.eventId), ['$t20', '$t19', '$t18']);
        const mid = await store.timeline(ROOM, { from: 10, limit: 2 });
        assert.deepEqual(mid.map((e) => e.eventId), ['$t9', '$t10']);
        const midBack = await store.timeline(ROOM, { from: 10, limit: 3, direction: 'backwards' });
        assert.deepEqual(midBack.map((e) => e.eventId), ['$t9', '$t8', '$t7']);
        const outliers = await store.timeline(ROOM, { statuses: ['outlier'], limit: 100 });
        assert.deepEqual(outliers.map((e) => e.eventId), ['$t5', '$t10', '$t15', '$t20']);
        assert.equal((await store.timeline(ROOM, { limit: 1000 })).length, 21);
        assert.deepEqual(await store.timeline('!unknown:x'), []);
        assert.deepEqual(await store.timeline(ROOM, { from: 100 }), []);
      });
    });

    it('auth chains: ancestors via auth_events, cached, unknown leaves included', async () => {
      await withStore(async (store) => {
        const s1 = await createRoom(store);
        const put = async (id: string, auth: string[]): Promise<void> => {
          await store.commit({ roomId: ROOM, event: { event: fakeEvent(id, { type: 'm.room.member', stateKey: id, auth }), status: 'accepted', stateBefore: s1 } });
        };
        await put('$pl', [CREATE]);
        await put('$jr', [CREATE, '$pl']);
        await put('$j1', [CREATE, '$pl', '$jr']);
        await put('$j2', [CREATE, '$pl', '$jr', '$j1']);
        await put('$x', ['$ghost', CREATE]);
        assert.deepEqual([...(await store.getAuthChain([CREATE]))], []);
        assert.deepEqual([...(await store.getAuthChain(['$j1']))].sort(), [CREATE, '$jr', '$pl'].sort());
        assert.deepEqual([...(await store.getAuthChain(['$j2']))].sort(), [CREATE, '$j1', '$jr', '$pl'].sort());
        assert.deepEqual([...(await store.getAuthChain(['$j2', '$x']))].sort(), [CREATE, '$ghost', '$j1', '$jr', '$pl'].sort());
        assert.deepEqual([...(await store.getAuthChain(['$j2']))].sort(), [CREATE, '$j1', '$jr', '$pl'].sort());
      });
    });

    it('server keys and parked events', async () => {
      await withStore(async (store) => {
        await store.putServerKeys([
          { server: 'a.org', keyId: 'ed25519:1', publicKey: 'AAAA', validUntilTs: 5 },
          { server: 'a.org', keyId: 'ed25519:0', publicKey: 'BBBB', expiredTs: 3 },
          { server: 'a.orgx', keyId: 'ed25519:1', publicKey: 'CCCC' },
        ]);
        assert.deepEqual(await store.getServerKey('a.org', 'ed25519:1'), { server: 'a.org', keyId: 'ed25519:1', publicKey: 'AAAA', validUntilTs: 5 });
        assert.equal(await store.getServerKey('a.org', 'ed25519:9'), undefined);
        assert.deepEqual((await store.getServerKeys('a.org')).map((x) => x.keyId).sort(), ['ed25519:0', 'ed25519:1']);
        await store.putServerKeys([{ server: 'a.org', keyId: 'ed25519:1', publicKey: 'DDDD', validUntilTs: 9 }]);
        assert.equal((await store.getServerKey('a.org', 'ed25519:1'))!.publicKey, 'DDDD');
        await rejectsWith(store.putServerKeys([{ server: '', keyId: 'k', publicKey: 'x' }]), 'STORE_INVALID_COMMIT');

        await store.parkEvents([
          { eventId: '$p2', roomId: ROOM, json: { a: 1 }, receivedTs: 20, origin: 'b.org' },
          { eventId: '$p1', roomId: ROOM, json: { a: 2 }, receivedTs: 10 },
          { eventId: '$q', roomId: '!other:x', json: {}, receivedTs: 1 },
        ]);
        assert.deepEqual((await store.listParkedEvents(ROOM)).map((e) => e.eventId), ['$p1', '$p2']);
        assert.equal((await store.listParkedEvents(ROOM))[1]!.origin, 'b.org');
        // Read by ID (when the store can): the listing's order and records; unknown IDs, repeats
        // and another room's events left out.
        if (store.getParkedEvents !== undefined) {
          assert.deepEqual(await store.getParkedEvents(ROOM, ['$p2', '$nope', '$p1', '$q', '$p2']), await store.listParkedEvents(ROOM));
          assert.deepEqual((await store.getParkedEvents(ROOM, ['$p2'])).map((e) => [e.eventId, e.origin, e.json]), [['$p2', 'b.org', { a: 1 }]]);
          assert.deepEqual(await store.getParkedEvents(ROOM, []), []);
          assert.deepEqual(await store.getParkedEvents('!nowhere:x', ['$p1']), []);
          assert.deepEqual((await store.getParkedEvents('!other:x', ['$q', '$p1'])).map((e) => e.eventId), ['$q']);
        }
        await store.deleteParkedEvents(ROOM, ['$p1', '$nope']);
        assert.deepEqual((await store.listParkedEvents(ROOM)).map((e) => e.eventId), ['$p2']);
        assert.deepEqual((await store.listParkedEvents('!other:x')).map((e) => e.eventId), ['$q']);
      });
    });

    it('invites: put (replacing the same room and user), listed oldest first, deleted by room and user; malformed ones refused; kept across a reopen', async () => {
      let store = await factory();
      await store.open();
      try {
        assert.deepEqual(await store.listInvites(), []);
        await store.putInvites([
          { roomId: '!b:x', userId: '@u:y', record: { n: 1 }, receivedTs: 20 },
          { roomId: '!a:x', userId: '@u:y', record: { n: 2 }, receivedTs: 10 },
          { roomId: '!a:x', userId: '@v:y', record: { n: 3 }, receivedTs: 10 },
        ]);
        await store.putInvites([{ roomId: '!b:x', userId: '@u:y', record: { n: 4, deep: { list: [1, 'x'] } }, receivedTs: 5 }]);
        const expected = [
          { roomId: '!b:x', userId: '@u:y', record: { n: 4, deep: { list: [1, 'x'] } }, receivedTs: 5 },
          { roomId: '!a:x', userId: '@u:y', record: { n: 2 }, receivedTs: 10 },
          { roomId: '!a:x', userId: '@v:y', record: { n: 3 }, receivedTs: 10 },
        ];
        assert.deepEqual(await store.listInvites(), expected);
        await rejectsWith(store.putInvites([{ roomId: '', userId: '@u:y', record: {}, receivedTs: 1 }]), 'STORE_INVALID_COMMIT');
        await rejectsWith(store.putInvites([{ roomId: '!c:x', userId: '@u:y', record: [] as unknown as PduJson, receivedTs: 1 }]), 'STORE_INVALID_COMMIT');
        await rejectsWith(store.deleteInvites([{ roomId: '!a:x' } as InviteKey]), 'STORE_INVALID_COMMIT');
        assert.deepEqual(await store.listInvites(), expected);
        if (reopen !== undefined) {
          await store.close();
          store = await reopen(store);
          await store.open();
          assert.deepEqual(await store.listInvites(), expected);
        }
        await store.deleteInvites([{ roomId: '!a:x', userId: '@u:y' }, { roomId: '!z:x', userId: '@u:y' }, { roomId: '!b:x', userId: '@v:y' }]);
        assert.deepEqual((await store.listInvites()).map((x) => x.record), [expected[0]!.record, expected[2]!.record]);
        await store.deleteInvites([]);
        await store.putInvites([]);
        assert.equal((await store.listInvites()).length, 2);
      } finally {
        await store.close();
      }
      await rejectsWith(store.listInvites(), 'STORE_NOT_OPEN');
    });

    it('awkward strings round-trip exactly: NUL, escape look-alikes, astral, RTL, __proto__, empty, long (IDs, versions, types, state keys, content, keys, parked events)', async () => {
      let store = await factory();
      await store.open();
      try {
        const written = await writeAwkward(store);
        await checkAwkward(store, written);
        if (reopen !== undefined) {
          await store.close();
          store = await reopen(store);
          await store.open();
          await checkAwkward(store, written);
        }
        // Deletes hit exactly the rows named.
        for (const { s } of written) {
          await store.deleteParkedEvents(s, [nearMiss(s)]);
          assert.equal((await store.listParkedEvents(s)).length, 2);
          await store.deleteParkedEvents(s, [s]);
          assert.deepEqual((await store.listParkedEvents(s)).map((p) => p.eventId), [`$p${s}`]);
          await store.deleteInvites([{ roomId: s, userId: nearMiss(s) }, { roomId: nearMiss(s), userId: s }]);
          assert.equal((await store.listInvites()).filter((x) => x.roomId === s).length, 2);
          await store.deleteInvites([{ roomId: s, userId: s }]);
          assert.deepEqual((await store.listInvites()).filter((x) => x.roomId === s).map((x) => x.userId), [`@u${s}`]);
        }
      } finally {
        await store.close();
      }
    });

    it('serialises concurrent commits (distinct streams, all stored)', async () => {
      await withStore(async (store) => {
        const s1 = await createRoom(store);
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            store.commit({
              roomId: ROOM,
              event: { event: fakeEvent(`$c${i}`, { prev: [CREATE] }), status: 'accepted', stateBefore: { ref: 's' } },
              snapshots: [{ ref: 's', parent: s1, changes: { set: [[k('x', String(i)), `$c${i}`]] } }],
            }),
          ),
        );
        assert.deepEqual(results.map((r) => r.event.stream).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 2));
        const snaps = new Set(results.map((r) => r.snapshots.get('s')));
        assert.equal(snaps.size, 50);
        assert.equal((await store.getEvents(results.map((r) => r.event.eventId))).size, 50);
      });
    });

    it('group commit: `durable: false` commits are visible at once, in order, and durable after flush', async () => {
      await withStore(async (store) => {
        const s1 = await createRoom(store);
        let prev = CREATE;
        let snap = s1;
        const results = [];
        // A chain of state events, each read back (event, room, state) before anything is flushed.
        for (let i = 0; i < 40; i++) {
          const id = `$g${i}`;
          const r = await store.commit({
            roomId: ROOM,
            event: { event: fakeEvent(id, { type: 'm.room.topic', stateKey: '', prev: [prev], auth: [CREATE], depth: 2 + i }), status: 'accepted', stateBefore: snap },
            snapshots: [{ ref: 'after', parent: snap, changes: { set: [[k('m.room.topic', ''), id], [k('n', String(i)), id]] } }],
            forwardExtremities: [id],
            currentState: { ref: 'after' },
          }, { durable: false });
          results.push(r);
          assert.equal(r.event.stream, 2 + i);
          assert.deepEqual(await store.getEvent(id), r.event);
          assert.deepEqual(await store.getRoom(ROOM), r.room);
          assert.equal((await store.getStateEntries(r.room.currentState!, [k('m.room.topic', '')]))[0], id);
          assert.equal((await store.loadState(r.snapshots.get('after')!)).size, 2 + i + 1);
          prev = id;
          snap = r.snapshots.get('after')!;
        }
        // A re-delivery of a pending event is a duplicate, durable once the original is.
        const dup = await store.commit({ roomId: ROOM, event: { event: fakeEvent('$g3'), status: 'accepted', stateBefore: s1 } });
        assert.equal(dup.duplicate, true);
        assert.equal(await store.flush?.(), undefined);
        assert.deepEqual((await store.timeline(ROOM)).map((e) => e.eventId), [CREATE, ...results.map((r) => r.event.eventId)]);
        assert.deepEqual(await store.getAuthChain(['$g39']), new Set([CREATE]));
        if (reopen !== undefined) {
          await store.close();
          const again = await reopen(store);
          await again.open();
          try {
            assert.deepEqual(await again.getRoom(ROOM), results[results.length - 1]!.room);
            assert.equal((await again.getEvents(results.map((r) => r.event.eventId))).size, 40);
            assert.equal((await again.loadState(snap)).get(k('m.room.topic', '')), '$g39');
          } finally {
            await again.close();
          }
        }
      });
    });

    it('group commit: parked-event writes are ordered after queued commits', async () => {
      await withStore(async (store) => {
        const s1 = await createRoom(store);
        await store.parkEvents([{ eventId: '$late', roomId: ROOM, json: { x: 1 }, receivedTs: 1 }]);
        await store.commit({ roomId: ROOM, event: { event: fakeEvent('$late', { prev: [CREATE], auth: [CREATE], depth: 2 }), status: 'accepted', stateBefore: s1 } }, { durable: false });
        await store.deleteParkedEvents(ROOM, ['$late']);
        // The delete waited for the commit: whatever a crash keeps, the event is either parked or stored.
        assert.deepEqual(await store.listParkedEvents(ROOM), []);
        assert.equal((await store.getEvent('$late'))!.status, 'accepted');
        assert.deepEqual((await store.timeline(ROOM)).map((e) => e.eventId), [CREATE, '$late']);
      });
    });

    if (reopen !== undefined) {
      it('a promotion persists across close and reopen (one timeline entry, at the new position)', async () => {
        let store = await factory();
        await store.open();
        const s1 = await createRoom(store);
        const ev = fakeEvent('$o', { type: 'm.room.name', stateKey: '', prev: [CREATE], auth: [CREATE], depth: 2 });
        await store.commit({ roomId: ROOM, event: { event: ev, status: 'outlier' } });
        await store.commit({ roomId: ROOM, event: { event: fakeEvent('$m', { prev: [CREATE], auth: [CREATE], depth: 2 }), status: 'accepted', stateBefore: s1 }, forwardExtremities: ['$m'] });
        const r = await store.commit({
          roomId: ROOM,
          event: { event: ev, status: 'soft-failed', rejection: { rule: 'soft' }, stateBefore: s1 },
          snapshots: [{ ref: 'after', parent: s1, changes: { set: [[k('m.room.name', ''), '$o']] } }],
        });
        assert.equal(r.promoted, true);
        await store.close();
        store = await reopen(store);
        await store.open();
        try {
          assert.deepEqual(await store.getEvent('$o'), r.event);
          assert.deepEqual(await store.getRoom(ROOM), r.room);
          assert.deepEqual((await store.timeline(ROOM)).map((e) => [e.eventId, e.status, e.stream]), [[CREATE, 'accepted', 1], ['$m', 'accepted', 3], ['$o', 'soft-failed', 4]]);
          assert.deepEqual((await store.timeline(ROOM, { direction: 'backwards' })).map((e) => e.eventId), ['$o', '$m', CREATE]);
          assert.deepEqual(await store.getAuthChain(['$o']), new Set([CREATE]));
          const dup = await store.commit({ roomId: ROOM, event: { event: ev, status: 'accepted', stateBefore: s1 } });
          assert.equal(dup.duplicate, true);
          const next = await store.commit({ roomId: ROOM, event: { event: fakeEvent('$n', { prev: ['$m'], depth: 3 }), status: 'accepted', stateBefore: s1 } });
          assert.equal(next.event.stream, 5);
          assert.deepEqual((await store.timeline(ROOM)).map((e) => e.eventId), [CREATE, '$m', '$o', '$n']);
        } finally {
          await store.close();
        }
      });

      it('persists everything across close and reopen; counters continue', async () => {
        let store = await factory();
        await store.open();
        const s1 = await createRoom(store);
        const big: [StateKey, EventId][] = [];
        for (let i = 0; i < 1200; i++) big.push([k('m.room.member', `@u${i}:x`), `$j${i}`]);
        const r = await store.commit({
          roomId: ROOM,
          event: { event: fakeEvent('$big', { prev: [CREATE], auth: [CREATE] }), status: 'accepted', stateBefore: s1 },
          snapshots: [{ ref: 'a', parent: s1, changes: { set: big } }, { ref: 'b', parent: { ref: 'a' }, changes: { remove: [k('m.room.member', '@u1:x')] } }],
          forwardExtremities: ['$big'],
          currentState: { ref: 'b' },
        });
        await store.commit({ roomId: ROOM, event: { event: fakeEvent('$rej', { prev: ['$big'] }), status: 'rejected', rejection: { rule: 'r' }, stateBefore: r.snapshots.get('b')! } });
        await store.putServerKeys([{ server: 'a.org', keyId: 'ed25519:1', publicKey: 'AAAA' }]);
        await store.parkEvents([{ eventId: '$p', roomId: ROOM, json: { x: 1 }, receivedTs: 1 }]);
        const stateB = new Map(await store.loadState(r.snapshots.get('b')!));
        const roomBefore = await store.getRoom(ROOM);
        await store.close();
        store = await reopen(store);
        await store.open();
        try {
          assert.deepEqual(await store.getRoom(ROOM), roomBefore);
          assert.equal((await store.getEvent('$rej'))!.rejection!.rule, 'r');
          assert.equal((await store.getEvent('$big'))!.stateBefore, s1);
          assert.deepEqual(new Map(await store.loadState(r.snapshots.get('b')!)), stateB);
          assert.equal(stateB.size, 1200);
          assert.deepEqual(await store.getAuthChain(['$big']), new Set([CREATE]));
          assert.equal((await store.getServerKey('a.org', 'ed25519:1'))!.publicKey, 'AAAA');
          assert.equal((await store.listParkedEvents(ROOM)).length, 1);
          assert.deepEqual((await store.timeline(ROOM)).map((e) => e.eventId), [CREATE, '$big', '$rej']);
          // New snapshots after reopen get fresh IDs; old ones keep their content.
          const r2 = await store.commit({
            roomId: ROOM,
            event: { event: fakeEvent('$after', { prev: ['$rej'] }), status: 'accepted', stateBefore: { ref: 'n' } },
            snapshots: [{ ref: 'n', parent: null, changes: { set: [['q', '$after']] } }],
          });
          const n = r2.snapshots.get('n')!;
          assert.ok(![s1, r.snapshots.get('a'), r.snapshots.get('b')].includes(n));
          assert.deepEqual(new Map(await store.loadState(r.snapshots.get('b')!)), stateB);
          assert.equal(r2.event.stream, 4);
        } finally {
          await store.close();
        }
      });
    }
  });
}
